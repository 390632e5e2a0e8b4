"""`robust_deviation`: deviations from the history's median count, and a second spike scores."""

from __future__ import annotations

import numpy as np
from pydantic import TypeAdapter

from sidecar.config.schema import DetectorSpec
from sidecar.detect.periodicity import LEVEL_MIN, history_level
from sidecar.detect.registry import make_detector
from sidecar.types import Frame, SeriesKey


def test_history_level_is_the_median_and_robust_spread() -> None:
    rng = np.random.default_rng(0)
    row = np.full(512, np.nan)
    row[:400] = 50.0 + rng.normal(0.0, 2.0, 400)
    med, spread = history_level(row, 300.0, 300.0)
    assert abs(med - 50.0) < 0.3 and abs(spread - 2.0) < 0.3
    _, coarse = history_level(row, 300.0, 60.0)  # 5-sample bucket means are quieter
    assert abs(coarse / spread - np.sqrt(5.0)) < 1e-9
    mostly_zero = np.zeros(512)
    mostly_zero[::10] = 3.0  # MAD is 0: the mean absolute deviation instead
    assert history_level(mostly_zero, 300.0, 300.0)[1] > 0.0
    assert history_level(row[: LEVEL_MIN - 1], 300.0, 300.0) == (0.0, 0.0)


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
