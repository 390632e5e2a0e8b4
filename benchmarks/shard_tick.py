"""One rule of N series split by series over 1 and 2 scheduler shards: cost per tick.

A real Prometheus scrapes N gauges every 5 s (benchmarks.tick's target). A detector rule
with `shard_by: [series]` runs in `SchedulerCore` as shard 0 of 1, then as shards 0 and 1
of 2 (one after the other: this machine has 2 cores, and so would the Prometheus beside
them). Printed per shard, the median warm tick: query seconds (every shard runs the whole
query and keeps its share: Prometheus' cost grows with the shards), engine seconds (what
splitting divides) and the series kept. The baseline is the one-shard run.

    python -m benchmarks.shard_tick [--series 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.tick import scraped_gauges
from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs

RULES = """\
settings:
  prometheus_url: {url}
  data_dir: {data}
  interval: 5s
  query_timeout: 2m
  checkpoint_interval: 0s
detectors:
  - name: bench
    query: bench_value
    step: 5s
    lookback: 1m
    shard_by: [series]
"""
WARM_TICKS = 5


def _ticks(core: SchedulerCore) -> tuple[float, float, int]:
    """Median warm (query seconds, engine seconds) and the series kept."""
    asyncio.run(core.tick())  # cold: the lookback
    query, engine = [], []
    series = 0
    for _ in range(WARM_TICKS):
        time.sleep(5)
        snap = asyncio.run(core.tick())
        [health] = [h for h in snap.rules if h.rule == "bench"]
        assert health.success, health.error
        engine.append(health.duration_s)
        query.append(snap.tick_duration_s - health.duration_s)
        series = health.series
    return float(np.median(query)), float(np.median(engine)), series


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scraped_gauges(args.series, Path(tmp)) as prom:
        time.sleep(20)  # a few scrapes of history
        path = Path(tmp) / "rules.yaml"
        path.write_text(RULES.format(url=prom.url, data=Path(tmp) / "data"))
        config = AppArgs(config=(str(path),))
        print(f"{args.series} series, one rule; median of {WARM_TICKS} warm ticks per shard")
        print("shards  shard  series kept  query s  engine s  tick s")
        base = None
        for shards in (1, 2):
            for shard in range(shards):
                q, e, n = _ticks(SchedulerCore(config, shard, shards))
                base = base or (q, e)
                print(
                    f"{shards:6d}  {shard:5d}  {n:11d}  {q:7.2f}  {e:8.2f}  {q + e:6.2f}"
                    f"   (engine {e / base[1]:.2f}x, query {q / base[0]:.2f}x of one shard)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
