"""The detector contract (river's split: scoring never mutates, learning never scores).

`Detector` is the protocol every registered detector follows. `UnivariateDetector` is the
shared implementation for detectors that read the streaming baseline (baseline.py): each
metric of a target gets its own channel, the highest-scoring metric is the `driver`, and a
`Bank` runs the same kernel over many channels at once for the vectorised engine path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


class UnivariateDetector:
    """Base of detectors that score each metric against its streaming baseline.

    Subclasses define `_statistic(ev, xp)`: a non-negative deviation (in sigma-like units)
    read from an `Evaluation`; each channel calibrates it against its own history
    (calibration.py) into the [0, 1] score. Parameters are stored verbatim; learned state
    lives in `states_` (sklearn's convention).
    """

    kind = "univariate"

    def __init__(self, season: str | float = "auto", window: int = 120, warmup: int = 20) -> None:
        self.season = season
        self.window = window
        self.warmup = warmup

    # -- sklearn-style parameters --------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        return {"season": self.season, "window": self.window, "warmup": self.warmup}

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

    def _evaluate(self, t: float, x: Mapping[str, float]) -> dict[str, tuple[Evaluation, float]]:
        """Per column: the evaluation and its raw statistic (cached until learned)."""
        cache = self.__dict__.get("_last")
        key = (t, tuple(x.items()))
        if cache is not None and cache[0] == key:
            evs: dict[str, tuple[Evaluation, float]] = cache[1]
            return evs
        params = self.params_
        evs = {}
        for c, v in x.items():
            ev = baseline_scalar.evaluate_one(params, self._state(c)[0], float(t), float(v))
            evs[c] = (ev, float(self._statistic(ev, SCALAR)))
        self.__dict__["_last"] = (key, evs)
        return evs

    def score_columns(self, t: float, x: Mapping[str, float]) -> dict[str, Score]:
        """The score of each metric on its own (`score_one` reports the highest)."""
        out: dict[str, Score] = {}
        for column, (ev, stat) in self._evaluate(t, x).items():
            if not ev.warm or math.isnan(stat):
                out[column] = Score(0.0, None, column, warm=bool(ev.warm))
                continue
            if math.isnan(x[column]):  # a gap: no evidence either way
                value = 0.0
            else:
                p = calibration.tail_probability(self._state(column)[1], SCALAR, stat)
                value = min(max(float(calibration.score_of(p)), 0.0), 1.0)
            lo = ev.center - EXPECTED_SIGMAS * ev.spread
            hi = ev.center + EXPECTED_SIGMAS * ev.spread
            out[column] = Score(value, (float(lo), float(hi)), column, True)
        return out

    def score_one(self, t: float, x: Mapping[str, float]) -> Score:
        best: Score | None = None
        for score in self.score_columns(t, x).values():
            if (
                score.warm
                and score.expected is not None
                and (best is None or score.value > best.value)
            ):
                best = score
        return best if best is not None else Score(0.0, None, None, warm=False)

    def learn_one(self, t: float, x: Mapping[str, float]) -> None:
        evs = self._evaluate(t, x)
        params = self.params_
        for column, (ev, stat) in evs.items():
            base, cal = self._state(column)
            if ev.warm and ev.ok:  # extremes count once the series has been seen to move
                calibration.update(cal, SCALAR, stat, True, base.quantum > 0.0)
            baseline_scalar.learn_one(params, base, ev)
        self.__dict__.pop("_last", None)

    def track_one(self, t: float, x: Mapping[str, float]) -> None:
        """Follow `x` without learning it as normal: only change detection sees it."""
        evs = self._evaluate(t, x)
        params = self.params_
        for column, (ev, _) in evs.items():
            baseline_scalar.learn_one(params, self._state(column)[0], ev, False)
        self.__dict__.pop("_last", None)

    def score_frame(self, frame: Frame) -> list[Score]:
        out: list[Score] = []
        cols = frame.columns
        for t, row in zip(frame.t.tolist(), frame.X.tolist(), strict=True):
            x = dict(zip(cols, row, strict=True))
            out.append(self.score_one(t, x))
            self.learn_one(t, x)
        return out

    # -- vectorised API --------------------------------------------------------------------

    def bank(self, n: int) -> Bank:
        """State for `n` channels in arrays; each channel behaves like a per-row column."""
        return Bank(self, n)


class BankScores:
    """Scores of one vectorised step: arrays of shape (n,)."""

    __slots__ = ("evaluation", "lower", "statistic", "upper", "value", "warm")

    def __init__(
        self,
        value: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        warm: NDArray[np.bool_],
        evaluation: Evaluation,
        statistic: NDArray[np.float64],
    ) -> None:
        self.value = value
        self.lower = lower
        self.upper = upper
        self.warm = warm
        self.evaluation = evaluation
        self.statistic = statistic


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
        return BankScores(value, lower, upper, warm, ev, stat)

    def learn(self, scores: BankScores, mask: NDArray[np.bool_] | bool = True) -> None:
        """Learn the samples just scored where `mask`; elsewhere only track them (protect)."""
        ev = scores.evaluation
        counted = np.asarray(ev.warm, dtype=bool) & np.asarray(ev.ok, dtype=bool) & mask
        moved = self.state.quantum > 0.0  # before learning, as in the per-row path
        calibration.update(self.calibration, ARRAY, scores.statistic, counted, moved)
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
        cal.counts[: self.n] = self.calibration.counts
        cal.total[: self.n] = self.calibration.total
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
        self.calibration.counts[channels] = 0.0
        self.calibration.total[channels] = 0.0


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
