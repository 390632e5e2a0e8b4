"""Replay speed of `sidecar alerts replay`: a week of about 10,000 notifications.

Several simulated platforms (benchmarks/salience_sim.py) are merged into one Alertmanager
stream until it holds about 10,000 notifications with up to a few hundred alerts firing at
once; the JSONL is written, then replayed through the real CLI code path in this process.
The figure is compared with a baseline in the same process: reading and parsing the same
JSONL lines without ranking.

    python -m benchmarks.salience_speed [--target 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.salience_sim import generate, notifications
from sidecar.replay.alerts import replay_alerts


def build(target: int, platforms: int) -> list[str]:
    lines: list[tuple[float, dict[str, object]]] = []
    for i in range(platforms):
        rng = random.Random(100 + i)
        alerts = generate(rng)
        for a in alerts:
            a.labels["platform"] = f"p{i}"
        lines += notifications(alerts, ("alertname", "cluster", "namespace", "platform"), rng)
    lines.sort(key=lambda x: x[0])
    lines = lines[:target]
    out = []
    for t, payload in lines:
        stamped = {
            **payload,
            "receivedAt": datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z"),
        }
        out.append(json.dumps(stamped))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=int, default=10_000)
    ap.add_argument("--platforms", type=int, default=20)
    args = ap.parse_args()
    os.environ.setdefault("SIDECAR_PROGRESS", "0")
    lines = build(args.target, args.platforms)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("\n".join(lines) + "\n")
        c0 = time.perf_counter()
        for line in src.read_text().splitlines():
            json.loads(line)
        base = time.perf_counter() - c0
        c0 = time.perf_counter()
        n = replay_alerts(str(src), str(dst))
        el = time.perf_counter() - c0
        peak = max(len(json.loads(x)["ranked"]) for x in dst.read_text().splitlines())
        days = (json.loads(lines[-1])["receivedAt"], json.loads(lines[0])["receivedAt"])
    print(f"{n} notifications ({days[1]} .. {days[0]}), up to {peak} alerts firing at once")
    print(
        f"replay: {el:.2f} s ({n / el:,.0f} lines/s); parsing alone {base:.2f} s "
        f"(replay costs {el / base:.0f}x parsing)"
    )


if __name__ == "__main__":
    main()
