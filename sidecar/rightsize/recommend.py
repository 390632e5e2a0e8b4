"""Container requests and limits from usage history: pure functions of (times, values).

A request is one number that must hold for the next `horizon`, so it is sized from the
history's distribution, weighted toward recent days (`half_life`), in two parts:

* **The daily cycle**: the typical day (per hour of day, the median across recent days) is
  covered except its top `risk` share of hours, so a load that peaks every afternoon gets a
  request at that peak.
* **Everything else** (bursts, spikes) is priced, not chased: the request stops where one more
  unit would buy less than `risk` share of time per mean usage of extra request
  (`argmin R/mean + S(R)/risk`, with S the weighted share of samples above R). For usage with
  exponential tails this is exactly the `1 - risk` quantile; heavier tails end lower, lighter
  tails higher. The choice and its measurement are in docs/decisions/0002-rightsizing.md.

A memory limit must not be crossed (the container is killed), so it is the recent peak plus
15% plus how far a day's peak has typically outgrown the peaks before it, and raised after an
OOM kill. Every value has an interval (the spread of what each past day alone would have
needed, widened while history is short) and a reason in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DAY",
    "Sizing",
    "daily_peak",
    "memory_limit",
    "priced_level",
    "request",
]

DAY = 86400.0
HOURS = 24
OOM_BUMP = 1.2
"""After an OOM kill the limit is at least this times the highest usage seen (VPA's +20%)."""
LIMIT_MARGIN = 0.15
"""A memory limit is at least this much above the recent peak (VPA's and KRR's margin)."""
Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Sizing:
    """One recommended quantity with its 80% interval and why."""

    value: float
    lower: float
    upper: float
    share_above: float  # weighted share of the history above `value`
    days: float  # history used, in days
    reason: str


def _clean(times: ArrayLike, values: ArrayLike) -> tuple[Array, Array]:
    t = np.asarray(times, dtype=np.float64)
    u = np.asarray(values, dtype=np.float64)
    if t.shape != u.shape or t.ndim != 1:
        raise ValueError("times and values must be 1-d arrays of the same length")
    keep = np.isfinite(t) & np.isfinite(u)
    t, u = t[keep], np.maximum(u[keep], 0.0)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]


def _decay(t: Array, half_life: float) -> Array:
    return np.asarray(np.exp2((t - t[-1]) / half_life), dtype=np.float64)


def priced_level(u: Array, w: Array, risk: float) -> float:
    """The level R minimising `R / mean + share_above(R) / risk` over the weighted samples."""
    order = np.argsort(u, kind="stable")
    x = u[order]
    ws = w[order] / w.sum()
    mean = float(np.dot(ws, x))
    if mean <= 0:
        return float(x[-1])
    above = 1.0 - np.cumsum(ws)  # share strictly above x[i] (ties: above the last copy)
    cost = x / mean + np.clip(above, 0.0, None) / risk
    return float(x[int(np.argmin(cost))])


def daily_peak(t: Array, u: Array, w: Array, risk: float) -> float:
    """The typical day's level covering all but its top `risk` share of hours (0 if < 2 days).

    Each hour of day is the weighted median across days of that hour's median, so bursts
    and one day's surge do not make a peak; a peak that comes back every day does.
    """
    if t[-1] - t[0] < 2 * DAY:
        return 0.0
    day = np.floor((t - t[0]) / DAY).astype(np.int64)
    hour = np.floor((t % DAY) / (DAY / HOURS)).astype(np.int64)
    cell = day * HOURS + hour
    cells, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    order = np.lexsort((u, inverse))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    means = u[order][starts + (counts - 1) // 2]  # each hour's (lower) median: bursts drop out
    weights = np.bincount(inverse, weights=w) / counts
    hours = cells % HOURS
    profile = []
    for h in range(HOURS):
        m = hours == h
        if not m.any():
            continue
        x, wx = means[m], weights[m]
        order = np.argsort(x, kind="stable")
        c = np.cumsum(wx[order])
        profile.append(float(x[order][int(np.searchsorted(c, 0.5 * c[-1]))]))
    if not profile:
        return 0.0
    # the least hour level with at most `risk` of the hours above it (no interpolation)
    return float(np.quantile(profile, 1.0 - risk, method="inverted_cdf"))


def _level(t: Array, u: Array, w: Array, risk: float, cover_daily_peak: bool) -> float:
    priced = priced_level(u, w, risk)
    return max(priced, daily_peak(t, u, w, risk)) if cover_daily_peak else priced


def _per_day(t: Array, u: Array, risk: float, cover_daily_peak: bool) -> Array:
    """What each whole day of the history alone would have needed (the last 14 days)."""
    day = np.floor((t - t[-1]) / DAY).astype(np.int64)
    out = []
    for d in range(max(int(day.min()), -14), 0):
        m = day == d
        if m.sum() < 2:
            continue
        out.append(_level(t[m], u[m], np.ones(int(m.sum())), risk, cover_daily_peak))
    return np.asarray(out, dtype=np.float64)


def _interval(value: float, per_day: Array, days: float) -> tuple[float, float]:
    """80% range of a day's need around `value`, widened by (1 + 1/days) while history is
    short (with under two whole days: half to twice the value)."""
    if per_day.size < 2:
        return 0.5 * value, 2.0 * value
    lo, hi = np.quantile(per_day, [0.1, 0.9])
    widen = 1.0 + 1.0 / max(days, 1.0 / 24)
    lower = value - max(value - float(lo), 0.0) * widen
    upper = value + max(float(hi) - value, 0.0) * widen
    return max(lower, 0.0), upper


def _fmt(x: float, unit: str) -> str:
    if unit == "bytes":
        for scale, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(x) >= scale:
                return f"{x / scale:.3g} {name}"
        return f"{x:.0f} B"
    return f"{x:.3g} {unit}"


def _bounded(value: float, lo: float | None, hi: float | None) -> tuple[float, str]:
    if lo is not None and value < lo:
        return lo, f"; raised to the minimum {lo:g}"
    if hi is not None and value > hi:
        return hi, f"; capped at the maximum {hi:g}"
    return value, ""


def request(
    times: ArrayLike,
    values: ArrayLike,
    *,
    risk: float = 0.05,
    half_life: float = 7 * DAY,
    cover_daily_peak: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    floor: float = 0.0,
    unit: str = "cores",
) -> Sizing:
    """A request for the next day from usage `values` at unix `times`.

    `floor` is a level the request must not go under whatever history says (for example the
    usage seen while throttled, which understates demand); `minimum`/`maximum` bound it.
    Raises ValueError without two finite samples.
    """
    if not 0 < risk < 1:
        raise ValueError("risk must be in (0, 1)")
    t, u = _clean(times, values)
    if t.size < 2:
        raise ValueError("need at least two finite samples")
    w = _decay(t, half_life)
    priced = priced_level(u, w, risk)
    peak = daily_peak(t, u, w, risk) if cover_daily_peak else 0.0
    value = max(priced, peak)
    days = float(t[-1] - t[0]) / DAY
    lower, upper = _interval(value, _per_day(t, u, risk, cover_daily_peak), days)
    share = float(np.dot(w, u > value) / w.sum())
    if peak > priced:
        why = (
            f"covers the daily peak {_fmt(peak, unit)} (all but {risk:.0%} of the typical "
            f"day's hours)"
        )
    else:
        why = (
            f"{share:.1%} of recent samples above {_fmt(value, unit)} (bursts beyond it "
            f"are not worth the request they would take at risk {risk:.0%})"
        )
    if floor > value:
        value = floor
        why += f"; raised to {_fmt(floor, unit)} (usage while throttled understates demand)"
    value, bound = _bounded(value, minimum, maximum)
    reason = f"{why}; {days:.1f} days of history (half-life {half_life / DAY:g} d){bound}"
    return Sizing(value, min(lower, value), max(upper, value), share, days, reason)


def memory_limit(
    times: ArrayLike,
    values: ArrayLike,
    *,
    oom_kills: Sequence[float] = (),
    window: float = 14 * DAY,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Sizing:
    """A memory limit: the peak of the last `window` plus 15% plus the mean growth of a
    day's peak over the peaks before it (each day's growth capped at +100%, so a leak's daily
    growth counts and one burst cannot blow the limit up), and at least +20% over the highest
    usage seen if the container was OOM-killed (`oom_kills`: unix times) within the window."""
    t, u = _clean(times, values)
    if t.size < 2:
        raise ValueError("need at least two finite samples")
    recent = t >= t[-1] - window
    peak = float(u[recent].max())
    day = np.floor((t - t[-1]) / DAY).astype(np.int64)
    days_seen, inverse = np.unique(day, return_inverse=True)
    peaks = np.full(days_seen.size, -np.inf)
    np.maximum.at(peaks, inverse, u)
    before = np.maximum.accumulate(peaks)[:-1]  # the highest peak before each later day
    later = peaks[1:]
    counted = (before > 0) & (days_seen[1:] >= -window / DAY)
    growth = np.clip(later[counted] / before[counted] - 1.0, 0.0, 1.0)
    margin = LIMIT_MARGIN + (float(growth.mean()) if growth.size else 0.0)
    value = peak * (1.0 + margin)
    days = float(t[-1] - t[0]) / DAY
    why = f"peak {_fmt(peak, 'bytes')} over {min(days, window / DAY):.1f} d + {margin:.0%}"
    kills = [k for k in oom_kills if math.isfinite(k) and k >= t[-1] - window]
    if kills:
        bumped = OOM_BUMP * float(u.max())
        if bumped > value:
            value = bumped
        why += f"; {len(kills)} OOM kill(s) in the window: at least +20% over the highest usage"
    widen = 1.0 + 1.0 / max(days, 1.0 / 24)
    lower = peak
    upper = value + (value - peak) * widen
    value, bound = _bounded(value, minimum, maximum)
    share = float(np.mean(u > value))
    return Sizing(value, min(lower, value), max(upper, value), share, days, why + bound)
