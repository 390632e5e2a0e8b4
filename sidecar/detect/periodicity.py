"""Periods a series repeats with, found in its recent history: seasonality other than a day or week.

The baseline has candidates of its own for a day and a week (baseline.py). A series that
repeats with another period (a cron or batch job, shifts, a cache that expires) is found
here: each channel keeps its last `SPAN` bucket means (float32, 2 KiB; a bucket is the
sampling interval in whole 5 minutes: 42.7 hours at 5 minutes, 21 days hourly), and
`find_periods` looks for the strongest repeating lag in them, four samples to a third of
the history long, by the autocorrelation of the detrended buckets, believed once the
history holds `MIN_CYCLES` cycles. The lag is refined from its highest harmonic, then
sharpened by phase-dispersion folds, and rounded to whole seconds. `fold_profile` turns the
history into that period's initial profile, so the candidate is usable the moment it is
found. The per-row and the array kernel both call these on one channel's row at a time
(`remember_one`, `remember`), so the two agree to the bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BUCKET",
    "CHECK_EVERY",
    "FOUND_BINS",
    "LATE_CHECKS",
    "MIN_ACF",
    "MIN_CYCLES",
    "MIN_LAG",
    "SPAN",
    "FoundPeriod",
    "autocorrelation",
    "day_before",
    "day_before_one",
    "find_periods",
    "fold_profile",
    "history_level",
    "new_history",
    "profile_bins",
    "remember",
    "remember_one",
    "sample_spread",
]

Array = NDArray[np.float64]

BUCKET = 300.0
"""Seconds per history bucket, or the series' sampling interval rounded to a whole number
of them: a 5-minute or finer series keeps 42.7 hours, an hourly one 21 days."""
SPAN = 512
"""Buckets of history kept per channel: periods up to SPAN / MIN_CYCLES buckets long."""
MIN_LAG = 4
"""The shortest period looked for, in buckets (20 minutes at 5-minute buckets; at least
four of the series' own samples too): four points make a cycle."""
MIN_CYCLES = 3.0
"""Cycles the history must hold before a period is believed (its span from first to last
sample): two can be a coincidence of a trend and a level shift, three rarely are."""
MIN_ACF = 0.4
"""Autocorrelation at the period's lag needed, and how much it must rise above the lowest
value between half the lag and the lag (a repeating shape dips between its repeats; a
trend or a random walk decays smoothly and has no such peak)."""
CHECK_EVERY = 48
"""Buckets between looks at a channel's history (4 hours at 5 minutes) until it is full,
then every LATE_CHECKS x CHECK_EVERY (a day). A look costs 0.25 ms, 1 ms when it finds and
folds a period (benchmarks/anomaly_speed.py); where in the cycle a channel's looks fall is
spread by its first value (`hphase`), so a bank of series that started together does not
look at all of them in one step."""
LATE_CHECKS = 6
"""Looks are LATE_CHECKS times rarer once the history is full (SPAN buckets)."""
REFIT = 0.001
"""A period found again within this fraction of the one in use keeps its learned profile;
one further off is refolded from the history (a longer history pins a period down better,
and 1% off turns the profile by a tenth of a cycle every ten cycles). A refold keeps the
candidate's scale and selection error; a first period takes them from the fold."""
FOUND_BINS = 96
"""Most bins of the found period's profile: it has one a sampling interval (a bucket), so a
5-hour batch cycle at 5 minutes steps from one sample to the next as sharply as the daily
profile does; longer periods get FOUND_BINS, interpolated (8.75 minutes for 14 hours)."""
_PHASE_MIX = 4099.0  # spreads first values over CHECK_EVERY phases
WINSOR = 4.0
"""Buckets are clipped at this many robust sigmas before the autocorrelation (`_winsorised`)."""
SIGMA_PER_MAD_ABS = 1.4826  # sigma / median absolute deviation, for normal noise
SHARPEN = 0.015
"""How far (a fraction) `_sharpened` looks either side of the autocorrelation's period."""
PHASE_BINS = 24
"""Phase bins of `_sharpened`'s folds (fewer for shorter periods: one a bucket): enough
for a batch job's steps, few enough that each bin holds a sample from most cycles."""
MAX_FILL = 12
"""Buckets (an hour) between two samples that are joined by a straight line: an hourly
series' samples are; a longer gap is an outage and stays empty."""
_HARMONIC_SLACK = 0.15
"""How far (in cycles) the strongest lag may be from a whole multiple of the fundamental."""


def _lower_median(v: Array, m: Array) -> Array:
    """Per row, the lower median of the entries where `m` (a column; +inf without any)."""
    ranked = np.sort(np.where(m > 0.0, v, np.inf), axis=1)
    middle = np.maximum(m.sum(axis=1, keepdims=True) - 1.0, 0.0) // 2
    return np.take_along_axis(ranked, middle.astype(np.intp), axis=1)


def _winsorised(y: Array, m: Array) -> Array:
    """Each row clipped at WINSOR robust sigmas around its median (valid entries only)."""
    centre = _lower_median(y, m)
    centre = np.where(np.isfinite(centre), centre, 0.0)
    limit = WINSOR * SIGMA_PER_MAD_ABS * _lower_median(np.abs(y - centre), m)
    limit = np.where(np.isfinite(limit) & (limit > 0.0), limit, np.inf)
    return np.where(m > 0.0, np.clip(y, centre - limit, centre + limit), 0.0)


def _detrended(history: Array) -> tuple[Array, Array]:
    """Each row winsorised, minus its least-squares line through the valid buckets, and
    winsorised again (zeros where NaN); and the validity mask as 0/1. Clipped first so
    one wild bucket does not tilt the line; again because heavy-tailed noise makes two
    outliers k apart look like a peak at lag k (t(2) noise: 9 of 500 rows "periodic"
    without)."""
    valid = np.isfinite(history)
    m = valid.astype(np.float64)
    y = _winsorised(np.where(valid, history, 0.0), m)
    idx = np.arange(history.shape[1], dtype=np.float64)
    n = m.sum(axis=1, keepdims=True)
    safe = np.maximum(n, 1.0)
    mx = (m * idx).sum(axis=1, keepdims=True) / safe
    my = y.sum(axis=1, keepdims=True) / safe
    dx = (idx - mx) * m
    sxx = (dx * dx).sum(axis=1, keepdims=True)
    slope = (dx * (y - my)).sum(axis=1, keepdims=True) / np.where(sxx > 0.0, sxx, 1.0)
    return _winsorised(np.where(valid, y - my - slope * (idx - mx), 0.0), m), m


def autocorrelation(y: Array, m: Array) -> Array:
    """Per row, the autocorrelation of detrended buckets `y` (0 where `m`, the validity
    mask, is 0) at every lag (0 where fewer than MIN_LAG pairs exist), from pair sums
    computed by FFT."""
    size = y.shape[1]
    nfft = 2 * size
    fy = np.fft.rfft(y, nfft, axis=1)
    fm = np.fft.rfft(m, nfft, axis=1)
    pairs_sum = np.fft.irfft(fy * np.conj(fy), nfft, axis=1)[:, :size]
    pairs = np.rint(np.fft.irfft(fm * np.conj(fm), nfft, axis=1)[:, :size])
    var = (y * y).sum(axis=1, keepdims=True) / np.maximum(m.sum(axis=1, keepdims=True), 1.0)
    ok = (pairs >= MIN_LAG) & (var > 0.0)
    return np.where(ok, pairs_sum / np.maximum(pairs, 1.0) / np.where(var > 0.0, var, 1.0), 0.0)


def _vertex(acf: Array, k: int, half: int) -> float:
    """The lag of the peak at `k`, to a fraction of a bucket: the vertex of a parabola
    fitted over `half` lags either side (a noisy autocorrelation is jagged at the top)."""
    half = min(half, k - 1, acf.size - 1 - k)
    if half < 1:
        return float(k)
    x = np.arange(-half, half + 1, dtype=np.float64)
    y = acf[k - half : k + half + 1]
    x2 = x * x
    centred = x2 - x2.mean()
    c2 = float(centred @ y) / float(centred @ centred)  # least squares on symmetric lags
    c1 = float(x @ y) / float(x2.sum())
    if c2 >= 0.0:
        return float(k)
    return k + min(max(-c1 / (2.0 * c2), -half), half)


def _width(k: float) -> int:
    """Lags either side of `k` a peak must top, and its vertex is fitted over."""
    return max(1, int(k) // 8)


def _period_of(acf: Array, span: int, shortest: int) -> float:
    """The period (in buckets) of one row's autocorrelation, or 0: its lag at least
    `shortest`, and MIN_CYCLES of it within `span` buckets."""
    top = min(int(span / MIN_CYCLES), acf.size - 2)
    if top <= shortest:
        return 0.0
    peaks = []
    inner = acf[shortest : top + 1]
    tops = (
        (inner >= MIN_ACF)
        & (inner >= acf[shortest - 1 : top])
        & (inner >= acf[shortest + 1 : top + 2])
    )
    for k in (np.flatnonzero(tops) + shortest).tolist():
        v = acf[k]
        half = _width(k)
        if (
            v < acf[max(1, k - half) : k + half + 1].max()
            or v - acf[k // 2 : k + 1].min() < MIN_ACF
        ):
            continue
        peaks.append(k)
    if not peaks:
        return 0.0
    strongest = max(peaks, key=lambda k: acf[k])
    fundamental = strongest
    for k in peaks:  # the shortest peak the strongest repeats (harmonics score alike)
        ratio = strongest / k
        whole = round(ratio)
        if abs(ratio - whole) <= _HARMONIC_SLACK * whole and acf[k] >= 0.7 * acf[strongest]:
            fundamental = k
            break
    lag = _vertex(acf, fundamental, _width(fundamental))
    # the highest harmonic with a third of the history's pairs behind it pins it down further
    reach = 2 * span // 3
    best, confirmed = lag, False
    for m in range(2, int(reach / lag) + 1):
        guess = m * lag
        half = max(1, min(_width(guess), int(lag) // 4))
        lo, hi = int(round(guess)) - half, int(round(guess)) + half
        if hi + 1 >= acf.size:
            break
        k = lo + int(np.argmax(acf[lo : hi + 1]))
        if acf[k] < MIN_ACF or k in (lo, hi):
            break
        best = _vertex(acf, k, half) / m
        confirmed = True
    # a second cycle's peak confirms the first: a random walk's slow swings make one
    # peak now and then (6 of 500 walks without), rarely two in step
    return best if confirmed else 0.0


def find_periods(history: Array, width: float, exclude: tuple[float, ...] = ()) -> Array:
    """Per row of bucket means (oldest first, NaN = empty) `width` seconds apart, the period
    in whole seconds it repeats with, or 0 for none. A period within 5% of one in `exclude`
    (the baseline's own day and week) is not reported: a day with two peaks is a day (its
    12-hour peak is the weaker one), not a 12-hour cycle."""
    history = np.atleast_2d(np.asarray(history, dtype=np.float64))
    out = np.zeros(history.shape[0])
    for i, row in enumerate(history):
        where = np.flatnonzero(np.isfinite(row))
        if where.size < 2 * MIN_LAG:
            continue
        # a series sampled coarser than a bucket: its own samples, joined by straight lines
        # (empty buckets between them read as lags without pairs, and every multiple of
        # the sampling interval as a peak); longer gaps (an outage) stay empty
        apart = np.diff(where)
        spacing = float(np.median(apart))
        filled = np.interp(np.arange(where[0], where[-1] + 1), where, row[where])
        for j in np.flatnonzero(apart > MAX_FILL).tolist():  # outages only: few, if any
            start = int(where[j] - where[0])
            filled[start + 1 : start + int(apart[j])] = np.nan
        line = np.full(row.size, np.nan)
        line[where[0] : where[-1] + 1] = filled
        y, m = _detrended(line[None, :])
        acf = autocorrelation(y, m)[0]
        # four samples a cycle at least, of the series' own spacing
        shortest = max(MIN_LAG, int(math.ceil(4.0 * spacing)))
        lag = _period_of(acf, int(where[-1] - where[0] + 1), shortest)
        if lag > 0.0:
            lag = _sharpened(y[0], m[0], lag)
        period = float(round(lag * width))
        if not any(abs(period - p) <= 0.05 * p for p in exclude):
            out[i] = period
    return out


def _sharpened(y: Array, m: Array, lag: float) -> float:
    """The lag within SHARPEN of `lag` whose fold explains most of `y` (the least spread
    within phase bins: phase dispersion minimisation), to SHARPEN / 30.

    The autocorrelation's peak is as precise as its few top lags (a square wave's is a
    blunt triangle): 1.2% off after 16 hours of a 5-hour batch cycle, which turned the
    profile's steps a sample out of place every few cycles. A fold uses every cycle in the
    history at once."""
    at = np.flatnonzero(m > 0.0).astype(np.float64)
    values = y[m > 0.0]
    bins = max(MIN_LAG, min(int(round(lag)), PHASE_BINS))
    trials = lag * (1.0 + SHARPEN * np.linspace(-1.0, 1.0, 61))
    phase = (at[None, :] % trials[:, None]) / trials[:, None]  # in [0, 1)
    index = np.minimum((phase * bins).astype(np.intp), bins - 1)
    index += bins * np.arange(trials.size)[:, None]
    size = trials.size * bins
    sums = np.bincount(index.ravel(), np.broadcast_to(values, index.shape).ravel(), size)
    counts = np.bincount(index.ravel(), minlength=size)
    explained = (sums * sums / np.maximum(counts, 1)).reshape(trials.size, bins).sum(axis=1)
    return float(trials[int(np.argmax(explained))])


def profile_bins(period: float, width: float) -> int:
    """Bins of a found period's profile: one a bucket, at most FOUND_BINS."""
    return int(min(FOUND_BINS, max(MIN_LAG, round(period / width))))


def fold_profile(
    history: Array, width: float, offset: float, last_bucket: float, period: float, bins: int
) -> tuple[Array, float, float]:
    """One row's history (oldest first, buckets `width` seconds wide, the newest numbered
    `last_bucket` on the clock, its samples `offset` seconds into a bucket) folded at
    `period` into `bins` interpolated bins centred `offset` into a bucket, around its
    level over each cycle: the profile (mean 0), the level of the last cycle and the
    buckets' mean absolute residual from level plus profile."""
    history = np.asarray(history, dtype=np.float64)
    size = history.size
    valid = np.isfinite(history)
    y = np.where(valid, history, 0.0)
    per = max(1, int(round(period / width)))
    # the level around each bucket: a centred mean over one period of valid buckets
    cs = np.concatenate(([0.0], np.cumsum(y)))
    cn = np.concatenate(([0.0], np.cumsum(valid)))
    lo = np.clip(np.arange(size) - per // 2, 0, size)
    hi = np.clip(lo + per, 0, size)
    lo = np.clip(hi - per, 0, size)
    count = cn[hi] - cn[lo]
    level = np.where(count > 0, (cs[hi] - cs[lo]) / np.maximum(count, 1.0), 0.0)
    at = (last_bucket - (size - 1) + np.arange(size)) * width + offset
    bin_width = period / bins
    pos = ((at - (offset - 0.5 * bin_width)) % period) / bin_width - 0.5
    i0 = np.floor(pos)
    w = pos - i0
    i0 = np.where(i0 < 0, i0 + bins, i0).astype(np.intp)
    i1 = np.where(i0 + 1 >= bins, i0 + 1 - bins, i0 + 1).astype(np.intp)
    dev = np.where(valid, y - level, 0.0)
    weight = valid.astype(np.float64)
    sums = np.bincount(i0, (1.0 - w) * dev, bins) + np.bincount(i1, w * dev, bins)  # 0 if empty
    mass = np.bincount(i0, (1.0 - w) * weight, bins) + np.bincount(i1, w * weight, bins)
    profile = np.full(bins, math.nan)
    seen = mass > 1e-9
    profile[seen] = sums[seen] / mass[seen]
    if not seen.all():  # a bin no bucket fell near: between its neighbours, around the ring
        known = np.flatnonzero(seen)
        ring = np.concatenate((known - bins, known, known + bins))
        profile = np.interp(np.arange(bins), ring, np.tile(profile[known], 3))
    profile -= profile.mean()
    tail = valid[-per:]
    current = float(history[-per:][tail].mean()) if tail.any() else float(level[-1])
    fitted = level + (1.0 - w) * profile[i0] + w * profile[i1]
    spread = float(np.abs(y - fitted)[valid].mean()) if valid.any() else 0.0
    return profile, current, spread


# -- the per-channel history and its looks, for the baseline kernel ---------------------


def new_history(n: int | None) -> NDArray[np.float32]:
    """An empty history: SPAN buckets for one channel (`n=None`), or `n` rows of them."""
    return np.full(SPAN if n is None else (n, SPAN), np.nan, dtype=np.float32)


LEVEL_MIN = 24
"""Buckets the history must hold before its median and spread are read (`level_z`)."""
MEAN_AD_TO_SIGMA = 1.2533  # sigma / mean absolute deviation, for normal noise
RANGE_TO_SIGMA = 2.5631  # the 10-90% range / sigma, for normal noise


def _refresh_due(before: float, after: float, phase: float) -> bool:
    """Whether closing buckets `before` to `after` passes a CHECK_EVERY boundary (the
    history's level and spread are read again at each, before and after it is full)."""
    return math.floor((after + phase) / CHECK_EVERY) > math.floor((before + phase) / CHECK_EVERY)


def history_level(row: Array) -> tuple[float, float]:
    """The median of a channel's history buckets and their robust spread; (0, 0) when not
    known (`sample_spread` reads it for one sample).

    The spread is the larger of 1.4826 MAD (the mean absolute deviation where most buckets
    repeat one value) and the 10-90% range in sigmas: a daily cycle whose nights are most of
    the history has a small MAD, and its busy hours must not read as 8-sigma deviations
    every day (synthetic corpus 60.9 with the range, crane-cpu false alarms -20%)."""
    valid = row[np.isfinite(row)]
    if valid.size < LEVEL_MIN:
        return 0.0, 0.0
    med = float(np.median(valid))
    dev = np.abs(valid - med)
    spread = SIGMA_PER_MAD_ABS * float(np.median(dev))
    if not spread > 0.0:
        spread = MEAN_AD_TO_SIGMA * float(dev.mean())
    low, high = np.quantile(valid, (0.1, 0.9))
    return med, max(spread, float(high - low) / RANGE_TO_SIGMA)


def sample_spread(bucket_spread: Any, sigma: Any, dt: Any, width: Any, xp: Any) -> Any:
    """The history's spread for one sample where a bucket holds several (`dt < width`):
    the buckets' own spread plus the sample noise (the baseline's `sigma`) their means
    averaged away. Scaling the buckets' spread by sqrt(width / dt) instead also scaled a
    daily cycle, and a 12-sigma spike at 1-minute steps read as 1.4 spreads."""
    averaged = (bucket_spread > 0.0) & (dt > 0.0) & (dt < width)
    safe = xp.where(averaged, width, 1.0)
    added = bucket_spread * bucket_spread + sigma * sigma * (1.0 - dt / safe)
    return xp.where(averaged, np.sqrt(xp.where(averaged, added, 0.0)), bucket_spread)


DAY = 86400.0


def day_lag(width: float) -> int:
    """Buckets in a day at this bucket width; 0 where a day does not fit in the history."""
    lag = round(DAY / width) if width > 0.0 else 0
    return lag if 0 < lag <= SPAN - LEVEL_MIN else 0


def day_spread(row: Array, lag: int) -> float:
    """The robust spread of each bucket's change from the same bucket a day before (0 when
    fewer than LEVEL_MIN pairs are known): how far a value usually is from yesterday's."""
    if lag <= 0:
        return 0.0
    change = row[lag:] - row[:-lag]
    change = change[np.isfinite(change)]
    if change.size < LEVEL_MIN:
        return 0.0
    dev = np.abs(change - float(np.median(change)))
    spread = SIGMA_PER_MAD_ABS * float(np.median(dev))
    return spread if spread > 0.0 else MEAN_AD_TO_SIGMA * float(dev.mean())


def day_before_one(s: Any, t: float) -> float:
    """The history's bucket a day before the bucket of `t` (NaN where not known), for a
    one-channel state."""
    lag = day_lag(s.hwidth)
    if lag == 0 or math.isnan(t):
        return math.nan
    return float(s.hist[int((math.floor(t / s.hwidth) - lag) % SPAN)])


def day_before(s: Any, t: Any) -> Any:
    """`day_before_one` for every channel of an array state (or the one of a scalar one)."""
    if s.hist.ndim == 1:
        return day_before_one(s, t)
    width = s.hwidth
    known = (width > 0.0) & np.isfinite(t)
    safe = np.where(known, width, DAY)
    lag = np.round(DAY / safe)
    known &= (lag > 0) & (lag <= SPAN - LEVEL_MIN)
    at = np.where(known, (np.floor(np.where(known, t, 0.0) / safe) - lag) % SPAN, 0.0)
    value = s.hist[np.arange(width.size), at.astype(np.intp)].astype(np.float64)
    return np.where(known, value, np.nan)


def _refresh(s: Any, i: int | None, newest: float) -> None:
    """Read channel `i`'s history level and spread, and how far a bucket usually is from
    the day before's (`None`: a one-channel state)."""
    hist = s.hist if i is None else s.hist[i]
    med, spread = history_level(hist.astype(np.float64))
    width = float(s.hwidth if i is None else s.hwidth[i])
    daily = day_spread(_chronological(hist, newest), day_lag(width))
    if i is None:
        s.hmed, s.hspread, s.hday_spread = med, spread, daily
    else:
        s.hmed[i], s.hspread[i], s.hday_spread[i] = med, spread, daily


def _due(before: float, after: float, phase: float) -> bool:
    """Whether closing buckets `before` to `after` (counted from the channel's first)
    passes one of its looks."""
    k0 = math.floor((before + phase) / CHECK_EVERY)
    k1 = math.floor((after + phase) / CHECK_EVERY)
    return k1 > k0 and (after <= SPAN or k1 // LATE_CHECKS > k0 // LATE_CHECKS)


def _chronological(hist: NDArray[np.float32], newest: float) -> Array:
    """A ring of SPAN buckets read oldest first, the newest at bucket number `newest`."""
    order = (np.arange(SPAN) + int(newest % SPAN) + 1) % SPAN
    return hist[order].astype(np.float64)


@dataclass(frozen=True, slots=True)
class FoundPeriod:
    """A period found in a channel's history, for the kernel to adopt as its FOUND
    candidate (`baseline.adopt_period`): the profile folded from the history (FOUND_BINS
    long, zeros past `bins`), the level under it, and the fold's residual spread, which
    only a first period takes as its scale (`None` on a refold: the candidate keeps its
    own)."""

    period: float
    bins: int
    profile: Array
    level: float
    spread: float | None


def _look(s: Any, i: int | None, newest: float, exclude: tuple[float, ...]) -> FoundPeriod | None:
    """Look for a period in channel `i`'s history (`None`: a one-channel state): one that is
    new or moved by over REFIT from the one in use, or None. Reads the state only."""
    hist = s.hist if i is None else s.hist[i]
    row = _chronological(hist, newest)
    width = float(s.hwidth if i is None else s.hwidth[i])
    period = float(find_periods(row, width, exclude)[0])
    now = float(s.period if i is None else s.period[i])
    if period <= 0.0 or (now > 0.0 and abs(period - now) <= REFIT * now):
        return None
    bins = profile_bins(period, width)
    offset = float(s.bucket_offset if i is None else s.bucket_offset[i])
    profile, level, spread = fold_profile(row, width, offset, newest, period, bins)
    profile = np.concatenate((profile, np.zeros(FOUND_BINS - bins)))
    dt = float(s.dt if i is None else s.dt[i])
    if 0.0 < dt < width:  # a bucket's mean is quieter than a sample
        spread *= math.sqrt(width / dt)
    return FoundPeriod(period, bins, profile, level, spread if now <= 0.0 else None)


def remember_one(
    s: Any, t: float, x: float, look: bool, exclude: tuple[float, ...]
) -> FoundPeriod | None:
    """Put a learned sample of a one-channel state into its history's bucket; when a
    bucket closes on a look, read the history's level and spread and (`look`) look for a
    period, which is returned for the kernel to adopt. The buckets are as wide as the series'
    sampling interval (in whole BUCKETs) when its second sample comes."""
    width = s.hwidth
    if not width > 0.0:
        if not s.dt > 0.0:  # the first sample: no interval yet
            return None
        width = s.hwidth = BUCKET * max(1.0, float(round(s.dt / BUCKET)))
        s.bucket_offset = t % width if s.dt >= 0.5 * width else 0.5 * width
    b = float(math.floor(t / width))
    open_bucket = s.hbucket
    if b <= open_bucket:  # False while none is open (NaN)
        s.hsum += x
        s.hcount += 1.0
        return None
    found = None
    if not math.isnan(open_bucket):  # a bucket was open: it closes, gaps stay NaN
        hist = s.hist
        hist[int(open_bucket % SPAN)] = s.hsum / s.hcount
        gap = b - open_bucket
        for j in range(1, int(min(gap, SPAN + 1.0))):
            hist[int((open_bucket + j) % SPAN)] = math.nan
        before = s.hclosed
        s.hclosed = before + gap
        if _refresh_due(before, s.hclosed, s.hphase):
            _refresh(s, None, b - 1.0)
            if look and _due(before, s.hclosed, s.hphase):
                found = _look(s, None, b - 1.0, exclude)
    else:
        s.hphase = float(math.floor(math.fmod(abs(x) * _PHASE_MIX, CHECK_EVERY)))
    s.hbucket, s.hsum, s.hcount = b, x, 1.0
    return found


def remember(
    s: Any, t: Array, x: Array, do: NDArray[np.bool_], look: bool, exclude: tuple[float, ...]
) -> list[tuple[int, FoundPeriod]]:
    """`remember_one` for every channel of an array state where `do` (learned samples):
    the periods found, by channel."""
    picks = do & ~(s.hwidth > 0.0) & (s.dt > 0.0)  # the second sample: the bucket width
    if picks.any():
        with np.errstate(invalid="ignore"):  # NaN intervals where not picked
            chosen = BUCKET * np.maximum(1.0, np.round(s.dt / BUCKET))
        s.hwidth = np.where(picks, chosen, s.hwidth)
        with np.errstate(invalid="ignore"):
            offset = np.where(s.dt >= 0.5 * chosen, t % chosen, 0.5 * chosen)
        s.bucket_offset = np.where(picks, offset, s.bucket_offset)
    width = s.hwidth
    do = do & (width > 0.0)
    b = np.floor(t / np.where(width > 0.0, width, 1.0))
    open_bucket = s.hbucket
    same = do & (b <= open_bucket)
    s.hsum = np.where(same, s.hsum + x, s.hsum)
    s.hcount = np.where(same, s.hcount + 1.0, s.hcount)
    closing = do & (b > open_bucket)
    starting = do & np.isnan(open_bucket)
    found: list[tuple[int, FoundPeriod]] = []
    if closing.any():
        rows = np.flatnonzero(closing)
        opened = open_bucket[rows]
        s.hist[rows, (opened % SPAN).astype(np.intp)] = (s.hsum[rows] / s.hcount[rows]).astype(
            np.float32
        )
        gaps = b[rows] - opened
        for i, start, gap in zip(rows.tolist(), opened.tolist(), gaps.tolist(), strict=True):
            for j in range(1, int(min(gap, SPAN + 1.0))):
                s.hist[i, int((start + j) % SPAN)] = math.nan
        before = s.hclosed[rows]
        after = before + gaps
        s.hclosed[rows] = after
        for i, b0, b1, newest in zip(
            rows.tolist(), before.tolist(), after.tolist(), (b[rows] - 1.0).tolist(), strict=True
        ):
            phase = float(s.hphase[i])
            if _refresh_due(b0, b1, phase):
                _refresh(s, i, newest)
                if look and _due(b0, b1, phase):
                    period = _look(s, i, newest, exclude)
                    if period is not None:
                        found.append((i, period))
    if starting.any():
        s.hphase = np.where(
            starting, np.floor(np.fmod(np.abs(x) * _PHASE_MIX, CHECK_EVERY)), s.hphase
        )
    fresh = closing | starting
    s.hbucket = np.where(fresh, b, s.hbucket)
    s.hsum = np.where(fresh, x, s.hsum)
    s.hcount = np.where(fresh, 1.0, s.hcount)
    return found
