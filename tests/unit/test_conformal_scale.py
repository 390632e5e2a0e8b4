"""Conformal intervals follow the noise: relative errors where it grows with the load."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.forecast.auto import AutoForecaster
from sidecar.forecast.conformal import ConformalForecaster
from sidecar.forecast.models import SeasonalNaive

STEP = 300.0
DAY = 288


def load(seed: int, multiplicative: bool) -> tuple[np.ndarray, np.ndarray]:
    """A day/night cycle between 10 and 190 with noise ∝ the load, or of a fixed size."""
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + STEP * np.arange(DAY * 10)
    base = 100 + 90 * np.sin(2 * np.pi * t / 86400)
    noise = rng.normal(0, 1, t.size)
    y = base * (1 + 0.08 * noise) if multiplicative else base + 8 * noise
    return t, y


def fitted(t: np.ndarray, y: np.ndarray, scale: str) -> ConformalForecaster:
    return ConformalForecaster(SeasonalNaive(DAY), max_horizon=6, scale=scale).fit(
        t[: DAY * 6], y[: DAY * 6]
    )


@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_auto_forecaster_fits_its_candidates_with_the_rule_scale(scale: str) -> None:
    t, y = load(0, True)
    auto = AutoForecaster(horizon=6, interval_scale=scale).fit(t[: DAY * 6], y[: DAY * 6])
    assert auto.chosen_.relative_ is (scale == "relative")


@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_both_scales_cover_about_90_percent_and_relative_is_narrower_at_night(
    scale: str,
) -> None:
    t, y = load(1, True)
    fc = fitted(t, y, scale)
    hits = total = 0
    night: list[float] = []
    peak: list[float] = []
    for i in range(DAY * 6, t.size - 1):
        f = fc.forecast(1, 0.9)
        hits += int(f.lower[0] <= y[i] <= f.upper[0])
        total += 1
        width = float(f.upper[0] - f.lower[0])
        (night if f.mean[0] < 40 else peak if f.mean[0] > 160 else []).append(width)
        fc.update(float(t[i]), float(y[i]))
    assert 0.85 <= hits / total <= 0.95, hits / total
    ratio = np.median(peak) / np.median(night)
    if scale == "relative":
        assert ratio > 2.5  # wide where the noise is large, narrow where it is small
    else:
        assert ratio == pytest.approx(1.0, abs=0.2)


def test_unknown_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        ConformalForecaster(SeasonalNaive(DAY), scale="log")
