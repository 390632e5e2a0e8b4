"""The rig's Alertmanager and Ray are the real thing: a pushed alert reaches the webhook."""

from __future__ import annotations

import json
import queue
import time
from datetime import UTC, datetime
from typing import Any

from tests.conftest import FIXTURES
from tests.rig import AlertmanagerServer, WebhookSink


def _next_payload(sink: WebhookSink, alertname: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no webhook for {alertname} within {timeout}s"
        try:
            payload = sink.received.get(timeout=remaining)
        except queue.Empty:
            continue
        if payload.get("commonLabels", {}).get("alertname") == alertname:
            return payload


def test_alert_pushed_to_alertmanager_reaches_the_webhook(
    alertmanager: AlertmanagerServer, webhook_sink: WebhookSink
) -> None:
    starts = datetime.now(UTC).isoformat()
    alertmanager.post_alerts(
        [
            {
                "labels": {"alertname": "RigDiskFull", "severity": "warning", "instance": "db-1"},
                "annotations": {"summary": "disk almost full"},
                "startsAt": starts,
                "generatorURL": "http://127.0.0.1/graph",
            }
        ]
    )
    payload = _next_payload(webhook_sink, "RigDiskFull")
    assert payload["version"] == "4"
    assert payload["status"] == "firing"
    assert payload["receiver"] == "sidecar"
    [alert] = payload["alerts"]
    assert alert["labels"]["instance"] == "db-1"
    assert alert["status"] == "firing"
    assert len(alert["fingerprint"]) == 16
    # The payload matches the captured fixture used by the salience tests in shape.
    captured = json.loads((FIXTURES / "alertmanager" / "firing.json").read_text())
    assert set(captured) <= set(payload) | {"receivedAt"}
    assert set(captured["alerts"][0]) == set(alert)


def test_local_ray_runs_tasks(ray_local: Any) -> None:
    def square(x: int) -> int:
        return x * x

    remote_square = ray_local.remote(square)
    assert ray_local.get([remote_square.remote(i) for i in range(4)]) == [0, 1, 4, 9]
