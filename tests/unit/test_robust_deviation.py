"""`robust_deviation`: deviations from the history's median count, and a second spike scores."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter

from sidecar.config.schema import DetectorSpec
from sidecar.detect.deviation import RobustDeviation
from sidecar.detect.ops import ARRAY, SCALAR
from sidecar.detect.periodicity import LEVEL_MIN, history_level, sample_spread
from sidecar.detect.registry import make_detector
from sidecar.types import Frame, SeriesKey


def test_history_level_is_the_median_and_robust_spread() -> None:
    rng = np.random.default_rng(0)
    row = np.full(512, np.nan)
    row[:400] = 50.0 + rng.normal(0.0, 2.0, 400)
    med, spread = history_level(row)
    assert abs(med - 50.0) < 0.3 and abs(spread - 2.0) < 0.3
    mostly_zero = np.zeros(512)
    mostly_zero[::10] = 3.0  # MAD is 0: the mean absolute deviation instead
    assert history_level(mostly_zero)[1] > 0.0
    assert history_level(row[: LEVEL_MIN - 1]) == (0.0, 0.0)


def test_a_samples_history_spread_adds_the_noise_its_bucket_averaged_away() -> None:
    # 5 one-minute samples per 5-minute bucket: the bucket means kept a fifth of the noise
    # variance (sigma 2), and a cycle's spread (3) is not scaled with it
    one = sample_spread(3.0, 2.0, 60.0, 300.0, SCALAR)
    assert one == pytest.approx(np.sqrt(9.0 + 4.0 * 0.8))
    assert sample_spread(3.0, 2.0, 300.0, 300.0, SCALAR) == 3.0  # a sample per bucket
    assert sample_spread(0.0, 2.0, 60.0, 300.0, SCALAR) == 0.0  # history not known yet
    many = sample_spread(np.array([3.0, 3.0]), np.array([2.0, 2.0]), 60.0, 300.0, ARRAY)
    assert many.tolist() == pytest.approx([one, one])


def _scores(kind: str, x: np.ndarray) -> np.ndarray:
    spec = TypeAdapter(DetectorSpec).validate_python({"kind": kind})  # a rule's defaults
    t = 1_600_000_000.0 + 3600.0 * np.arange(x.size)
    frame = Frame(SeriesKey("s"), t, x[:, None], ("v",))
    return np.array([s.value for s in make_detector(spec).score_frame(frame)])


def test_a_second_crash_spike_hours_after_the_first_scores_again() -> None:
    """Hourly crash counts (real labelled series have spikes hours apart): onset scoring
    over 4 hours, not 48 samples, lets the second spike score, and a prior worth 5,000
    samples keeps one earlier spike from making the next one routine (0.84 here; the
    default's prior, worth 100, gives it 0.14)."""
    rng = np.random.default_rng(1)
    x = rng.poisson(20.0, 600).astype(float)
    x[400] += 250.0
    x[420] += 150.0
    scores = _scores("robust_deviation", x)
    assert scores[400] > 0.99 and scores[420] > 0.8
    assert np.quantile(scores[200:399], 0.99) < 0.1


def test_a_lasting_level_shift_stays_off_the_history_median() -> None:
    """A 15-sigma shift scores at its onset, and the quiet days before it do not."""
    rng = np.random.default_rng(2)
    x = 100.0 + rng.normal(0.0, 1.0, 700)
    x[500:] += 15.0
    scores = _scores("robust_deviation", x)
    assert scores[500] > 0.99
    assert np.quantile(scores[300:499], 0.99) < 0.5


class _Unconfirmed(RobustDeviation):
    """The same detector without the history's confirmation, to compare against."""

    confirm_sigmas = None


def _both(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frame = Frame(SeriesKey("s"), t, x[:, None], ("v",))
    confirmed = RobustDeviation(onset_window=None).score_frame(frame)
    unconfirmed = _Unconfirmed(onset_window=None).score_frame(frame)
    return np.array([s.value for s in confirmed]), np.array([s.value for s in unconfirmed])


def test_a_blip_that_is_ordinary_for_the_last_weeks_is_discounted() -> None:
    """Three noisy weeks, then quiet days shrink the adaptive baseline's sigma: a value
    one noisy-week sigma off is many quiet-day sigmas off, and only the history says it is
    ordinary. A value far outside the whole history keeps its score."""
    rng = np.random.default_rng(3)
    t = 1_600_000_000.0 + 3600.0 * np.arange(700)
    x = 50.0 + rng.normal(0.0, 3.0, 700)
    x[500:] = 50.0 + rng.normal(0.0, 0.2, 200)
    x[660] = 54.0  # 20 quiet sigmas, under 2 of the history's
    x[680] = 90.0  # far outside everything seen
    confirmed, unconfirmed = _both(t, x)
    assert unconfirmed[660] > 0.9  # the adaptive baseline alone calls it an anomaly
    assert confirmed[660] < 0.5 * unconfirmed[660]
    assert confirmed[680] == unconfirmed[680] > 0.99


def test_a_value_ordinary_for_the_history_but_not_for_this_hour_is_confirmed_by_yesterday() -> None:
    """A 5-minute daily cycle: an hour at the night's level at noon is inside the history's
    range, but far from the same hour yesterday, so the day before confirms it."""
    rng = np.random.default_rng(4)
    day = 86400.0
    t = 1_600_000_000.0 - 1_600_000_000.0 % day + 300.0 * np.arange(288 * 4)
    x = 100.0 + 40.0 * np.sin(2 * np.pi * t / day) + rng.normal(0.0, 2.0, t.size)
    peak = 288 * 3 + 72  # 06:00 on the fourth day: sin is at its top
    x[peak : peak + 12] = 60.0 + rng.normal(0.0, 2.0, 12)
    confirmed, unconfirmed = _both(t, x)
    assert unconfirmed[peak] > 0.9
    assert confirmed[peak] > 0.9 * unconfirmed[peak]


def test_a_frozen_value_is_its_own_evidence_but_a_count_at_zero_is_not() -> None:
    rng = np.random.default_rng(5)
    t = 1_600_000_000.0 + 60.0 * np.arange(2000)
    x = 50.0 + rng.normal(0.0, 2.0, 2000)
    x[1500:1600] = 50.0  # frozen at the history's median: only the repeat says so
    confirmed, unconfirmed = _both(t, x)
    assert confirmed[1510] == unconfirmed[1510] > 0.9
    counts = rng.poisson(0.3, 2000).astype(float)  # mostly zeros, runs of them are routine
    counts[1500:1520] = 0.0
    confirmed, unconfirmed = _both(t, counts)
    assert np.max(confirmed[1500:1520]) < 0.5
