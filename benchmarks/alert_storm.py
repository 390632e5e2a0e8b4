"""Alert storms: the alert book's cost at 1k, 5k, 10k and 50k firing alerts.

A storm is a node or network failure: thousands of alerts of a few dozen templates on
hundreds of pods and nodes, all starting within minutes (one episode). Behind them the
book knows `--known` resolved firings from the last days. Printed per size: the time of a
ranking with reasons (`GET /alerts/ranked`), of the 100 most salient with reasons
(`?limit=100`), of one without reasons (what `/metrics` exports), each after a webhook
changed one alert, and webhook ingest (bodies of 10 alerts, durable) per
second while the storm fires. Baseline in the same process: `json.dumps` of the firing
alerts' labels (the least a ranking endpoint does per request).

    python -m benchmarks.alert_storm [--sizes 1000,5000,10000,50000] [--known 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sidecar.progress import progress
from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.book import AlertBook

T0 = 1_800_000_000.0
TEMPLATES = [
    ("KubePodCrashLooping", "warning"),
    ("KubePodNotReady", "warning"),
    ("HighErrorRate", "critical"),
    ("HighLatencyP99", "warning"),
    ("TargetDown", "warning"),
    ("NodeNotReady", "critical"),
    ("NodeFilesystemAlmostFull", "warning"),
    ("KubeContainerWaiting", "info"),
    ("PersistentVolumeErrors", "critical"),
    ("CPUThrottlingHigh", "info"),
] + [(f"App{i}Degraded", "warning") for i in range(30)]


def alert(i: int, rng: random.Random, starts: float, resolved: float | None) -> dict[str, Any]:
    name, severity = TEMPLATES[i % len(TEMPLATES)]
    labels = {
        "alertname": name,
        "severity": severity,
        "namespace": f"ns{i % 40}",
        "pod": f"svc{i % 300}-7d9f8b6c5-{i:05x}"[-24:],
        "node": f"worker-{rng.randrange(200)}",
        "cluster": "eu1",
    }
    return {
        "status": "resolved" if resolved is not None else "firing",
        "labels": labels,
        "annotations": {"summary": f"{name} on {labels['pod']}"},
        "startsAt": _iso(starts),
        "endsAt": _iso(resolved) if resolved is not None else "0001-01-01T00:00:00Z",
        "fingerprint": f"{i:016x}",
    }


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def payload(alerts: list[dict[str, Any]]) -> WebhookPayload:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return WebhookPayload.model_validate({"version": "4", "status": status, "alerts": alerts})


def timed(fn: Any, reps: int = 3) -> float:
    """The best of `reps` wall-clock runs (the book is single-threaded)."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(size: int, known: int, workdir: Path) -> None:
    rng = random.Random(size)
    book = AlertBook(path=workdir / f"storm{size}.sqlite")
    now = T0
    history = [
        alert(size + j, rng, T0 - 3 * 86400 + j * 2.0, T0 - 3 * 86400 + j * 2.0 + 600)
        for j in range(known)
    ]
    storm = [alert(i, rng, T0 + rng.uniform(0, 300), None) for i in range(size)]
    with progress(known + size, f"load {size}", unit="alert") as bar:
        for k in range(0, known, 500):
            book.ingest(payload(history[k : k + 500]), T0 - 86400)
            bar.update(len(history[k : k + 500]))
        for k in range(0, size, 100):
            book.ingest(payload(storm[k : k + 100]), now)
            bar.update(len(storm[k : k + 100]))
    now += 600
    assert len(book.firing) == size
    book.ranked(now)  # the first ranking computes every alert's signals
    touch = payload([storm[0]])

    def after_change(reasons: bool) -> None:
        book.ingest(touch, now)
        book.ranked(now, reasons=reasons)

    ranked = timed(lambda: after_change(True))
    exported = timed(lambda: after_change(False))

    def top_100() -> None:
        book.ingest(touch, now)
        book.ranked(now, limit=100)

    top = timed(top_100)
    baseline = timed(lambda: json.dumps([f.labels for f in book.firing.values()]))
    bodies = [payload([storm[rng.randrange(size)] for _ in range(10)]) for _ in range(200)]
    t0 = time.perf_counter()
    for b in bodies:
        book.ingest(b, now)
    ingest = len(bodies) / (time.perf_counter() - t0)
    book.close()
    print(
        f"{size:>7}{known:>9}{1e3 * ranked:>12.1f}{1e3 * top:>10.1f}{1e3 * exported:>12.1f}"
        f"{1e3 * baseline:>11.2f}{ranked / baseline:>10.0f}x{ingest:>12.0f}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,10000,50000")
    ap.add_argument("--known", type=int, default=100_000)
    args = ap.parse_args()
    print(
        f"{'firing':>7}{'known':>9}{'ranked ms':>12}{'top100 ms':>10}{'export ms':>12}"
        f"{'json ms':>11}{'ranked/json':>11}{'webhooks/s':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            run(n, args.known, Path(tmp))


if __name__ == "__main__":
    main()
