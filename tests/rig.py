"""Real services for tests, on free loopback ports in temporary directories.

Prometheus and Alertmanager are the Debian binaries, started directly (no systemd);
a prometheus_client target gives Prometheus real data within seconds; a webhook sink
records what Alertmanager delivers. Everything started here is stopped by `close()`,
which the fixtures call also when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from prometheus_client import CollectorRegistry, Gauge, start_http_server

LOOPBACK = "127.0.0.1"
RAY_LOOPBACK = "127.0.0.2"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 (the service may not be up yet: keep polling)
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


def require_binary(name: str) -> str:
    """Path of a Debian-packaged binary; a clear error (never a skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"{name} is not installed; scripts/test installs it "
            "(apt-get install prometheus prometheus-alertmanager)"
        )
    return path


class ManagedProcess:
    """A child process in its own session, with its output in a log file.

    `stop` sends SIGTERM (a clean shutdown is part of what is tested) and kills the whole
    session only if it has not exited within `stop_timeout` seconds.
    """

    def __init__(
        self,
        argv: list[str],
        log: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.argv = argv
        self.log = log
        self.stop_timeout = stop_timeout
        self._log_fh = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log_fh.close()


class RayCluster:
    """Ray nodes started with `ray start` in one temp dir, each with a custom resource
    naming it. Nodes advertise 127.0.0.2: Ray rewrites 127.0.0.1 to the host's own address
    (to be reachable from other machines), and any other loopback address keeps the
    cluster's traffic on `lo`."""

    def __init__(self) -> None:
        # short: Ray's socket paths under it must fit AF_UNIX's 107 bytes
        self.temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.port = free_port()
        self.address = f"{RAY_LOOPBACK}:{self.port}"
        self.env = ray_child_env()

    def _ray(self, *argv: str) -> None:
        ray = str(Path(sys.executable).parent / "ray")
        common = ["--node-ip-address", RAY_LOOPBACK, "--disable-usage-stats"]
        done = subprocess.run(
            [ray, *argv, *common, "--temp-dir", str(self.temp_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start_head(self, cpus: int) -> None:
        self._ray(
            "start", "--head", "--port", str(self.port), "--include-dashboard", "false",
            "--num-cpus", str(cpus), "--resources", '{"head_node": 1}',
        )  # fmt: skip

    def add_node(self, name: str, cpus: int) -> None:
        self._ray(
            "start", "--address", self.address, "--num-cpus", str(cpus),
            "--resources", f'{{"{name}": 1}}',
        )  # fmt: skip

    def raylet_of(self, name: str) -> int:
        """The PID of the raylet of the node with the custom resource `name`."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                text = b" ".join(argv).decode(errors="replace")
                raylet = argv[0].decode(errors="replace").endswith("/raylet")
                if raylet and f"{name},1" in text and str(self.temp_dir) in text:
                    return int(proc.name)
        raise AssertionError(f"no raylet with the resource {name}")

    def kill(self) -> None:
        """SIGKILL every process of this cluster (`ray stop` would stop every Ray here)."""
        ours: set[int] = set()
        for _ in range(2):  # the nodes' processes, then the workers they started
            for proc in Path("/proc").iterdir():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    if not proc.name.isdigit():
                        continue
                    parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if parent in ours or str(self.temp_dir) in (proc / "cmdline").read_text():
                        ours.add(int(proc.name))
        for pid in ours:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def ray_child_env() -> dict[str, str]:
    """The environment for a child that starts Ray: no auth prompt, no usage reporting."""
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


class MetricsTarget:
    """A prometheus_client HTTP target on loopback serving `rig_value{series=...}` gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.gauge = Gauge(
            "rig_value", "Value set by the test rig.", ["series"], registry=self.registry
        )
        self.port = free_port()
        self._server, self._thread = start_http_server(
            self.port, addr=LOOPBACK, registry=self.registry
        )

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def set(self, series: str, value: float) -> None:
        self.gauge.labels(series=series).set(value)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class WebhookSink:
    """An HTTP server that records every JSON body POSTed to it (for Alertmanager)."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                sink.received.put(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/alerts"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def backfill(tsdb: Path, series: Mapping[str, tuple[Any, Any]], metric: str) -> None:
    """Write history into a TSDB directory with `promtool tsdb create-blocks-from openmetrics`
    (as an operator backfills): `series` maps a label set (`instance="a"`) to (times, values).
    Start Prometheus on the directory afterwards."""
    tsdb.mkdir(parents=True, exist_ok=True)
    text = tsdb.parent / "backfill.om"
    with text.open("w") as fh:
        fh.write(f"# TYPE {metric} gauge\n")
        for labels, (times, values) in series.items():
            for t, v in zip(times, values, strict=True):
                fh.write(f"{metric}{{{labels}}} {float(v)!r} {float(t):.3f}\n")
        fh.write("# EOF\n")
    done = subprocess.run(
        [
            require_binary("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            str(text),
            str(tsdb),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"promtool backfill failed:\n{done.stdout}{done.stderr}")
    text.unlink()


class PrometheusServer:
    """The real `prometheus` binary scraping the given targets every `scrape_interval`, and
    `sidecars` in a job with `honor_labels: true`, as the shipped configuration does."""

    def __init__(
        self,
        workdir: Path,
        targets: Iterable[str],
        *,
        scrape_interval: str = "1s",
        job: str = "rig",
        port: int | None = None,
        sidecars: Iterable[str] = (),
        query_log: bool = False,
    ) -> None:
        self.port = free_port() if port is None else port
        self.job = job
        self.url = f"http://{LOOPBACK}:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        self.query_log = workdir / "queries.log"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {scrape_interval}\n"
            f"  evaluation_interval: {scrape_interval}\n"
            + (f"  query_log_file: {self.query_log}\n" if query_log else "")
            + "scrape_configs:\n"
            f"  - job_name: {job}\n"
            "    static_configs:\n"
            f"      - targets: {json.dumps(list(targets))}\n"
            + (  # as deploy/prometheus/prometheus.yml scrapes the sidecar
                "  - job_name: sidecar\n"
                "    honor_labels: true\n"
                "    static_configs:\n"
                f"      - targets: {json.dumps(list(sidecars))}\n"
                if sidecars
                else ""
            )
        )
        self.process = ManagedProcess(
            [
                require_binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                f"--web.external-url={self.url}/",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
        )
        try:
            wait_until(self._ready, 30, "Prometheus /-/ready")
        except TimeoutError:
            self.close()
            raise

    def _ready(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"prometheus exited:\n{self.process.output()}")
        return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200

    def logged_queries(self) -> list[dict[str, Any]]:
        """Every query Prometheus answered so far (with `query_log=True`): its params."""
        if not self.query_log.exists():
            return []
        lines = self.query_log.read_text().splitlines()
        return [json.loads(line)["params"] for line in lines if line.strip()]

    def instant(self, promql: str) -> list[dict[str, Any]]:
        """Result of an instant query, straight from the HTTP API."""
        body = requests.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5).json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def wait_for_scrape(self, timeout: float = 60) -> None:
        """Block until the rig job's targets are up (the first scrape can take ~6 s)."""
        wait_until(lambda: self.instant(f'up{{job="{self.job}"}} == 1'), timeout, "first scrape")

    def close(self) -> None:
        self.process.stop()


class AlertmanagerServer:
    """The real `prometheus-alertmanager` binary, routing everything to one webhook."""

    def __init__(self, workdir: Path, webhook_url: str) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: sidecar\n"
            "  group_by: [alertname]\n"
            "  group_wait: 1s\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: sidecar\n"
            "    webhook_configs:\n"
            f"      - url: {webhook_url}\n"
            "        send_resolved: true\n"
        )
        self.process = ManagedProcess(
            [
                require_binary("prometheus-alertmanager"),
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--cluster.listen-address=",
                f"--web.external-url={self.url}/",
                "--log.level=warn",
            ],
            workdir / "alertmanager.log",
        )
        try:
            wait_until(self._ready, 30, "Alertmanager /-/ready")
        except TimeoutError:
            self.close()
            raise

    def _ready(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"alertmanager exited:\n{self.process.output()}")
        return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Push alerts through Alertmanager's v2 API, as Prometheus would."""
        r = requests.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5)
        r.raise_for_status()

    def close(self) -> None:
        self.process.stop()
