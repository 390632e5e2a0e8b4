"""Two backends for one detector kernel: Python floats (one series) and numpy arrays (many).

Detector math is written once against these few operations, so the per-row path (fast for
one series: no numpy call overhead) and the vectorised path (one step over N series in a
handful of array operations) compute the same numbers. Kernels use only + - * / abs, sqrt,
min, max, floor, comparisons and `where`, which IEEE 754 rounds identically in both backends
(sqrt is correctly rounded there), so the two paths agree to the bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["ARRAY", "SCALAR", "ArrayOps", "ScalarOps"]


class ScalarOps:
    """Operations on Python floats and bools."""

    inf = math.inf

    @staticmethod
    def where(cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    @staticmethod
    def minimum(a: Any, b: Any) -> Any:
        return a if a <= b else b

    @staticmethod
    def maximum(a: Any, b: Any) -> Any:
        return a if a >= b else b

    @staticmethod
    def clip(v: Any, lo: Any, hi: Any) -> Any:
        return lo if v < lo else (hi if v > hi else v)

    @staticmethod
    def floor(v: Any) -> Any:
        return float(math.floor(v)) if math.isfinite(v) else v  # as numpy: inf and NaN stay

    sqrt = staticmethod(math.sqrt)

    @staticmethod
    def isfinite(v: Any) -> Any:
        return math.isfinite(v)

    @staticmethod
    def isnan(v: Any) -> Any:
        return math.isnan(v)

    @staticmethod
    def not_(c: Any) -> Any:
        return not c

    @staticmethod
    def any_(c: Any) -> bool:
        """Whether any channel has `c` (lets a kernel skip work no channel needs)."""
        return bool(c)

    @staticmethod
    def full(n: int, value: float) -> Any:
        return value

    @staticmethod
    def gather(profile: list[float], i: Any) -> Any:
        return profile[int(i)]

    @staticmethod
    def scatter_add(profile: list[float], i: Any, v: Any) -> None:
        profile[int(i)] += v

    @staticmethod
    def profile(n: int, bins: int) -> Any:
        return [0.0] * bins


class ArrayOps:
    """The same operations, elementwise on 1-d numpy arrays (one entry per channel)."""

    inf = math.inf
    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    clip = staticmethod(np.clip)
    floor = staticmethod(np.floor)
    sqrt = staticmethod(np.sqrt)
    isfinite = staticmethod(np.isfinite)
    isnan = staticmethod(np.isnan)
    not_ = staticmethod(np.logical_not)

    @staticmethod
    def any_(c: Any) -> bool:
        return bool(np.any(c))

    @staticmethod
    def full(n: int, value: float) -> Any:
        return np.full(n, value, dtype=np.float64)

    @staticmethod
    def gather(profile: np.ndarray[Any, Any], i: Any) -> Any:
        return profile[np.arange(profile.shape[0]), i.astype(np.intp)]

    @staticmethod
    def scatter_add(profile: np.ndarray[Any, Any], i: Any, v: Any) -> None:
        profile[np.arange(profile.shape[0]), i.astype(np.intp)] += v

    @staticmethod
    def profile(n: int, bins: int) -> Any:
        return np.zeros((n, bins), dtype=np.float64)


SCALAR = ScalarOps()
ARRAY = ArrayOps()
