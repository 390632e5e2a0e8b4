"""A calibration restarts when the read-out turns seasonal.

Until a daily profile may be read out (1.5 days), a seasonal series is measured against a
level that chases its cycle: the day's edges read as 4-sigma deviations twice a day. Kept in the histogram, those made a real 4-sigma anomaly a week later look routine.
"""

from __future__ import annotations

import numpy as np

from sidecar.detect.calibration import EDGES
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey

STEP = 300.0
DAY = int(86400 / STEP)
HIGH = EDGES.index(3.5)  # first bin of statistics >= 3.5


def _business_hours(seed: int, days: float) -> tuple[np.ndarray, np.ndarray]:
    """A daily plateau (busy by day, quiet by night, 40 noise sigmas apart) plus noise."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY)
    t = 1_700_000_000.0 + STEP * np.arange(n)
    phase = (t % 86400.0) / 86400.0
    day = np.tanh(8.0 * (np.sin(2 * np.pi * (phase - 0.3)) - 0.1))
    return t, 100.0 + 20.0 * day + rng.normal(0, 1.0, n)


def test_the_first_seasonal_read_out_forgets_what_the_no_season_level_taught() -> None:
    t, x = _business_hours(0, 4.0)
    det = SeasonalRobustZ()
    sel, totals, high = [], [], []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        sample = det._evaluate(ti, {"v": xi})["v"]
        det.learn_one(ti, {"v": xi})
        point = sample.state[1][0]  # the point deviation's calibration
        sel.append(sample.ev.sel)
        totals.append(point.total)
        high.append(sum(point.counts[HIGH:]))
    switch = next(i for i, s in enumerate(sel) if s != 0.0)
    assert switch >= 1.5 * DAY  # the daily profile is read out once eligible
    assert high[switch - 1] >= 5  # the cycle-chasing level had taught 'routine' 3.5+ sigma
    assert totals[switch - 1] > 300
    assert totals[switch] == 1.0  # restarted: only the sample that switched is counted
    assert high[-1] <= 2  # and the seasonal model's own history has few such deviations


def test_a_four_sigma_spike_after_the_switch_is_an_anomaly() -> None:
    found = []
    for seed in range(6):
        t, x = _business_hours(seed, 6.0)
        at = 5 * DAY + 7 * seed
        x[at] += 6.0  # 6 noise sigmas: ~4 of the daily model's after 5 days
        det = SeasonalRobustZ(onset_window=48)
        scores = np.array(
            [s.value for s in det.score_frame(Frame(SeriesKey("s"), t, x[:, None], ("v",)))]
        )
        found.append(scores[at])
        assert np.quantile(scores[3 * DAY : at], 0.999) < 0.3  # normal samples stay low
    assert np.median(found) > 0.6  # measured 0.45-0.88 (median 0.75); 0.02-0.14 without
