"""The detector contract (river's split: scoring never mutates, learning never scores).

`Detector` is the protocol every registered detector follows. `UnivariateDetector` is the
shared implementation for detectors that read the streaming baseline (baseline.py): each
metric of a target gets its own channel, the highest-scoring metric is the `driver`, and a
`Bank` runs the same kernel over many channels at once for the vectorised engine path.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from sidecar.config.durations import parse_duration
from sidecar.detect import baseline_scalar, calibration
from sidecar.detect.baseline import (
    BaselineParams,
    BaselineState,
    Evaluation,
    confirmation,
    evaluate,
    learn,
    new_state,
    season_wins,
)
from sidecar.detect.calibration import (
    EPISODE_Z,
    P_HALF,
    Calibration,
    Peak,
    onset_scalar,
    remember_peak_scalar,
    restart,
    tail_scalar,
    update_scalar,
)
from sidecar.detect.ops import ARRAY, SCALAR
from sidecar.types import Frame, Score

__all__ = ["Bank", "BankScores", "Detector", "UnivariateDetector"]

ONSET_SPAN = 4 * 3600.0
"""Onset scoring's window is at most this much time (`onset_samples`): an episode is a few
hours whatever the sampling interval. 48 samples (4 hours at 5 minutes) were two days at
hourly steps, where a second crash spike the day after the first scored 0 (real labelled
series: 38.8 -> 45.2 with the cap, synthetic and crane-cpu unchanged)."""
ONSET_MIN = 4
"""...and at least this many samples (4 to 6 scored best at hourly steps)."""


def onset_samples(window: int, dt: float) -> float:
    """The onset window of a channel sampled every `dt` seconds: `window` samples, at most
    ONSET_SPAN of time, at least ONSET_MIN samples (`window` itself while `dt` is unknown)."""
    if not dt > 0.0:
        return float(window)
    cap = float(round(ONSET_SPAN / dt))
    if cap < ONSET_MIN:
        cap = float(ONSET_MIN)
    return cap if cap < window else float(window)


def _onset_samples_array(window: int, dt: NDArray[np.float64]) -> NDArray[np.float64]:
    """`onset_samples` for every channel of a bank."""
    known = dt > 0.0
    cap = np.maximum(float(ONSET_MIN), np.rint(ONSET_SPAN / np.where(known, dt, 1.0)))
    return np.where(known, np.minimum(cap, float(window)), float(window))


EXPECTED_SIGMAS = 3.0
"""The expected range reported with a score is the baseline's prediction ± this many sigma."""

DAY = 86400.0
_isnan = math.isnan  # a global, not an attribute lookup per call (per-row hot path)
WEEK = 7 * DAY


class Detector(Protocol):
    """Scores one observation of a target's metrics at a time, prequentially."""

    def score_one(self, t: float, x: Mapping[str, float]) -> Score:
        """Score `x` at `t` against what was learned so far; never changes the detector."""
        ...

    def learn_one(self, t: float, x: Mapping[str, float]) -> None:
        """Learn `x` at `t` as normal; never scores."""
        ...

    def score_frame(self, frame: Frame) -> list[Score]:
        """Score then learn each row in order; equals the per-row loop."""
        ...


PARAMETERS = ("season", "window", "warmup", "onset_window")
"""A univariate detector's parameters (sklearn's `get_params` / `set_params`)."""


def check_parameter(name: str, value: Any) -> None:
    """A ValueError naming the parameter and the value, if the value is not one it takes."""
    if name == "season":
        if value in ("auto", "none"):
            return
        if isinstance(value, str):
            try:
                seconds = parse_duration(value)
            except ValueError:
                seconds = math.nan
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            seconds = float(value)
        else:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(
                "season must be 'auto', 'none', a duration such as '1d' or a period in "
                f"seconds, got {value!r}"
            )
        return
    counted = name in ("window", "warmup") or (name == "onset_window" and value is not None)
    if counted and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
    ):
        also = " or None" if name == "onset_window" else ""
        raise ValueError(f"{name} must be a positive integer{also}, got {value!r}")


def _periods(season: str | float) -> tuple[float, ...]:
    if season == "auto":
        return (DAY, WEEK)
    if season == "none":
        return ()
    return (parse_duration(season) if isinstance(season, str) else float(season),)


ColumnState = tuple[BaselineState, tuple[Calibration, ...], Peak]
"""One metric's state: its baseline, a calibration per statistic, and its onset peak."""


class _Sample:
    """One column's sample evaluated against its state, shared by scoring and learning."""

    __slots__ = ("_calibrated", "deviating", "ev", "fits", "state", "stats", "x")

    def __init__(
        self,
        state: ColumnState,
        ev: Evaluation,
        stats: tuple[float, ...],
        x: float,
        fits: tuple[bool, ...],
        deviating: bool,
    ):
        self.state, self.ev, self.stats, self.x, self.fits = state, ev, stats, x, fits
        self.deviating = deviating  # see _deviating
        self._calibrated: float | None = None

    def calibrated(self) -> float:
        """The calibrated score (before onset scoring), computed once: that of the rarest
        statistic, its tail probability counted once per statistic (Bonferroni)."""
        out = self._calibrated
        if out is None:
            stats, cals, fits = self.stats, self.state[1], self.fits
            p = tail_scalar(cals[0], stats[0], fits[0])
            for i in range(1, len(stats)):
                q = tail_scalar(cals[i], stats[i], fits[i])
                if q < p:
                    p = q
            # = score_of(k * p), which lies in (0, 1] (the bank clips to the same)
            out = self._calibrated = P_HALF / (len(stats) * p + P_HALF)
        return out


def _deviating(stats: tuple[float, ...], now: tuple[int, ...]) -> bool:
    """Whether a statistic read now (not a slow one) is EPISODE_Z or more: the sample is off
    its baseline (`Score.deviating`), and its episode's onset peak does not age."""
    for i in now:  # noqa: SIM110 (the per-row path: a loop is faster than any() here)
        if stats[i] >= EPISODE_Z:
            return True
    return False


_COLD = Score(0.0, None, None, warm=False)


def _reported(score: Score) -> Score:
    """What a target with this one metric reports: the score, or cold without a range."""
    return score if score.warm and score.expected is not None else _COLD


def _highest(scores: list[Score]) -> Score:
    """The highest warm score (the driver); `deviating` if any metric is."""
    if len(scores) == 1:  # one metric: the common case, without the bookkeeping
        return _reported(scores[0])
    best: Score | None = None
    deviating = False
    for score in scores:
        deviating = deviating or score.deviating
        if score.warm and score.expected is not None and (best is None or score.value > best.value):
            best = score
    if best is None:
        return _COLD
    if deviating and not best.deviating:  # another metric is off its baseline
        return Score(best.value, best.expected, best.driver, best.warm, True)
    return best


class UnivariateDetector:
    """Base of detectors that score each metric against its streaming baseline.

    Subclasses define `_statistic(ev, xp)`: a non-negative deviation (in sigma-like units)
    read from an `Evaluation`; each channel calibrates it against its own history
    (calibration.py) into the [0, 1] score. A subclass that reads several kinds of
    deviation overrides `_statistics` instead: each statistic gets its own calibration,
    and the score is that of the rarest, its tail probability multiplied by their number
    (Bonferroni keeps the false-alarm rate of a score). Onset scoring reads the combined
    score, so an incident that both statistics see scores once. Parameters are stored
    verbatim; learned state lives in `states_` (sklearn's convention).
    """

    kind = "univariate"
    n_statistics = 1
    slow_statistics: tuple[int, ...] = ()
    """Statistics (by position) that stay high for as long as a slow change lasts: their
    calibration counts every sample, not an episode's first only (see `calibration.update`),
    or a channel whose drift often sits high would never learn that it does."""
    fitted_tails: tuple[int, ...] = ()
    """Statistics (by position) whose calibration extrapolates beyond the channel's highest
    values with a fitted power-law tail (`calibration.tail_probability(fit=True)`). Right
    for residual statistics on heavy-tailed noise; not for CUSUMs, whose own episode feeds
    the fit while it rises (change_point 50.3 -> 48.7 with it)."""
    season_read_cycles = 2.0  # a CUSUM read-out: see BaselineParams.season_read_cycles
    borrow_first_cycle = False  # a CUSUM read-out: see BaselineParams.borrow_first_cycle
    prior_weight = calibration.PRIOR_WEIGHT
    """Samples the calibration prior counts for at first: how long a channel takes to trust
    its own tail over the prior's (a short series with many incidents is better judged by
    the prior: docs/decisions/0001-real-data-scoring.md)."""
    prior_fade = math.inf
    """Statistics counted over which the prior's weight fades linearly from `prior_weight`
    to calibration.PRIOR_WEIGHT (inf: it does not fade)."""
    confirm_sigmas: float | None = None
    """When set, a score is multiplied by `confirmation(ev, confirm_sigmas)`: a sample within
    this many robust spreads of the median of the channel's recent history is discounted,
    however far it is from its adaptive baseline (None: scores are not confirmed)."""

    def __init__(
        self,
        season: str | float = "auto",
        window: int = 120,
        warmup: int = 20,
        onset_window: int | None = None,
    ) -> None:
        self.season = season
        self.window = window
        self.warmup = warmup
        self.onset_window = onset_window

    # -- sklearn-style parameters --------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        """Parameters are checked when set, and the baseline's derived parameters follow."""
        if name in PARAMETERS:
            check_parameter(name, value)
            self.__dict__.pop("params_", None)
        object.__setattr__(self, name, value)

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAMETERS}

    def set_params(self, **params: Any) -> Self:
        """Set parameters by name (sklearn's contract); learned state is kept, so call it
        before learning, or `clone()` afterwards."""
        for name in params:
            if name not in PARAMETERS:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r} "
                    f"(it has {', '.join(PARAMETERS)})"
                )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    @cached_property  # read twice per sample: after the first, a plain attribute lookup
    def params_(self) -> BaselineParams:
        return BaselineParams(
            periods=_periods(self.season),
            window=self.window,
            warmup=self.warmup,
            season_read_cycles=self.season_read_cycles,
            borrow_first_cycle=self.borrow_first_cycle,
            find_period=self.season == "auto",  # `other` seasonality, found in the data
        )

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        raise NotImplementedError

    def _statistics(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        """The statistics calibrated one by one (`n_statistics` of them); the first decides
        warm-up and gaps."""
        return (self._statistic(ev, xp),)

    @cached_property
    def _fits(self) -> tuple[bool, ...]:
        return tuple(i in self.fitted_tails for i in range(self.n_statistics))

    @cached_property
    def _now(self) -> tuple[int, ...]:
        """The statistics that say how far off its baseline a sample is now (not slow ones):
        `deviating` reads them. A drift stays high for a while after the level settled."""
        return tuple(i for i in range(self.n_statistics) if i not in self.slow_statistics)

    @cached_property
    def _episodic(self) -> tuple[bool, ...]:
        """Per statistic, whether calibration counts an episode once (onset scoring only)."""
        on = self.onset_window is not None
        return tuple(on and i not in self.slow_statistics for i in range(self.n_statistics))

    def _fitted(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        """Per statistic, whether its tail is fitted for this sample (bools, or bool arrays
        on the array backend); `fitted_tails` unless a subclass decides per sample."""
        return self._fits

    # -- per-row API -----------------------------------------------------------------------

    def _state(self, column: str) -> ColumnState:
        states: dict[str, ColumnState] = self.__dict__.setdefault("states_", {})
        st = states.get(column)
        if st is None:
            prior, fade = self.prior_weight, self.prior_fade
            cals = tuple(Calibration(SCALAR, None, prior, fade) for _ in range(self.n_statistics))
            st = states[column] = (new_state(self.params_, SCALAR), cals, Peak(SCALAR, None))
        return st

    def _sample(self, column: str, t: float, v: float) -> _Sample:
        """Evaluate one column's sample against its state (does not learn it)."""
        return self._sample_at(self._state(column), t, v)

    def _sample_at(self, st: ColumnState, t: float, v: float) -> _Sample:
        ev = baseline_scalar.evaluate_one(self.params_, st[0], float(t), float(v))
        stats = self._statistics(ev, SCALAR)  # floats on the scalar backend
        fits = self._fitted(ev, SCALAR)
        return _Sample(st, ev, stats, float(v), fits, _deviating(stats, self._now))

    def _evaluate(self, t: float, x: Mapping[str, float]) -> dict[str, _Sample]:
        """Per column: the evaluated sample (cached until learned, so scoring then learning
        evaluates once)."""
        cache = self.__dict__.get("_last")
        key = (t, tuple(x.items()))
        if cache is not None and cache[0] == key:
            samples: dict[str, _Sample] = cache[1]
            return samples
        samples = {c: self._sample(c, t, v) for c, v in x.items()}
        self.__dict__["_last"] = (key, samples)
        return samples

    def _column_score(self, column: str, s: _Sample) -> Score:
        ev, stats = s.ev, s.stats
        if not ev.warm or _isnan(stats[0]):
            return Score(0.0, None, column, warm=bool(ev.warm))
        deviating = False
        value = 0.0
        if not _isnan(s.x):  # a gap: no evidence either way
            deviating = s.deviating
            value = s.calibrated()
            window = self.onset_window
            if window is not None:
                value = onset_scalar(s.state[2], value, onset_samples(window, ev.dt))
            if self.confirm_sigmas is not None:
                value *= confirmation(ev, self.confirm_sigmas, SCALAR)
        lo = ev.center - EXPECTED_SIGMAS * ev.spread  # floats on the scalar backend
        hi = ev.center + EXPECTED_SIGMAS * ev.spread
        return Score(value, (lo, hi), column, True, deviating)

    def _learn_sample(self, s: _Sample, learned: bool) -> None:
        """Learn (or, not `learned`, only track) an evaluated sample."""
        base, cals, peak = s.state
        ev = s.ev
        if ev.warm:
            stats = s.stats
            window = self.onset_window
            if window is not None and not _isnan(stats[0]) and not _isnan(s.x):
                remember_peak_scalar(
                    peak, s.calibrated(), onset_samples(window, ev.dt), s.deviating
                )
            # the first time a seasonal read-out clearly wins (baseline.season_wins)
            if ev.sel != 0.0 and not cals[0].restarted and season_wins(base, ev, SCALAR):
                for cal in cals:
                    restart(cal, SCALAR, True)
            if learned and ev.ok:  # extremes count once the series has been seen to move
                moved = base.quantum > 0.0
                episodic = self._episodic
                for i in range(len(cals)):
                    update_scalar(cals[i], stats[i], moved, episodic[i])
        baseline_scalar.learn_one(self.params_, base, ev, learned)

    def score_columns(self, t: float, x: Mapping[str, float]) -> dict[str, Score]:
        """The score of each metric on its own (`score_one` reports the highest)."""
        return {c: self._column_score(c, s) for c, s in self._evaluate(t, x).items()}

    def score_one(self, t: float, x: Mapping[str, float]) -> Score:
        return _highest(list(self.score_columns(t, x).values()))

    def learn_one(self, t: float, x: Mapping[str, float]) -> None:
        for s in self._evaluate(t, x).values():
            self._learn_sample(s, True)
        self.__dict__.pop("_last", None)

    def track_one(self, t: float, x: Mapping[str, float]) -> None:
        """Follow `x` without learning it as normal: only change detection sees it."""
        for s in self._evaluate(t, x).values():
            self._learn_sample(s, False)
        self.__dict__.pop("_last", None)

    def update_one(self, t: float, x: Mapping[str, float]) -> Score:
        """`score_one` then `learn_one`, evaluating the sample once (the replay's hot path)."""
        state = self._state
        return self._update(t, [(c, state(c), v) for c, v in x.items()])

    def _update(
        self,
        t: float,
        columns: Iterable[tuple[str, ColumnState, float]],
    ) -> Score:
        """Score and learn each (column, state, value); columns are independent channels, so
        each can be learned right after it is scored."""
        scores = []
        for column, st, v in columns:
            s = self._sample_at(st, t, v)
            scores.append(self._column_score(column, s))
            self._learn_sample(s, True)
        return _highest(scores)

    def score_frame(self, frame: Frame) -> list[Score]:
        columns = frame.columns
        states = [self._state(c) for c in columns]  # looked up once, not per row
        times = frame.t.tolist()
        if len(columns) == 1:  # one metric (`sidecar score`): the same steps, no per-row lists
            column, st = columns[0], states[0]
            sample, score, learn = self._sample_at, self._column_score, self._learn_sample
            out = []
            for t, v in zip(times, frame.X[:, 0].tolist(), strict=True):
                s = sample(st, t, v)
                scored = score(column, s)  # = _reported(scored), inline
                out.append(scored if scored.warm and scored.expected is not None else _COLD)
                learn(s, True)
            return out
        update = self._update
        return [
            update(t, zip(columns, states, row, strict=True))
            for t, row in zip(times, frame.X.tolist(), strict=True)
        ]

    # -- vectorised API --------------------------------------------------------------------

    def bank(self, n: int) -> Bank:
        """State for `n` channels in arrays; each channel behaves like a per-row column."""
        return Bank(self, n)


class BankScores:
    """Scores of one vectorised step: arrays of shape (n,)."""

    __slots__ = (
        "calibrated",
        "deviating",
        "evaluation",
        "lower",
        "onset_samples",
        "statistics",
        "upper",
        "value",
        "warm",
    )

    def __init__(
        self,
        value: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        warm: NDArray[np.bool_],
        evaluation: Evaluation,
        statistics: tuple[NDArray[np.float64], ...],
        calibrated: NDArray[np.float64],
        deviating: NDArray[np.bool_],
        onset_samples: NDArray[np.float64] | None,
    ) -> None:
        self.value = value
        self.lower = lower
        self.upper = upper
        self.warm = warm
        self.evaluation = evaluation
        self.statistics = statistics
        self.calibrated = calibrated  # before onset scoring
        self.deviating = deviating  # see Score.deviating
        self.onset_samples = onset_samples  # each channel's onset window (None: no onsets)


class Bank:
    """Many channels of one univariate detector, stepped together (structure of arrays)."""

    def __init__(self, detector: UnivariateDetector, n: int) -> None:
        self.detector = detector
        self.n = n
        self.state = new_state(detector.params_, ARRAY, n)
        prior, fade = detector.prior_weight, detector.prior_fade
        self.calibrations = tuple(
            Calibration(ARRAY, n, prior, fade) for _ in range(detector.n_statistics)
        )
        self.peak = Peak(ARRAY, n)

    def score(self, t: NDArray[np.float64], x: NDArray[np.float64]) -> BankScores:
        """Score one sample per channel (NaN = no sample); does not change the state."""
        ev = evaluate(self.detector.params_, self.state, ARRAY, t, x)
        stats = tuple(np.asarray(a, dtype=np.float64) for a in self.detector._statistics(ev, ARRAY))
        warm = np.asarray(ev.warm, dtype=bool) & ~np.isnan(x) & ~np.isnan(stats[0])
        fits = self.detector._fitted(ev, ARRAY)
        p = calibration.tail_probability(self.calibrations[0], ARRAY, stats[0], fits[0])
        for i in range(1, len(stats)):
            q = calibration.tail_probability(self.calibrations[i], ARRAY, stats[i], fits[i])
            p = np.minimum(p, q)
        share = len(stats)  # Bonferroni, as in the per-row path
        value = np.clip(np.where(warm, calibration.score_of(share * p), 0.0), 0.0, 1.0)
        lower = ev.center - EXPECTED_SIGMAS * ev.spread
        upper = ev.center + EXPECTED_SIGMAS * ev.spread
        window = self.detector.onset_window
        samples = None if window is None else _onset_samples_array(window, np.asarray(ev.dt))
        onset = (
            value if samples is None else calibration.onset_score(self.peak, ARRAY, value, samples)
        )
        if self.detector.confirm_sigmas is not None:
            onset = onset * confirmation(ev, self.detector.confirm_sigmas, ARRAY)
        high = np.zeros(value.shape, dtype=bool)
        for i in self.detector._now:
            high |= stats[i] >= EPISODE_Z
        return BankScores(onset, lower, upper, warm, ev, stats, value, warm & high, samples)

    def learn(self, scores: BankScores, mask: NDArray[np.bool_] | bool = True) -> None:
        """Learn the samples just scored where `mask`; elsewhere only track them (protect)."""
        ev = scores.evaluation
        counted = np.asarray(ev.warm, dtype=bool) & np.asarray(ev.ok, dtype=bool) & mask
        moved = self.state.quantum > 0.0  # before learning, as in the per-row path
        samples = scores.onset_samples  # the window scoring used, not worked out again
        if samples is not None:
            calibration.remember_peak(
                self.peak, ARRAY, scores.calibrated, samples, scores.warm, scores.deviating
            )
        episodic = self.detector._episodic
        first = self.calibrations[0].restarted == 0.0  # before any is restarted below
        wins = np.asarray(season_wins(self.state, ev, ARRAY), dtype=bool)
        restarted = np.asarray(ev.warm, dtype=bool) & first & wins
        for i, (cal, stat) in enumerate(zip(self.calibrations, scores.statistics, strict=True)):
            calibration.restart(cal, ARRAY, restarted)
            calibration.update(cal, ARRAY, stat, counted, moved, episodic[i])
        learn(self.detector.params_, self.state, ARRAY, ev, mask)  # unmasked: tracked only

    def nbytes(self) -> int:
        """Bytes of array state held for all channels."""
        held = self.state.nbytes() + self.peak.nbytes()
        return held + sum(c.nbytes() for c in self.calibrations)

    def resize(self, n: int) -> None:
        """Grow to `n` channels; new channels start fresh, existing ones keep their state."""
        if n <= self.n:
            return
        fresh = new_state(self.detector.params_, ARRAY, n)
        _copy_into(fresh, self.state, self.n)
        calibrations = tuple(Calibration(ARRAY, n, c.prior, c.fade) for c in self.calibrations)
        peak = Peak(ARRAY, n)
        head = slice(None, self.n)
        for new, old in zip(calibrations, self.calibrations, strict=True):
            _copy_slots(new, old, head, slice(None))
        _copy_slots(peak, self.peak, head, slice(None))
        self.state, self.calibrations, self.peak, self.n = fresh, calibrations, peak, n

    def copy_channels(
        self, source: Bank, from_channels: NDArray[np.intp], to_channels: NDArray[np.intp]
    ) -> None:
        """Set channels `to_channels` to what `source` (a bank of the same detector) learned
        in `from_channels`: banks trained on parts of a rule's series are joined this way."""
        if from_channels.size != to_channels.size:
            raise ValueError(
                f"{from_channels.size} source channels for {to_channels.size} destinations"
            )
        same = type(self.detector) is type(source.detector)
        if not same or self.detector.get_params() != source.detector.get_params():
            raise ValueError("channels can only be copied between banks of the same detector")
        for name in BaselineState.__slots__:
            into, held = getattr(self.state, name), getattr(source.state, name)
            pairs = zip(into, held, strict=True) if isinstance(into, list) else [(into, held)]
            for d, s in pairs:
                if d is not None:
                    d[to_channels] = s[from_channels]
        for mine, theirs in zip(self.calibrations, source.calibrations, strict=True):
            _copy_slots(mine, theirs, to_channels, from_channels)
        _copy_slots(self.peak, source.peak, to_channels, from_channels)

    def reset(self, channels: NDArray[np.intp]) -> None:
        """Forget what the given channels learned (they are reused for new series)."""
        if channels.size == 0:
            return
        fresh = new_state(self.detector.params_, ARRAY, channels.size)
        for name in BaselineState.__slots__:
            old, new = getattr(self.state, name), getattr(fresh, name)
            for o, f in zip(old, new, strict=True) if isinstance(old, list) else [(old, new)]:
                if o is not None:
                    o[channels] = f
        everything = slice(None)
        for held in self.calibrations:
            fresh_cal = Calibration(ARRAY, channels.size, held.prior, held.fade)
            _copy_slots(held, fresh_cal, channels, everything)
        _copy_slots(self.peak, Peak(ARRAY, channels.size), channels, everything)


def _copy_slots(dst: Calibration | Peak, src: Calibration | Peak, at: Any, rows: Any) -> None:
    """dst.<slot>[at] = src.<slot>[rows] for every array slot (same class)."""
    for name in type(dst).__slots__:
        value = getattr(dst, name)
        if isinstance(value, np.ndarray):
            value[at] = getattr(src, name)[rows]


def _copy_into(dst: BaselineState, src: BaselineState, n: int) -> None:
    """Copy the first n channels of every array of `src` into `dst` (same params)."""
    for name in BaselineState.__slots__:
        d, s = getattr(dst, name), getattr(src, name)
        pairs = zip(d, s, strict=True) if isinstance(d, list) else [(d, s)]
        new_list = []
        for dv, sv in pairs:
            grown = None if dv is None else dv.copy()
            if grown is not None:
                grown[:n] = sv
            new_list.append(grown)
        setattr(dst, name, new_list if isinstance(d, list) else new_list[0])
