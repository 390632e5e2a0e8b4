"""Seasonality other than a day or a week is found in the data (periodicity.py, FOUND)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from sidecar.detect.periodicity import SPAN, find_periods
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey

DAY, WEEK = 86400.0, 604800.0
WIDTH = 300.0


def history(shape: str, period: float, seed: int = 0, width: float = WIDTH) -> np.ndarray:
    """SPAN buckets of a cycle of `shape` and `period` seconds, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(SPAN) * width
    phase = (t % period) / period
    if shape == "sine":
        shape_x = np.sin(2 * np.pi * phase)
        noise = 0.5
    elif shape == "square":  # a batch job: on for a third of each cycle
        shape_x, noise = np.where(phase < 1 / 3, 3.0, 0.0), 0.3
    else:
        assert shape == "spikes"  # a cron job: 15 minutes of load each cycle
        shape_x, noise = np.where(phase * period < 900.0, 3.0, 0.0), 0.3
    out: np.ndarray = shape_x + noise * rng.standard_normal(SPAN)
    return out


@pytest.mark.parametrize(
    ("shape", "period"),
    [(s, p) for s in ("sine", "square") for p in (3600.0, 5400.0, 18000.0, 26280.0, 43200.0)]
    + [("spikes", p) for p in (7200.0, 18000.0, 28800.0)],  # cron-like: whole minutes
)
def test_a_cycle_that_is_not_a_day_is_found_to_within_one_percent(
    shape: str, period: float
) -> None:
    found = find_periods(history(shape, period), WIDTH, (DAY, WEEK))[0]
    assert found == pytest.approx(period, rel=0.01)


def test_found_through_missing_buckets_and_at_coarser_sampling() -> None:
    rng = np.random.default_rng(5)
    holed = history("sine", 18000.0, seed=1)
    holed[rng.random(SPAN) < 0.5] = np.nan  # jittered, dropped samples
    holed[:200] = np.nan  # a young series: 26 hours, five cycles
    assert find_periods(holed, WIDTH)[0] == pytest.approx(18000.0, rel=0.02)
    # 15-minute sampling: buckets as wide as the interval, 5.3 days of history
    quarter = history("square", 7 * 3600.0, seed=2, width=900.0)
    assert find_periods(quarter, 900.0, (DAY, WEEK))[0] == pytest.approx(7 * 3600.0, rel=0.01)


def test_no_period_in_noise_walks_trends_shifts_or_daily_cycles() -> None:
    rng = np.random.default_rng(9)
    t = np.arange(SPAN) * WIDTH
    rows = [
        rng.standard_normal(SPAN),
        rng.standard_t(2, SPAN),  # heavy tails: two outliers k apart are not a period
        lfilter([1.0], [1.0, -0.9], rng.standard_normal(SPAN)),
        t / 1e4 + rng.standard_normal(SPAN),
        np.where(t > 0.4 * t[-1], 5.0, 0.0) + rng.standard_normal(SPAN),
        np.sin(2 * np.pi * t / DAY) + 0.3 * rng.standard_normal(SPAN),
    ]
    assert find_periods(np.stack(rows), WIDTH, (DAY, WEEK)).tolist() == [0.0] * len(rows)
    walks = np.cumsum(rng.standard_normal((200, SPAN)), axis=1)
    assert (find_periods(walks, WIDTH) > 0).sum() <= 2  # slow swings rarely repeat in step


def test_a_day_with_two_peaks_is_a_day_not_a_twelve_hour_cycle() -> None:
    width = 900.0  # 5.3 days of history: the day's own peak is in view
    t = np.arange(SPAN) * width
    rng = np.random.default_rng(4)
    x = np.sin(4 * np.pi * t / DAY) * 0.6 + 0.4 * np.sin(2 * np.pi * t / DAY - 1)
    x = x + 0.1 * rng.standard_normal(SPAN)
    assert find_periods(x, width, (DAY, WEEK))[0] == 0.0
    assert find_periods(x, width)[0] == pytest.approx(DAY, rel=0.02)


def test_the_detector_learns_a_found_cycle_and_flags_a_value_out_of_phase() -> None:
    """A 5-hour batch cycle at 5 minutes: found from the data within a day, read out, and
    a sample at the cycle's high level in its low phase scores as an anomaly, which the
    no-season level (whose range spans the whole cycle) could not say."""
    rng = np.random.default_rng(3)
    n = 3 * 288
    t = 1_700_000_000.0 + 300.0 * np.arange(n)
    period = 18000.0
    on = ((t % period) / period) < 0.4
    x = np.where(on, 100.0, 60.0) + rng.normal(0, 1.0, n)
    at = int(np.flatnonzero(~on[600:])[10]) + 600  # a low phase on day three
    x[at] = 100.0
    det = SeasonalRobustZ()
    scores = det.score_frame(Frame(SeriesKey("s"), t, x[:, None], ("v",)))
    state = det._state("v")[0]
    assert state.period == pytest.approx(period, rel=0.002)
    assert scores[at].value > 0.9
    expected = scores[at].expected
    assert (
        expected is not None and expected[1] < 70.0
    )  # the expected range is the low phase's, not the whole cycle's
    normal = [s.value for i, s in enumerate(scores) if i >= 400 and i != at]
    assert max(normal) < 0.7  # well under the alarm threshold (0.91); measured 0.58
    level_only = SeasonalRobustZ(season="none").score_frame(
        Frame(SeriesKey("s"), t, x[:, None], ("v",))
    )
    assert level_only[at].value < 0.5  # within the range the cycle spans


def test_only_auto_season_looks_for_other_periods() -> None:
    assert SeasonalRobustZ().params_.find_period
    assert not SeasonalRobustZ(season="none").params_.find_period
    assert not SeasonalRobustZ(season=7200.0).params_.find_period
