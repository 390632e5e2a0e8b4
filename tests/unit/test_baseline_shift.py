"""A level shift re-levels the baseline without widening its scale (later anomalies stay
visible)."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS
from sidecar.types import Frame, SeriesKey


@pytest.mark.parametrize("kind", ["seasonal_robust_z"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_level_shift_does_not_mask_a_spike_an_hour_later(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    t = 1_700_000_000.0 + 60.0 * np.arange(n)
    x = 100.0 + rng.normal(0, 2, n)
    x[2000:] += 20.0  # a 10-sigma shift: one-sided residuals, a level change
    x[2060] += 14.0  # a 7-sigma spike an hour later
    verdicts = Monitor(DETECTORS[kind]()).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    ranges = [v.score.expected for v in verdicts[1500:2060]]
    width = np.array([hi - lo for lo, hi in (r for r in ranges if r is not None)])
    assert width.size == 560
    before, after = float(np.median(width[:500])), float(np.max(width[500:]))
    assert after < 3.0 * before  # the expected range does not balloon
    # a ballooned scale scored this spike 0.00; the default's two statistics share the
    # false-alarm budget (Bonferroni), so 0.15 here is about 0.3 of a single statistic
    assert verdicts[2060].score.value > 0.15
    quiet = [v.score.value for v in verdicts[2020:2060]]
    assert max(quiet) < 0.5  # the new level is normal within twenty minutes
