"""Load per replica at which a latency objective breaks, learned from history (pure).

Each history window gives the load a replica carried (load / replicas) and the latency seen.
The fit is the queueing curve `latency = t0 + A / (mu - load)`: exact for the mean (and, up
to A, the percentiles) of an M/M/1 or M/G/1 queue, and the shape of every single-queue
service near saturation, where the curve's pole is the replica's throughput `mu`. It is
fitted by weighted least squares on relative error (latency noise grows with latency) for
`mu` on a grid above the highest load seen, (t0, A) in closed form. The capacity is where the
curve meets the objective: `mu - A / (objective - t0)`. A replica with several worker threads
barely queues until near saturation, a steeper knee, so the curves `t0 + A (load/mu)^k /
(mu - load)`, k = 1..3, are fitted too: the capacity is the median of the four answers, and
its range spans them and refits on 6-hour blocks resampled with replacement (10th to 90th
percentile); extrapolating from far below saturation is as uncertain as the shapes disagree.

The history cannot tell when latency has not bent upward (the best pole is far above
anything seen), when it never came near the estimate (its 99th-percentile load below
`MIN_REACH` of it), or when the range is wider than `MAX_SPREAD`: then no value is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_SPREAD", "MIN_REACH", "CapacityEstimate", "estimate_capacity"]

Array = NDArray[np.float64]
GRID = 160  # poles tried, log-spaced from 1% to 50x above the highest load
MIN_WINDOWS = 24
MIN_REACH = 0.6
"""The history's 99th-percentile load must reach this share of the estimate."""
MAX_SPREAD = 1.35
"""The 80% range's upper end may be at most this times its lower end."""
BOOTSTRAPS = 60
BLOCK = 72  # windows per resampled block (6 hours at 5-minute steps)
POWERS = (1, 2, 3)
"""Knee steepness of the alternative curves `t0 + A (load/mu)^k / (mu - load)`."""


@dataclass(frozen=True, slots=True)
class CapacityEstimate:
    """The learned capacity per replica (None when the history cannot tell) and why."""

    value: float | None
    lower: float | None
    upper: float | None
    reached: float  # the history's 99th-percentile load per replica
    reason: str


def _fit(x: Array, y: Array, poles: Array, power: int = 0) -> tuple[float, float, float] | None:
    """(mu, t0, A) of the best pole, or None if latency does not rise with load."""
    w = 1.0 / (y * y)
    z = (x[None, :] / poles[:, None]) ** power / (poles[:, None] - x[None, :])  # (poles, windows)
    sw, sy, syy = w.sum(), (w * y).sum(), (w * y * y).sum()
    sz = (z * w).sum(axis=1)
    szz = (z * z * w).sum(axis=1)
    szy = (z * (w * y)).sum(axis=1)
    det = sw * szz - sz * sz
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = (szz * sy - sz * szy) / det
        a = (sw * szy - sz * sy) / det
        # where the free intercept would go below zero, the fit through t0 = 0
        a0 = szy / szz
        neg = t0 < 0
        t0 = np.where(neg, 0.0, t0)
        a = np.where(neg, a0, a)
        sse = syy - 2 * t0 * sy - 2 * a * szy + t0 * t0 * sw + 2 * t0 * a * sz + a * a * szz
    sse = np.where((a > 0) & np.isfinite(sse), sse, np.inf)
    k = int(np.argmin(sse))
    if not np.isfinite(sse[k]):
        return None
    return float(poles[k]), float(t0[k]), float(a[k])


def _capacity(fit: tuple[float, float, float], objective: float, power: int = 0) -> float | None:
    """The load where the fitted curve reaches `objective` (None if it starts above it)."""
    mu, t0, a = fit
    if objective <= t0 + (a / mu if power == 0 else 0.0):  # the curve's value at no load
        return None
    if power == 0:
        return mu - a / (objective - t0)
    lo, hi = 0.0, mu  # the curve rises monotonically from t0 to infinity at the pole
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if t0 + a * (mid / mu) ** power / (mu - mid) > objective else (mid, hi)
    return lo


def estimate_capacity(
    load_per_replica: ArrayLike, latency: ArrayLike, objective: float, *, seed: int = 0
) -> CapacityEstimate:
    """Capacity per replica at the latency `objective`, from windows of (load, latency)."""
    x = np.asarray(load_per_replica, dtype=np.float64)
    y = np.asarray(latency, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("load and latency must be 1-d arrays of the same length")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    x, y = x[ok], y[ok]
    if x.size < MIN_WINDOWS:
        return CapacityEstimate(
            None, None, None, 0.0, f"only {x.size} windows with load and latency"
        )
    reached = float(np.quantile(x, 0.99))
    poles = x.max() * np.exp(np.linspace(np.log(1.01), np.log(50.0), GRID))
    fit = _fit(x, y, poles)
    if fit is None:
        return CapacityEstimate(None, None, None, reached, "latency does not rise with load")
    if fit[0] >= poles[-8]:
        return CapacityEstimate(
            None, None, None, reached, "latency has not bent upward: never near saturation"
        )
    value = _capacity(fit, objective)
    if value is None:
        return CapacityEstimate(
            None, None, None, reached, f"latency is above {objective:g} even without load"
        )
    # the same data under steeper knees: how far the answer depends on the curve's shape
    shapes = [
        c
        for k in POWERS
        if (f := _fit(x, y, poles, k)) is not None and (c := _capacity(f, objective, k))
    ]
    rng = np.random.default_rng(seed)
    blocks = np.arange(0, x.size, BLOCK)
    boots = []
    for _ in range(BOOTSTRAPS):
        pick = rng.choice(blocks, blocks.size)
        idx = (pick[:, None] + np.arange(BLOCK)[None, :]).ravel()
        idx = idx[idx < x.size]
        f = _fit(x[idx], y[idx], poles)
        c = _capacity(f, objective) if f is not None else None
        boots.append(np.inf if c is None else c)
    value = float(np.median([value, *shapes]))
    ranked = np.sort(np.asarray(boots))  # inf where a refit could not answer
    lower = float(ranked[int(0.1 * (ranked.size - 1))])
    upper = float(ranked[math.ceil(0.9 * (ranked.size - 1))])
    lower, upper = min(lower, value, *shapes), max(upper, value, *shapes)
    model = f"latency {fit[1]:.3g} + {fit[2]:.3g}/({fit[0]:.4g} - load)"
    if reached < MIN_REACH * value:
        why = f"history reached only {reached / value:.0%} of the estimate {value:.4g} ({model})"
        return CapacityEstimate(None, None, None, reached, why)
    if not np.isfinite(upper) or upper > MAX_SPREAD * max(lower, 1e-300):
        why = f"estimate {value:.4g} too uncertain (80%: {lower:.4g} to {upper:.4g})"
        return CapacityEstimate(None, None, None, reached, why)
    why = (
        f"{value:.4g} per replica keeps latency at {objective:g} ({model}); "
        f"history reached {reached / value:.0%} of it"
    )
    return CapacityEstimate(value, lower, upper, reached, why)
