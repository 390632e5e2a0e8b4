"""A value that stops moving (a frozen exporter) is an anomaly for series that always move."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey

UNIVARIATE = ["seasonal_robust_z", "robust_deviation", "change_point"]
CALIBRATED = ["seasonal_robust_z", "change_point"]
"""Kinds whose channels learn their own tail: an integer gauge's routine steps are learned
as routine (robust_deviation reads a fixed tail, and pays for it on such gauges)."""


def _scores(kind: str, x: np.ndarray) -> np.ndarray:
    t = 1_700_000_000.0 + 60.0 * np.arange(x.size)
    verdicts = Monitor(DETECTORS[kind]()).update_frame(Frame(SeriesKey("cpu"), t, x, ("v",)))
    return np.array([v.score.value for v in verdicts])


@pytest.mark.parametrize("kind", UNIVARIATE)
def test_a_frozen_noisy_series_scores_high_within_a_few_samples(kind: str) -> None:
    rng = np.random.default_rng(2)
    x = 50.0 + rng.normal(0, 2, 2000)
    x[1500:1600] = x[1500]
    s = _scores(kind, x)
    assert float(np.max(s[1501:1506])) > 0.95
    assert float(np.max(s[600:1500])) < 0.95  # the same series while it moved


@pytest.mark.parametrize("kind", CALIBRATED)
def test_a_gauge_that_often_repeats_is_not_stuck_when_it_repeats(kind: str) -> None:
    rng = np.random.default_rng(4)
    x = np.round(20.0 + np.cumsum(rng.normal(0, 1, 2000)) * 0.1)  # integer, mostly unchanged
    s = _scores(kind, x)
    assert float(np.quantile(s[600:], 0.99)) < 0.9


@pytest.mark.parametrize("seed", range(4))
def test_a_thawed_series_is_judged_by_its_old_baseline(seed: int) -> None:
    """A daily cycle frozen for 21 hours: the candidates do not learn the frozen value (the
    profile keeps the hours it covered), so once the series moves again nothing alarms.
    Learned, it taught level, scale and profile the frozen value, and the thaw scored up to
    0.33 for a day."""
    day = 86400.0
    rng = np.random.default_rng(seed)
    n = 288 * 10
    t = 1_700_006_400.0 - 1_700_006_400.0 % day + 300.0 * np.arange(n)
    x = 100.0 + 20.0 * np.sin(2 * np.pi * t / day) + rng.normal(0, 2.0, n)
    start, end = 288 * 6, 288 * 6 + 250
    x[start:end] = x[start]
    det = SeasonalRobustZ(onset_window=48)
    scores, profile_at = [], {}
    for i in range(n):
        if i in (start + 5, end):  # once the run is known to be stuck, and when it thaws
            profile_at[i] = list(det._state("v")[0].profiles[1])  # the daily candidate's
        scores.append(det.update_one(float(t[i]), {"v": float(x[i])}).value)
    assert max(scores[start : start + 10]) > 0.9
    assert profile_at[start + 5] == profile_at[end]
    assert max(scores[end + 12 : end + 288]) < 0.15
