"""Huge deviations teach the calibration once a series has moved: daily bursts stop alarming."""

from __future__ import annotations

import numpy as np

from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS
from sidecar.types import Frame, SeriesKey

STEP = 300.0
DAY = 288


def test_a_burst_that_comes_every_day_stops_scoring_as_rare() -> None:
    rng = np.random.default_rng(3)
    n = DAY * 12
    t = 1_700_000_000.0 + STEP * np.arange(n)
    x = 1.0 + rng.normal(0, 0.001, n)  # a calm series ...
    starts = [d * DAY + 100 + int(rng.integers(0, 40)) for d in range(1, 12)]
    for s in starts:
        x[s : s + 6] += 1.0  # ... with a ~1000-sigma burst at a varying time every day
    verdicts = Monitor(DETECTORS["seasonal_robust_z"]()).update_frame(
        Frame(SeriesKey("s"), t, x, ("v",))
    )
    onset = [verdicts[s].score.value for s in starts]
    assert onset[0] > 0.9  # the first burst is news
    # after a week of them they fall below the default alarm threshold (0.91 = 1e-4)
    assert max(onset[-3:]) < 0.9
