"""Point forecasting models with cheap incremental updates; statsmodels estimates their parameters.

Each model is fitted once on a history (`fit_points`), then follows new samples one at a
time (`step`, O(1) or O(period)), and predicts the next `h` means (`predict`). Refits are
the caller's choice (a rolling backtest does not refit per origin). NaN samples are gaps:
the state moves forward without a correction.

* `Naive`: the last value. `SeasonalNaive`: the value one period ago.
* `DampedHolt`: additive damped-trend exponential smoothing; alpha, beta and phi come from
  statsmodels' `ExponentialSmoothing` fit, the recursion then runs here per sample.
* `SeasonalHolt`: statsmodels' robust `MSTL` splits off one or more seasonal profiles
  (a day, a week), held by phase; a `DampedHolt` follows what remains.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DampedHolt",
    "Naive",
    "PointModel",
    "SeasonalHolt",
    "SeasonalNaive",
    "fill_gaps",
    "median_step",
]

Array = NDArray[np.float64]


def median_step(t: Array, default: float = 60.0) -> float:
    """The typical sampling interval of timestamps `t` (median of the positive gaps)."""
    steps = np.diff(np.asarray(t, dtype=np.float64))
    steps = steps[steps > 0]
    return float(np.median(steps)) if steps.size else default


def fill_gaps(y: Array) -> Array:
    """Linear interpolation over NaN (edges take the nearest value); all-NaN gives zeros."""
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y)
    if ok.all():
        return y.copy()
    if not ok.any():
        return np.zeros_like(y)
    idx = np.arange(y.size)
    return np.interp(idx, idx[ok], y[ok])


class PointModel:
    """Interface of the point models (a plain base class: all methods are overridden)."""

    name = "model"

    def fit_points(self, y: Array, phase0: int) -> None:
        """Fit on samples `y`; `phase0` is the absolute sample index of y[0] (for seasons)."""
        raise NotImplementedError

    def step(self, y: float) -> None:
        """Follow one new sample (NaN = gap)."""
        raise NotImplementedError

    def predict(self, h: int) -> Array:
        """Means of the next h samples."""
        raise NotImplementedError


class Naive(PointModel):
    """Tomorrow looks like now."""

    name = "naive"

    def __init__(self) -> None:
        self.last_ = math.nan

    def fit_points(self, y: Array, phase0: int) -> None:
        finite = y[np.isfinite(y)]
        self.last_ = float(finite[-1]) if finite.size else 0.0

    def step(self, y: float) -> None:
        if math.isfinite(y):
            self.last_ = y

    def predict(self, h: int) -> Array:
        return np.full(h, self.last_)


class SeasonalNaive(PointModel):
    """The value one period ago (gaps keep the value seen a period before them)."""

    name = "seasonal_naive"

    def __init__(self, period: int) -> None:
        # a season shorter than one sampling step (a daily one sampled every two days) is
        # no season: the value one step ago
        self.period = max(1, int(period))

    def fit_points(self, y: Array, phase0: int) -> None:
        tail = fill_gaps(y)[-self.period :]
        pad = self.period - tail.size  # short history: repeat the oldest value known
        first = tail[0] if tail.size else 0.0
        self.buf_ = np.concatenate([np.full(pad, first), tail])
        self.pos_ = 0  # buf_[pos_] is the value one period before the next sample

    def step(self, y: float) -> None:
        if math.isfinite(y):
            self.buf_[self.pos_] = y
        self.pos_ = (self.pos_ + 1) % self.period

    def predict(self, h: int) -> Array:
        idx = (self.pos_ + np.arange(h)) % self.period
        return self.buf_[idx].copy()


class DampedHolt(PointModel):
    """Additive damped trend; parameters from statsmodels, recursion per sample here."""

    name = "holt"

    def __init__(
        self, alpha: float | None = None, beta: float | None = None, phi: float | None = None
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.phi = phi

    def fit_points(self, y: Array, phase0: int) -> None:
        filled = fill_gaps(y)
        if self.alpha is None or self.beta is None or self.phi is None:
            self.alpha_, self.beta_, self.phi_ = _fit_holt(filled)
        else:
            self.alpha_, self.beta_, self.phi_ = self.alpha, self.beta, self.phi
        self.level_ = float(filled[0]) if filled.size else 0.0
        self.trend_ = 0.0
        for v in filled[1:].tolist():
            self.step(v)

    def step(self, y: float) -> None:
        a, b, phi = self.alpha_, self.beta_, self.phi_
        prev = self.level_
        pred = prev + phi * self.trend_
        if not math.isfinite(y):
            self.level_, self.trend_ = pred, phi * self.trend_
            return
        self.level_ = a * y + (1 - a) * pred
        self.trend_ = b * (self.level_ - prev) + (1 - b) * phi * self.trend_

    def predict(self, h: int) -> Array:
        damp = np.cumsum(self.phi_ ** np.arange(1, h + 1))
        return self.level_ + damp * self.trend_


def _fit_holt(y: Array) -> tuple[float, float, float]:
    """alpha, beta, phi of a damped additive trend model fitted by statsmodels."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if y.size < 10 or float(np.ptp(y)) == 0.0:
        return 0.5, 0.05, 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on flat or short series
        fit = ExponentialSmoothing(
            y, trend="add", damped_trend=True, initialization_method="estimated"
        ).fit(optimized=True)
    p = fit.params
    alpha = float(np.clip(p["smoothing_level"], 0.01, 1.0))
    beta = float(np.clip(p["smoothing_trend"], 0.0, 1.0))
    phi = float(np.clip(p["damping_trend"], 0.8, 0.995))
    return alpha, beta, phi


MAX_POINTS_PER_CYCLE = 288
"""Groups in the shortest period at most (STL's cost grows with the period)."""
MAX_POINTS_LONGEST = 336
"""Groups in the longest period at most: a week of 30-minute means."""
MAX_FIT_CYCLES = 8
"""Longest periods of history decomposed at most (the profiles use the last three)."""
STL_KWARGS = {"robust": True, "outer_iter": 4}
"""Robust STL with 4 robustness passes instead of 15: 3x cheaper, profiles within 3% of the
noise of the full 15 on 14 days of 5-minute samples with spikes."""


def _aggregation(periods: tuple[int, ...]) -> int:
    """Samples per group: dividing every period, at most MAX_POINTS_PER_CYCLE groups in the
    shortest and MAX_POINTS_LONGEST in the longest."""
    f = max(1, math.ceil(min(periods) / MAX_POINTS_PER_CYCLE))
    f = max(f, math.ceil(max(periods) / MAX_POINTS_LONGEST)) if len(periods) > 1 else f
    while any(p % f for p in periods):
        f += 1
    return f


def _decomposable(
    periods: tuple[int, ...], filled: Array, phase0: int
) -> tuple[tuple[int, ...], int, int, Array]:
    """The periods MSTL will keep, the samples per group, the absolute index of the first
    group and the group means of the last MAX_FIT_CYCLES longest periods. MSTL silently
    drops a period not shorter than half its input, so a period is kept only when its
    groups fit more than twice."""
    while periods:
        f = _aggregation(periods)
        recent = filled[-MAX_FIT_CYCLES * max(periods) :]
        start = phase0 + filled.size - recent.size  # absolute index of recent[0]
        first = (-start) % f
        usable = (recent.size - first) // f * f
        agg = recent[first : first + usable].reshape(-1, f).mean(axis=1)
        kept = tuple(p for p in periods if p // f >= 2 and 2 * (p // f) < agg.size)
        if kept == periods:
            return periods, f, start + first, agg
        periods = kept
    return (), 1, phase0, filled


class SeasonalHolt(PointModel):
    """MSTL seasonal profiles (by phase) plus a damped Holt on the deseasonalised rest."""

    name = "mstl_holt"

    def __init__(self, periods: tuple[int, ...]) -> None:
        self.periods = periods

    def fit_points(self, y: Array, phase0: int) -> None:
        from statsmodels.tsa.seasonal import MSTL

        filled = fill_gaps(y)
        periods, f, first, agg = _decomposable(self.periods, filled, phase0)
        self.periods_ = periods
        self.profiles_: list[Array] = []
        if periods:
            # decompose group means (STL's cost grows fast with the period), then
            # interpolate the profiles back to samples by phase
            g0 = first // f  # absolute group index of agg[0]
            agg_periods = tuple(p // f for p in periods)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = MSTL(agg, periods=agg_periods, stl_kwargs=dict(STL_KWARGS)).fit()
            comps = np.asarray(res.seasonal).reshape(agg.size, -1)
            for j, (p, pa) in enumerate(zip(periods, agg_periods, strict=True)):
                cycles = min(3, agg.size // pa)
                seg = comps[-cycles * pa :, j]
                idx = (g0 + agg.size - cycles * pa + np.arange(seg.size)) % pa
                prof_agg = np.zeros(pa)
                np.add.at(prof_agg, idx, seg / cycles)
                centers = (np.arange(pa) + 0.5) * f - 0.5  # sample phase of each group centre
                self.profiles_.append(np.interp(np.arange(p), centers, prof_agg, period=p))
        self.index_ = phase0 + filled.size  # absolute index of the next sample
        seasonal = np.asarray(self._seasonal(phase0 + np.arange(filled.size)), dtype=np.float64)
        self.holt_ = DampedHolt()
        self.holt_.fit_points(filled - seasonal, phase0)

    def _seasonal(self, idx: Any) -> Any:
        out: Any = 0.0
        for p, prof in zip(self.periods_, self.profiles_, strict=True):
            out = out + prof[np.asarray(idx) % p]
        return out

    def step(self, y: float) -> None:
        s = float(self._seasonal(self.index_))
        self.holt_.step(y - s if math.isfinite(y) else math.nan)
        self.index_ += 1

    def predict(self, h: int) -> Array:
        idx = self.index_ + np.arange(h)
        return self.holt_.predict(h) + np.asarray(self._seasonal(idx), dtype=np.float64)
