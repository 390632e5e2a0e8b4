"""Two ingress replicas share one alert owner (the AlertDesk deployment), in direct mode."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.integration.test_app_e2e import running_sidecar
from tests.rig import free_port, wait_until


def _two_free_ports() -> int:
    """A port p with p + 1 free too (direct mode gives the second replica the next port)."""
    for _ in range(50):
        p = free_port()
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", p))
                b.bind(("127.0.0.1", p + 1))
            except OSError:
                continue
        return p
    raise RuntimeError("no two consecutive free ports")


def test_an_alert_posted_to_one_replica_is_ranked_by_the_other(tmp_path: Path) -> None:
    port = _two_free_ports()
    extra = "  ingress_min_replicas: 2\n  ingress_max_replicas: 2\n"
    prom = f"http://127.0.0.1:{free_port()}"  # down: the app must still serve
    # not ready while Prometheus is down (/readyz 503): wait for both replicas to be alive
    with running_sidecar(tmp_path, prom, port, extra_settings=extra, wait_ready=False) as (
        url,
        _,
        _proc,
    ):
        other = f"http://127.0.0.1:{port + 1}"
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, "replica 1")
        wait_until(lambda: requests.get(f"{other}/healthz", timeout=2).ok, 60, "replica 2")
        body = {
            "version": "4",
            "status": "firing",
            "receiver": "sidecar",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://am",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "ScaledIngress", "severity": "warning"},
                    "annotations": {},
                    "startsAt": datetime.now(UTC).isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": "abc123",
                }
            ],
        }
        r = requests.post(f"{url}/alerts", json=body, timeout=10)
        assert r.status_code == 200 and r.json()["accepted"] == 1
        ranked = requests.get(f"{other}/alerts/ranked", timeout=10).json()["alerts"]
        assert [a["alertname"] for a in ranked] == ["ScaledIngress"]
