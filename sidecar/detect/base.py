"""The detector contract (river's split: scoring never mutates, learning never scores).

`Detector` is the protocol every registered detector follows. `UnivariateDetector` is the
shared implementation for detectors that read the streaming baseline (baseline.py): each
metric of a target gets its own channel, the highest-scoring metric is the `driver`, and a
`Bank` runs the same kernel over many channels at once for the vectorised engine path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from sidecar.detect import baseline_scalar, calibration
from sidecar.detect.baseline import (
    BaselineParams,
    BaselineState,
    Evaluation,
    evaluate,
    learn,
    new_state,
)
from sidecar.detect.calibration import Calibration
from sidecar.detect.ops import ARRAY, SCALAR
from sidecar.types import Frame, Score

__all__ = ["Bank", "BankScores", "Detector", "UnivariateDetector"]

EXPECTED_SIGMAS = 3.0
"""The expected range reported with a score is the baseline's prediction ± this many sigma."""

DAY = 86400.0
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


def _periods(season: str | float) -> tuple[float, ...]:
    if season == "auto":
        return (DAY, WEEK)
    if season == "none":
        return ()
    return (float(season),)


class _Sample:
    """One column's sample evaluated against its state, shared by scoring and learning."""

    __slots__ = ("_calibrated", "ev", "stat", "state", "x")

    def __init__(
        self, state: tuple[BaselineState, Calibration], ev: Evaluation, stat: float, x: float
    ) -> None:
        self.state, self.ev, self.stat, self.x = state, ev, stat, x
        self._calibrated: float | None = None

    def calibrated(self) -> float:
        """The calibrated score of the statistic (before onset scoring), computed once."""
        if self._calibrated is None:
            p = calibration.tail_probability(self.state[1], SCALAR, self.stat)
            self._calibrated = min(max(float(calibration.score_of(p)), 0.0), 1.0)
        return self._calibrated


def _highest(scores: Iterable[Score]) -> Score:
    """The highest warm score (the driver); `deviating` if any metric is."""
    best: Score | None = None
    deviating = False
    for score in scores:
        deviating = deviating or score.deviating
        if score.warm and score.expected is not None and (best is None or score.value > best.value):
            best = score
    if best is None:
        return Score(0.0, None, None, warm=False)
    if deviating and not best.deviating:  # another metric is off its baseline
        return Score(best.value, best.expected, best.driver, best.warm, True)
    return best


class UnivariateDetector:
    """Base of detectors that score each metric against its streaming baseline.

    Subclasses define `_statistic(ev, xp)`: a non-negative deviation (in sigma-like units)
    read from an `Evaluation`; each channel calibrates it against its own history
    (calibration.py) into the [0, 1] score. Parameters are stored verbatim; learned state
    lives in `states_` (sklearn's convention).
    """

    kind = "univariate"

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

    def get_params(self) -> dict[str, Any]:
        return {
            "season": self.season,
            "window": self.window,
            "warmup": self.warmup,
            "onset_window": self.onset_window,
        }

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    @property
    def params_(self) -> BaselineParams:
        p: BaselineParams | None = self.__dict__.get("_params_cache")
        if p is None:
            p = BaselineParams(
                periods=_periods(self.season), window=self.window, warmup=self.warmup
            )
            self.__dict__["_params_cache"] = p
        return p

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        raise NotImplementedError

    # -- per-row API -----------------------------------------------------------------------

    def _state(self, column: str) -> tuple[BaselineState, Calibration]:
        states: dict[str, tuple[BaselineState, Calibration]] = self.__dict__.setdefault(
            "states_", {}
        )
        st = states.get(column)
        if st is None:
            st = states[column] = (new_state(self.params_, SCALAR), Calibration(SCALAR, None))
        return st

    def _sample(self, column: str, t: float, v: float) -> _Sample:
        """Evaluate one column's sample against its state (does not learn it)."""
        st = self._state(column)
        ev = baseline_scalar.evaluate_one(self.params_, st[0], float(t), float(v))
        return _Sample(st, ev, float(self._statistic(ev, SCALAR)), float(v))

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
        ev, stat = s.ev, s.stat
        if not ev.warm or math.isnan(stat):
            return Score(0.0, None, column, warm=bool(ev.warm))
        deviating = False
        if math.isnan(s.x):  # a gap: no evidence either way
            value = 0.0
        else:
            value = s.calibrated()
            deviating = stat >= calibration.EPISODE_Z
            if self.onset_window is not None:
                value = calibration.onset_score(s.state[1], SCALAR, value, self.onset_window)
        lo = ev.center - EXPECTED_SIGMAS * ev.spread
        hi = ev.center + EXPECTED_SIGMAS * ev.spread
        return Score(value, (float(lo), float(hi)), column, True, deviating)

    def _learn_sample(self, s: _Sample, learned: bool) -> None:
        """Learn (or, not `learned`, only track) an evaluated sample."""
        base, cal = s.state
        ev, stat = s.ev, s.stat
        window = self.onset_window
        if window is not None and ev.warm and not math.isnan(stat) and not math.isnan(s.x):
            calibration.remember_peak(cal, SCALAR, s.calibrated(), window, True)
        if learned and ev.warm and ev.ok:  # extremes count once the series has been seen to move
            calibration.update(cal, SCALAR, stat, True, base.quantum > 0.0, window is not None)
        baseline_scalar.learn_one(self.params_, base, ev, learned)

    def score_columns(self, t: float, x: Mapping[str, float]) -> dict[str, Score]:
        """The score of each metric on its own (`score_one` reports the highest)."""
        return {c: self._column_score(c, s) for c, s in self._evaluate(t, x).items()}

    def score_one(self, t: float, x: Mapping[str, float]) -> Score:
        return _highest(self.score_columns(t, x).values())

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
        samples = [(c, self._sample(c, t, v)) for c, v in x.items()]
        score = _highest([self._column_score(c, s) for c, s in samples])
        for _, s in samples:
            self._learn_sample(s, True)
        return score

    def score_frame(self, frame: Frame) -> list[Score]:
        cols = frame.columns
        return [
            self.update_one(t, dict(zip(cols, row, strict=True)))
            for t, row in zip(frame.t.tolist(), frame.X.tolist(), strict=True)
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
        "statistic",
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
        statistic: NDArray[np.float64],
        calibrated: NDArray[np.float64] | None = None,
    ) -> None:
        self.value = value
        self.lower = lower
        self.upper = upper
        self.warm = warm
        self.evaluation = evaluation
        self.statistic = statistic
        self.calibrated = value if calibrated is None else calibrated  # before onset scoring
        self.deviating = warm & (statistic >= calibration.EPISODE_Z)  # see Score.deviating


class Bank:
    """Many channels of one univariate detector, stepped together (structure of arrays)."""

    def __init__(self, detector: UnivariateDetector, n: int) -> None:
        self.detector = detector
        self.n = n
        self.state = new_state(detector.params_, ARRAY, n)
        self.calibration = Calibration(ARRAY, n)

    def score(self, t: NDArray[np.float64], x: NDArray[np.float64]) -> BankScores:
        """Score one sample per channel (NaN = no sample); does not change the state."""
        ev = evaluate(self.detector.params_, self.state, ARRAY, t, x)
        stat = np.asarray(self.detector._statistic(ev, ARRAY), dtype=np.float64)
        warm = np.asarray(ev.warm, dtype=bool) & ~np.isnan(x) & ~np.isnan(stat)
        p = calibration.tail_probability(self.calibration, ARRAY, stat)
        value = np.clip(np.where(warm, calibration.score_of(p), 0.0), 0.0, 1.0)
        lower = ev.center - EXPECTED_SIGMAS * ev.spread
        upper = ev.center + EXPECTED_SIGMAS * ev.spread
        window = self.detector.onset_window
        if window is None:
            return BankScores(value, lower, upper, warm, ev, stat)
        onset = calibration.onset_score(self.calibration, ARRAY, value, window)
        return BankScores(onset, lower, upper, warm, ev, stat, value)

    def learn(self, scores: BankScores, mask: NDArray[np.bool_] | bool = True) -> None:
        """Learn the samples just scored where `mask`; elsewhere only track them (protect)."""
        ev = scores.evaluation
        counted = np.asarray(ev.warm, dtype=bool) & np.asarray(ev.ok, dtype=bool) & mask
        moved = self.state.quantum > 0.0  # before learning, as in the per-row path
        window = self.detector.onset_window
        if window is not None:
            calibration.remember_peak(
                self.calibration, ARRAY, scores.calibrated, window, scores.warm
            )
        calibration.update(
            self.calibration, ARRAY, scores.statistic, counted, moved, window is not None
        )
        learn(self.detector.params_, self.state, ARRAY, ev, mask)  # unmasked: tracked only

    def nbytes(self) -> int:
        """Bytes of array state held for all channels."""
        return self.state.nbytes() + self.calibration.nbytes()

    def resize(self, n: int) -> None:
        """Grow to `n` channels; new channels start fresh, existing ones keep their state."""
        if n <= self.n:
            return
        fresh = new_state(self.detector.params_, ARRAY, n)
        cal = Calibration(ARRAY, n)
        _copy_into(fresh, self.state, self.n)
        for name in Calibration.__slots__:
            getattr(cal, name)[: self.n] = getattr(self.calibration, name)
        self.state, self.calibration, self.n = fresh, cal, n

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
        fresh_cal = Calibration(ARRAY, channels.size)
        for name in Calibration.__slots__:
            getattr(self.calibration, name)[channels] = getattr(fresh_cal, name)


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
