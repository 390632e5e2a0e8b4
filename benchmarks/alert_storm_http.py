"""Alert storms through HTTP: `sidecar run` with 1k, 5k and 10k firing alerts.

The storm of benchmarks/alert_storm.py is posted to a real `sidecar run` (local Ray, Serve,
Prometheus down: the alert path does not need it) in webhooks of 100 alerts. Printed per
size: `GET /alerts/ranked` (all, and `?limit=100`) and `GET /metrics` in seconds (median of
three), then webhooks of 10 alerts, one client: per second, and the p99 latency alone and
while another client ranks in a loop. Baseline in the same run: `GET /healthz`.

    python -m benchmarks.alert_storm_http [--sizes 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks.alert_storm import T0, alert
from tests.rig import LOOPBACK, ManagedProcess, free_port, ray_child_env, wait_until

ROOT = Path(__file__).resolve().parents[1]


def body(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "storm", "alerts": alerts}


def median_get(url: str, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = requests.get(url, timeout=300)
        r.raise_for_status()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def webhooks(url: str, bodies: list[dict[str, Any]]) -> tuple[float, list[float]]:
    """Per second, and each latency, of posting `bodies` one after another."""
    latencies = []
    t0 = time.perf_counter()
    with requests.Session() as s:
        for b in bodies:
            t = time.perf_counter()
            s.post(f"{url}/alerts", json=b, timeout=300).raise_for_status()
            latencies.append(time.perf_counter() - t)
    return len(bodies) / (time.perf_counter() - t0), latencies


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(0.99 * len(values)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,10000")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rng = random.Random(7)
    storm = [alert(i, rng, T0 + rng.uniform(0, 300), None) for i in range(max(sizes))]
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules"
        rules.mkdir()
        port = free_port()
        (rules / "sidecar.yaml").write_text(
            f"settings:\n  listen_port: {port}\n  data_dir: {tmp}/data\n"
            f"  prometheus_url: http://{LOOPBACK}:{free_port()}\n  ray_dashboard: false\n"
        )
        proc = ManagedProcess(
            [sys.executable, "-m", "sidecar", "run", "--config", str(rules)],
            Path(tmp) / "sidecar.log",
            env=ray_child_env(),
            cwd=ROOT,
            stop_timeout=60,
        )
        url = f"http://{LOOPBACK}:{port}"
        try:
            wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, "sidecar up")
            print(
                f"{'firing':>7}{'ranked s':>10}{'top100 s':>10}{'metrics s':>11}"
                f"{'healthz s':>11}{'hooks/s':>9}{'p99 ms':>8}{'p99 ranking ms':>16}"
            )
            posted = 0
            for size in sizes:
                for k in range(posted, size, 100):
                    requests.post(f"{url}/alerts", json=body(storm[k : k + 100]), timeout=300)
                posted = size
                ranked = median_get(f"{url}/alerts/ranked")
                top = median_get(f"{url}/alerts/ranked?limit=100")
                metrics = median_get(f"{url}/metrics")
                health = median_get(f"{url}/healthz")
                repeats = [
                    body([storm[rng.randrange(size)] for _ in range(10)]) for _ in range(300)
                ]
                rate, alone = webhooks(url, repeats)
                stop = threading.Event()

                def rank_loop(stop: threading.Event = stop) -> None:
                    while not stop.is_set():
                        requests.get(f"{url}/alerts/ranked", timeout=300)

                ranker = threading.Thread(target=rank_loop, daemon=True)
                ranker.start()
                _, busy = webhooks(url, repeats[:100])
                stop.set()
                ranker.join()
                print(
                    f"{size:>7}{ranked:>10.3f}{top:>10.3f}{metrics:>11.3f}{health:>11.4f}"
                    f"{rate:>9.0f}{1e3 * p99(alone):>8.1f}{1e3 * p99(busy):>16.1f}",
                    flush=True,
                )
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
