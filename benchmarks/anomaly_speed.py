"""Anomaly detection speed and memory, as ratios against baselines run in the same process.

1. `sidecar score` on one series: start-up time (a 2-row file, in a fresh interpreter,
   against `python -c pass`), and rows per CPU-second after start-up on a long series,
   against a plain csv read/write loop over the same file; then rows per CPU-second on every
   file of the real development set (../shared/data/ms-cloud-monitoring) and crane-cpu.
2. The vectorised bank: one step (score + learn, one new sample per series) for 1k, 10k
   and 100k series: series per second, bytes of state per series, and the step time as
   a multiple of one numpy EWMA update over the same arrays.
3. The period finder (`season: auto`'s other seasonality): one look at a channel's history,
   and what a bank of 100,000 series pays a step for them, against the bank's step.

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

from benchmarks.realdata import CRANE, MS_CLOUD
from sidecar.detect.base import UnivariateDetector
from sidecar.detect.periodicity import (
    BUCKET,
    CHECK_EVERY,
    LATE_CHECKS,
    SPAN,
    find_periods,
    fold_profile,
    profile_bins,
)
from sidecar.detect.registry import make_detector
from sidecar.replay.score import score_csv


def _startup(args: list[str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _score_speed(src: Path, out: Path) -> tuple[int, float]:
    """Rows of `src` and rows scored per CPU-second, in-process (after start-up, as asked)."""
    score_csv(str(src), str(out))
    t1 = time.process_time()
    rows = score_csv(str(src), str(out)).rows
    return rows, rows / (time.process_time() - t1)


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
        copied = time.process_time() - t0
        rows, speed = _score_speed(src, out)
        copy = rows / copied
        print(
            f"sidecar score: {speed:,.0f} rows/CPU-s; plain csv copy {copy:,.0f} rows/CPU-s "
            f"(score costs {copy / speed:.1f}x the copy)"
        )
        per_file(Path(tmp))


def per_file(tmp: Path) -> None:
    """`sidecar score`'s rows per CPU-second on every real file (in-process, after start-up)."""
    files = sorted(MS_CLOUD.glob("*/*.csv")) + sorted(CRANE.glob("*.csv"))
    speeds = []
    for path in files:
        src = path
        if path.is_relative_to(MS_CLOUD):  # its Label column would be copied through: drop it
            src = tmp / path.name
            with path.open(newline="", encoding="utf-8-sig") as fin, src.open("w") as fout:
                csv.writer(fout).writerows(row[:2] for row in csv.reader(fin))
        rows, speed = _score_speed(src, tmp / "out.csv")
        speeds.append(speed)
        print(
            f"  {path.parent.name[:28]:<28} {path.name:<18} {rows:>7} rows {speed:>9,.0f} "
            f"rows/CPU-s"
        )
    print(f"per file: min {min(speeds):,.0f}, median {float(np.median(speeds)):,.0f} rows/CPU-s")


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
    looks(step)


def looks(step: float) -> None:
    """What looking for other periods costs (periodicity.py): one look at a full history,
    without a period and with one found and folded, and what a bank of 100,000 series at
    5-minute steps pays a step for them (a channel looks every CHECK_EVERY buckets while
    its history fills, every LATE_CHECKS x CHECK_EVERY after), against its `step`."""
    rng = np.random.default_rng(1)
    t = np.arange(SPAN) * BUCKET
    rows = {
        "no period": rng.normal(0, 1, SPAN),
        "a 5-hour cycle": np.where((t % 18000.0) < 6000.0, 3.0, 0.0) + rng.normal(0, 0.3, SPAN),
    }
    cost = {}
    for name, row in rows.items():
        c0 = time.process_time()
        for _ in range(50):
            period = find_periods(row, BUCKET, (86400.0, 604800.0))[0]
            if period > 0:
                bins = profile_bins(period, BUCKET)
                fold_profile(row, BUCKET, 0.5 * BUCKET, float(SPAN), period, bins)
        cost[name] = (time.process_time() - c0) / 50
    n = 100_000
    filling, after = n / CHECK_EVERY * cost["no period"], n / (LATE_CHECKS * CHECK_EVERY)
    after *= cost["no period"]
    print(
        "period finder: a look "
        + ", ".join(f"{1e3 * v:.2f} ms ({k})" for k, v in cost.items())
        + f"; 100,000 series at 5 minutes: {filling:.2f} s a step while histories fill "
        f"(42.7 h, {filling / step:.1f}x the bank step), {after:.2f} s after "
        f"({after / step:.1f}x)"
    )


if __name__ == "__main__":
    os.environ.setdefault("SIDECAR_PROGRESS", "0")
    cli()
    bank()
