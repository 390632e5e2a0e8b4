"""`sidecar train` on N series x D days at 5 minutes from a real Prometheus (backfilled).

History is written with `promtool tsdb create-blocks-from openmetrics` and served by the
Debian `prometheus` on loopback. One detector rule (`robust_deviation`, `shard_by:
[instance]`) is trained with 1 and with 2 Ray workers. Printed: series and samples per
second, the split between Prometheus queries and replay, the peak worker RSS, and the
scheduler's first tick with the trained checkpoint against without it (a cold tick replays
the whole lookback in one query, as `sidecar run` would). The baseline, in the same
process, is that cold in-process replay.

    python -m benchmarks.train_backfill [--series 10000] [--days 7] [--samples-per-task 2000000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs
from sidecar.config.loader import load_rules
from sidecar.train.job import run_job
from tests.rig import PrometheusServer, backfill

STEP = 300.0
RULES = """\
settings:
  prometheus_url: {url}
  data_dir: {data}
  query_timeout: 10m
  checkpoint_interval: 0s
detectors:
  - name: bench
    query: bench_load
    step: 5m
    lookback: {days}d
    shard_by: [instance]
"""


def _history(n: int, days: int, end: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    t = np.arange(end - days * 86400.0, end + 1, STEP)
    rng = np.random.default_rng(0)
    phase = rng.uniform(0, 2 * np.pi, n)
    out = {}
    for k in range(n):
        x = 50 + 20 * np.sin(2 * np.pi * t / 86400 + phase[k]) + rng.normal(0, 2, t.size)
        out[f'instance="i{k:05d}"'] = (t, np.round(x, 3))
    return out


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--samples-per-task", type=int, default=2_000_000)
    ap.add_argument(
        "--tsdb",
        type=Path,
        help="keep the backfilled TSDB here and reuse it next time (backfill takes minutes)",
    )
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        prom_dir = root / "prom"
        if args.tsdb is not None and (args.tsdb / "end.txt").exists():
            shutil.copytree(args.tsdb, prom_dir / "tsdb")  # Prometheus changes what it opens
            end = float((args.tsdb / "end.txt").read_text())
            print(f"history: reused {args.tsdb}")
        else:
            end = (time.time() // STEP) * STEP - STEP
            t0 = time.perf_counter()
            backfill(prom_dir / "tsdb", _history(args.series, args.days, end), "bench_load")
            (prom_dir / "tsdb" / "end.txt").write_text(repr(end))
            if args.tsdb is not None:
                shutil.copytree(prom_dir / "tsdb", args.tsdb)
            print(
                f"history: {args.series} series x {args.days} days at 5m "
                f"({args.series * (args.days * 288 + 1):,} samples) backfilled in "
                f"{time.perf_counter() - t0:.0f} s"
            )
        prom = PrometheusServer(prom_dir, [])
        try:
            _bench(prom.url, root, args, end)
        finally:
            prom.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _bench(url: str, root: Path, args: argparse.Namespace, end: float) -> None:
    path = root / "rules.yaml"
    path.write_text(RULES.format(url=url, data=root / "data", days=args.days))
    rules = load_rules([path])
    window = args.days * 86400.0
    rates = {}
    print("\nworkers  chunks  series/s  samples/s  seconds  query s  replay s  peak worker RSS")
    for workers in (1, 2):
        shutil.rmtree(root / "data", ignore_errors=True)
        s = run_job(
            rules,
            [],
            window,
            workers=workers,
            samples_per_task=args.samples_per_task,
            fresh=True,
            now=end + 1.0,
            say=lambda line: None,
        )
        assert not s.failed, s.failed
        rates[workers] = s.samples / s.seconds
        print(
            f"{workers:7d}  {s.chunks:6d}  {s.series / s.seconds:8.0f}  {rates[workers]:9.0f}  "
            f"{s.seconds:7.1f}  {s.query_seconds:7.1f}  {s.replay_seconds:8.1f}  "
            f"{s.peak_worker_rss / 2**20:10.0f} MiB"
        )
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x samples/s")
    print(
        f"checkpoint: {s.checkpoint_bytes / 2**20:.1f} MiB, "
        f"{s.checkpoint_bytes / max(1, s.trained_series):,.0f} B/series"
    )

    warm = _first_tick(path)
    shutil.rmtree(root / "data", ignore_errors=True)
    rss0 = _rss_mib()
    cold = _first_tick(path)
    print(
        f"\nscheduler's first tick: {warm:.2f} s from the trained checkpoint, {cold:.1f} s cold "
        f"(replaying {args.days} days in-process; baseline): {cold / warm:.0f}x; the cold tick "
        f"raised this process' peak RSS by {_rss_mib() - rss0:,.0f} MiB"
    )


def _first_tick(path: Path) -> float:
    core = SchedulerCore(AppArgs(config=(str(path),)))
    t0 = time.perf_counter()
    snap = asyncio.run(core.tick())
    took = time.perf_counter() - t0
    assert snap.anomalies, "the tick scored nothing"
    return took


if __name__ == "__main__":
    main()
