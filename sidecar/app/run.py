"""`sidecar run`: an embedded local Ray (or RAY_ADDRESS), the Serve app, and clean shutdown.

SIGINT/SIGTERM stop Serve and Ray; SIGHUP re-reads the rule files on every shard.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

from sidecar.config.loader import load_rules

__all__ = ["APP_NAME", "run"]

APP_NAME = "sidecar"
log = logging.getLogger("sidecar")


def run(config: Sequence[str]) -> int:
    """Start everything and block until a stop signal; returns the exit code."""
    rules = load_rules(list(config))  # bad rules: RuleErrors → exit 2 before anything starts
    s = rules.settings
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from ray import serve

    from sidecar.app.deployments import build_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False)
        where = f"Ray cluster at {os.environ['RAY_ADDRESS']}"
    else:
        ray.init(
            address="local",
            include_dashboard=s.ray_dashboard,
            dashboard_host="127.0.0.1",
            dashboard_port=8265,
            log_to_driver=False,
            _metrics_export_port=s.ray_metrics_port,  # Ray's own metrics, for Prometheus
        )
        where = "embedded local Ray"
    serve.start(
        http_options={"host": s.listen_host, "port": s.listen_port},
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
        "metrics %s/metrics  ranked alerts %s/alerts/ranked  API docs %s/docs", base, base, base
    )
    if s.ray_dashboard and not os.environ.get("RAY_ADDRESS"):
        log.info("Ray dashboard http://127.0.0.1:8265")
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        stop.set()

    def _reload(signum: int, frame: Any) -> None:
        threading.Thread(target=_reload_all, args=(s.shards,), daemon=True).start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _reload)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()
        log.info("stopped")
    return 0


def _reload_all(shards: int) -> None:
    from ray import serve

    for i in range(shards):
        handle = serve.get_deployment_handle(f"Scheduler{i}", app_name=APP_NAME)
        ok = handle.reload.remote().result()
        log.info("reload of shard %d: %s", i, "ok" if ok else "failed (old rules kept)")
