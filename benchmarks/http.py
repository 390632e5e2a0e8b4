"""HTTP latency and throughput through Ray Serve against the same handlers on a bare uvicorn.

`POST /anomaly` (one observation) and `POST /alerts` (a captured Alertmanager payload) are
driven by `wrk` (Debian package) at 1, 8 and 32 connections for a few seconds each, first
against a plain uvicorn serving the same pure functions in this process' children, then
against `sidecar run`'s Serve app. Printed: requests/s, p50 and p99 latency, errors, and the
Serve/uvicorn ratios. Loopback only.

    python -m benchmarks.http [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.rig import ManagedProcess, free_port, ray_child_env, wait_until

ROOT = Path(__file__).resolve().parents[1]
ANOMALY = {"metrics": [{"cpu_usage": 0.95, "memory_usage": 0.8, "timestamp": 1234567890}]}
BARE_APP = """
import sys, time
from fastapi import FastAPI
import uvicorn
from sidecar.app.api import MAX_BODY_BYTES, AnomalyRequest, anomaly_response
from sidecar.app.alertdesk import AlertDeskCore
from sidecar.config.schema import SalienceSettings
from sidecar.salience.alertmanager import WebhookPayload
app = FastAPI(max_body_size=MAX_BODY_BYTES)
desk = AlertDeskCore(SalienceSettings(), sys.argv[2])
@app.post("/anomaly")
async def anomaly(req: AnomalyRequest):
    return anomaly_response(req, time.time())  # the Ingress route's own function
@app.post("/alerts")
async def alerts(payload: WebhookPayload):
    return {"accepted": desk.ingest_many([payload])[0],  # as the Ingress' own owner does
            "unknown_fields": list(payload.unknown_fields)}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def _wrk(url: str, body: str, conns: int, seconds: int, tmp: Path) -> dict[str, float]:
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(conns, 2)}",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        return float(m.group(1)) * scale

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": errors}


def _measure(
    base: str, seconds: int, tmp: Path, alerts_body: str
) -> dict[tuple[str, int], dict[str, float]]:
    out = {}
    for path, body in (("/anomaly", json.dumps(ANOMALY)), ("/alerts", alerts_body)):
        for conns in (1, 8, 32):
            out[(path, conns)] = _wrk(base + path, body, conns, seconds, tmp)
    return out


def _measure_sidecar(
    mode: str, seconds: int, tmp: Path, alerts_body: str
) -> dict[tuple[str, int], dict[str, float]]:
    """Start `sidecar run` with `http_mode: mode` and measure it like the bare server."""
    sport = free_port()
    rules = tmp / f"rules-{mode}"
    rules.mkdir()
    (rules / "sidecar.yaml").write_text(
        f"settings:\n  prometheus_url: http://127.0.0.1:{free_port()}\n  listen_port: {sport}\n"
        f"  data_dir: {tmp / ('data-' + mode)}\n  ray_dashboard: false\n"
        f"  ray_metrics_port: {free_port()}\n  query_retries: 0\n  interval: 30s\n"
        f"  http_mode: {mode}\n"
    )
    proc = ManagedProcess(
        [sys.executable, "-m", "sidecar", "run", "--config", str(rules)],
        tmp / f"sidecar-{mode}.log",
        env=ray_child_env(),
        cwd=ROOT,
        stop_timeout=60,
    )
    try:
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{sport}/readyz", timeout=2).ok,
            180,
            "sidecar run",
        )
        time.sleep(2)
        return _measure(f"http://127.0.0.1:{sport}", seconds, tmp, alerts_body)
    finally:
        proc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument(
        "--modes",
        type=lambda v: v.split(","),
        default=["direct", "proxy"],
        help="http_mode values to measure, comma-separated",
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    alerts_body = (ROOT / "tests" / "fixtures" / "alertmanager" / "firing.json").read_text()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        (tmp / "bare.py").write_text(BARE_APP)
        bare = ManagedProcess(
            [sys.executable, str(tmp / "bare.py"), str(port), str(tmp / "bare-data")],
            tmp / "bare.log",
            cwd=ROOT,
            stop_timeout=30,
        )
        try:
            wait_until(
                lambda: (
                    requests.post(f"http://127.0.0.1:{port}/anomaly", json=ANOMALY, timeout=2).ok
                ),
                60,
                "bare uvicorn",
            )
            bare_res = _measure(f"http://127.0.0.1:{port}", args.seconds, tmp, alerts_body)
        finally:
            bare.stop()
        serve_res = {
            mode: _measure_sidecar(mode, args.seconds, tmp, alerts_body) for mode in args.modes
        }
    for mode, res in serve_res.items():
        print(f"\nhttp_mode: {mode}")
        print(
            f"{'route':<10}{'conns':>6}{'uvicorn rps':>13}{'serve rps':>11}{'ratio':>7}"
            f"{'uv p50/p99 ms':>17}{'serve p50/p99 ms':>19}{'p99 x':>7}{'errors':>8}"
        )
        for key, b in bare_res.items():
            r = res[key]
            print(
                f"{key[0]:<10}{key[1]:>6}{b['rps']:>13,.0f}{r['rps']:>11,.0f}"
                f"{r['rps'] / b['rps']:>7.2f}"
                f"{b['p50']:>8.2f}/{b['p99']:<8.2f}{r['p50']:>9.2f}/{r['p99']:<9.2f}"
                f"{r['p99'] / b['p99']:>7.1f}{int(r['errors']):>8}"
            )


if __name__ == "__main__":
    main()
