"""`sidecar run`: an embedded local Ray (or RAY_ADDRESS), the Serve app, and clean shutdown.

SIGINT/SIGTERM stop Serve and Ray; SIGHUP re-reads the rule files on every shard.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Sequence
from typing import Any

from sidecar.app.logs import configure
from sidecar.app.ports import claim, client_host
from sidecar.config.loader import load_rules
from sidecar.config.schema import Settings

__all__ = ["APP_NAME", "run", "serve_environment"]

APP_NAME = "sidecar"
log = logging.getLogger("sidecar")


def run(config: Sequence[str]) -> int:
    """Start everything and block until a stop signal; returns the exit code."""
    rules = load_rules(list(config))  # bad rules: RuleErrors → exit 2 before anything starts
    s = rules.settings
    # a busy port: exit 2 at once (before logging is set up: Ray's import reconfigures it)
    claim(s.listen_host, s.listen_port, say=lambda m: print(f"sidecar: {m}", file=sys.stderr))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not sys.stderr.isatty():  # Ray colours the forwarded lines' prefixes: not in a file
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    for key, value in serve_environment(s).items():  # read by Serve at import, in every worker
        os.environ.setdefault(key, value)
    import ray
    from ray import serve

    from sidecar.app.deployments import build_app

    configure(s.log_level, s.log_format)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        stop.set()

    def _reload(signum: int, frame: Any) -> None:
        threading.Thread(target=_reload_all, args=(s,), daemon=True).start()

    # SIGHUP's default would kill the process while Ray and Serve start: handle it first
    signal.signal(signal.SIGHUP, _reload)
    # log_to_driver: the replicas' `sidecar` log lines (sidecar/app/logs.py) reach this log
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=True)
        where = f"Ray cluster at {os.environ['RAY_ADDRESS']}"
    else:
        # Ray starts its workers at nice 15, which suits batch jobs; here the workers serve
        # HTTP next to whatever else runs on the host, so they get the normal priority.
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(
            address="local",
            include_dashboard=s.ray_dashboard,
            dashboard_host="127.0.0.1",
            dashboard_port=8265,
            log_to_driver=True,
            _metrics_export_port=s.ray_metrics_port,  # Ray's own metrics, for Prometheus
        )
        where = "embedded local Ray"
    # after ray.init, which sets a SIGTERM handler of its own
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    # In direct mode the ingress replica itself takes listen_port; Serve's proxy actor still
    # runs and gets a spare loopback port that nobody is told about.
    proxy_port = s.listen_port if s.http_mode == "proxy" else _spare_port(s.listen_host)
    serve.start(
        http_options={"host": s.listen_host, "port": proxy_port},
        logging_config={"enable_access_log": False},
    )
    serve.run(build_app({"config": tuple(config)}), name=APP_NAME, route_prefix="/", blocking=False)
    base = f"http://{s.listen_host}:{s.listen_port}"
    log.info(
        "sidecar is up on %s (%s); Prometheus %s; rules %s",
        base,
        where,
        s.prometheus_url,
        ", ".join(rules.files) or "none",
    )
    log.info(
        "on-call page %s/ui  metrics %s/metrics  ranked alerts %s/alerts/ranked  API docs %s/docs",
        base,
        base,
        base,
        base,
    )
    if s.ray_dashboard and not os.environ.get("RAY_ADDRESS"):
        log.info("Ray dashboard http://127.0.0.1:8265")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()
        log.info("stopped")
    return 0


def serve_environment(s: Settings) -> dict[str, str]:
    """Ray Serve's feature flags for `s.http_mode`; they must be set before Ray starts.

    `direct` is Serve's throughput-optimised bundle (the ingress replica runs its own uvicorn,
    user code on the replica's loop, gRPC between deployments), with the replica's HTTP
    port range pinned to listen_port, and a short drain on shutdown (no load balancer here
    needs 30 s to notice).
    """
    if s.http_mode == "proxy":
        return {}
    end = s.listen_port + max(s.ingress_max_replicas, s.ingress_min_replicas)  # exclusive
    return {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(s.listen_port),
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(min(end, 65536)),
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "1",
        # A restarted ingress replica must get listen_port back at once (the quarantine
        # only protects HAProxy's server lists, unused here).
        "RAY_SERVE_PORT_QUARANTINE_S": "0",
        "RAY_SERVE_DIRECT_INGRESS_PORT_RETRY_COUNT": "3",
    }


def _spare_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _reload_all(s: Settings) -> None:
    """What SIGHUP does: POST /-/reload on our own port, as an operator would (Serve's
    handles need an event loop, and the endpoint already says what failed)."""
    url = f"http://{client_host(s.listen_host)}:{s.listen_port}/-/reload"
    headers = {"Authorization": f"Bearer {s.webhook_token}"} if s.webhook_token else {}
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        log.error("SIGHUP: reload failed: %s", exc)
        return
    if body.get("reloaded"):
        log.info("SIGHUP: rules reloaded on every shard")
        return
    for shard in body.get("shards", []):
        for err in shard.get("errors", []):
            log.error("SIGHUP: reload of shard %s failed (old rules kept): %s", shard["shard"], err)
