"""Anomaly detection speed and memory, as ratios against baselines run in the same process.

1. `sidecar score` on one series: start-up time (a 2-row file, in a fresh interpreter,
   against `python -c pass`), and rows per CPU-second after start-up on a long series,
   against a plain csv read/write loop over the same file.
2. The vectorised bank: one step (score + learn, one new sample per series) for 1k, 10k
   and 100k series: series per second, bytes of state per series, and the step time as
   a multiple of one numpy EWMA update over the same arrays.

    python -m benchmarks.anomaly_speed
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.registry import make_detector
from sidecar.replay.score import score_csv

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"


def _startup(args: list[str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def cli() -> None:
    src = CRANE / "cpu15.csv"
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny.csv"
        tiny.write_text("timestamp,value\n1,1\n2,2\n")
        out = Path(tmp) / "out.csv"
        py = _startup([sys.executable, "-c", "pass"])
        sc = _startup([sys.executable, "-m", "sidecar", "score", str(tiny), "-o", str(out)])
        print(
            f"start-up: sidecar score {sc:.3f} s; python -c pass {py:.3f} s "
            f"(sidecar adds {sc - py:.3f} s)"
        )
        t0 = time.process_time()
        with src.open(newline="") as fin, out.open("w", newline="") as fout:
            w = csv.writer(fout)
            for row in csv.reader(fin):
                w.writerow([*row, "0.000000"])
        base = time.process_time() - t0
        rows = score_csv(str(src), str(out))  # in-process: after start-up, as asked
        t1 = time.process_time()
        rows = score_csv(str(src), str(out))
        el = time.process_time() - t1
    print(
        f"sidecar score: {rows} rows in {el:.2f} CPU-s = {rows / el:,.0f} rows/CPU-s; "
        f"plain csv copy {rows / base:,.0f} rows/CPU-s (score costs {el / base:.1f}x the copy)"
    )


def bank() -> None:
    rng = np.random.default_rng(0)
    print(f"{'series':>8}{'step s':>10}{'series/s':>14}{'bytes/series':>14}{'x EWMA':>9}")
    for n in (1_000, 10_000, 100_000):
        det = make_detector()  # the default rule's detector (onset scoring on)
        assert isinstance(det, UnivariateDetector)
        b = det.bank(n)
        t0 = 1_700_000_000.0
        for i in range(30):  # warm up past the detector's warm-up
            t = np.full(n, t0 + 60.0 * i)
            s = b.score(t, 10 + rng.normal(0, 1, n))
            b.learn(s)
        steps = []
        for i in range(30, 40):
            t = np.full(n, t0 + 60.0 * i)
            x = 10 + rng.normal(0, 1, n)
            c0 = time.process_time()
            s = b.score(t, x)
            b.learn(s)
            steps.append(time.process_time() - c0)
        step = float(np.median(steps))
        a = np.zeros(n)
        y = rng.normal(0, 1, n)
        c0 = time.process_time()
        for _ in range(100):
            a += 0.1 * (y - a)
        ewma = (time.process_time() - c0) / 100
        print(f"{n:>8}{step:>10.4f}{n / step:>14,.0f}{b.nbytes() / n:>14,.0f}{step / ewma:>9.0f}")


if __name__ == "__main__":
    os.environ.setdefault("SIDECAR_PROGRESS", "0")
    cli()
    bank()
