"""Model choice per series: seasonality detected from the data, candidates compared out of sample.

`detect_periods` keeps a day and/or a week (in samples) when the history holds two full
cycles and the autocorrelation at that lag is clearly positive. `AutoForecaster` fits every
candidate as a `ConformalForecaster` (whose fit is a rolling-origin backtest on the last
quarter of the history) and keeps the one with the lowest mean absolute error at the
horizon that matters, so the choice is made on errors the model has not seen.
"""

from __future__ import annotations

import numbers
from typing import Self

import numpy as np
from numpy.typing import NDArray

from sidecar.errors import NotFittedError
from sidecar.forecast.conformal import ConformalForecaster
from sidecar.forecast.models import (
    DampedHolt,
    Naive,
    PointModel,
    SeasonalHolt,
    SeasonalNaive,
    fill_gaps,
    median_step,
)
from sidecar.types import Forecast

__all__ = ["MODELS", "AutoForecaster", "candidates", "detect_periods", "make_forecaster"]

Array = NDArray[np.float64]
DAY = 86400.0
WEEK = 7 * DAY
MODELS = ("auto", "ets", "mstl", "seasonal_naive", "naive")


def detect_periods(y: Array, step: float, min_acf: float = 0.3) -> tuple[int, ...]:
    """Seasonal periods (in samples) the data supports: a day and/or a week."""
    filled = fill_gaps(y)
    out = []
    for seconds in (DAY, WEEK):
        p = int(round(seconds / step))
        if p < 4 or filled.size < 2 * p:
            continue
        # remove a slow trend so a ramp does not pass for a season
        k = max(3, p // 2) | 1
        trend = np.convolve(filled, np.ones(k) / k, mode="same")
        r = filled - trend
        a, b = r[p:], r[:-p]
        denom = float(np.std(a) * np.std(b))
        acf = float(np.mean((a - a.mean()) * (b - b.mean())) / denom) if denom > 0 else 0.0
        if acf >= min_acf:
            out.append(p)
    return tuple(out)


MODELS = ("auto", "ets", "mstl", "seasonal_naive", "naive")
"""What `model` may name: `auto` tries every candidate that fits the history."""


def candidates(y: Array, step: float, model: str = "auto") -> list[PointModel]:
    """The point models worth trying for `model` on this history."""
    periods = detect_periods(y, step)
    if model == "naive":
        return [Naive()]
    if model == "seasonal_naive":
        return [SeasonalNaive(periods[0] if periods else int(round(DAY / step)))]
    if model == "ets":
        return [DampedHolt()]
    if model == "mstl":
        return [SeasonalHolt(periods or (int(round(DAY / step)),))]
    found: list[PointModel] = [Naive(), DampedHolt()]
    if periods:
        found += [SeasonalNaive(periods[0]), SeasonalHolt(periods)]
    return found


class AutoForecaster:
    """Fits each candidate with conformal intervals; forecasts with the best at `horizon`."""

    def __init__(
        self,
        horizon: int = 60,
        model: str = "auto",
        max_horizon: int = 360,
        interval_scale: str = "absolute",
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        for name, value in (("horizon", horizon), ("max_horizon", max_horizon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer of steps, got {value!r}")
        if interval_scale not in ("absolute", "relative"):
            raise ValueError(
                f"interval_scale must be 'absolute' or 'relative', got {interval_scale!r}"
            )
        self.horizon = horizon
        self.model = model
        self.max_horizon = max_horizon
        self.interval_scale = interval_scale

    def fit(self, t: Array, y: Array) -> Self:
        t = np.asarray(t, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        step = median_step(t)
        mh = max(self.max_horizon, self.horizon)
        fitted = [
            ConformalForecaster(m, max_horizon=mh, scale=self.interval_scale).fit(t, y)
            for m in candidates(y, step, self.model)
        ]
        scores = [f.mae(self.horizon) for f in fitted]
        # only the winner is kept: each candidate holds its out-of-sample errors per step
        self.chosen_ = fitted[int(np.argmin(scores))]
        self.scores_ = {f.name: s for f, s in zip(fitted, scores, strict=True)}
        return self

    def update(self, t: float, y: float) -> None:
        self._check()
        self.chosen_.update(t, y)

    def forecast(self, horizon: int, level: float = 0.9) -> Forecast:
        self._check()
        return self.chosen_.forecast(horizon, level)

    @property
    def chosen_name(self) -> str:
        self._check()
        return self.chosen_.name

    def _check(self) -> None:
        if "chosen_" not in self.__dict__:
            raise NotFittedError("AutoForecaster is not fitted: call fit(t, y) first")


def make_forecaster(model: str = "auto", horizon: int = 60) -> AutoForecaster:
    """A forecaster for a rule's `model` (`auto` chooses per series by backtest)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    return AutoForecaster(horizon=horizon, model=model)
