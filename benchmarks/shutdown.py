"""How long `sidecar run` (the shipped rules; Prometheus down) takes to stop: SIGTERM to the
process alone, and to its whole process group (what systemd and some supervisors send), until it
exits and until its port
can be bound again. Baseline in the same process: a Python child that exits on SIGTERM.

    python -m benchmarks.shutdown [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from sidecar.app.ports import port_state
from tests.rig import LOOPBACK, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


def stop_time(cmd: list[str], port: int | None, group: bool, log: Path) -> tuple[float, float]:
    """Seconds from SIGTERM to exit, and to the port being free (0 without a port)."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        if port is not None:
            url = f"http://{LOOPBACK}:{port}/healthz"
            wait_until(lambda: requests.get(url, timeout=2).ok, 180, "sidecar up")
        else:
            time.sleep(1.0)
        t0 = time.monotonic()
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        exited = time.monotonic() - t0
        freed = 0.0
        if port is not None:
            wait_until(lambda: port_state(LOOPBACK, port) != "in_use", 120, "port free")
            freed = time.monotonic() - t0
        return exited, freed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    baseline_cmd = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)"]
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules"
        rules.mkdir()
        print(f"{'SIGTERM to':<16}{'exit s':>8}{'port free s':>13}{'baseline exit s':>17}")
        for group in (False, True):
            for run in range(args.runs):
                port = free_port()
                for shipped in (ROOT / "rules").glob("*.yaml"):  # the shipped rules, our settings
                    if shipped.name != "sidecar.yaml":
                        (rules / shipped.name).write_text(shipped.read_text())
                (rules / "sidecar.yaml").write_text(
                    f"settings:\n  listen_port: {port}\n  data_dir: {tmp}/data\n"
                    f"  prometheus_url: http://{LOOPBACK}:{free_port()}\n"
                )
                cmd = [sys.executable, "-m", "sidecar", "run", "--config", str(rules)]
                exited, freed = stop_time(cmd, port, group, Path(tmp) / f"run{run}.log")
                base, _ = stop_time(baseline_cmd, None, group, Path(tmp) / "base.log")
                who = "process group" if group else "leader"
                print(f"{who:<16}{exited:>8.1f}{freed:>13.1f}{base:>17.2f}", flush=True)


if __name__ == "__main__":
    main()
