"""Real Alertmanager notifications, received by a real webhook_config, ranked by the AlertBook."""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime
from typing import Any

from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.book import AlertBook
from tests.rig import AlertmanagerServer, WebhookSink


def test_alertmanager_notifications_are_ranked(
    alertmanager: AlertmanagerServer, webhook_sink: WebhookSink
) -> None:
    now = datetime.now(UTC)
    alerts: list[dict[str, Any]] = [
        {
            "labels": {"alertname": "BookNodeNotReady", "severity": "warning", "node": "worker-7"},
            "startsAt": now.isoformat(),
        },
        {
            "labels": {
                "alertname": "BookHighErrorRate",
                "severity": "critical",
                "service": "cart",
                "node": "worker-7",
            },
            "startsAt": now.isoformat(),
        },
        {
            "labels": {"alertname": "BookKubeVersionMismatch", "severity": "info"},
            "startsAt": now.isoformat(),
        },
    ]
    alertmanager.post_alerts(alerts)
    book = AlertBook()
    wanted = {a["labels"]["alertname"] for a in alerts}
    deadline = time.monotonic() + 30
    while set(f.labels["alertname"] for f in book.firing.values()) != wanted:
        assert time.monotonic() < deadline, "alerts did not arrive through Alertmanager"
        try:
            body = webhook_sink.received.get(timeout=1)
        except queue.Empty:
            continue
        if not any(a["labels"]["alertname"] in wanted for a in body["alerts"]):
            continue  # a notification of another test
        book.ingest(WebhookPayload.model_validate(body), time.time())
    ranked = book.ranked(time.time())
    names = [r.alertname for r in ranked]
    assert names[-1] == "BookKubeVersionMismatch"  # info noise last
    assert set(names[:2]) == {"BookNodeNotReady", "BookHighErrorRate"}
    assert all(len(r.fingerprint) == 16 and r.reasons for r in ranked)
