"""`AlertDeskCore`: the single owner of the `AlertBook` (SQLite under the data directory)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sidecar.clock import SystemClock
from sidecar.config.schema import SalienceSettings
from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.book import AlertBook, FeedbackLabel, Placed
from sidecar.snapshot import AlertPoint, AnomalyPoint, Snapshot

__all__ = ["AlertDeskCore", "anomaly_index"]

log = logging.getLogger("sidecar.alerts")


RECENT_ANOMALY_S = 6 * 3600.0
"""How long a series stays on the on-call page's anomaly list after its episode ended."""
RECENT_ANOMALY_MAX = 50
"""Series at most on that list (the most recently anomalous)."""
EPISODE_SCORE = 0.9
"""What a series in an anomalous episode counts as after its onset, whose score it no longer
repeats (onset scoring): the default alarm threshold it crossed."""


def anomaly_index(points: Iterable[AnomalyPoint]) -> dict[tuple[str, str], float]:
    """Highest anomaly score per (label, value): how alerts find their related series."""
    out: dict[tuple[str, str], float] = {}
    for p in points:
        score = max(p.score, EPISODE_SCORE) if p.anomalous else p.score
        for kv in p.labels:
            if score > out.get(kv, -1.0):
                out[kv] = score
    return out


class AlertDeskCore:
    """Webhook ingest, feedback and ranking around one AlertBook."""

    def __init__(self, salience: SalienceSettings, data_dir: str) -> None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.clock = SystemClock()
        self.book = AlertBook(salience, Path(data_dir) / "alerts.sqlite")
        self.replaced_total = 0
        # (rule, labels) -> its latest point and when it was last anomalous
        self._recent: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[AnomalyPoint, float]] = {}

    def ingest_many(self, payloads: list[WebhookPayload]) -> list[int]:
        """Apply validated webhook bodies, in order; returns each one's alert count."""
        now = self.clock.now()
        for p in payloads:
            self.book.ingest(p, now)
            if p.replaced_characters:
                self.replaced_total += p.replaced_characters
                log.warning(
                    "webhook from %r: %d character(s) that are not valid Unicode replaced",
                    p.receiver,
                    p.replaced_characters,
                )
        return [len(p.alerts) for p in payloads]

    def feedback(self, fingerprint: str, label: FeedbackLabel) -> bool:
        return self.book.feedback(fingerprint, label, self.clock.now())

    def set_anomalies(self, points: Iterable[AnomalyPoint]) -> None:
        """The shards' latest anomaly points: related-anomaly signals for the book, and the
        series anomalous now or within RECENT_ANOMALY_S for the on-call page."""
        points = list(points)
        self.book.anomalies = anomaly_index(points)
        now = self.clock.now()
        for p in points:
            if p.last_anomalous is not None:
                self._recent[(p.rule, p.labels)] = (p, p.last_anomalous)
        kept = [kv for kv in self._recent.items() if kv[1][1] >= now - RECENT_ANOMALY_S]
        kept.sort(key=lambda kv: -kv[1][1])
        self._recent = dict(kept[:RECENT_ANOMALY_MAX])

    def recent_anomalies(self) -> list[tuple[AnomalyPoint, float]]:
        """Series anomalous now or lately, with when they last were: those anomalous now
        first, then by score."""
        return sorted(self._recent.values(), key=lambda pv: (not pv[0].anomalous, -pv[0].score))

    def ranked(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The firing alerts (the `limit` most salient), most salient first, with reasons."""
        now, order = self.order(limit)
        return self.present(order, now)

    def order(self, limit: int | None = None) -> tuple[float, list[Placed]]:
        """The part of a ranking that reads the book (the owner holds its lock for it)."""
        now = self.clock.now()
        return now, self.book.order(now, limit)

    def present(self, order: list[Placed], now: float) -> list[dict[str, Any]]:
        """The ranking's JSON with reasons; reads no book state (runs unlocked)."""
        out = []
        for placed in order:
            r = self.book.explain(placed, now)
            out.append(
                {
                    "fingerprint": r.fingerprint,
                    "alertname": r.alertname,
                    "salience": round(r.salience, 4),
                    "reasons": list(r.reasons),
                    "labels": r.labels,
                    "annotations": r.annotations,
                    "generatorURL": r.generator_url,
                    "firedBefore": placed.ctx.template_firings,
                    "startsAt": r.starts,
                    "episode": r.episode,
                    "incident": r.incident,
                }
            )
        return out

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        alerts = tuple(
            AlertPoint(r.fingerprint, r.alertname, r.salience)
            for r in self.book.ranked(now, reasons=False)
        )
        return Snapshot(
            taken_at=now,
            alerts=alerts,
            shard="alertdesk",
            # the characters of webhook text replaced because no store can encode them
            errors_total=(("unencodable_text", self.replaced_total),),
        )
