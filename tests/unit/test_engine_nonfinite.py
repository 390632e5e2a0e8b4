"""A Prometheus that answers NaN or ±Inf: the samples are counted per rule, and a verdict
whose series stops giving numbers expires instead of staying at its last value."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from sidecar import __version__
from sidecar.config.loader import load_rules
from sidecar.engine import STALE_STEPS, Engine
from sidecar.export import render
from sidecar.types import Frame, SeriesKey

RULES = """\
detectors:
  - name: cpu
    query: cpu
    step: 1m
    lookback: 1h
forecasts:
  - name: load
    query: load
    step: 1m
    lookback: 1h
    model: naive
"""
KEY = SeriesKey.from_labels({"__name__": "cpu", "instance": "a"})
LOAD = SeriesKey.from_labels({"__name__": "load", "instance": "a"})


def frame(key: SeriesKey, t: np.ndarray, y: np.ndarray) -> Frame:
    return Frame(key, t, y[:, None], ("value",))


def test_nonfinite_samples_are_counted_once_and_verdicts_expire(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    engine = Engine(load_rules([path]), interval=60.0)
    rng = np.random.default_rng(0)
    t = 1_700_000_000.0 + 60.0 * np.arange(60)
    y = 10 + rng.normal(0, 1, t.size)
    y[[5, 9]] = [np.nan, np.inf]
    snap = engine.step({"cpu": [frame(KEY, t, y)], "load": [frame(LOAD, t, y)]}, float(t[-1]))
    assert dict(snap.nonfinite_samples_total) == {"cpu": 2, "load": 2}
    assert [p.labels for p in snap.anomalies] == [KEY.labels]
    # from now on Prometheus answers NaN for every sample (the overlap is not counted twice)
    now = float(t[-1])
    for _ in range(STALE_STEPS + 2):
        now += 60.0
        tt = np.array([now - 60.0, now])
        nan = np.full(2, np.nan)
        snap = engine.step({"cpu": [frame(KEY, tt, nan)], "load": [frame(LOAD, tt, nan)]}, now)
    assert dict(snap.nonfinite_samples_total) == {
        "cpu": 2 + STALE_STEPS + 2,
        "load": 2 + STALE_STEPS + 2,
    }
    assert snap.anomalies == ()  # the verdict expired: no number for STALE_STEPS steps
    text = render([snap])[0].decode()
    assert 'sidecar_nonfinite_samples_total{rule="cpu",shard=""} 14.0' in text


def test_counters_exist_at_zero_from_the_first_tick(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    engine = Engine(load_rules([path]), interval=60.0)
    snap = engine.step({}, 1_700_000_000.0)
    text = render([snap])[0].decode()
    for kind in ("timeout", "source_unavailable", "query_error", "bad_response", "rule"):
        assert f'sidecar_errors_total{{kind="{kind}",shard=""}} 0.0' in text
    assert 'sidecar_nonfinite_samples_total{rule="cpu",shard=""} 0.0' in text
    assert (
        f'sidecar_build_info{{python="{platform.python_version()}",version="{__version__}"}} 1.0'
        in text
    )
