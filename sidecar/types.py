"""Frozen value types shared by the core and the shells.

Values are immutable and hashable where they are keys; arrays inside them are made
read-only so a value handed to another component cannot be changed under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Forecast", "Frame", "Recommendation", "Score", "SeriesKey", "Verdict"]


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Identity of one series: metric name plus its labels in canonical (sorted) order."""

    metric: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> SeriesKey:
        """Build a key from a Prometheus label set; `__name__` becomes `metric`."""
        rest = {str(k): str(v) for k, v in labels.items() if k != "__name__"}
        return cls(metric=str(labels.get("__name__", "")), labels=tuple(sorted(rest.items())))

    def as_dict(self) -> dict[str, str]:
        """Labels as a dict, without `__name__`."""
        return dict(self.labels)

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.metric}{{{inner}}}"


def _readonly(a: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True)
class Frame:
    """Samples of one target: `X[i, j]` is metric `columns[j]` at time `t[i]`; NaN = missing.

    `t` is strictly increasing unix seconds. Frames are what sources return and what
    detectors and forecasters consume.
    """

    key: SeriesKey
    t: NDArray[np.floating[Any]]  # stored as float64
    X: NDArray[np.floating[Any]]  # stored as float64, shape (n, d)
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        t = _readonly(self.t)
        X = _readonly(self.X)
        if X.ndim == 1:
            X = _readonly(X.reshape(-1, 1))
        if t.ndim != 1:
            raise ValueError(f"Frame.t must be 1-d, got shape {t.shape}")
        if X.ndim != 2 or X.shape[0] != t.shape[0]:
            raise ValueError(f"Frame.X must be (n, d) with n={t.shape[0]}, got shape {X.shape}")
        if X.shape[1] != len(self.columns):
            raise ValueError(
                f"Frame has {X.shape[1]} columns of data but {len(self.columns)} names"
            )
        if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
            raise ValueError("Frame.t must be strictly increasing")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "X", X)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def column(self, name: str) -> NDArray[np.floating[Any]]:
        """The samples of one metric, by name."""
        return self.X[:, self.columns.index(name)]


@dataclass(slots=True)  # not frozen: one is built per row and metric (frozen init costs 4x)
class Score:
    """One anomaly score with its explanation.

    `value` is in [0, 1], higher = more anomalous (0.0 while not `warm`); `expected` is the
    range the `driver` metric was expected in; `driver` is the metric that scored highest.
    `deviating`: some metric is 5 sigma or more off its baseline now, which keeps an episode
    that onset scoring reported once anomalous for the `Monitor` until it ends.
    """

    value: float
    expected: tuple[float, float] | None = None
    driver: str | None = None
    warm: bool = True
    deviating: bool = False


@dataclass(slots=True)  # not frozen: one per row, as Score
class Verdict:
    """A score and whether it crossed the threshold in force (`threshold`) at that time."""

    score: Score
    anomalous: bool
    threshold: float


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecasts for times `t` with a central `level` prediction interval [lower, upper]."""

    t: NDArray[np.floating[Any]]
    mean: NDArray[np.floating[Any]]
    lower: NDArray[np.floating[Any]]
    upper: NDArray[np.floating[Any]]
    level: float
    model: str = ""


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Replicas to run, with the numbers that led there (for humans and dashboards)."""

    replicas: int
    predictive: int  # from the forecast's upper bound at the lead time
    reactive: int  # from the current load
    current: int | None
    load_forecast: float  # the upper bound used
    load_now: float
    capacity_per_replica: float
    target_utilization: float
    reasons: tuple[str, ...] = ()
    dry_run: bool = False
