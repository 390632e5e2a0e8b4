"""AlertBook semantics: repeats, re-fires, out-of-order delivery, feedback, persistence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.book import AlertBook

T0 = 1_800_000_000.0


def iso(t: float | None) -> str:
    if t is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def alert(
    name: str, fp: str, starts: float, ends: float | None = None, **labels: str
) -> dict[str, Any]:
    return {
        "status": "resolved" if ends is not None else "firing",
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "startsAt": iso(starts),
        "endsAt": iso(ends),
        "generatorURL": "",
        "fingerprint": fp,
    }


def payload(*alerts: dict[str, Any]) -> WebhookPayload:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return WebhookPayload.model_validate({"version": "4", "status": status, "alerts": list(alerts)})


def firings(book: AlertBook, fp: str) -> int:
    row = book._db.execute("SELECT COUNT(*) FROM firings WHERE fingerprint=?", (fp,)).fetchone()
    return int(row[0])


def test_repeats_and_duplicates_do_not_change_history() -> None:
    book = AlertBook()
    p = payload(alert("DiskFull", "a", T0, severity="warning"), alert("CPUHigh", "b", T0 + 5))
    for k in range(4):  # the first notification, a duplicate, and repeat notifications
        book.ingest(p, T0 + 30 + 3600 * k)
    assert firings(book, "a") == 1 and firings(book, "b") == 1
    assert set(book.firing) == {"a", "b"}
    assert book.firing["a"].notifications == 4


def test_resolve_then_refire_counts_twice() -> None:
    book = AlertBook()
    book.ingest(payload(alert("DiskFull", "a", T0)), T0 + 30)
    book.ingest(payload(alert("DiskFull", "a", T0, ends=T0 + 600)), T0 + 630)
    assert "a" not in book.firing
    book.ingest(payload(alert("DiskFull", "a", T0 + 3600)), T0 + 3630)
    assert firings(book, "a") == 2 and "a" in book.firing


def test_out_of_order_notifications_never_undo_newer_knowledge() -> None:
    book = AlertBook()
    book.ingest(payload(alert("X", "a", T0, ends=T0 + 300)), T0 + 330)  # the resolve arrives first
    book.ingest(payload(alert("X", "a", T0)), T0 + 340)  # a late firing notification of it
    assert "a" not in book.firing and firings(book, "a") == 1
    book.ingest(payload(alert("X", "a", T0 + 1000)), T0 + 1030)  # a new firing
    book.ingest(payload(alert("X", "a", T0, ends=T0 + 300)), T0 + 1040)  # stale resolve again
    assert "a" in book.firing and book.firing["a"].starts == T0 + 1000
    # a firing for an older, unseen start is history, not the current state
    book.ingest(payload(alert("X", "a", T0 + 500)), T0 + 1050)
    assert book.firing["a"].starts == T0 + 1000 and firings(book, "a") == 3


def test_missed_resolve_is_closed_by_the_next_firing() -> None:
    book = AlertBook()
    book.ingest(payload(alert("X", "a", T0)), T0 + 30)
    book.ingest(payload(alert("X", "a", T0 + 7200)), T0 + 7230)
    ends = book._db.execute(
        "SELECT ends FROM firings WHERE fingerprint='a' AND starts=?", (T0,)
    ).fetchone()
    assert ends[0] == T0 + 7200 and firings(book, "a") == 2


def test_feedback_moves_the_ranking_and_spreads_to_the_template() -> None:
    book = AlertBook()
    book.ingest(
        payload(
            alert("NoisyRule", "n1", T0, severity="critical", pod="api-6d4f9c7b8-abcde"),
            alert("DiskFillingUp", "d1", T0, severity="warning", node="w1"),
        ),
        T0 + 30,
    )
    before = {r.fingerprint: r.salience for r in book.ranked(T0 + 60)}
    assert book.feedback("n1", "noise", T0 + 90)
    after = {r.fingerprint: r.salience for r in book.ranked(T0 + 120)}
    assert after["n1"] < before["n1"] - 0.05
    assert not book.feedback("never-seen", "noise", T0)
    # the same rule on the next pod of the rollout shares the template: pushed down too
    control = AlertBook()
    for b in (book, control):
        b.ingest(
            payload(alert("NoisyRule", "n1", T0, severity="critical", pod="api-6d4f9c7b8-abcde")),
            T0 + 30,
        )
        b.ingest(
            payload(
                alert("NoisyRule", "n2", T0 + 200, severity="critical", pod="api-6d4f9c7b8-fghij")
            ),
            T0 + 230,
        )
    with_fb = book.salience_of("n2", T0 + 240)
    without = control.salience_of("n2", T0 + 240)
    assert with_fb is not None and without is not None
    assert with_fb.value < without.value
    assert dict(with_fb.contributions)["feedback"] < 0


def test_root_cause_ranks_above_its_symptoms() -> None:
    book = AlertBook()
    symptoms = [
        alert(
            "HighErrorRate",
            f"s{i}",
            T0 + i,
            severity="critical",
            service=f"svc{i}",
            node="worker-3",
        )
        for i in range(5)
    ]
    root = alert("NodeNotReady", "root", T0 + 120, severity="warning", node="worker-3")  # late
    book.ingest(payload(*symptoms), T0 + 30)
    book.ingest(payload(root), T0 + 150)
    ranked = book.ranked(T0 + 160)
    assert ranked[0].fingerprint == "root"
    assert any("root cause" in r for r in ranked[0].reasons)


def test_state_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "book.sqlite"
    book = AlertBook(path=db)
    book.ingest(payload(alert("A", "a", T0), alert("B", "b", T0)), T0 + 30)
    book.ingest(payload(alert("B", "b", T0, ends=T0 + 60)), T0 + 90)
    book.feedback("a", "actionable", T0 + 100)
    book.close()
    again = AlertBook(path=db)
    assert set(again.firing) == {"a"}
    assert firings(again, "b") == 1 and len(again._feedback) == 1
    again.close()
