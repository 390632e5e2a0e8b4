"""A value that stops moving (a frozen exporter) is an anomaly for series that always move."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS
from sidecar.types import Frame, SeriesKey

UNIVARIATE = ["seasonal_robust_z", "change_point", "ensemble"]


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


@pytest.mark.parametrize("kind", UNIVARIATE)
def test_a_gauge_that_often_repeats_is_not_stuck_when_it_repeats(kind: str) -> None:
    rng = np.random.default_rng(4)
    x = np.round(20.0 + np.cumsum(rng.normal(0, 1, 2000)) * 0.1)  # integer, mostly unchanged
    s = _scores(kind, x)
    assert float(np.quantile(s[600:], 0.99)) < 0.9
