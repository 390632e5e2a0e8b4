"""Anomaly detection quality: NAB-style score on labelled synthetic series, false alarms on real CPU.

Every detector runs through `Monitor.update_frame` with its default threshold policy, the
same path as `sidecar score` and the scheduler. Printed per detector: the NAB-style score
for the three profiles (one threshold per detector and profile, swept), detection rate and
median delay (samples after the labelled start) per anomaly kind at the standard
profile's threshold, and false alarms per day on ../shared/data/crane-cpu at that
threshold and at the default alarm threshold (`false_alarm_rate: 0.0001`), after a one-day
warm-up. Detectors are built as a rule with their `kind` gets them (each episode scored at
its onset, `onset_window: 48`); `default, no onset` is the default with `onset_window: null`
(the score stays high while the series is off its baseline). For scale, the seasonal-naive `windowed gaussian` baseline of
NAB itself is also run in the same process.

    python -m benchmarks.anomaly_quality [--series 120] [--seed 7] [--step 300 --samples 4032]
        [--cycles day|other]  (other: cycles of 30 minutes to 12 hours, found by season: auto)
"""

from __future__ import annotations

import argparse
import glob
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from benchmarks.nab import PROFILES, best_threshold, score_series, windows
from benchmarks.synth import KINDS, Labelled, make_corpus
from sidecar.config.schema import DetectorSpec, ThresholdSpec
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS, make_detector
from sidecar.progress import progress
from sidecar.types import Frame, SeriesKey

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"

Scorer = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def monitor_scorer(kind: str, **params: Any) -> Scorer:
    """The detector a rule with `detector: {kind: <kind>, **params}` gets (rule defaults)."""
    spec = TypeAdapter(DetectorSpec).validate_python({"kind": kind, **params})

    def run(t: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
        verdicts = Monitor(make_detector(spec)).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
        return np.array([v.score.value for v in verdicts])

    return run


def windowed_gaussian(t: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """NAB's simplest baseline: tail probability under a Gaussian of the last 6400 samples."""
    from math import erfc, sqrt

    out = np.zeros(x.size)
    hist: list[float] = []
    for i, v in enumerate(x.tolist()):
        if len(hist) > 10 and not math.isnan(v):
            a = np.array(hist[-6400:])
            mu, sd = float(a.mean()), float(a.std()) or 1e-9
            out[i] = 1.0 - 0.5 * erfc(abs(v - mu) / sd / sqrt(2.0))
        if not math.isnan(v):
            hist.append(v)
    return out


def evaluate(
    name: str, scorer: Scorer, corpus: list[Labelled], crane: list[NDArray[np.float64]]
) -> dict[str, object]:
    started = time.process_time()
    results = []
    with progress(len(corpus) + len(crane), f"{name:>18}", unit="series") as bar:
        for s in corpus:
            results.append((scorer(s.t, s.x), [a for a, _ in s.anomalies]))
            bar.update(1)
        nab = {p.name: best_threshold(results, p) for p in PROFILES}
        th = nab["standard"][0]
        per_kind: dict[str, list[int | None]] = {k: [] for k in KINDS}
        for s, (scores, starts) in zip(corpus, results, strict=True):
            r = score_series(scores, starts, th, PROFILES[0])
            wins = windows(scores.size, starts)
            for start, kind in s.anomalies:
                w = next(i for i, (lo, hi) in enumerate(wins) if lo <= start <= hi)
                d = r.detected[w]
                per_kind[kind].append(None if d is None else d - start)
        alarms, alarms_default, days = 0, 0, 0.0
        default_th = ThresholdSpec().score_threshold
        for a in crane:
            v = scorer(a[:, 0], a[:, 1])
            skip = int(np.searchsorted(a[:, 0], a[0, 0] + 86400))
            alarms += int((v[skip:] >= th).sum())
            alarms_default += int((v[skip:] >= default_th).sum())
            days += (a[-1, 0] - a[skip, 0]) / 86400
            bar.update(1)
    rows = sum(s.x.size for s in corpus) + sum(a.shape[0] for a in crane)
    return {
        "nab": nab,
        "per_kind": per_kind,
        "fa_per_day": alarms / days,
        "fa_per_day_default": alarms_default / days,
        "rows_per_cpu_s": rows / (time.process_time() - started),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=120)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--step", type=float, default=300.0, help="seconds between samples")
    ap.add_argument("--samples", type=int, default=4032, help="samples per series")
    ap.add_argument("--cycles", choices=["day", "other"], default="day", help="cycle lengths")
    args = ap.parse_args()
    corpus = make_corpus(args.seed, args.series, args.samples, args.step, args.cycles)
    crane = [
        np.loadtxt(f, delimiter=",", skiprows=1) for f in sorted(glob.glob(str(CRANE / "*.csv")))
    ]
    n_windows = sum(len(s.anomalies) for s in corpus)
    print(
        f"corpus: {len(corpus)} synthetic series (seed {args.seed}, {args.samples} samples "
        f"{args.step:g} s apart), {n_windows} labelled "
        f"anomalies; crane-cpu: {len(crane)} real traces"
    )
    # isolation_forest is the multivariate detector (POST /anomaly, `queries` rules); on one
    # column it has no seasonal model and costs a forest evaluation per row, so it is left out
    scorers: dict[str, Scorer] = {
        k: monitor_scorer(k) for k, cls in DETECTORS.items() if getattr(cls, "seasonal", True)
    }
    # the default detector without onset scoring (the score stays high during an episode)
    scorers["default, no onset"] = monitor_scorer("seasonal_robust_z", onset_window=None)
    if not args.skip_baseline:
        scorers["windowed_gaussian"] = windowed_gaussian
    table = {name: evaluate(name, fn, corpus, crane) for name, fn in scorers.items()}
    print()
    print(
        f"{'detector':<20}{'NAB std':>9}{'low FP':>9}{'low FN':>9}{'thresh':>9}"
        f"{'crane FA/day':>14}{'at default':>12}{'rows/cpu-s':>12}"
    )
    for name, r in table.items():
        nab = r["nab"]
        assert isinstance(nab, dict)
        print(
            f"{name:<20}{nab['standard'][1]:>9.1f}{nab['reward_low_fp'][1]:>9.1f}"
            f"{nab['reward_low_fn'][1]:>9.1f}{nab['standard'][0]:>9.3f}"
            f"{r['fa_per_day']:>14.2f}{r['fa_per_day_default']:>12.2f}"
            f"{r['rows_per_cpu_s']:>12.0f}"
        )
    print()
    print("detection rate (median delay in samples) per kind at the standard threshold:")
    print(f"{'detector':<20}" + "".join(f"{k:>17}" for k in KINDS))
    for name, r in table.items():
        per = r["per_kind"]
        assert isinstance(per, dict)
        cells = []
        for k in KINDS:
            hits = [d for d in per[k] if d is not None]
            total = len(per[k])
            delay = f"{int(np.median(hits))}" if hits else "-"
            cells.append(f"{len(hits)}/{total} ({delay})")
        print(f"{name:<20}" + "".join(f"{c:>17}" for c in cells))


if __name__ == "__main__":
    main()
