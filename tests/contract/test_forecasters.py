"""Every forecasting model: intervals ordered and calibrated, robust inputs, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.errors import NotFittedError
from sidecar.forecast.auto import MODELS, make_forecaster

STEP = 300.0  # 5-minute samples: a day is 288


def seasonal(n: int, seed: int = 0, noise: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + STEP * np.arange(n)
    y = 100 + 30 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, noise, n)
    return t, y


@pytest.mark.parametrize("model", MODELS)
def test_not_fitted_raises(model: str) -> None:
    with pytest.raises(NotFittedError):
        make_forecaster(model).forecast(3)


@pytest.mark.parametrize("model", MODELS)
def test_interval_is_ordered_and_finite(model: str) -> None:
    t, y = seasonal(1500)
    f = make_forecaster(model, horizon=12).fit(t, y).forecast(24, 0.9)
    assert f.mean.shape == f.lower.shape == f.upper.shape == (24,)
    assert np.all(np.isfinite(f.mean)) and np.all(f.lower <= f.mean) and np.all(f.mean <= f.upper)
    assert np.all(np.diff(f.t) == STEP) and f.t[0] == t[-1] + STEP


@pytest.mark.parametrize("model", ["auto", "mstl", "seasonal_naive", "ets"])
def test_90_percent_interval_covers_about_90_percent(model: str) -> None:
    t, y = seasonal(288 * 8, seed=1)
    fc = make_forecaster(model, horizon=6).fit(t[: 288 * 4], y[: 288 * 4])
    hits, total = 0, 0
    for i in range(288 * 4, len(y) - 6):
        f = fc.forecast(6, 0.9)
        actual = y[i : i + 6]
        hits += int(np.sum((actual >= f.lower) & (actual <= f.upper)))
        total += 6
        fc.update(float(t[i]), float(y[i]))
    assert 0.84 <= hits / total <= 0.96, hits / total


def test_auto_prefers_a_seasonal_model_on_seasonal_data_and_beats_naive() -> None:
    t, y = seasonal(288 * 6, seed=2, noise=1.0)
    auto = make_forecaster("auto", horizon=36).fit(t, y)
    assert auto.chosen_name in ("seasonal_naive", "mstl_holt")
    assert auto.scores_[auto.chosen_name] < auto.scores_["naive"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "case", ["constant", "short", "gappy", "leading_nan", "level_shift", "outliers"]
)
def test_awkward_series_give_finite_forecasts(model: str, case: str) -> None:
    t, y = seasonal(900, seed=3)
    if case == "constant":
        y = np.full_like(y, 5.0)
    elif case == "short":
        t, y = t[:15], y[:15]
    elif case == "gappy":
        y = y.copy()
        y[100:250] = np.nan
        y[::7] = np.nan
    elif case == "leading_nan":
        y = y.copy()
        y[:50] = np.nan
    elif case == "level_shift":
        y = y.copy()
        y[600:] += 200
    elif case == "outliers":
        y = y.copy()
        y[::97] += 5000
    f = make_forecaster(model, horizon=12).fit(t, y)
    out = f.forecast(12, 0.9)
    assert np.all(np.isfinite(out.mean)) and np.all(np.isfinite(out.upper))
    assert np.all(out.lower <= out.upper)
    f.update(float(t[-1] + STEP), float("nan"))  # a gap after fitting is fine too
    assert np.all(np.isfinite(f.forecast(3).mean))
    if case == "constant":
        assert np.allclose(out.mean, 5.0)
    if case == "level_shift" and model != "seasonal_naive":
        assert out.mean[0] > 250  # follows the new level, not the old one
