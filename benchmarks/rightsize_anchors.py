"""The recommenders people run today, written from their published descriptions, as anchors.

* `vpa_*`: the Kubernetes VPA recommender. Usage goes into a histogram with exponentially
  growing buckets (CPU: first bucket 0.01 cores, memory: 1e7 bytes; each 5% wider) whose sample
  weights double every 24 hours (a 24 h half-life toward the present). CPU target: the 90th
  percentile (read as the end of its bucket) plus a 15% margin. Memory: one sample per 24 h
  window, the window's peak; target the 90th percentile of peaks plus 15%; an OOM kill adds a
  sample at 1.2x the usage seen. Upper bound: the 95th percentile plus 15%, times
  (1 + 1/days of history). CPU samples are weighted 1 here (VPA weighs them by the request in
  force, which a replay does not have), and VPA's floors (25m, 250Mi) are left out so the
  comparison is scale-free.
* `krr_*`: Robusta KRR's `simple` strategy over its default 14 days: CPU request at the 95th
  percentile; memory request and limit at the maximum plus 15%.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["DecayingHistogram", "krr_cpu", "krr_memory", "vpa_cpu", "vpa_memory"]

Array = NDArray[np.float64]
DAY = 86400.0
MARGIN = 1.15


class DecayingHistogram:
    """Exponential buckets, weights growing 2x per half-life of sample time."""

    def __init__(self, first: float, ratio: float = 1.05, top: float = 1e12) -> None:
        n = int(np.ceil(np.log(top * (ratio - 1) / first + 1) / np.log(ratio)))
        self.starts = first * (ratio ** np.arange(n + 1) - 1) / (ratio - 1)
        self.weights = np.zeros(n)

    def add(self, values: Array, times: Array, reference: float, half_life: float = DAY) -> None:
        idx = np.searchsorted(self.starts, values, side="right") - 1
        idx = np.clip(idx, 0, self.weights.size - 1)
        np.add.at(self.weights, idx, np.exp2((times - reference) / half_life))

    def percentile(self, p: float) -> float:
        c = np.cumsum(self.weights)
        k = int(np.searchsorted(c, p * c[-1]))
        return float(self.starts[min(k + 1, self.starts.size - 1)])  # the bucket's end


def _days(t: Array) -> float:
    return max(float(t[-1] - t[0]) / DAY, 1.0 / 24)


def vpa_cpu(t: Array, u: Array) -> tuple[float, float]:
    """(target, upper bound) in cores."""
    h = DecayingHistogram(0.01, top=1000.0)
    h.add(u, t, t[-1])
    return MARGIN * h.percentile(0.9), MARGIN * h.percentile(0.95) * (1 + 1 / _days(t))


def vpa_memory(t: Array, u: Array, oom_kills: Array | None = None) -> tuple[float, float]:
    """(target, upper bound) in bytes, from the peak of each 24 h window."""
    window = np.floor((t - t[0]) / DAY).astype(np.int64)
    peaks = np.array([u[window == w].max() for w in np.unique(window)])
    starts = np.array([t[window == w][0] for w in np.unique(window)])
    if oom_kills is not None and oom_kills.size:
        at = np.searchsorted(t, oom_kills).clip(0, t.size - 1)
        peaks = np.concatenate([peaks, 1.2 * u[at]])
        starts = np.concatenate([starts, oom_kills])
    h = DecayingHistogram(1e7)
    h.add(peaks, starts, t[-1])
    return MARGIN * h.percentile(0.9), MARGIN * h.percentile(0.95) * (1 + 1 / _days(t))


def krr_cpu(t: Array, u: Array) -> float:
    return float(np.quantile(u[t >= t[-1] - 14 * DAY], 0.95))


def krr_memory(t: Array, u: Array) -> float:
    return MARGIN * float(u[t >= t[-1] - 14 * DAY].max())
