"""Scheduler tick duration and memory for 1k, 10k and 100k series from a real Prometheus.

A prometheus_client target on loopback serves N gauges (`bench_value{series="i"}`), updated
every few seconds; a real Prometheus scrapes it every 5 s. The sidecar's own tick path
(Engine.plan → PrometheusSource.query_range → Engine.step) then runs one cold tick (replays a
2-minute lookback) and several warm ticks (only new samples), as the Scheduler does. Printed:
tick seconds (cold, median warm), of which Prometheus query time, the engine step alone, and
the process' peak RSS growth per series. The baseline in the same process is the plain
query (fetching the same range without the engine).

    python -m benchmarks.tick [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from sidecar.config.loader import Rules
from sidecar.config.schema import DetectorRule, Settings
from sidecar.engine import Engine
from sidecar.sources.prometheus import PrometheusSource
from tests.rig import LOOPBACK, PrometheusServer, free_port, wait_until


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def scraped_gauges(n: int, workdir: Path) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping `bench_value{series="i"}` for i < n every 5 s (values
    redrawn every 5 s), once every series has been scraped."""
    registry = CollectorRegistry()
    gauge = Gauge("bench_value", "benchmark series", ["series"], registry=registry)
    children = [gauge.labels(series=str(i)) for i in range(n)]
    rng = np.random.default_rng(0)
    stop = threading.Event()

    def drive() -> None:
        while not stop.is_set():
            for c, v in zip(children, (10 + rng.normal(0, 1, n)).tolist(), strict=True):
                c.set(v)
            stop.wait(5)

    threading.Thread(target=drive, daemon=True).start()
    port = free_port()
    server, thread = start_http_server(port, addr=LOOPBACK, registry=registry)
    prom = PrometheusServer(
        workdir / f"prom{n}", [f"{LOOPBACK}:{port}"], scrape_interval="5s", job="bench"
    )
    try:
        prom.wait_for_scrape(120)
        wait_until(
            lambda: int(float(prom.instant("count(bench_value)")[0]["value"][1])) == n,
            120,
            "all series scraped",
        )
        yield prom
    finally:
        stop.set()
        prom.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run(n: int, workdir: Path) -> None:
    with scraped_gauges(n, workdir) as prom:
        time.sleep(30)  # a few scrapes of history
        rule = DetectorRule(name="bench", query="bench_value", step=5.0, lookback=120.0)
        rules = Rules(settings=Settings(), detectors=(rule,))
        engine = Engine(rules, interval=5.0)
        with PrometheusSource(prom.url, timeout=120, retries=0) as source:
            base0 = time.perf_counter()
            now = time.time()
            source.query_range("bench_value", now - 120, now, 5.0)
            plain = time.perf_counter() - base0
            rss0 = _rss_mb()
            timings = []
            for _ in range(6):
                now = time.time()
                t0 = time.perf_counter()
                frames = {
                    p.key: source.query_range(p.promql, p.start, p.end, p.step)
                    for p in engine.plan(now)
                }
                t1 = time.perf_counter()
                snap = engine.step(frames, now)
                t2 = time.perf_counter()
                timings.append((t2 - t0, t1 - t0, t2 - t1))
                assert len(snap.anomalies) == n
                time.sleep(5)
            rss = _rss_mb() - rss0
        cold, warm = timings[0], timings[1:]
        med = [float(np.median([w[i] for w in warm])) for i in range(3)]
        print(
            f"{n:>8}  cold tick {cold[0]:7.2f} s (query {cold[1]:6.2f}, engine {cold[2]:6.2f})"
            f"  warm tick {med[0]:6.3f} s (query {med[1]:6.3f}, engine {med[2]:6.3f})"
            f"  plain range query {plain:6.2f} s  peak RSS +{rss:7.1f} MB "
            f"({rss * 1e6 / n:,.0f} B/series)",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            run(n, Path(tmp))


if __name__ == "__main__":
    main()
