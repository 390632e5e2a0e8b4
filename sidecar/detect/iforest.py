"""`isolation_forest`: several metrics of one target scored together (scikit-learn).

An `IsolationForest` is fitted on the most recent `window` rows and refitted every
`refit_every` learned rows (seeded, so runs repeat exactly). Its raw score is turned into
a robust z against the scores of its own training rows, then calibrated per target like
every other detector. The explanation names the metric furthest from its window median.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from sidecar.detect import calibration
from sidecar.detect.base import EXPECTED_SIGMAS
from sidecar.detect.baseline import LEARN_LIMIT
from sidecar.detect.calibration import Calibration
from sidecar.detect.ops import SCALAR
from sidecar.types import Frame, Score

__all__ = ["IsolationForestWindow"]

_MAD_TO_SIGMA = 1.4826


class IsolationForestWindow:
    """Multivariate detector over a sliding window of rows (columns fixed at first sight)."""

    kind = "isolation_forest"
    seasonal = False  # judges each row against a recent window; no seasonal profile

    def __init__(
        self,
        window: int = 1000,
        n_estimators: int = 100,
        refit_every: int = 250,
        warmup: int = 50,
        seed: int = 0,
    ) -> None:
        self.window = window
        self.n_estimators = n_estimators
        self.refit_every = refit_every
        self.warmup = warmup
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "n_estimators": self.n_estimators,
            "refit_every": self.refit_every,
            "warmup": self.warmup,
            "seed": self.seed,
        }

    def clone(self) -> Self:
        return type(self)(**self.get_params())

    # -- state -------------------------------------------------------------------------------

    def _init(self, x: Mapping[str, float]) -> None:
        if "columns_" not in self.__dict__:
            self.columns_: tuple[str, ...] = tuple(sorted(x))
            self.rows_: deque[list[float]] = deque(maxlen=self.window)
            self.model_: Any = None
            self.since_fit_ = 0
            self.center_ = np.zeros(len(self.columns_))
            self.spread_ = np.ones(len(self.columns_))
            self.raw_center_ = 0.0
            self.raw_spread_ = 1.0
            self.calibration_ = Calibration(SCALAR, None)

    def _row(self, x: Mapping[str, float]) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.array([float(x.get(c, math.nan)) for c in self.columns_], dtype=np.float64)

    def _statistic(
        self, row: np.ndarray[Any, np.dtype[np.float64]], raw: float | None = None
    ) -> tuple[float, int]:
        """Robust z of the forest's raw score, and the index of the most deviant column.

        `raw` is the forest's score of this row if already computed in a batch.
        """
        known = ~np.isnan(row)
        filled = np.where(known, row, self.center_)
        with np.errstate(over="ignore", invalid="ignore"):
            dev = np.where(known, np.abs(filled - self.center_) / self.spread_, 0.0)
        driver = int(np.nanargmax(np.where(np.isnan(dev), np.inf, dev)))
        if np.any(np.abs(filled) > LEARN_LIMIT):
            return math.inf, driver  # infinite or absurdly large: as anomalous as it gets
        if raw is None:
            raw = -float(self.model_.score_samples(filled.reshape(1, -1))[0])
        forest_z = max(0.0, (raw - self.raw_center_) / self.raw_spread_)
        # A forest cannot split constant columns; a metric far outside its own window
        # range is anomalous whatever the forest says.
        return max(forest_z, float(dev[driver])), driver

    # -- detector API ------------------------------------------------------------------------

    def score_one(self, t: float, x: Mapping[str, float]) -> Score:
        return self._score(x, None)

    def _score(self, x: Mapping[str, float], raw: float | None) -> Score:
        self._init(x)
        if self.model_ is None:
            return Score(0.0, None, None, warm=False)
        row = self._row(x)
        if np.all(np.isnan(row)):
            return Score(0.0, None, None, warm=True)
        z, driver = self._statistic(row, raw)
        p = calibration.tail_probability(self.calibration_, SCALAR, z)
        lo = float(self.center_[driver] - EXPECTED_SIGMAS * self.spread_[driver])
        hi = float(self.center_[driver] + EXPECTED_SIGMAS * self.spread_[driver])
        return Score(float(calibration.score_of(p)), (lo, hi), self.columns_[driver], True)

    def learn_one(self, t: float, x: Mapping[str, float]) -> None:
        self._learn(x, None)

    def _learn(self, x: Mapping[str, float], raw: float | None) -> bool:
        """Learn a row; True when the forest was refitted (batched raw scores are stale)."""
        self._init(x)
        row = self._row(x)
        if not np.all(np.isfinite(row)) or np.any(np.abs(row) > LEARN_LIMIT):
            return False  # gaps and non-finite rows are not learned
        if self.model_ is not None:
            z, _ = self._statistic(row, raw)
            calibration.update(self.calibration_, SCALAR, z)
        self.rows_.append(row.tolist())
        self.since_fit_ += 1
        due = (
            self.since_fit_ >= self.refit_every
            if self.model_ is not None
            else (len(self.rows_) >= self.warmup)
        )
        if due:
            self._fit()
        return due

    def _fit(self) -> None:
        from sklearn.ensemble import IsolationForest

        data = np.array(self.rows_, dtype=np.float64)
        self.model_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=self.seed, n_jobs=1
        ).fit(data)
        raw = -self.model_.score_samples(data)
        # raw forest scores are right-skewed: scale by the training 99th percentile, so a
        # training-set 1-in-100 score counts as a 3-sigma deviation
        self.raw_center_ = float(np.median(raw))
        self.raw_spread_ = max((float(np.quantile(raw, 0.99)) - self.raw_center_) / 3.0, 1e-6)
        self.center_ = np.median(data, axis=0)
        mad = np.median(np.abs(data - self.center_), axis=0) * _MAD_TO_SIGMA
        self.spread_ = np.maximum(mad, 1e-9 * (np.abs(self.center_) + 1.0))
        self.since_fit_ = 0

    def score_frame(self, frame: Frame) -> list[Score]:
        """The per-row loop, with the forest's raw scores computed once per fitted model."""
        rows = [dict(zip(frame.columns, r, strict=True)) for r in frame.X.tolist()]
        out: list[Score] = []
        raws: list[float | None] = [None] * len(rows)
        for i, x in enumerate(rows):
            if raws[i] is None and self.__dict__.get("model_") is not None:
                raws[i:] = self._batch_raw(rows[i:])
            out.append(self._score(x, raws[i]))
            if self._learn(x, raws[i]):
                raws[i + 1 :] = [None] * (len(rows) - i - 1)
        return out

    def _batch_raw(self, rows: list[dict[str, float]]) -> list[float | None]:
        """Raw forest scores of rows under the current model (None where not computable)."""
        data = np.array([self._row(x) for x in rows], dtype=np.float64)
        filled = np.where(np.isnan(data), self.center_, data)
        ok = np.all(np.abs(filled) <= LEARN_LIMIT, axis=1)
        out: list[float | None] = [None] * len(rows)
        if ok.any():
            raw = -self.model_.score_samples(filled[ok])
            for j, r in zip(np.flatnonzero(ok).tolist(), raw.tolist(), strict=True):
                out[j] = float(r)
        return out
