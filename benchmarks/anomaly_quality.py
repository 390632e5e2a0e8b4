"""Anomaly detection quality, decided on real data: labelled real series, real false alarms,
synthetic.

One run prints, for every registered one-column detector (through `Monitor.update_frame`
with a rule's defaults, the path of `sidecar score` and the scheduler) and for two
baselines run in the same process (NAB's windowed Gaussian and a robust z over the last
400 samples' median and MAD):

1. **Real, labelled** (the judge): the NAB-style score of the 49 series of
   ../shared/data/ms-cloud-monitoring, windows sized as NAB sizes them around each labelled
   run (`nab.run_windows`); one threshold per detector and profile over the whole set, then
   per domain at the standard threshold (score, windows found, false detections).
2. **Real, unlabelled**: false alarms a day on ../shared/data/crane-cpu after a day of
   warm-up, at the real set's standard threshold and at the default alarm threshold.
3. **Synthetic** (a third check, never the judge): the same score on the generator's corpus.

    python -m benchmarks.anomaly_quality [--only NAME[,NAME]] [--synthetic-seed 7]
        [--series 120] [--no-synthetic]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from benchmarks.nab import PROFILES, Windows, best_threshold, run_windows, score_series, windows
from benchmarks.realdata import LabelledSeries, load_crane, load_ms_cloud
from benchmarks.synth import make_corpus
from sidecar.config.schema import DetectorSpec, ThresholdSpec
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS, make_detector
from sidecar.progress import progress
from sidecar.replay.timeseries_csv import repeat_times
from sidecar.types import Frame, SeriesKey

Scorer = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
Scored = list[tuple[NDArray[np.float64], Windows]]


def monitor_scorer(kind: str, **params: Any) -> Scorer:
    """The detector a rule with `detector: {kind: <kind>, **params}` gets (rule defaults)."""
    spec = TypeAdapter(DetectorSpec).validate_python({"kind": kind, **params})

    def run(t: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
        t, _ = repeat_times(t)  # repeated timestamps as `sidecar score` reads them
        verdicts = Monitor(make_detector(spec)).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
        return np.array([v.score.value for v in verdicts])

    return run


def _against_history(
    x: NDArray[np.float64], window: int, score: Callable[[NDArray[np.float64], float], float]
) -> NDArray[np.float64]:
    """Each sample scored by `score(recent, value)` against the previous `window` samples
    (0 for the first ten and for gaps)."""
    out = np.zeros(x.size)
    hist: list[float] = []
    for i, v in enumerate(x.tolist()):
        if math.isnan(v):
            continue
        if len(hist) > 10:
            out[i] = score(np.array(hist[-window:]), v)
        hist.append(v)
    return out


def _gaussian_tail(recent: NDArray[np.float64], v: float) -> float:
    mu, sd = float(recent.mean()), float(recent.std()) or 1e-9
    return 1.0 - 0.5 * math.erfc(abs(v - mu) / sd / math.sqrt(2.0))


def _squashed_robust_z(recent: NDArray[np.float64], v: float) -> float:
    med = float(np.median(recent))
    mad = 1.4826 * float(np.median(np.abs(recent - med)))
    if mad <= 0.0:  # a mostly constant window: the mean deviation instead
        mad = 1.2533 * float(np.mean(np.abs(recent - med))) or 1e-9
    z = abs(v - med) / mad
    return z / (1.0 + z)


def windowed_gaussian(t: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """NAB's simplest baseline: tail probability under a Gaussian of the last 6400 samples."""
    return _against_history(x, 6400, _gaussian_tail)


def robust_z(t: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """|x - median| / (1.4826 MAD) over the previous 400 samples, squashed to [0, 1)."""
    return _against_history(x, 400, _squashed_robust_z)


@dataclass
class Result:
    """One scorer's figures on the three corpora."""

    real: dict[str, tuple[float, float]]  # profile -> (threshold, score)
    domains: dict[str, tuple[float, int, int, int]]  # score, found, windows, false detections
    crane_fa: float = 0.0
    crane_fa_default: float = 0.0
    synthetic: dict[str, tuple[float, float]] = field(default_factory=dict)
    rows_per_cpu_s: float = 0.0


def domain_scores(
    series: Sequence[LabelledSeries], scored: Scored, threshold: float
) -> dict[str, tuple[float, int, int, int]]:
    """Per domain at one threshold: normalised NAB score, windows found, windows, FPs."""
    profile = PROFILES[0]
    acc: dict[str, list[float]] = {}
    for s, (scores, wins) in zip(series, scored, strict=True):
        r = score_series(scores, wins, threshold, profile)
        a = acc.setdefault(s.domain, [0.0, 0, 0, 0])
        a[0] += r.score
        a[1] += sum(d is not None for d in r.detected)
        a[2] += len(wins)
        a[3] += r.false_positives
    out = {}
    for domain, (raw, found, n, fps) in acc.items():
        null, perfect = -profile.fn * n, profile.tp * n
        score = 100.0 * (raw - null) / (perfect - null) if n else math.nan
        out[domain] = (score, int(found), int(n), int(fps))
    return out


def evaluate(
    name: str,
    scorer: Scorer,
    real: Sequence[LabelledSeries],
    crane: Sequence[NDArray[np.float64]],
    synthetic: Scored | None,
    synthetic_data: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> Result:
    started = time.process_time()
    rows = 0
    total = len(real) + len(crane) + len(synthetic_data)
    with progress(total, f"{name:>20}", unit="series") as bar:
        scored: Scored = []
        for s in real:
            scored.append((scorer(s.t, s.x), run_windows(s.x.size, s.runs)))
            rows += s.x.size
            bar.update(1)
        best = {p.name: best_threshold(scored, p) for p in PROFILES}
        th = best["standard"][0]
        result = Result(best, domain_scores(real, scored, th))
        alarms, alarms_default, days = 0, 0, 0.0
        default_th = ThresholdSpec().score_threshold
        for a in crane:
            v = scorer(a[:, 0], a[:, 1])
            skip = int(np.searchsorted(a[:, 0], a[0, 0] + 86400))
            alarms += int((v[skip:] >= th).sum())
            alarms_default += int((v[skip:] >= default_th).sum())
            days += (a[-1, 0] - a[skip, 0]) / 86400
            rows += a.shape[0]
            bar.update(1)
        result.crane_fa, result.crane_fa_default = alarms / days, alarms_default / days
        if synthetic is not None:
            synth_scored: Scored = []
            for (t, x), (_, wins) in zip(synthetic_data, synthetic, strict=True):
                synth_scored.append((scorer(t, x), wins))
                rows += x.size
                bar.update(1)
            result.synthetic = {p.name: best_threshold(synth_scored, p) for p in PROFILES}
    result.rows_per_cpu_s = rows / (time.process_time() - started)
    return result


def scorers(only: set[str] | None) -> dict[str, Scorer]:
    # isolation_forest is the multivariate detector (POST /anomaly, `queries` rules); on one
    # column it has no seasonal model and costs a forest evaluation per row, so it is left out
    out: dict[str, Scorer] = {
        k: monitor_scorer(k) for k, cls in DETECTORS.items() if getattr(cls, "seasonal", True)
    }
    out["windowed_gaussian"] = windowed_gaussian
    out["robust_z"] = robust_z
    if only:
        unknown = only - set(out)
        if unknown:
            raise SystemExit(f"unknown scorer(s): {', '.join(sorted(unknown))}")
        out = {k: v for k, v in out.items() if k in only}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated detectors/baselines to run")
    ap.add_argument("--series", type=int, default=120, help="synthetic series")
    ap.add_argument("--synthetic-seed", type=int, default=7)
    ap.add_argument("--no-synthetic", action="store_true")
    args = ap.parse_args()
    real = load_ms_cloud()
    crane = load_crane()
    synth_data: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    synth: Scored | None = None
    if not args.no_synthetic:
        corpus = make_corpus(args.synthetic_seed, args.series, 4032, 300.0, "day")
        synth_data = [(s.t, s.x) for s in corpus]
        synth = [(s.x, windows(s.x.size, [a for a, _ in s.anomalies])) for s in corpus]
    n_windows = sum(len(run_windows(s.x.size, s.runs)) for s in real)
    print(
        f"real: {len(real)} labelled series ({sum(s.x.size for s in real)} rows, {n_windows} "
        f"windows); crane-cpu: {len(crane)} traces; synthetic: "
        + ("skipped" if synth is None else f"{len(synth_data)} series, seed {args.synthetic_seed}")
    )
    only = set(args.only.split(",")) if args.only else None
    table = {
        name: evaluate(name, fn, real, crane, synth, synth_data)
        for name, fn in scorers(only).items()
    }
    print_table(table)


def print_table(table: dict[str, Result]) -> None:
    print()
    print("1. real labelled set (NAB std / low FP / low FN; one threshold per profile)")
    print(f"{'detector':<20}{'std':>7}{'lowFP':>7}{'lowFN':>7}{'thresh':>9}")
    for name, r in table.items():
        cells = "".join(f"{r.real[p.name][1]:>7.1f}" for p in PROFILES)
        print(f"{name:<20}{cells}{r.real['standard'][0]:>9.4f}")
    domains = sorted({d for r in table.values() for d in r.domains})
    print()
    print(
        "   per domain at the standard threshold: score (windows found/windows, false detections)"
    )
    print(f"{'detector':<20}" + "".join(f"{d[:22]:>24}" for d in domains))
    for name, r in table.items():
        cells = []
        for d in domains:
            score, found, n, fps = r.domains[d]
            head = "-" if math.isnan(score) else f"{score:.1f}"
            cells.append(f"{head} ({found}/{n}, {fps})")
        print(f"{name:<20}" + "".join(f"{c:>24}" for c in cells))
    print()
    print("2. crane-cpu false alarms a day (at the real standard threshold / at the default)")
    print("3. synthetic NAB std / low FP / low FN")
    print(
        f"{'detector':<20}{'FA/day':>9}{'default':>9}{'synth':>8}{'lowFP':>7}{'lowFN':>7}"
        f"{'rows/cpu-s':>12}"
    )
    for name, r in table.items():
        syn = "".join(f"{r.synthetic[p.name][1]:>7.1f}" for p in PROFILES) if r.synthetic else ""
        print(
            f"{name:<20}{r.crane_fa:>9.2f}{r.crane_fa_default:>9.2f} {syn}{r.rows_per_cpu_s:>12.0f}"
        )


if __name__ == "__main__":
    main()
