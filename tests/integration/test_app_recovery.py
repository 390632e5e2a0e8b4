"""`sidecar run` started while Prometheus is down keeps running and recovers when it comes up."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.integration.test_app_e2e import _metrics, running_sidecar
from tests.rig import MetricsTarget, PrometheusServer, free_port, wait_until


def test_prometheus_down_at_start_then_up_recovers_without_restart(tmp_path: Path) -> None:
    target = MetricsTarget()
    target.set("a", 10.0)
    target.set("b", 10.0)
    prom_port, port = free_port(), free_port()
    try:
        with running_sidecar(tmp_path, f"http://127.0.0.1:{prom_port}", port) as (url, _, proc):
            # ready although Prometheus is down, and it says so in its metrics
            status = requests.get(f"{url}/readyz", timeout=5).json()["shards"][0]
            assert status["source_up"] is False
            assert [v for _, v in _metrics(url)["sidecar_source_up"]] == [0.0]
            prometheus = PrometheusServer(tmp_path / "prom", [target.address], port=prom_port)
            try:
                wait_until(
                    lambda: [v for _, v in _metrics(url)["sidecar_source_up"]] == [1.0],
                    90,
                    "sidecar_source_up back to 1",
                )
                ok = {lab["rule"]: v for lab, v in _metrics(url)["sidecar_rule_last_run_success"]}
                assert ok["e2e"] == 1.0
                assert proc.alive()  # the same process: recovered, not restarted
            finally:
                prometheus.close()
    finally:
        target.close()
