"""Processes and memory of `sidecar run` (the shipped rules; no Prometheus), by process.

Starts `sidecar run` in its own session on free loopback ports, waits for /healthz and
`--settle` seconds, then reads every process of the session from /proc: its role (from the
command line), resident memory (RSS) and proportional set size (PSS: shared pages split
between the processes that map them, so the sum is the real total). Baseline in the same
run: a bare embedded Ray (`ray.init()` with the same dashboard setting, idle).

    python -m benchmarks.footprint [--settle 20] [--dashboard]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.rig import LOOPBACK, free_port, ray_child_env, wait_until

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Proc:
    pid: int
    role: str
    rss_mb: float
    pss_mb: float


def _role(cmdline: list[str]) -> str:
    text = " ".join(cmdline)
    for key, role in (
        ("ray::ServeReplica", "serve replica"),
        ("ray::ProxyActor", "serve proxy"),
        ("ray::ServeController", "serve controller"),
        ("ray::IDLE", "idle worker"),
        ("/raylet ", "raylet"),
        ("dashboard/agent.py", "dashboard agent"),
        ("runtime_env/agent", "runtime env agent"),
        ("dashboard/dashboard.py", "dashboard"),
        ("log_monitor.py", "log monitor"),
        ("monitor.py", "autoscaler monitor"),
        ("raylet", "raylet"),
        ("gcs_server", "gcs server"),
        ("sidecar run", "driver (sidecar run)"),
        ("ray.init", "driver (bare ray)"),
        ("default_worker.py", "worker"),
        ("resource_tracker", "multiprocessing tracker"),
        ("spawn_main", "dashboard module (subprocess)"),
        ("forkserver", "multiprocessing forkserver"),
    ):
        if key in text:
            return role
    return os.path.basename(cmdline[0]) if cmdline else "?"


def _mb(fields: dict[str, str], key: str) -> float:
    return float(fields.get(key, "0 kB").split()[0]) / 1024


def session_processes(sid: int) -> list[Proc]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != sid:
                continue
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            fields = dict(
                line.split(":", 1)
                for line in (entry / "smaps_rollup").read_text().splitlines()[1:]
                if ":" in line
            )
        except (OSError, ProcessLookupError):
            continue
        role = _role([c.decode(errors="replace") for c in cmd if c])
        out.append(Proc(int(entry.name), role, _mb(fields, "Rss"), _mb(fields, "Pss")))
    return out


def listening(procs: list[Proc]) -> None:
    """Print the TCP ports the processes listen on (from `ss`), by role."""
    roles = {p.pid: p.role for p in procs}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=False).stdout
    ports: dict[str, set[str]] = {}
    for line in out.splitlines():
        cols = line.split()
        for pid in (int(x.split("=")[1]) for x in line.split(",") if x.startswith("pid=")):
            if pid in roles:
                ports.setdefault(roles[pid], set()).add(cols[3])
    for role, addrs in sorted(ports.items()):
        print(f"  listening: {role}: {', '.join(sorted(addrs))}")


def measure(cmd: list[str], env: dict[str, str], port: int | None, settle: float) -> list[Proc]:
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            if port is not None:
                url = f"http://{LOOPBACK}:{port}/healthz"
                wait_until(lambda: requests.get(url, timeout=2).ok, 180, "sidecar up")
            time.sleep(settle)
            procs = session_processes(proc.pid)
            listening(procs)
            return procs
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def table(title: str, procs: list[Proc]) -> tuple[int, float]:
    print(f"\n{title}: {len(procs)} processes")
    by_role: dict[str, list[Proc]] = {}
    for p in procs:
        by_role.setdefault(p.role, []).append(p)
    for role, ps in sorted(by_role.items(), key=lambda kv: -sum(p.pss_mb for p in kv[1])):
        print(
            f"  {role:24s} x{len(ps):<2d} RSS {sum(p.rss_mb for p in ps):7.0f} MB"
            f"  PSS {sum(p.pss_mb for p in ps):7.0f} MB"
        )
    total = sum(p.pss_mb for p in procs)
    print(f"  {'total':24s}     RSS {sum(p.rss_mb for p in procs):7.0f} MB  PSS {total:7.0f} MB")
    return len(procs), total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=20.0)
    ap.add_argument("--dashboard", action="store_true", help="with the Ray dashboard")
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **ray_child_env(),
            "SIDECAR_LISTEN_PORT": str(port),
            "SIDECAR_PROMETHEUS_URL": f"http://{LOOPBACK}:{free_port()}",
            "SIDECAR_DATA_DIR": tmp,
            "SIDECAR_RAY_DASHBOARD": str(args.dashboard).lower(),
            "SIDECAR_RAY_METRICS_PORT": str(free_port()),
        }
        bare = (
            "import ray, time; "
            f"ray.init(address='local', include_dashboard={args.dashboard}); time.sleep(3600)"
        )
        n0, m0 = table(
            "bare embedded Ray (baseline)",
            measure([sys.executable, "-c", bare], env, None, args.settle + 10),
        )
        n1, m1 = table(
            "sidecar run, shipped rules",
            measure(
                [sys.executable, "-m", "sidecar", "run", "--config", "rules"],
                env,
                port,
                args.settle,
            ),
        )
    print(f"\nsidecar / bare Ray: {n1 / n0:.2f}x processes, {m1 / m0:.2f}x PSS")


if __name__ == "__main__":
    main()
