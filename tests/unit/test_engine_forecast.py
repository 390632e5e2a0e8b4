"""Engine forecast rules: replicas from the forecast, and the scaling level's upper bound."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.types import Frame, SeriesKey

RULE = """\
forecasts:
  - name: load
    query: usage
    step: 1m
    lookback: 1d
    horizon: 30m
    model: naive
    level: 0.8
    scaling: {{capacity_per_replica: 10, target_utilization: 1.0, max_replicas: 500,
               lead_time: 5m, scale_down_stabilization: 0s{extra}}}
"""


def _replicas(tmp_path: Path, extra: str) -> int:
    path = tmp_path / f"rules{len(extra)}.yaml"
    path.write_text(RULE.format(extra=extra))
    engine = Engine(load_rules([path]))
    rng = np.random.default_rng(3)
    t = 1_700_000_000.0 + 60.0 * np.arange(1440)
    y = 100.0 + rng.normal(0, 10, t.size)
    frame = Frame(
        SeriesKey.from_labels({"__name__": "usage", "job": "web"}), t, y[:, None], ("value",)
    )
    snap = engine.step({"load": [frame]}, float(t[-1]))
    [point] = snap.replicas
    return point.replicas


def test_replicas_cover_the_forecast_upper_bound(tmp_path: Path) -> None:
    # about 100 ± 10 per minute at 10 per replica: more than the mean needs, not absurdly more
    assert 11 <= _replicas(tmp_path, "") <= 16


def test_a_higher_scaling_level_buys_more_headroom(tmp_path: Path) -> None:
    at_rule_level = _replicas(tmp_path, ", level: null")  # the rule's 0.8
    at_default = _replicas(tmp_path, "")  # the policy's own 0.95
    at_099 = _replicas(tmp_path, ", level: 0.99")
    assert at_rule_level < at_default < at_099
