"""Labels as Prometheus users expect them: a series' own `rule`, `metric` or `bound` label is
kept as `exported_*`; an expected range never goes below zero for a series that cannot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.export import render
from sidecar.snapshot import AnomalyPoint, Snapshot
from sidecar.types import Frame, SeriesKey


def samples(snap: Snapshot) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for fam in text_string_to_metric_families(render([snap])[0].decode()):
        for s in fam.samples:
            out.setdefault(s.name, []).append(dict(s.labels))
    return out


def test_a_series_label_the_sidecar_sets_is_kept_as_exported() -> None:
    labels = (("instance", "a:9100"), ("metric", "m"), ("rule", "theirs"))
    point = AnomalyPoint("ours", labels, "value", 0.2, 1.0, 2.0, False, 100.0, 1.5)
    got = samples(Snapshot(anomalies=(point,)))
    assert got["sidecar_anomaly_score"] == [
        {"rule": "ours", "instance": "a:9100", "exported_metric": "m", "exported_rule": "theirs"}
    ]
    [upper] = got["sidecar_anomaly_expected_upper"]
    assert upper["metric"] == "value" and upper["exported_metric"] == "m"


RULES = """\
detectors:
  - name: rate
    query: rate
    step: 1m
    lookback: 1d
"""


def test_a_non_negative_series_never_gets_a_negative_lower_bound(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    engine = Engine(load_rules([path]), interval=60.0)
    rng = np.random.default_rng(1)
    t = 1_700_000_000.0 + 60.0 * np.arange(600)
    y = np.abs(rng.normal(0, 1, t.size)) * (rng.random(t.size) < 0.3)  # mostly 0, bursty
    key = SeriesKey.from_labels({"__name__": "rate", "job": "api"})
    snap = engine.step({"rate": [Frame(key, t, y[:, None], ("value",))]}, float(t[-1]))
    [point] = snap.anomalies
    assert point.lower is not None and point.lower >= 0.0
    assert point.upper is not None and point.upper > 0.0
