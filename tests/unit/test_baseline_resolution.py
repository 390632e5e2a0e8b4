"""A quantised gauge (integer, mostly still) is judged at its own resolution."""

from __future__ import annotations

import numpy as np

from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS
from sidecar.types import Frame, SeriesKey


def _scores(x: np.ndarray) -> np.ndarray:
    t = 1_700_000_000.0 + 300.0 * np.arange(x.size)
    verdicts = Monitor(DETECTORS["seasonal_robust_z"]()).update_frame(
        Frame(SeriesKey("replicas"), t, x, ("v",))
    )
    return np.array([v.score.value for v in verdicts])


def test_routine_one_unit_blips_stop_alarming_and_a_real_jump_still_does() -> None:
    rng = np.random.default_rng(5)
    x = np.full(3000, 4.0)
    blips = np.sort(rng.choice(np.arange(200, 2500), size=12, replace=False))
    x[blips] += 1.0
    x[2800:2803] += 6.0  # a jump of six units, three samples long
    s = _scores(x)
    later_blips = blips[4:]  # once a few have been seen, a one-unit blip is routine
    assert float(np.max(s[later_blips])) < 0.5
    assert float(np.max(s[2800:2803])) > 0.95


def test_the_first_move_of_a_flat_line_does_not_mute_later_jumps() -> None:
    x = np.full(3000, 7.0)
    x[500] = 8.0  # the first step ever: hugely surprising, but not learned as normal
    x[2000:2002] = 12.0
    s = _scores(x)
    assert s[500] > 0.95
    assert float(np.max(s[2000:2002])) > 0.95
