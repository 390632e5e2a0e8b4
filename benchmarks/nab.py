"""NAB-style scoring, written from the published description of the Numenta Anomaly Benchmark.

Per series: a window of width 10% of the series length divided by the number of anomalies
is centred on each labelled anomaly (`windows`; for labelled runs of anomalous samples,
`run_windows` centres it on the run and stretches it to cover the run). The first 15% of a series
(at most 750 samples) is a
probation period whose detections do not count. A detection is a sample whose score is at
or above the threshold. Within a window only the earliest detection counts, rewarded by a
scaled sigmoid of its position (1.0 at the window's start, falling towards its end); a
window without a detection costs `fn`. A detection outside every window costs `fp` times
the sigmoid of its distance past the previous window's end (full cost if no window came
before, less right after a window). The corpus score is normalised so that detecting
nothing is 0 and detecting every window at its start with no false positive is 100. One
threshold per detector is chosen to maximise the corpus score, separately per profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "PROFILES",
    "Profile",
    "SeriesResult",
    "Windows",
    "best_threshold",
    "corpus_score",
    "run_windows",
    "score_series",
    "windows",
]

Windows = list[tuple[int, int]]
"""Inclusive [lo, hi] index windows of one series, sorted and disjoint."""


@dataclass(frozen=True)
class Profile:
    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_fp", 1.0, 0.22, 1.0),
    Profile("reward_low_fn", 1.0, 0.11, 2.0),
)


def _sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: about 0.987 at y = -1, 0 at y = 0, towards -1 after; -1 past 3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


_MAX_TP = _sigmoid(-1.0)


def windows(n: int, starts: Sequence[int]) -> Windows:
    """Inclusive [lo, hi] index windows centred on each labelled start, merged if they touch."""
    return run_windows(n, [(s, s) for s in starts])


def run_windows(n: int, runs: Sequence[tuple[int, int]]) -> Windows:
    """NAB-sized windows for labelled runs (first, last): each centred on its run's middle,
    at least as wide as the run, merged if they touch."""
    if not runs:
        return []
    width = int(0.1 * n / len(runs))
    out: Windows = []
    for a, b in sorted(runs):
        mid = (a + b) // 2
        lo, hi = max(0, min(a, mid - width // 2)), min(n - 1, max(b, mid + width // 2))
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@dataclass
class SeriesResult:
    """Raw score parts of one series at one threshold."""

    score: float
    detected: list[int | None]  # first detection index per window (None = missed)
    false_positives: int


def score_series(
    scores: NDArray[np.float64], wins: Windows, threshold: float, profile: Profile
) -> SeriesResult:
    """The NAB score of one series' scores against its windows at `threshold`."""
    n = scores.size
    probation = min(int(0.15 * n), 750)
    hits = np.flatnonzero(scores >= threshold)
    hits = hits[hits >= probation]
    total = 0.0
    detected: list[int | None] = [None] * len(wins)
    fps = 0
    w = 0
    prev_end: int | None = None
    prev_len = 1
    for i in hits.tolist():
        while w < len(wins) and i > wins[w][1]:
            prev_end, prev_len = wins[w][1], wins[w][1] - wins[w][0] + 1
            w += 1
        if w < len(wins) and wins[w][0] <= i <= wins[w][1]:
            if detected[w] is None:
                lo, hi = wins[w]
                y = -(hi - i + 1) / (hi - lo + 1)
                detected[w] = i
                total += profile.tp * _sigmoid(y) / _MAX_TP
            continue
        fps += 1
        if prev_end is None:
            total += -profile.fp
        else:
            y = abs(prev_end - i) / max(prev_len - 1, 1)
            total += profile.fp * _sigmoid(y)
    total -= profile.fn * sum(1 for d in detected if d is None)
    return SeriesResult(total, detected, fps)


def corpus_score(
    series: Sequence[tuple[NDArray[np.float64], Windows]], threshold: float, profile: Profile
) -> float:
    """Normalised NAB score (0 = no detections, 100 = perfect) of a corpus at `threshold`."""
    raw = 0.0
    n_windows = 0
    for scores, wins in series:
        raw += score_series(scores, wins, threshold, profile).score
        n_windows += len(wins)
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


def best_threshold(
    series: Sequence[tuple[NDArray[np.float64], Windows]],
    profile: Profile,
    grid: NDArray[np.float64] | None = None,
) -> tuple[float, float]:
    """(threshold, score) maximising the corpus score; searched over score quantiles."""
    if grid is None:
        allv = np.concatenate([s for s, _ in series])
        allv = allv[np.isfinite(allv)]
        grid = np.unique(np.quantile(allv, 1.0 - np.geomspace(0.5, 1e-6, 120)))
    best = (1.01, corpus_score(series, 1.01, profile))
    for th in grid.tolist():
        sc = corpus_score(series, th, profile)
        if sc > best[1]:
            best = (th, sc)
    return best
