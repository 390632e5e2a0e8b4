"""Forecasters with prediction intervals calibrated on their own out-of-sample errors.

`ConformalForecaster` wraps a point model. Fitting holds back the last part of the history:
the model is fitted on the rest, then follows the held-back samples one by one, forecasting
at every origin, which yields genuine out-of-sample errors for every horizon step. From
then on every new sample adds the errors of the forecasts made for it. The interval at
step h is the forecast ± the ⌈(n+1)·level⌉-th smallest of the last n absolute h-step errors
(the finite-sample corrected quantile; n is the fewest errors any step has, at most `memory`)
(split conformal prediction), so a 90% interval covers about 90%
of what the series actually does, whatever the model gets wrong.

Errors are absolute (the default) or *relative* (`scale="relative"`: divided by
|forecast| + a tenth of the series' mean magnitude, scaled back by the same at forecast
time). Request rates have noise that grows with the load: relative errors give narrow
intervals at night and wide ones at the peak, where absolute errors are too wide at night
and too narrow at the peak, where replicas run out. On bursty CPU they cost more (an
interval stays wide after every burst), so it is a per-rule choice, not automatic.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from numpy.typing import NDArray

from sidecar.errors import NotFittedError
from sidecar.forecast.models import PointModel, median_step
from sidecar.types import Forecast

__all__ = ["MAX_HORIZON", "SCALES", "ConformalForecaster"]

Array = NDArray[np.float64]
SCALES = ("absolute", "relative")
MAX_HORIZON = 2016
"""Steps ahead a forecaster keeps errors for at most (a week of 5-minute samples): its
pending forecasts take max_horizon² floats (32 MB here)."""
RELATIVE_OFFSET = 0.1
"""Relative errors divide by |forecast| + this fraction of the mean |y| (near-zero safe)."""


class ConformalForecaster:
    """fit(t, y) → update(t, y) … → forecast(h, level): a point model plus conformal intervals."""

    def __init__(
        self,
        model: PointModel,
        max_horizon: int = 360,
        memory: int = 3000,
        holdout: float = 0.25,
        scale: str = "absolute",
    ) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
        if not 1 <= max_horizon <= MAX_HORIZON:
            raise ValueError(f"max_horizon must be 1..{MAX_HORIZON} steps, got {max_horizon}")
        self.model = model
        self.max_horizon = max_horizon
        self.memory = memory
        self.holdout = holdout
        self.scale = scale

    @property
    def name(self) -> str:
        return self.model.name

    def fit(self, t: Array, y: Array) -> Self:
        t = np.asarray(t, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if t.size < 2:
            raise ValueError("need at least two samples to fit")
        self.step_ = median_step(t)
        self.index0_ = int(round(t[0] / self.step_))
        n = y.size
        held = min(int(n * self.holdout), max(0, n - 10))
        H = self.max_horizon
        # ring buffers: errors_[h, i] is the i-th (mod memory) |error| of an (h+1)-step forecast
        # (relative: divided by |forecast| + offset_);
        # pending_[o % H] is the forecast made at origin o (H steps of it are ever needed)
        self.errors_ = np.zeros((H, self.memory))
        self.counts_ = np.zeros(H, dtype=np.int64)
        self.pending_ = np.full((H, H), np.nan)
        self.origin_ = 0
        finite = np.abs(y[np.isfinite(y)])
        self.offset_ = RELATIVE_OFFSET * float(np.mean(finite)) if finite.size else 0.0
        if not self.offset_ > 0:
            self.offset_ = 1.0
        # the holdout records absolute errors (what `AutoForecaster` compares models by) and,
        # for relative errors, what each is divided by once the holdout is over
        self.relative_ = False
        self.norms_: Array | None = np.ones((H, self.memory)) if self.scale == "relative" else None
        self.model.fit_points(y[: n - held], self.index0_)
        self.last_t_ = float(t[n - held - 1])
        self.pending_[0] = self.model.predict(H)
        for ti, yi in zip(t[n - held :].tolist(), y[n - held :].tolist(), strict=True):
            self.update(ti, yi)
        rows = np.minimum(self.counts_, self.memory).tolist()
        self.holdout_mae_ = np.array(
            [float(np.mean(self.errors_[h, :k])) if k else math.inf for h, k in enumerate(rows)]
        )
        if self.norms_ is not None:
            self.errors_ = self.errors_ / self.norms_
            self.norms_ = None
            self.relative_ = True
        return self

    def update(self, t: float, y: float) -> None:
        """Follow one new sample (NaN = gap); records the errors of forecasts made for it."""
        self._check()
        H = self.max_horizon
        if math.isfinite(y):
            k = min(self.origin_ + 1, H)  # forecasts made 1 … k steps ago exist
            h = np.arange(k)
            made = self.pending_[(self.origin_ - h) % H, h]
            errs = np.abs(y - made)
            slot = self.counts_[:k] % self.memory
            if self.relative_:
                errs = errs / (np.abs(made) + self.offset_)
            elif self.norms_ is not None:  # fitting for relative errors
                self.norms_[h, slot] = np.abs(made) + self.offset_
            self.errors_[h, slot] = errs
            self.counts_[:k] += 1
        self.model.step(y)
        self.last_t_ = t
        self.origin_ += 1
        self.pending_[self.origin_ % H] = self.model.predict(H)

    def forecast(self, horizon: int, level: float = 0.9) -> Forecast:
        """The next `horizon` samples with a central `level` interval."""
        self._check()
        horizon = min(horizon, self.max_horizon)
        mean = np.array(self.pending_[self.origin_ % self.max_horizon, :horizon], dtype=np.float64)
        half = self.half_widths(horizon, level)
        if self.relative_:
            half = half * (np.abs(mean) + self.offset_)
        ts = self.last_t_ + self.step_ * np.arange(1, horizon + 1)
        return Forecast(ts, mean, mean - half, mean + half, level, self.model.name)

    def half_widths(self, horizon: int, level: float) -> Array:
        """Conformal half-width per step, in error units (relative errors: per unit of
        |forecast| + offset); steps with too few errors scale the nearest known."""
        out = np.full(horizon, math.nan)
        counts = self.counts_[:horizon]
        rows = np.flatnonzero(counts >= 10)
        if rows.size:
            # every step's last n errors, n the fewest any of them has, in one partition
            # (counts differ by at most the horizon, and not at all once the memory is full)
            n = int(min(int(counts[rows].min()), self.memory))
            recent = np.stack([self._last_errors(h, n) for h in rows.tolist()])
            k = min(n, math.ceil((n + 1) * level))  # the k-th smallest of n errors
            recent.partition(k - 1, axis=1)  # in place: `recent` is a fresh array
            out[rows] = recent[:, k - 1]
        known = np.flatnonzero(np.isfinite(out))
        if known.size == 0:
            return np.zeros(horizon)
        for h in np.flatnonzero(~np.isfinite(out)).tolist():
            ref = int(known[np.argmin(np.abs(known - h))])
            out[h] = out[ref] * math.sqrt((h + 1) / (ref + 1))
        return out

    def _last_errors(self, h: int, n: int) -> Array:
        """The last n errors of step h+1, in ring order (one or two slices of the ring)."""
        ring: Array = self.errors_[h]
        end = int(self.counts_[h]) % self.memory
        if n == self.memory:
            return ring
        if end >= n:
            return ring[end - n : end]
        return np.concatenate([ring[end - n :], ring[:end]])

    def mae(self, h: int) -> float:
        """Mean absolute out-of-sample error at step h (1-based) over the fit's holdout;
        inf if the holdout had none (what `AutoForecaster` compares models by)."""
        self._check()
        return float(self.holdout_mae_[min(h, self.max_horizon) - 1])

    def _check(self) -> None:
        if "errors_" not in self.__dict__:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(t, y) first")
