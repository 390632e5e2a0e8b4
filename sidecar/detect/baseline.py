"""The streaming baseline every univariate detector reads: level, trend, seasonal profile, scale.

For each channel (one metric of one series) the kernel runs a few candidate models side by
side: no season (a damped-trend level), and one profile per candidate period (a day, a
week, or a given length; with `find_period` also one found in the channel's own history,
periodicity.py) on a slow level without trend (a trend there chases the cycle),
each with its own robust scale and CUSUM change statistics. The
candidate with the smallest recent error (with a penalty for complexity, and only once it
has seen `season_read_cycles` periods past half the shortest: `eligible_after`) is the one
read out, so seasonality is detected from the data. A profile's first cycle is learned so
that it can be read in the second: bins of one sample relearn it in their second cycle,
bins of several are per-bin means from the start (PROFILE in `learn`).

Robustness: learning uses residuals clipped at 3 sigma (an outlier moves the baseline by
at most that). Adaptation: a CUSUM of standardised residuals detects level shifts and
re-levels by the estimated shift; a CUSUM of |residual| detects variance increases and
re-scales (unless the level CUSUM fired: one-sided residuals are a shift, not noise). A change then
stops being anomalous within a few samples instead of hours.
A seasonal candidate re-levels only once its profile has seen a few periods.

The same code runs on Python floats (one channel) and numpy arrays (many), see ops.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sidecar.detect.calibration import EPISODE_Z
from sidecar.detect.periodicity import (
    FOUND_BINS,
    FoundPeriod,
    day_before,
    new_history,
    remember,
    remember_one,
    sample_spread,
)

__all__ = [
    "CUSUM_TO_Z",
    "SCALE_MEMORY",
    "BaselineParams",
    "BaselineState",
    "Evaluation",
    "evaluate",
    "learn",
    "new_state",
    "season_wins",
]

Ops = Any  # ScalarOps or ArrayOps: the kernel is duck-typed over both backends

SIGMA_PER_MAD = 1.2533141373155001  # sigma / mean absolute deviation, for normal noise
LEARN_LIMIT = 1e150  # larger magnitudes are scored but never learned (keeps state finite)
_CLIP_AFTER = 5.0  # samples before residuals are clipped (the scale needs a few first)
SELECTION_MEMORY = 43200.0  # seconds of error history that decide which candidate is read
SCALE_MEMORY = 86400.0
"""The scale remembers `scale_windows` x `window` samples, but no more than these seconds
unless `window` samples alone span more: at 5 minutes 360 samples, at 15 minutes one day,
at 30 minutes and coarser `window` samples, as the level. Sample-count memory alone kept
an hourly series' sigma inflated by its first days (the profile still being learned)."""
MEAN_BINS = 0.9
"""Profile bins that get about one sample a cycle or more (5-minute bins at 5 minutes,
jittered included; 30-minute bins at 30) learn their first cycle as per-bin means against
a held level (PROFILE in `learn`). Sparser ones (a daily profile's 5-minute bins at 15
minutes and coarser) are learned two at a time by interpolation, which per-bin means
would leave with holes, and relearn in their second cycle."""
SINGLE_BINS = 1.5
"""Below this many samples a bin and cycle, a per-bin-mean profile's bin holds about one
sample of its first cycle, which the next sample confirms (`learn`, CONFIRMED)."""
DAY = 86400.0
RANK_SLACK = 1e-6
"""A sample's rank in its bin is floor(position x samples per bin) + 1; samples on the bin
grid sit on whole numbers there, and rounding must not drop them to the one below."""
GRID = 300.0
"""Seconds per bin of a profile up to a day long (30-minute bins, 6 x GRID, for longer ones):
the finest sample grid whose phase the bins follow (`bin_origin`)."""
FROZEN_STUCK = 5.0
"""A sample that repeats the last value with a stuck statistic this high (a run of repeats
the series rarely makes) is not learned by the candidates (`learn`, FROZEN). Learned, a
stuck exporter taught the level, the scale (its residuals are 0) and the profiles the frozen
value; when it thawed, the profiles lost the read-out to the no-season level for a day and
the drift alarmed (development benchmark, 8 seeds: 5-min 70.05 -> 70.84, better on all 8;
15-min 68.71 -> 69.83; 30-min 70.04 -> 71.31; hourly 73.04 -> 73.75; 3 / 5 / 10 scored
within 0.01)."""
BIAS_RATE = 0.1
"""A seasonal candidate's scale is the spread of its residuals around their recent mean
(`BaselineState.bias`, an EWMA at this rate per sample: about 10 samples), not around 0.
A young or outdated profile is off by the same amount for hours (the first weekend of a
weekly series, the bins a season break taught): measured around 0, its scale took that
bias in and stayed 4 times the noise the day after a 2-day weekend and 3 times the day
after that (2 and 1.6 now); its selection error alone keeps a biased profile out of the
read-out meanwhile.
(Development benchmark, 8 seeds: 5-min 70.84 -> 71.76, 15-min 69.83 -> 70.51, 30-min
71.31 -> 71.53, hourly 73.75 -> 74.35; with AR(0.7) noise, 5-min: 69.67 -> 70.17. Rates
0.05 / 0.1 / 0.2 / 0.3 / 0.5 at 5 minutes: 71.29 / 71.76 / 71.67 / 72.03 / 71.35; but 0.3
lost 1.1 at 30 minutes and raised the crane-cpu false alarms by a quarter, 0.1 by a tenth
(0.26 -> 0.29 a day at the default threshold). The no-season candidate's scale measured
the same way too: 70.61.)"""
DRIFT_STEP = 1.0
"""One sample moves the drift by at most this many sigma. A ramp moves the level by a
fraction of a sigma per sample (and re-levels by ~1); a level shift re-levels by its whole
size at once, and at 3 a 20-sigma shift kept the drift saturated for ~40 samples: a second
alarm for one incident. (Development benchmark: 0.5, 1 and 3 within noise.)"""


@dataclass(frozen=True, slots=True)
class BaselineParams:
    """Hyper-parameters of the kernel; every alpha is derived here once."""

    periods: tuple[float, ...] = (86400.0, 604800.0)
    window: int = 120
    season_cycles: float = 3.0
    warmup: int = 20
    trend_damping: float = 0.98
    trend_gain: float = 0.1
    cusum_k: float = 0.5
    cusum_h: float = 10.0
    cusum_clip: float = 6.0
    variance_k: float = 1.5
    variance_h: float = 12.0
    complexity_penalty: float = 0.1
    season_read_cycles: float = 1.0
    """A seasonal candidate may be read out after this many of its periods plus half the
    shortest (`eligible_after`). The CUSUM read-outs use 2: a weekly profile from one week
    is unbiased but not smooth (each 30-minute bin the mean of six samples, an incident of
    that week included), and a CUSUM sums those errors into runs of false alarms where the
    point deviation, weighing every candidate by its recent error, does not (development
    benchmark, 5-min, 8 seeds, 1 -> 2: change_point 58.5 -> 59.1, better on 6 seeds;
    ensemble 63.8 -> 63.9; with the weekly's first cycle learned at half the samples per
    bin: change_point 53.4 -> 59.0, ensemble 58.5 -> 63.5)."""
    borrow_first_cycle: bool = True
    """Through a daily per-bin-mean profile's first cycle, its scale and selection error are
    the no-season candidate's (`learn`, BORROWED). The CUSUM read-outs keep the profile's
    own: their scale then starts wide and shrinks over the next days, while a CUSUM would
    sum the young profile's small biases into runs (development benchmark, 5-min, 8 seeds,
    borrowing: default 65.7 -> 66.5, change_point 56.1 -> 49.4, ensemble 60.1 -> 53.1)."""
    mix_sharpness: float = 4.0
    """How fast a candidate's say in the deviation falls with its recent error relative to
    the best's: weight 1 / (1 + (mix_sharpness * (error / best - 1))^2)."""
    season_relevel_cycles: float = 3.0
    """A seasonal candidate re-levels on its CUSUM only after this many periods: before
    that, runs of same-sign residuals are its profile still being learned, and re-levelling
    on them fed the errors back into the profile (it never settled)."""
    scale_windows: float = 3.0
    """The robust scale (sigma) averages |residual| over this many `window`s (3 x 120 samples,
    at most a day unless `window` is longer: SCALE_MEMORY).
    A scale that moves with the last 120 samples makes z itself noisy, and on heavy-tailed
    noise that noise reads as extra tail (NAB-style development benchmark, 5-min, mean of
    seeds 7/11/13/17: 63.0 -> 64.1, low-FP 50.8 -> 53.6). Variance *increases* still widen
    it at once through the variance CUSUM."""
    drift_windows: float = 0.6
    """The drift (how far the read-out level moved lately, in sigmas) sums its moves over
    about this many `window`s (0.6 x 120 = 72 samples, exponentially weighted). A ramp
    moves the level by its slope every sample; re-levelling keeps each residual small, so
    only this sum sees it (development benchmark, 5-min, mean of 8 seeds: trend changes
    found 53 -> 78 of 139; 0.3 / 0.4 / 0.6 / 0.8 / 1.0 scored 64.6 / 64.8 / 65.4 / 65.0 /
    64.7, 0.6 above 0.4 on 7 of the 8 seeds; neutral at 15 to 60 minutes)."""
    find_period: bool = False
    """Run one more seasonal candidate whose period is found in the channel's own recent
    history (periodicity.py: four samples to a third of the history, 14 hours at 5-minute
    sampling, 7 days hourly; not within 5% of `periods`): the `other` seasonality of
    `season: auto`. Its profile starts folded from that history, so it competes from the
    moment it is found (FOUND)."""
    quantum_floor: float = 0.5
    """Sigma never drops below this fraction of the series' smallest step (its resolution):
    an integer gauge that sits still and blips by 1 now and then is not alarming each time."""
    stuck_gain: float = 2.0
    """Each sample of an unchanged value counts this many sigma, times how rarely the series
    repeats a value: three identical samples of a series that never repeats read as 6."""

    candidates: int = field(init=False)
    """Candidate models: no season, one per period, and the found one (`find_period`)."""
    found: int = field(init=False)
    """Index of the found-period candidate (the last), 0 without one."""
    bins: tuple[int, ...] = field(init=False)
    """Profile bins per period: 5-minute bins for a day, 30-minute for longer periods."""
    bin_widths: tuple[float, ...] = field(init=False)
    """Seconds per profile bin (period / bins)."""
    eligible_after: tuple[float, ...] = field(init=False)
    """Seconds before each seasonal candidate may be read out: `season_read_cycles` periods
    plus half the shortest (by default 1.5 days for the daily profile, 7.5 for the weekly).
    A daily profile's first half day is learned against a level that is still a running
    mean, and the second day replaces it (development benchmark, 5-min, 8 seeds: weekly at
    1.5 periods 66.7, at 1.07 67.3, at 1.0 67.3, at 0.9 67.1; the daily at 1.2 periods as
    at 1.5)."""
    stepwise: tuple[bool, ...] = field(init=False)
    """Profiles read as steps, each sample from the bin it falls in, not interpolated
    between the two nearest: those longer than a day (30-minute bins). Weekly structure
    comes in steps (a weekend from midnight, business hours from 08:00), and interpolation
    across a 30-minute bin edge read every such step half-way for 15 minutes either side,
    every week (development benchmark, 8 seeds: 5-min 69.04 -> 69.44, better on 6 seeds;
    three daily shapes 71.35 -> 71.44; hourly 71.66 -> 72.31; 30-min unchanged). The
    daily profile's 5-minute bins hold its smooth shapes; 5-minute samples sit on their
    centres anyway (`bin_origin`)."""
    alpha: float = field(init=False)
    """Learning rate of the level (from `window`)."""
    alpha_scale: float = field(init=False)
    """Learning rate of the scale (from `window` x `scale_windows`)."""
    drift_keep: float = field(init=False)
    """What the drift keeps of itself per sample (from `window` x `drift_windows`)."""

    def __post_init__(self) -> None:  # derived once: the kernel reads these per sample
        bins = tuple(
            int(min(336, max(12, round(p / (GRID if p <= DAY else 6.0 * GRID)))))
            for p in self.periods
        )
        object.__setattr__(self, "bins", bins)
        found = 1 + len(self.periods) if self.find_period else 0
        object.__setattr__(self, "found", found)
        object.__setattr__(self, "candidates", 1 + len(self.periods) + int(self.find_period))
        object.__setattr__(self, "stepwise", tuple(p > DAY for p in self.periods))
        object.__setattr__(
            self, "bin_widths", tuple(p / b for p, b in zip(self.periods, bins, strict=True))
        )
        half = 0.5 * min(self.periods, default=0.0)
        object.__setattr__(
            self, "eligible_after", tuple(self.season_read_cycles * p + half for p in self.periods)
        )
        object.__setattr__(self, "alpha", 2.0 / (self.window + 1.0))
        object.__setattr__(self, "alpha_scale", 2.0 / (self.window * self.scale_windows + 1.0))
        object.__setattr__(self, "drift_keep", 1.0 - 1.0 / (self.window * self.drift_windows))


class BaselineState:
    """Mutable state of C candidates for N channels (floats when N is None, else arrays)."""

    __slots__ = (
        "bias",
        "bucket_offset",
        "cusum_down",
        "cusum_down_run",
        "cusum_up",
        "cusum_up_run",
        "cusum_var",
        "cusum_var_run",
        "drift",
        "dt",
        "hbucket",
        "hclosed",
        "hcount",
        "hday_spread",
        "hist",
        "hmed",
        "hphase",
        "hspread",
        "hsum",
        "hwidth",
        "level",
        "n",
        "pbins",
        "period",
        "profiles",
        "quantum",
        "repeat_rate",
        "resid_before",
        "resid_last",
        "run",
        "scale",
        "selection_error",
        "t_first",
        "t_last",
        "trend",
        "x_last",
    )

    def __init__(self, params: BaselineParams, xp: Ops, n: int | None) -> None:
        size = 0 if n is None else n
        cands = params.candidates

        def zeros() -> Any:  # a new array each time: learn() may update arrays in place
            return xp.full(size, 0.0)

        def per_candidate() -> list[Any]:
            return [zeros() for _ in range(cands)]

        self.n = zeros()
        self.t_first = xp.full(size, math.nan)
        self.t_last = xp.full(size, math.nan)
        self.dt = xp.full(size, math.nan)
        self.x_last = xp.full(size, math.nan)
        self.quantum = zeros()  # smallest nonzero step seen so far; 0 = none yet
        self.repeat_rate = zeros()  # how often a sample repeats the previous value (EWMA)
        self.run = zeros()  # samples in a row that repeated the previous value
        self.resid_last = zeros()  # the last two signed residuals read out (clipped, in sigmas)
        self.resid_before = zeros()
        self.drift = zeros()  # the read-out level's recent moves in sigmas (drift_windows)
        self.level = per_candidate()
        self.trend = per_candidate()
        self.scale = per_candidate()
        self.selection_error = per_candidate()
        self.cusum_up = per_candidate()
        self.cusum_down = per_candidate()
        self.cusum_up_run = per_candidate()
        self.cusum_down_run = per_candidate()
        self.cusum_var = per_candidate()
        self.cusum_var_run = per_candidate()
        self.profiles: list[Any] = [None] + [xp.profile(size, b) for b in params.bins]
        # a seasonal candidate's recent mean residual, which its scale is measured around
        self.bias: list[Any] = [None] + [zeros() for _ in params.periods]
        # FOUND: the found period (0 = none yet), its profile and the history it is found in
        self.period = zeros()
        self.pbins = zeros()  # bins of its profile: a sampling interval each, up to FOUND_BINS
        self.bucket_offset = (
            zeros()
        )  # where in its bucket a sample falls (the profile's bins centre there)
        self.hbucket = xp.full(size, math.nan)  # the open bucket: its number (t // hwidth)
        self.hsum = zeros()  # its samples' sum and count
        self.hcount = zeros()
        self.hclosed = zeros()  # buckets closed since the first
        self.hphase = zeros()  # where in CHECK_EVERY this channel's looks fall
        self.hwidth = zeros()  # seconds per bucket (0 = not chosen yet)
        self.hmed = zeros()  # the history's median and robust spread (0 = not known yet)
        self.hspread = zeros()
        # how far a bucket usually is from the day before's (0 = not known yet)
        self.hday_spread = zeros()
        self.hist: Any = new_history(n)
        if params.find_period:
            self.profiles.append(xp.profile(size, FOUND_BINS))
            self.bias.append(zeros())

    def nbytes(self) -> int:
        """Bytes held by array state (0 for the scalar backend's floats)."""
        total = 0
        for name in self.__slots__:
            value = getattr(self, name)
            for v in value if isinstance(value, list) else [value]:
                total += int(getattr(v, "nbytes", 0))
        return total


def new_state(params: BaselineParams, xp: Ops, n: int | None = None) -> BaselineState:
    """Fresh state: one channel of floats (`n=None`) or `n` channels of arrays."""
    return BaselineState(params, xp, n)


LEVEL_GATE = 3.0
"""`level_z` (the deviation from the median of the channel's recent history) counts only
while the baseline itself sees the sample this many sigma off. An adaptive baseline follows
a long incident and a count series' inflated sigma hides its spikes; the history's median
does neither (real labelled series: 38.8 -> 48.5 with `level_z`, 48.1 gated at 3). Once the
baseline has accepted a new level, the history's median does not hold it as an anomaly for
half a history (a protected monitor would otherwise never learn a lasting shift)."""
PERF_CAP = 12.0
"""The selection error (`selection_error`) counts a residual up to this many sigma; the scale up to
4.
A no-season level on a business day's square wave is as good as the daily profile for
hours, then 20-40 sigma off at each step: capped at 4 its error hid that and it was read
out at the steps, where its lag alarmed (development benchmark, 5-min, 8 seeds: 66.5 ->
68.5 with 12, 68.6 uncapped, 67.8 at 8; ensemble 60.1 -> 61.9, change_point 56.1 -> 57.1;
on three daily shapes, without the square wave, 70.6 either way). 12 keeps one huge
outlier from making every candidate look alike for half a day."""
SEASON_WINS = 1.5
"""`season_wins`: the read-out seasonal candidate's recent error is at most 1/SEASON_WINS of
the no-season candidate's (1.25 / 1.5 / 2 scored within noise; 1.5 kept the real crane
traces' false alarms where they were)."""


def season_wins(s: BaselineState, ev: Evaluation, xp: Ops) -> Any:
    """Whether a seasonal candidate is read out and clearly beats the no-season one (per
    channel, before `learn`). Until then a seasonal series may have been measured against a
    level that chased its cycle (deviations of 4 sigma twice a day, drifts of 12), and a
    calibration that kept those statistics would call the seasonal model's real anomalies
    routine: detectors restart their calibrations the first time this holds (development
    benchmark, 5-min, 8 seeds, with DRIFT_TO_Z 2: 67.3 -> 68.9, low-FP profile 58.4 ->
    60.2, trend changes found 74 -> 96 of 139). Restarting at every switch from the
    no-season read-out scored 69.3 there, but real 1-minute CPU traces switch back and forth
    and each restart left the thin prior in charge: false alarms at the default threshold
    0.21 -> 0.38 a day (0.21 as shipped)."""
    perf_sel = s.selection_error[0]
    for c in range(1, len(s.selection_error)):
        perf_sel = xp.where(ev.sel == float(c), s.selection_error[c], perf_sel)
    return ev.ok & (ev.sel != 0.0) & (perf_sel * SEASON_WINS <= s.selection_error[0])


@dataclass(slots=True)
class Evaluation:
    """What one sample looks like against the state, before learning it."""

    x: Any
    t: Any
    ok: Any  # finite and learnable
    sel: Any  # index of the candidate read out
    pred: list[Any]
    resid: list[Any]
    sigma: list[Any]
    i0: list[Any]
    w: list[Any]
    cusum_up: list[Any]
    cusum_down: list[Any]
    cusum_var: list[Any]
    # read-outs of the selected candidate
    z: Any
    cusum: Any  # max(cp, cn, cv) / h after this sample
    same: Any  # this sample repeats the previous value exactly
    run: Any  # repeats in a row, this one included
    stuck: Any  # the run read as a deviation (sigma-like), large for series that seldom repeat
    u: Any  # signed residual of the read-out in sigmas, clipped at cusum_clip and z (0 if not ok)
    persist: Any  # |median of u and the two u before|: a deviation that 2 of 3 samples share
    center: Any
    spread: Any  # sigma of the selected candidate
    warm: Any
    dt: Any  # typical seconds between samples so far (NaN before the second sample)
    drift: Any  # the read-out level's recent moves summed, in sigmas (`drift_windows`)
    level_z: (
        Any  # |x - the recent history's median| in its robust spreads (LEVEL_GATE; 0 until known)
    )
    history_z: Any  # the same deviation ungated (inf until the history is known or if not ok)
    day_z: Any  # |x - the history's bucket a day before| in its usual change (0 if not known)


DAY_CONFIRM_SIGMAS = 12.0
"""A sample this many usual day-over-day changes from the same time yesterday is confirmed
in full, however ordinary its value is for the history as a whole (docs/decisions/0001)."""


def confirmation(ev: Evaluation, sigmas: float, xp: Ops) -> Any:
    """How much of a score the channel's history confirms, in [0, 1]: the larger of
    history_z / sigmas and day_z / DAY_CONFIRM_SIGMAS, at most 1. An adaptive baseline's
    sigma shrinks in quiet hours and its level follows an incident, so on real series a
    sample can sit many of its sigmas off while being ordinary for the last weeks; a value
    ordinary for the history but far from yesterday's at this time (a daily cycle broken)
    is confirmed by the day before. A run of one non-zero value that is an episode on its
    own (`stuck` >= EPISODE_Z and above `z`: a frozen exporter) is its own evidence; a
    count that sits at zero is not."""
    frozen = (ev.stuck >= ev.z) & (ev.stuck >= EPISODE_Z) & (ev.x != 0.0)
    seen = xp.maximum(ev.history_z / sigmas, ev.day_z / DAY_CONFIRM_SIGMAS)
    return xp.where(frozen, 1.0, xp.minimum(1.0, seen))


def bin_origin(t: Any, t_first: Any, xp: Ops) -> Any:
    """Where the channel's profile bins start: half a `GRID` before its sample grid (the
    first sample's offset within `GRID`), on the clock otherwise.

    A series sampled every 5 minutes then reads each sample of its daily profile from one
    bin, so a step in its cycle (a batch job, business hours) is learned as a step; bins
    edged on the samples read each as the mean of two bins and smeared every step over
    both (a 20-sigma square wave: 8-sigma residuals at each edge, every day). Coarser bins
    (30 minutes, weekly) keep their edges beside the clock's half-hours, between samples, so
    a weekend that starts at midnight falls on a bin edge."""
    return xp.where(xp.isnan(t_first), t, t_first) % GRID - 0.5 * GRID


def _phase(
    t: Any, origin: Any, period: float, bins: int, width: float, xp: Ops
) -> tuple[Any, Any, Any]:
    """Bin below, bin above and interpolation weight of `t` in a profile of `bins` bins
    `width` seconds wide that start at `origin` (`bin_origin`)."""
    pos = ((t - origin) % period) / width - 0.5
    lo = xp.floor(pos)
    w = pos - lo
    i0 = xp.where(lo < 0, lo + bins, lo)
    i1 = xp.where(i0 + 1 >= bins, i0 + 1 - bins, i0 + 1)
    return i0, i1, w


def evaluate(params: BaselineParams, s: BaselineState, xp: Ops, t: Any, x: Any) -> Evaluation:
    """Residual, z and CUSUM read-outs of `x` at `t` against state `s` (does not mutate)."""
    ok = xp.isfinite(x) & (abs(x) < LEARN_LIMIT)
    xs = xp.where(ok, x, 0.0)
    pred, resid, sigma, i0s, ws, cps, cns, cvs = [], [], [], [], [], [], [], []
    elapsed = xp.where(xp.isnan(s.t_first), 0.0, t - s.t_first)
    origin = bin_origin(t, s.t_first, xp) if params.periods else 0.0
    best_eff: Any = None
    sel: Any = 0.0
    effs: list[Any] = []
    eligibles: list[Any] = []
    found = params.found
    live = s.period > 0.0  # FOUND: a period is found (per channel)
    for c in range(params.candidates):
        lev, b = s.level[c], s.trend[c]
        p = lev + b
        if c == found and c:  # FOUND: the period, bins and their phase per channel
            period = xp.where(live, s.period, DAY)
            bins_f = xp.where(live, s.pbins, float(FOUND_BINS))
            width = period / bins_f
            i0, i1, w = _phase(t, s.bucket_offset - 0.5 * width, period, bins_f, width, xp)
            p = p + (1.0 - w) * xp.gather(s.profiles[c], i0) + w * xp.gather(s.profiles[c], i1)
            i0s.append(i0)
            ws.append(w)
        elif c:
            period, bins = params.periods[c - 1], params.bins[c - 1]
            i0, i1, w = _phase(t, origin, period, bins, params.bin_widths[c - 1], xp)
            if params.stepwise[c - 1]:  # the bin the sample falls in, the nearer of the two
                p = p + xp.gather(s.profiles[c], xp.where(w < 0.5, i0, i1))
            else:
                p = p + (1.0 - w) * xp.gather(s.profiles[c], i0) + w * xp.gather(s.profiles[c], i1)
            i0s.append(i0)
            ws.append(w)
        else:
            i0s.append(None)
            ws.append(None)
        floor = xp.maximum(1e-9 * abs(lev) + 1e-12, params.quantum_floor * s.quantum)
        sig = xp.maximum(SIGMA_PER_MAD * s.scale[c], floor)
        r = xs - p
        u = r / sig
        uc = xp.clip(u, -params.cusum_clip, params.cusum_clip)
        cps.append(xp.maximum(0.0, s.cusum_up[c] + uc - params.cusum_k))
        cns.append(xp.maximum(0.0, s.cusum_down[c] - uc - params.cusum_k))
        cvs.append(xp.maximum(0.0, s.cusum_var[c] + abs(uc) - params.variance_k))
        pred.append(p)
        resid.append(r)
        sigma.append(sig)
        if c == found and c:  # not found yet: fixed read-outs, nothing learned from them
            for out, empty in ((pred, 0.0), (resid, 0.0), (sigma, 1.0), (i0s, 0.0), (ws, 0.0)):
                out[-1] = xp.where(live, out[-1], empty)
            for out in (cps, cns, cvs):
                out[-1] = xp.where(live, out[-1], 0.0)
        eff = s.selection_error[c] * (1.0 + params.complexity_penalty * c)
        effs.append(eff)
        if c == 0:
            best_eff = eff
            eligibles.append(True)
        else:
            # no minimum sampling rate: samples at the same phases every period learn
            # exactly the bins that are read (hourly data has a daily cycle too), and a
            # profile with unlearned bins loses on recent error anyway
            # FOUND: its profile is folded from history, so it competes once found
            eligible = s.period > 0.0 if c == found else elapsed >= params.eligible_after[c - 1]
            eligibles.append(eligible)
            better = eligible & (eff < best_eff)
            best_eff = xp.where(better, eff, best_eff)
            sel = xp.where(better, float(c), sel)
    # read out the selected candidate
    center, spread, r_sel = pred[0], sigma[0], resid[0]
    cus = xp.maximum(xp.maximum(cps[0], cns[0]), cvs[0] * (params.cusum_h / params.variance_h))
    for c in range(1, len(pred)):
        is_c = sel == float(c)
        center = xp.where(is_c, pred[c], center)
        spread = xp.where(is_c, sigma[c], spread)
        r_sel = xp.where(is_c, resid[c], r_sel)
        cus_c = xp.maximum(
            xp.maximum(cps[c], cns[c]), cvs[c] * (params.cusum_h / params.variance_h)
        )
        cus = xp.where(is_c, cus_c, cus)
    z_sel = abs(r_sel) / spread
    z = xp.where(
        ok,
        _mixture_z(params, xp, resid, sigma, effs, eligibles, best_eff, sel, z_sel, spread),
        0.0,
    )
    u = xp.where(ok, xp.clip(r_sel / spread, -params.cusum_clip, params.cusum_clip), 0.0)
    # no larger than the mixture's deviation: where another eligible candidate explains the
    # sample (the read-out still lags a step it knows), it does not count as persisting
    # (development benchmark, 8 seeds, with `stepwise`: 5-min 69.44 -> 69.94, 30-min
    # 69.11 -> 70.04, hourly 72.31 -> 73.04; three daily shapes, no square wave: 71.35 ->
    # 71.08 without `stepwise`; season breaks found 60 -> 64 of 91)
    u = xp.clip(u, -z, z)
    lo, hi = xp.minimum(s.resid_last, s.resid_before), xp.maximum(s.resid_last, s.resid_before)
    persist = abs(xp.maximum(lo, xp.minimum(hi, u)))  # median of three
    # a value too large to learn (or infinite) is maximally anomalous, not missing
    z = xp.where(xp.not_(ok) & xp.not_(xp.isnan(x)), xp.inf, z)
    warm = s.n >= params.warmup
    same = ok & (xs == s.x_last)
    run = xp.where(same, s.run + 1.0, 0.0)
    stuck = run * (1.0 - s.repeat_rate) * params.stuck_gain
    hspread = sample_spread(s.hspread, spread, s.dt, s.hwidth, xp)
    known = ok & (hspread > 0.0)
    history_z = xp.where(known, abs(xs - s.hmed) / xp.where(known, hspread, 1.0), xp.inf)
    level_z = xp.where(known & (z >= LEVEL_GATE), history_z, 0.0)
    dspread = sample_spread(s.hday_spread, spread, s.dt, s.hwidth, xp)
    change = abs(xs - day_before(s, t))
    daily = ok & (dspread > 0.0) & xp.isfinite(change)
    day_z = xp.where(daily, change / xp.where(daily, dspread, 1.0), 0.0)
    return Evaluation(
        x=xs,
        t=t,
        ok=ok,
        sel=sel,
        pred=pred,
        resid=resid,
        sigma=sigma,
        i0=i0s,
        w=ws,
        cusum_up=cps,
        cusum_down=cns,
        cusum_var=cvs,
        z=z,
        cusum=cus / params.cusum_h,
        same=same,
        run=run,
        stuck=stuck,
        u=u,
        persist=persist,
        center=center,
        spread=spread,
        warm=warm,
        dt=s.dt,
        drift=s.drift,
        level_z=level_z,
        history_z=history_z,
        day_z=day_z,
    )


_Z_CAP = 1e6  # |residual| / sigma beyond this is squared safely and counts the same
_REL_CAP = 1e6  # relative excess error beyond this: weight ~1e-13, squared safely


def _mixture_z(
    params: BaselineParams,
    xp: Ops,
    resid: list[Any],
    sigma: list[Any],
    effs: list[Any],
    eligibles: list[Any],
    best_eff: Any,
    sel: Any,
    z_sel: Any,
    spread: Any,
) -> Any:
    """The deviation under all eligible candidates, not only the one read out.

    Each candidate's tail (1 + u^2/4)^-2 (a t-like tail built from + - * /) is weighted by
    how close its recent error is to the best's; the mixture's tail is turned back into a
    deviation on the same scale (one candidate alone gives its own |u|). A weekly series at
    a weekend boundary is then judged by the weekly profile that expected it too, not only
    by the daily one still read out (NAB-style development benchmark, 5-min: 62.3 -> 64.1
    and 63.7 -> 64.0; sharpness 3-6 all gained on both seeds).

    A candidate's sigma far wider than the read-out's (`spread`) counts like an error that
    much larger: a weekly profile whose 30-minute bins miss a business day's steps has its
    scale widened at every step while its mean error stays near the daily profile's, and
    with half a say it called a 10-sigma spike 1.6 sigma (z 3.2; now 7.2. Development
    benchmark, 5-min, 8 seeds: 68.50 -> 68.55, false positives 2,174 -> 2,036; on three
    daily shapes 70.60 -> 70.65).
    """
    known = best_eff > 0.0
    best = xp.where(known, best_eff, 1.0)
    num: Any = 0.0
    den: Any = 0.0
    voices: Any = 0.0
    for c in range(len(resid)):
        voices = voices + xp.where(eligibles[c], 1.0, 0.0)
        ratio = xp.maximum(effs[c] / best, sigma[c] / spread)
        rel = xp.where(known, ratio - 1.0, xp.where(sel == float(c), 0.0, _REL_CAP))
        d = params.mix_sharpness * xp.minimum(rel, _REL_CAP)
        w = xp.where(eligibles[c], 1.0 / (1.0 + d * d), 0.0)
        u = xp.clip(resid[c] / sigma[c], -_Z_CAP, _Z_CAP)
        q = 1.0 + u * u * 0.25
        num = num + w / (q * q)
        den = den + w
    p = num / den
    mixed = (p > 0.0) & (voices > 1.0)  # one candidate alone: its own deviation, exactly
    root = xp.sqrt(xp.where(mixed, p, 1.0))
    return xp.where(mixed, 2.0 * xp.sqrt(xp.maximum(1.0 / root - 1.0, 0.0)), z_sel)


def _median3(xp: Ops, v: Any, a: Any, b: Any) -> Any:
    """The median of `v`, `a` and `b`: `v` clamped between the other two."""
    lo = xp.minimum(a, b)
    hi = xp.maximum(a, b)
    return xp.where(v >= hi, hi, xp.where(v <= lo, lo, v))


def _rate(xp: Ops, a: float, inv_n: Any, dt: Any, dt_known: Any, memory: float) -> Any:
    """max(min(a, dt / memory), inv_n): a learning rate that spans `memory` seconds."""
    return xp.maximum(xp.where(dt_known, xp.minimum(a, dt / memory), a), inv_n)


def learn(
    params: BaselineParams, s: BaselineState, xp: Ops, ev: Evaluation, mask: Any = True
) -> None:
    """Learn the sample of `ev` (which must come from `evaluate` on this state).

    Where `mask` is false the sample is only *tracked*: the change statistics see it (so a
    lasting shift still re-levels the baseline) but level, profile and scale do not learn
    it as normal. That is what `Monitor`'s `protect` uses for anomalous samples.
    """
    do = ev.ok & mask
    track = ev.ok & xp.not_(mask)
    seen = do | track
    # FROZEN: a repeat this series rarely makes (`stuck`) tells nothing about its level,
    # shape or scale; the candidates neither learn nor track it (the run, the repeat rate
    # and the clock still move on)
    thawed = xp.not_(ev.same & (ev.stuck >= FROZEN_STUCK))
    do_c, track_c = do & thawed, track & thawed
    seen_c = do_c | track_c
    t = ev.t
    first = s.n == 0.0
    a = params.alpha
    inv_n = 1.0 / (s.n + 1.0)
    al = xp.maximum(a, inv_n)
    clip_on = s.n >= _CLIP_AFTER
    gap = t - xp.where(first, t, s.t_last)
    new_dt = xp.where(xp.isnan(s.dt), gap, s.dt + 0.1 * (gap - s.dt))
    t_first = xp.where(first, t, s.t_first)
    dt_known = xp.not_(xp.isnan(new_dt) | (new_dt <= 0.0))
    a_perf = _rate(xp, a, inv_n, new_dt, dt_known, SELECTION_MEMORY)
    al_scale = xp.maximum(_rate(xp, a, inv_n, new_dt, dt_known, SCALE_MEMORY), params.alpha_scale)
    moved: Any = 0.0  # the read-out candidate's level move (the drift's step)
    tamed: Any = 0.0
    found = params.found
    for c in range(len(ev.pred)):
        do_k, track_k, seen_k = do_c, track_c, seen_c
        elapsed = t - t_first
        if c == found and c:  # FOUND: only where a period is found; past its first cycles
            live = s.period > 0.0
            do_k, track_k, seen_k = do_c & live, track_c & live, seen_c & live
            elapsed = xp.where(live, math.inf, 0.0)  # steady: not held, learns 1/season_cycles
        r, sig = ev.resid[c], ev.sigma[c]
        rc = xp.where(clip_on, xp.clip(r, -3.0 * sig, 3.0 * sig), r)
        spread = abs(r) if not c else abs(r - s.bias[c])  # BIAS_RATE: around the recent mean
        abs_r = xp.where(clip_on, xp.minimum(spread, 4.0 * sig), spread)
        abs_p = xp.where(clip_on, xp.minimum(abs(r), PERF_CAP * sig), abs(r))
        if c:  # a seasonal level moves over about one period, so the profile holds the shape
            if c == found:
                period = xp.where(live, s.period, DAY)
                bins = xp.where(live, s.pbins, float(FOUND_BINS))
                width = period / bins
            else:
                period, bins, width = (
                    params.periods[c - 1],
                    params.bins[c - 1],
                    params.bin_widths[c - 1],
                )
            dt_c = xp.where(dt_known, new_dt, period)
            per_bin = width / dt_c  # samples per bin and cycle
            anchored = per_bin >= MEAN_BINS  # first cycle: per-bin means (PROFILE below)
            al_c = _rate(xp, a, inv_n, new_dt, dt_known, period)
            # and holds still through the second cycle, which relearns the profile (PROFILE)
            # against the first cycle's mean: a level moving then passed its error on to the
            # profile (daily residual spread on a clean sine day 2 / 5 / 9: 2.8 / 1.22 / 1.19
            # noise sigmas moving, 1.7 / 1.15 / 1.10 held; development benchmark, 5-min,
            # 8 seeds: 69.28 -> 69.34, false positives 2,850 -> 2,602); an anchored
            # profile's level holds still from the first sample
            held = (elapsed < 2.0 * period) & ((elapsed >= period) | anchored)
            al_c = xp.where(held, 0.0, al_c)
        else:
            al_c = al
            # what a profile bin's first sample is taken as (PROFILE): clipped at 3 sigma
            # around the no-season prediction, then the median of that, the sample and the
            # one before it (a lasting change passes from its second sample on)
            tamed = ev.pred[0] + rc
            tamed = xp.where(xp.isnan(s.x_last), tamed, _median3(xp, tamed, ev.x, s.x_last))
        # seasonal candidates are level + profile: a trend there chases the cycle itself
        gain_c = params.trend_gain if c == 0 else 0.0
        lev_new = xp.where(first, ev.x, s.level[c] + s.trend[c] + al_c * rc)
        b_new = xp.where(first, 0.0, params.trend_damping * s.trend[c] + al_c * gain_c * rc)
        err_new = s.scale[c] + al_scale * (abs_r - s.scale[c])
        perf_new = s.selection_error[c] + a_perf * (abs_p - s.selection_error[c])
        # CUSUM: a detected level shift re-levels by its estimated size
        cp, cn, cv = ev.cusum_up[c], ev.cusum_down[c], ev.cusum_var[c]
        np_ = xp.where(cp > 0.0, s.cusum_up_run[c] + 1.0, 0.0)
        nn = xp.where(cn > 0.0, s.cusum_down_run[c] + 1.0, 0.0)
        nv = xp.where(cv > 0.0, s.cusum_var_run[c] + 1.0, 0.0)
        warm = s.n >= params.warmup
        relevel = warm
        if c:
            relevel = relevel & (elapsed >= params.season_relevel_cycles * period)
        up = relevel & (cp > params.cusum_h)
        down = relevel & (cn > params.cusum_h)
        # one-sided large residuals are a level change: re-level, do not widen the scale
        wider = warm & (cv > params.variance_h) & xp.not_(up | down)
        shift_up = sig * (cp / xp.maximum(np_, 1.0) + params.cusum_k)
        shift_down = sig * (cn / xp.maximum(nn, 1.0) + params.cusum_k)
        shift = xp.where(up, shift_up, 0.0) - xp.where(down, shift_down, 0.0)
        lev_new = lev_new + shift
        lev_tracked = s.level[c] + s.trend[c] + shift  # a gap-like step: no correction from x
        ratio = (cv / xp.maximum(nv, 1.0) + params.variance_k) / (1.0 / SIGMA_PER_MAD)
        err_new = xp.where(wider, err_new * ratio, err_new)
        err_tracked = xp.where(wider, s.scale[c] * ratio, s.scale[c])
        if c and c != found and period <= DAY and params.borrow_first_cycle:
            # BORROWED. Through its first cycle a per-bin-mean profile's residuals are
            # against bins it has not learned yet (a business day's whole step): its scale
            # and selection error take the no-season candidate's (learned just above)
            # instead, and start from there on the second day. Its own kept it 2-4 times
            # the noise for days after a 20-sigma step. (Development benchmark, 5-min, 8
            # seeds: 65.7 -> 66.5. A weekly profile borrowing lost 1.2 at 30 minutes: one
            # sample a bin is a noisy profile, and its own error keeps it out a while.)
            borrows = anchored & (elapsed < period)
            err_new = xp.where(borrows, s.scale[0], err_new)
            perf_new = xp.where(borrows, s.selection_error[0], perf_new)
        changed = up | down
        cp = xp.where(changed, 0.0, cp)
        cn = xp.where(changed, 0.0, cn)
        np_ = xp.where(changed, 0.0, np_)
        nn = xp.where(changed, 0.0, nn)
        cv = xp.where(changed | wider, 0.0, cv)
        nv = xp.where(changed | wider, 0.0, nv)
        if c:
            # PROFILE. Where a bin gets about a sample a cycle or more (MEAN_BINS: a daily
            # profile at 5 minutes, a weekly one's 30-minute bins at 5 to 30), the first
            # cycle is each bin's mean: every sample goes to its nearest bin at 1/rank
            # (its first sample, clipped around the no-season prediction, sets it; later
            # ones are clipped at 3 sigma around the bin's mean), against a level
            # held at the first sample; the k-th cycle then learns 1/k (per sample
            # 1/per_bin of that). A weekly profile is read in its second week before that
            # week relearns it: learned against a running mean, it was 2-14 noise sigmas off
            # after one week (0.3-0.9 now) and was read out on no sample of the second.
            # (Development benchmark, 8 seeds: 5-min 68.9 -> 70.4, false positives 2,654 ->
            # 2,276; 30-min 65.3 -> 67.3; 15-min 66.5 -> 67.4; hourly unchanged.)
            # Sparser bins are learned two at a time by interpolation (a `stepwise` profile's
            # one at a time: the bin the sample falls in), and their first two
            # cycles learn all of the way: the first against a level that is still a running
            # mean, the second replaces it. Decaying that first error as 1/k left 12 sigma on
            # day 3 for a daily amplitude of 37 sigma.
            per_bin_c = xp.maximum(1.0, per_bin)
            whole = xp.floor(elapsed / period)
            cycles = xp.maximum(xp.where(anchored, whole + 1.0, whole), 1.0)
            # at least 1/season_cycles a cycle: one division (the larger of the two rates)
            a_s = 1.0 / (per_bin_c * xp.minimum(cycles, params.season_cycles))
            learning = do_k & xp.not_(first)
            means = anchored & (elapsed < period)
            delta = xp.where(learning & xp.not_(means), a_s * (1.0 - al_c) * rc, 0.0)
            w = ev.w[c]
            i0 = ev.i0[c]
            i1 = xp.where(i0 + 1 >= bins, i0 + 1 - bins, i0 + 1)
            below = w < 0.5
            near = xp.where(below, i0, i1)
            by_mean = learning & means
            if xp.any_(by_mean):  # first cycles only: most steps of most channels skip this
                into = xp.where(below, w + 0.5, w - 0.5)  # how far into its nearest bin
                fresh = gap > into * width + 0.5 * dt_c  # the last sample was not in it
                rank = xp.where(fresh, 1.0, xp.floor(into * per_bin + RANK_SLACK) + 1.0)
                # a bin's first sample sets it: there is no mean to clip against yet, so it is
                # taken as clipped at 3 sigma around the no-season prediction (`tamed`: a first-
                # day outlier otherwise stayed in the profile for weeks, later cycles learning
                # it off 3 sigma at a time); later samples are clipped around the bin's mean
                first_in_bin = rank == 1.0
                own = xp.where(first_in_bin, tamed, ev.x) - (
                    s.level[c] + s.trend[c] + xp.gather(s.profiles[c], near)
                )
                own = xp.where(
                    clip_on & xp.not_(first_in_bin), xp.clip(own, -3.0 * sig, 3.0 * sig), own
                )
                # SECOND. A bin's second sample within 3 sigma of its first confirms it: the bin
                # becomes the mean of the two as they were. A weekend starting with a weekly bin
                # had its first sample tamed to Friday's level and the rest clipped around that,
                # 3 sigma at a time: the bin held 55-70% of the step after its first week
                # (development benchmark, 8 seeds: 5-min 69.94 -> 70.05; 15-min 68.39 -> 68.71).
                second = (rank == 2.0) & (abs(ev.x - s.x_last) <= 3.0 * sig)  # False if x_last NaN
                mean2 = (0.5 * (ev.x + s.x_last) - (s.level[c] + s.trend[c])) - xp.gather(
                    s.profiles[c], near
                )
                own = xp.where(second, mean2, own / rank)
                xp.scatter_add(s.profiles[c], near, xp.where(by_mean, own, 0.0))
                # CONFIRMED / REJECTED. With about one sample a bin, the sample before this one
                # set its bin alone, `tamed`, so the first sample after a step was clipped to the
                # old level (17 sigma off a week later: later cycles learn 3 sigma at a time).
                # This sample decides: within 3 sigma of it, that bin becomes the sample as it
                # was (a step is learned as a step on day one); far from it while it was itself
                # over 3 sigma off the read-out, it was an outlier, and the bin becomes the
                # median of the two samples and the no-season prediction (a 10^4 outlier left
                # 17 sigma behind, clipped). The bin is replaced by adding the difference, as the
                # per-row kernel does, bit for bit.
                single = by_mean & (per_bin < SINGLE_BINS)
                if xp.any_(single):  # about one sample a bin
                    origin = bin_origin(t, s.t_first, xp)  # as `evaluate` used
                    t_last = xp.where(xp.isnan(s.t_last), t, s.t_last)
                    last = xp.floor(((t_last - origin) % period) / width)  # its nearest bin
                    last = xp.where(last >= bins, last - bins, last)
                    decides = (
                        single
                        & xp.not_(xp.isnan(s.x_last))
                        & (s.t_last - t_first < period)
                        & (last != near)
                    )
                    confirmed = abs(ev.x - s.x_last) <= 3.0 * sig
                    rejected = xp.not_(confirmed) & (abs(s.resid_last) > 3.0)
                    median = _median3(xp, ev.pred[0], ev.x, s.x_last)
                    target = xp.where(confirmed, s.x_last, median)
                    was = xp.gather(s.profiles[c], last)
                    fix = decides & (confirmed | rejected)
                    base = s.level[c] + s.trend[c]
                    xp.scatter_add(s.profiles[c], last, xp.where(fix, (target - base) - was, 0.0))
            if c != found and params.stepwise[c - 1]:
                xp.scatter_add(s.profiles[c], near, delta)
            else:
                xp.scatter_add(s.profiles[c], i0, (1.0 - w) * delta)
                xp.scatter_add(s.profiles[c], i1, w * delta)
        lev_next = xp.where(do_k, lev_new, xp.where(track_k, lev_tracked, s.level[c]))
        m = xp.where(first, 0.0, (lev_next - s.level[c]) / sig)
        moved = xp.where(ev.sel == float(c), xp.clip(m, -DRIFT_STEP, DRIFT_STEP), moved)
        s.level[c] = lev_next
        s.trend[c] = xp.where(
            do_k, b_new, xp.where(track_k, params.trend_damping * s.trend[c], s.trend[c])
        )
        s.scale[c] = xp.where(do_k, err_new, xp.where(track_k, err_tracked, s.scale[c]))
        if c:
            bias = s.bias[c]
            s.bias[c] = xp.where(do_k & xp.not_(first), bias + BIAS_RATE * (rc - bias), bias)
        s.selection_error[c] = xp.where(do_k, perf_new, s.selection_error[c])
        s.cusum_up[c] = xp.where(seen_k, cp, s.cusum_up[c])
        s.cusum_down[c] = xp.where(seen_k, cn, s.cusum_down[c])
        s.cusum_up_run[c] = xp.where(seen_k, np_, s.cusum_up_run[c])
        s.cusum_down_run[c] = xp.where(seen_k, nn, s.cusum_down_run[c])
        s.cusum_var[c] = xp.where(seen_k, cv, s.cusum_var[c])
        s.cusum_var_run[c] = xp.where(seen_k, nv, s.cusum_var_run[c])
    s.drift = xp.where(seen, s.drift * params.drift_keep + moved, s.drift)
    # the series' resolution: the smallest nonzero step between learned samples
    dx = abs(ev.x - xp.where(xp.isnan(s.x_last), ev.x, s.x_last))
    finer = seen & (dx > 0.0) & ((s.quantum == 0.0) | (dx < s.quantum))
    s.quantum = xp.where(finer, dx, s.quantum)
    s.x_last = xp.where(seen, ev.x, s.x_last)
    s.repeat_rate = xp.where(
        do & xp.not_(first),
        s.repeat_rate + al * (xp.where(ev.same, 1.0, 0.0) - s.repeat_rate),
        s.repeat_rate,
    )
    s.run = xp.where(seen, ev.run, s.run)
    s.resid_before = xp.where(seen, s.resid_last, s.resid_before)
    s.resid_last = xp.where(seen, ev.u, s.resid_last)
    s.dt = xp.where(seen & xp.not_(first), new_dt, s.dt)
    s.t_first = xp.where(do, t_first, s.t_first)
    s.t_last = xp.where(seen, t, s.t_last)
    s.n = xp.where(do, s.n + 1.0, s.n)
    # learned samples go into the history: its level and spread (`level_z`), and the
    # periods FOUND is found in (`find_period`)
    look = params.find_period
    if s.hist.ndim == 1:
        if do_c:
            period = remember_one(s, t, ev.x, look, params.periods)
            if period is not None:
                adopt_period(s, params.found, period)
    else:
        for i, period in remember(s, t, ev.x, do_c, look, params.periods):
            adopt_period(s, params.found, period, i)


def adopt_period(s: BaselineState, found: int, period: FoundPeriod, i: int | None = None) -> None:
    """Make a period found in channel `i`'s history (`None`: a one-channel state) its FOUND
    candidate: the folded profile under a fresh level, no trend, bias or CUSUM runs, and on
    a first period the fold's spread as its scale and selection error."""
    resets: list[tuple[list[Any], float]] = [(s.level, period.level)]
    resets += [
        (v, 0.0)
        for v in (
            s.trend,
            s.bias,
            s.cusum_up,
            s.cusum_down,
            s.cusum_up_run,
            s.cusum_down_run,
            s.cusum_var,
            s.cusum_var_run,
        )
    ]
    if period.spread is not None:
        resets += [(s.scale, period.spread), (s.selection_error, period.spread)]
    if i is None:
        s.period, s.pbins = period.period, float(period.bins)
        s.profiles[found][:] = period.profile.tolist()
        for values, value in resets:
            values[found] = value
    else:
        s.period[i], s.pbins[i] = period.period, float(period.bins)
        s.profiles[found][i] = period.profile
        for values, value in resets:
            values[found][i] = value


DRIFT_TO_Z = 2.0
"""The drift counts like a deviation of this many times its size. On white noise it spreads
~0.1 sigma; the calibration's prior expects a deviation's unit spread, and with the drift
read as is a 10-sigma ramp scored at most ~0.55 against that prior. Under a daily profile
(a slow level that follows changes by re-levelling) it spreads wider, and the prior again
rules for a while after a calibration restarts (`season_wins`): there 4 read normal
drifts as rare (development benchmark, 5-min, 8 seeds, restarting at every switch to a
seasonal read-out: 1 / 1.5 / 2 / 2.5 / 3 / 4 scored 67.4 / 68.4 / 69.3 / 68.7 / 68.1 / 67.0;
restarting once, as shipped: 1.5 / 2 / 3 scored 68.5 / 68.9 / 69.0)."""
CUSUM_TO_Z = 5.0
"""A CUSUM statistic at its alarm level counts like a deviation of this many sigma."""
