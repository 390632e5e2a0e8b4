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
        with running_sidecar(tmp_path, f"http://127.0.0.1:{prom_port}", port, wait_ready=False) as (
            url,
            _,
            proc,
        ):

            def ticked() -> list[requests.Response]:  # (a 503 Response is falsy itself)
                r = requests.get(f"{url}/readyz", timeout=5)
                return [r] if r.json()["shards"][0]["ticks"] > 0 else []

            # alive but not ready while Prometheus is down, and it says so in its metrics
            [down] = wait_until(ticked, 180, "a tick with Prometheus down")
            assert down.status_code == 503 and down.json()["shards"][0]["source_up"] is False
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
            assert [v for _, v in _metrics(url)["sidecar_source_up"]] == [0.0]
            # the Scheduler replica's warning reaches `sidecar run`'s own log, naming the rule
            log = tmp_path / "sidecar.log"
            wait_until(
                lambda: "sidecar.scheduler: rule e2e: cannot reach Prometheus" in log.read_text(),
                30,
                "the rule's warning in the process log",
            )
            assert "\x1b[" not in log.read_text()  # no colour codes in a file
            prometheus = PrometheusServer(tmp_path / "prom", [target.address], port=prom_port)
            try:
                wait_until(
                    lambda: [v for _, v in _metrics(url)["sidecar_source_up"]] == [1.0],
                    90,
                    "sidecar_source_up back to 1",
                )
                wait_until(
                    lambda: requests.get(f"{url}/readyz", timeout=5).status_code == 200,
                    30,
                    "ready once Prometheus is up",
                )
                ok = {lab["rule"]: v for lab, v in _metrics(url)["sidecar_rule_last_run_success"]}
                assert ok["e2e"] == 1.0
                assert proc.alive()  # the same process: recovered, not restarted
            finally:
                prometheus.close()
    finally:
        target.close()


def test_restart_right_after_stop_comes_up(tmp_path: Path) -> None:
    """The previous run's connections hold the port in TIME_WAIT (Serve's ingress binds
    without SO_REUSEADDR): the new run waits them out instead of failing to start."""
    port = free_port()
    prom = f"http://127.0.0.1:{free_port()}"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    with running_sidecar(first, prom, port, wait_ready=False) as (url, _, _):
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, "first run")
        for _ in range(20):  # the server closes these: its ends stay in TIME_WAIT
            requests.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=5)
    with running_sidecar(second, prom, port, wait_ready=False) as (url, _, proc):
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, "second run")
        assert proc.alive()
        assert "TIME_WAIT" in (second / "sidecar.log").read_text()
