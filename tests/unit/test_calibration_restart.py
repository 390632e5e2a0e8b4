"""A calibration restarts (once) when a seasonal read-out clearly wins.

Until a daily profile may be read out (1.5 days), a seasonal series is measured against a
level that chases its cycle: the day's edges read as 4-sigma deviations twice a day. Kept in the
histogram, those made a real 4-sigma anomaly a week later look routine.
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


def test_a_clearly_winning_seasonal_read_out_forgets_what_the_no_season_level_taught() -> None:
    t, x = _business_hours(0, 5.0)
    det = SeasonalRobustZ()
    restarted, totals, high = [], [], []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        sample = det._evaluate(ti, {"v": xi})["v"]
        det.learn_one(ti, {"v": xi})
        cals = sample.state[1]
        restarted.append([c.restarted for c in cals])
        totals.append([c.total for c in cals])
        high.append(sum(cals[0].counts[HIGH:]))  # the point deviation's
    at = next(i for i, r in enumerate(restarted) if r[0])
    assert at >= 1.5 * DAY  # no daily profile is read out before it is eligible
    assert high[at - 1] >= 5  # the cycle-chasing level had taught 'routine' 3.5+ sigma
    assert min(totals[at - 1]) > 300
    assert restarted[at] == [1.0, 1.0, 1.0]  # every statistic's histogram restarted...
    assert max(totals[at]) == 1.0  # ...and holds only the sample that restarted it
    assert all(totals[i][0] > totals[i - 1][0] for i in range(at + 1, len(totals), 50))  # once
    assert high[-1] <= 2  # the seasonal model's own history has few such deviations


def test_a_series_without_a_season_keeps_its_calibration() -> None:
    rng = np.random.default_rng(1)
    n = 5 * DAY
    t = 1_700_000_000.0 + STEP * np.arange(n)
    det = SeasonalRobustZ()
    det.score_frame(Frame(SeriesKey("s"), t, (100.0 + rng.normal(0, 1.0, n))[:, None], ("v",)))
    cals = det._state("v")[1]
    assert [c.restarted for c in cals] == [0.0, 0.0, 0.0]
    assert cals[0].total > n - 100


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
