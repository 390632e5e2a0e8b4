"""Per-channel calibration of a deviation statistic into a comparable [0, 1] score.

A deviation of 5 sigma is routine for a bursty, heavy-tailed series and unheard of for a
quiet one. Each channel keeps a histogram of its own past statistics (fixed bin edges, a
Gaussian prior worth `PRIOR_WEIGHT` samples) and turns a new statistic into its tail
probability p under that history. The score is `P_HALF / (p + P_HALF)`: 0.5 at p = 1e-3,
0.9 at p ≈ 1e-4, so one threshold means about the same false-alarm rate on every series.

Like the baseline, this runs unchanged on floats and on arrays (ops.py), and only uses
operations that round identically in both.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

import numpy as np

from sidecar.detect.ops import ScalarOps

__all__ = [
    "EDGES",
    "EPISODE_Z",
    "P_HALF",
    "Calibration",
    "Peak",
    "onset_scalar",
    "onset_score",
    "remember_peak",
    "remember_peak_scalar",
    "restart",
    "score_of",
    "tail_probability",
    "tail_scalar",
    "update",
    "update_scalar",
]

Ops = Any  # ScalarOps or ArrayOps: the kernel is duck-typed over both backends

EDGES = (
    0.0,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    3.0,
    3.5,
    4.0,
    5.0,
    6.0,
    7.0,
    8.0,
    10.0,
    12.0,
    15.0,
    20.0,
    25.0,
    30.0,
    40.0,
    50.0,
    70.0,
    100.0,
)
"""Bin edges of the statistic; the last bin is [100, inf)."""

P_HALF = 1e-3
PRIOR_WEIGHT = 100.0
"""Samples the prior counts for: a channel trusts its own tail after a few hundred samples
(30 let the first heavy-tailed days alarm; 100 cut false alarms at the low-FP threshold)."""
CAP = 50_000.0
"""When a channel's count passes this, all its counts halve, rounding up (slow forgetting).
Counts stay whole numbers, so any order of summing them is exact: the per-row and array
paths can each sum the fastest way and still agree to the bit."""
EPISODE_Z = 5.0
"""A run of statistics at or above this is one episode; `update(episodes=True)` counts its
first sample only, so one long incident cannot teach the tail that its values are normal."""

TAIL_COUNT = 10.0
"""The fitted tail (`_fitted_scalar`) starts at the highest bin edge with at least this many
of the channel's statistics above it (5 to 15 scored within noise)."""
TAIL_FROM = 4
"""...and never below bin TAIL_FROM (edge 2.0): below that there is no tail to fit."""
TAIL_MIN_TOTAL = 300.0
"""Channels with fewer statistics counted trust their histogram and the prior alone."""
TAIL_PRIOR_COUNT = 10.0
TAIL_PRIOR_INDEX = 6.0
"""The fitted tail index is shrunk towards TAIL_PRIOR_INDEX as if TAIL_PRIOR_COUNT more
statistics had shown it: a Hill estimate from ~10 exceedances is +-30%, and one too low
makes every later deviation look routine (benchmark within noise: 65.1 -> 65.2; it kept a
4-sample run in Student-t noise at 0.84-0.99 where the raw estimate gave 0.64)."""
_PRIOR_SPREAD = TAIL_PRIOR_COUNT / TAIL_PRIOR_INDEX
_MAX_INDEX = 31  # the tail index is a whole number 1..31: the 5 bits _fitted_scalar multiplies

_BINS = len(EDGES)  # bins [E0,E1) … [E_last, inf)
_LAST = _BINS - 1
_MID = _BINS // 2
_TOP = EDGES[-1]


def _prior() -> tuple[float, ...]:
    """Bin probabilities of the prior: |z| half Gaussian, half Laplace (unit variance).

    The Laplace half keeps a channel with little history from calling a 5-sigma sample
    one in a million: real residuals have heavier tails than a Gaussian.
    """
    tail = [
        0.5 * math.erfc(e / math.sqrt(2.0)) + 0.5 * math.exp(-math.sqrt(2.0) * e) for e in EDGES
    ] + [0.0]
    return tuple(tail[i] - tail[i + 1] for i in range(_BINS))


PRIOR = _prior()
_PRIOR_TAIL_LAST = PRIOR[-1]


def _prior_above() -> tuple[float, ...]:
    """Prior mass above each bin, summed from the top (the order `_tail_array` uses)."""
    above = [0.0] * len(PRIOR)
    for k in range(len(PRIOR) - 2, -1, -1):
        above[k] = above[k + 1] + PRIOR[k + 1]
    return tuple(above)


_PRIOR_ABOVE = _prior_above()
_LOG_EDGE = tuple(math.log(e) if e > 0.0 else -math.inf for e in EDGES)
_LOG_MID = tuple(  # log of each bin's geometric middle; the open last bin's is at 1.41 x edge
    0.5 * (math.log(EDGES[i]) + math.log(EDGES[i + 1] if i < _LAST else 2.0 * EDGES[i]))
    if EDGES[i] > 0.0
    else -math.inf
    for i in range(_BINS)
)


class Calibration:
    """Histogram counts (N, bins) or a list of floats, the total count, the length of the
    current run of statistics >= EPISODE_Z, whether the histogram was restarted, and how
    many samples the prior counts for: `prior` at first, fading linearly to PRIOR_WEIGHT
    as the histogram counts `fade` statistics (`prior_weight`; no fade by default)."""

    __slots__ = ("counts", "fade", "prior", "restarted", "streak", "total")

    def __init__(
        self, xp: Ops, n: int | None, prior: float = PRIOR_WEIGHT, fade: float = math.inf
    ) -> None:
        self.prior = prior
        self.fade = fade
        if n is None:
            self.counts: Any = [0.0] * _BINS
            self.total: Any = 0.0
            self.streak: Any = 0.0
            self.restarted: Any = 0.0
        else:
            self.counts = np.zeros((n, _BINS), dtype=np.float64)
            self.total = np.zeros(n, dtype=np.float64)
            self.streak = np.zeros(n, dtype=np.float64)
            self.restarted = np.zeros(n, dtype=np.float64)

    def nbytes(self) -> int:
        arrays = (self.counts, self.total, self.streak, self.restarted)
        return sum(int(getattr(a, "nbytes", 0)) for a in arrays)


class Peak:
    """A channel's recent peak score and the samples scored since it was last reached, which
    onset scoring reads (`onset_score`); one per metric, shared by all its statistics."""

    __slots__ = ("age", "value")

    def __init__(self, xp: Ops, n: int | None) -> None:
        if n is None:
            self.value: Any = 0.0
            self.age: Any = math.inf
        else:
            self.value = np.zeros(n, dtype=np.float64)
            self.age = np.full(n, math.inf, dtype=np.float64)

    def nbytes(self) -> int:
        return sum(int(getattr(a, "nbytes", 0)) for a in (self.value, self.age))


def tail_probability(cal: Calibration, xp: Ops, stat: Any, fit: Any = False) -> Any:
    """P(statistic >= stat) under the channel's history blended with the prior; with `fit`,
    beyond the history's top values as a power-law tail fitted to them (`_fitted_scalar`)."""
    if isinstance(xp, ScalarOps):
        return tail_scalar(cal, stat, fit)
    return _tail_array(cal, stat, fit)


def tail_scalar(cal: Calibration, stat: float, fit: bool = False) -> float:
    """`tail_probability` for one channel of floats (the per-row hot path)."""
    if not stat > 0.0:  # also NaN
        return 1.0
    k = bisect_right(EDGES, stat) - 1  # >= 0 for stat > 0
    counts: list[float] = cal.counts
    total: float = cal.total  # = sum(counts), whole numbers: any way of summing is exact
    if k == 0:  # most statistics: no slice to sum (whole numbers: the order is exact)
        above = total - counts[0]
    elif k == 1:
        above = total - counts[0] - counts[1]
    else:
        above = total - sum(counts[: k + 1]) if k < _MID else sum(counts[k + 1 :])
    if k < _LAST:
        upper = EDGES[k + 1]
        frac = (upper - stat) / (upper - EDGES[k])
        prior_in = PRIOR[k] * frac
    else:  # open last bin: a power-law tail beyond the last edge
        frac = (EDGES[-1] / stat) * (EDGES[-1] / stat)
        prior_in = _PRIOR_TAIL_LAST * frac
    seen = above + counts[k] * frac
    # with TAIL_COUNT statistics above stat's bin, the fit starts above stat: nothing to add
    if fit and k >= TAIL_FROM and above < TAIL_COUNT and total >= TAIL_MIN_TOTAL:
        fitted = _fitted_scalar(counts, stat)
        if fitted > seen:
            seen = fitted
    weight = cal.prior * (1.0 - total / cal.fade)  # = prior_weight(cal, total), inline
    if weight < PRIOR_WEIGHT:
        weight = PRIOR_WEIGHT
    mass = seen + weight * (_PRIOR_ABOVE[k] + prior_in)
    return mass / (total + weight)


def _fitted_scalar(counts: list[float], stat: float) -> float:
    """Counts a power-law tail fitted to the channel's top statistics expects at or above
    `stat` (0 if there is no tail to fit or `stat` is inside it).

    Peaks over a threshold, as SPOT fits its Pareto tail: u is the highest bin edge with
    TAIL_COUNT statistics above it, their tail index a Hill estimate from bin middles (a
    whole number, so the power is exact multiplication in both backends) shrunk towards
    TAIL_PRIOR_INDEX. Beyond the last
    value a heavy-tailed channel has seen, its histogram is empty and the prior's tail is
    thin; without the fit each new record of a Student-t series scored as one in 10^20
    (development benchmark, 5-min, 8 seeds: 63.8 -> 65.1, false positives -5%).
    """
    m = 0.0
    j = _LAST
    while j >= TAIL_FROM:
        m += counts[j]
        if m >= TAIL_COUNT:
            break
        j -= 1
    if j < TAIL_FROM:
        return 0.0
    u = EDGES[j]
    if not stat > u:
        return 0.0
    log_u = _LOG_EDGE[j]
    spread = 0.0
    for i in range(j, _BINS):
        spread = spread + counts[i] * (_LOG_MID[i] - log_u)
    index = math.floor((m + TAIL_PRIOR_COUNT) / (spread + _PRIOR_SPREAD) + 0.5)
    index = 1 if index < 1 else (_MAX_INDEX if index > _MAX_INDEX else index)
    ratio = u / stat
    power = 1.0
    for bit in (1, 2, 4, 8, 16):
        if index & bit:
            power = power * ratio
        ratio = ratio * ratio
    return m * power


def _tail_array(cal: Calibration, stat: Any, fit: Any) -> Any:
    n = cal.counts.shape[0]
    bad = np.isnan(stat) | (stat <= 0.0)
    s = np.where(bad, 1.0, stat)
    s = np.where(np.isinf(s), 1e300, s)
    k = np.searchsorted(np.asarray(EDGES), s, side="right") - 1
    k = np.clip(k, 0, _BINS - 1)
    # sums above bin k (whole numbers: exact, whatever the order)
    rev = np.cumsum(cal.counts[:, ::-1], axis=1)[:, ::-1]  # rev[:, j] = sum counts[j:]
    prior_rev = np.cumsum(np.asarray(PRIOR)[::-1])[::-1]
    rows = np.arange(n)
    above = np.where(k + 1 < _BINS, rev[rows, np.minimum(k + 1, _BINS - 1)], 0.0)
    prior_above = np.where(k + 1 < _BINS, prior_rev[np.minimum(k + 1, _BINS - 1)], 0.0)
    edges = np.asarray((*EDGES, math.inf))
    last = k == _BINS - 1
    width = np.where(last, 1.0, edges[np.minimum(k + 1, _BINS - 1)] - edges[k])
    frac_in = np.where(last, 1.0, (edges[np.minimum(k + 1, _BINS - 1)] - s) / width)
    ratio = EDGES[-1] / s
    frac = np.where(last, ratio * ratio, frac_in)
    prior_in = np.where(last, _PRIOR_TAIL_LAST * frac, np.asarray(PRIOR)[k] * frac)
    seen = above + cal.counts[rows, k] * frac
    # the channels `_fitted_scalar` would run for: few, so the fit runs on those rows only
    candidates = (
        np.asarray(fit, dtype=bool)
        & (k >= TAIL_FROM)
        & (above < TAIL_COUNT)
        & (cal.total >= TAIL_MIN_TOTAL)
        & ~np.isinf(stat)
        & ~bad
    )
    if candidates.any():
        at = np.flatnonzero(candidates)
        fitted, fits = _fitted_array(cal.counts[at], rev[at], s[at])
        seen[at] = np.where(fits & (fitted > seen[at]), fitted, seen[at])
    weight = np.maximum(PRIOR_WEIGHT, cal.prior * (1.0 - cal.total / cal.fade))
    mass = seen + weight * (prior_above + prior_in)
    return np.where(bad, 1.0, mass / (cal.total + weight))


def _fitted_array(counts: Any, rev: Any, stat: Any) -> tuple[Any, Any]:
    """`_fitted_scalar` for every channel (same operations, same order), and where it
    applies (a tail to fit and `stat` beyond its start)."""
    n = counts.shape[0]
    rows = np.arange(n)
    j = np.count_nonzero(rev >= TAIL_COUNT, axis=1) - 1  # rev falls with the bin index
    fits = j >= TAIL_FROM
    j = np.where(fits, j, _LAST)
    m = rev[rows, j]
    u = np.asarray(EDGES)[j]
    fits &= stat > u
    log_u = np.asarray(_LOG_EDGE)[j]
    spread = np.zeros(n)
    for i in range(TAIL_FROM, _BINS):
        spread = spread + np.where(i >= j, counts[:, i] * (_LOG_MID[i] - log_u), 0.0)
    spread = np.where(fits, spread, 1.0)
    index = np.floor((m + TAIL_PRIOR_COUNT) / (spread + _PRIOR_SPREAD) + 0.5)
    index = np.clip(index, 1.0, float(_MAX_INDEX))
    ratio = np.where(fits, u / stat, 0.0)
    power = np.ones(n)
    for bit in (1, 2, 4, 8, 16):
        power = np.where(np.floor(index / bit) % 2.0 == 1.0, power * ratio, power)
        ratio = ratio * ratio
    return m * power, fits


def score_of(p: Any) -> Any:
    """Tail probability → score in (0, 1]: 0.5 at P_HALF, higher = rarer."""
    return P_HALF / (p + P_HALF)


def restart(cal: Calibration, xp: Ops, where: Any) -> None:
    """Forget every statistic counted so far where `where` (the prior alone remains), and
    remember that it was restarted."""
    if isinstance(xp, ScalarOps):
        if where:
            cal.counts = [0.0] * _BINS
            cal.total = 0.0
            cal.streak = 0.0
            cal.restarted = 1.0
        return
    w = np.asarray(where, dtype=bool)
    cal.counts[w] = 0.0
    cal.total = np.where(w, 0.0, cal.total)
    cal.streak = np.where(w, 0.0, cal.streak)
    cal.restarted = np.where(w, 1.0, cal.restarted)


def update(
    cal: Calibration,
    xp: Ops,
    stat: Any,
    mask: Any = True,
    extreme: Any = False,
    episodes: bool = False,
) -> None:
    """Count `stat` in its bin where `mask` (NaN statistics are not counted).

    With `episodes`, a statistic >= EPISODE_Z that continues a run of them is not counted
    (the run's first is): for onset scoring, where later samples of an episode score 0
    anyway and counting them would hide the next incident for the rest of the history.

    Statistics in the open last bin (100 sigma and more) are counted only where `extreme`:
    the caller says when such a value is evidence about the series. The first move of a
    series that never moved has a meaningless z (its sigma is the resolution floor of a
    value never seen to change), and one such sample would otherwise cap every later
    score for as long as the histogram remembers it; bursts of a series that does move
    are its behaviour, and counting them is how a bursty series stops alarming on each.
    """
    if isinstance(xp, ScalarOps):
        if mask:
            update_scalar(cal, stat, bool(extreme), episodes)
        return
    extreme_ok = np.asarray(extreme, dtype=bool)
    do = np.asarray(mask, dtype=bool) & ~np.isnan(stat) & (~(stat >= EDGES[-1]) | extreme_ok)
    high = stat >= EPISODE_Z
    ongoing = cal.streak > 0.0
    cal.streak = np.where(do, np.where(high, cal.streak + 1.0, 0.0), cal.streak)
    if episodes:
        do = do & ~(ongoing & high)
    s = np.where(np.isnan(stat), 0.0, np.minimum(stat, 1e300))
    k = np.clip(np.searchsorted(np.asarray(EDGES), s, side="right") - 1, 0, _BINS - 1)
    rows = np.flatnonzero(do)
    cal.counts[rows, k[rows]] += 1.0
    cal.total = np.where(do, cal.total + 1.0, cal.total)
    over = cal.total > CAP
    if over.any():
        cal.counts[over] = np.floor(cal.counts[over] * 0.5 + 0.5)
        cal.total = np.where(over, cal.counts.sum(axis=1), cal.total)


def update_scalar(cal: Calibration, stat: float, extreme: bool, episodes: bool) -> None:
    """`update` for one channel of floats (the per-row hot path)."""
    if not stat >= 0.0 or (stat >= _TOP and not extreme):  # NaN, or an unproven extreme
        return
    ongoing = cal.streak > 0.0
    high = stat >= EPISODE_Z
    cal.streak = cal.streak + 1.0 if high else 0.0
    if episodes and ongoing and high:
        return
    counts: list[float] = cal.counts
    counts[bisect_right(EDGES, stat) - 1] += 1.0  # inf lands in the last bin too
    cal.total += 1.0
    if cal.total > CAP:
        for j in range(_BINS):
            counts[j] = float(math.floor(counts[j] * 0.5 + 0.5))
        cal.total = float(sum(counts))


def onset_score(peak: Peak, xp: Ops, value: Any, window: Any) -> Any:
    """`value` where it beats the channel's peak of its last `window` scores, else 0.

    The peak is refreshed by every score that reaches it, so a plateau of high scores
    scores once; `window` samples after it was last reached it is forgotten, and the next
    score is new again (a slowly fading episode may score once per `window`). Counted in
    samples, not time: the best window on the development benchmark was ~48 samples at
    both 5-minute (4 h) and 30-minute (24 h) steps. Samples that are still far off their
    baseline (`remember_peak`'s `hold`) do not count (`window` may differ per channel: at most
    a few hours of samples, base.onset_samples): an episode that lasts, such as a value
    stuck for a day, scores once, not once every `window` (development benchmark, 5-min,
    8 seeds: 68.6 -> 69.0, low-FP profile 60.3 -> 61.8, false positives -11%).
    """
    if isinstance(xp, ScalarOps):
        return onset_scalar(peak, value, window)
    expired = peak.age >= window
    return np.where(expired | (value > peak.value), value, 0.0)


def onset_scalar(peak: Peak, value: float, window: float) -> float:
    """`onset_score` for one channel of floats."""
    return value if peak.age >= window or value > peak.value else 0.0


def remember_peak(peak: Peak, xp: Ops, value: Any, window: Any, mask: Any, hold: Any) -> None:
    """Update the peak `onset_score` reads with a score just given (where `mask`); where
    `hold` (the sample is still far off its baseline) the peak does not age."""
    if isinstance(xp, ScalarOps):
        if mask:
            remember_peak_scalar(peak, value, window, bool(hold))
        return
    m = np.asarray(mask, dtype=bool)
    take = m & ((peak.age >= window) | (value >= peak.value))
    ages = m & ~np.asarray(hold, dtype=bool)
    peak.value = np.where(take, value, peak.value)
    peak.age = np.where(take, 0.0, np.where(ages, peak.age + 1.0, peak.age))


def remember_peak_scalar(peak: Peak, value: float, window: float, hold: bool) -> None:
    """`remember_peak` for one channel of floats."""
    if peak.age >= window or value >= peak.value:
        peak.value, peak.age = value, 0.0
    elif not hold:
        peak.age += 1.0
