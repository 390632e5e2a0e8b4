"""AlertBook semantics: repeats, re-fires, out-of-order delivery, feedback, persistence."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sidecar.errors import SidecarError
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


def test_root_cause_names_what_it_explains() -> None:
    book = AlertBook()
    book.ingest(
        payload(
            alert("NodeNotReady", "root", T0, severity="warning", node="worker-3"),
            alert("PodCrashLooping", "p1", T0 + 5, pod="api-6d4f9c7b8-abcde", node="worker-3"),
            alert("HighErrorRate", "p2", T0 + 9, service="api", node="worker-3"),
        ),
        T0 + 30,
    )
    by = {r.fingerprint: r for r in book.ranked(T0 + 60)}
    assert (
        "likely root cause of 2 alert(s) on node worker-3: HighErrorRate, PodCrashLooping"
        in by["root"].reasons
    )
    assert "symptom of NodeNotReady on node worker-3" in by["p1"].reasons


def test_an_unrelated_infrastructure_alert_is_nobodys_root_cause() -> None:
    """A disk filling on a database host shares no label with pod alerts on other nodes:
    it explains none of them, and they are not its symptoms."""
    book = AlertBook()
    pods = [
        alert("PodCrashLooping", f"p{i}", T0 + i, severity="critical", pod=f"web-{i}", node="w1")
        for i in range(3)
    ]
    disk = alert("DiskSpaceLow", "disk", T0 + 10, severity="warning", instance="db-1")
    book.ingest(payload(*pods, disk), T0 + 30)
    ranked = book.ranked(T0 + 60)
    for r in ranked:
        assert not any("root cause" in why or "symptom" in why for why in r.reasons), r
    top = ranked[0]
    assert top.fingerprint != "disk" and top.labels["severity"] == "critical"
    incident = {r.fingerprint: r.incident for r in ranked}  # what may share a cause
    assert incident["p0"] == incident["p1"] == incident["p2"] == "p0"  # node w1 ties them
    assert incident["disk"] == "disk"


def test_one_reason_per_fact_for_a_new_alert() -> None:
    book = AlertBook()
    book.ingest(payload(alert("BrandNew", "a", T0, severity="critical")), T0 + 30)
    [r] = book.ranked(T0 + 60)
    assert "never seen before" in r.reasons
    assert not any("fired" in why for why in r.reasons), r.reasons


def test_noise_feedback_ranks_an_alert_below_its_equals_says_so_and_fades() -> None:
    day = 86400.0
    book = AlertBook()
    twins = (
        alert("QueueBacklog", "a", T0, severity="warning", queue="orders"),
        alert("QueueBacklog", "b", T0, severity="warning", queue="billing"),
    )
    book.ingest(payload(*twins), T0 + 30)
    before = {r.fingerprint: r.salience for r in book.ranked(T0 + 60)}
    assert before["a"] == before["b"]
    assert book.feedback("a", "noise", T0 + 90)
    ranked = book.ranked(T0 + 120)
    assert [r.fingerprint for r in ranked] == ["b", "a"]
    after = {r.fingerprint: r for r in ranked}
    assert after["a"].salience < before["a"] - 0.2  # visibly, not by a hair
    assert "operators marked this alert as noise (30s ago): lowered" in after["a"].reasons
    # the same alert firing again a week later is still pushed down, by less
    book.ingest(payload(alert("QueueBacklog", "a", T0, T0 + 600, queue="orders")), T0 + 600)
    book.ingest(payload(alert("QueueBacklog", "b", T0, T0 + 600, queue="billing")), T0 + 600)
    refire = (
        alert("QueueBacklog", "a", T0 + 7 * day, severity="warning", queue="orders"),
        alert("QueueBacklog", "b", T0 + 7 * day, severity="warning", queue="billing"),
    )
    book.ingest(payload(*refire), T0 + 7 * day + 30)
    week = {r.fingerprint: r for r in book.ranked(T0 + 7 * day + 60)}
    gap_week = week["b"].salience - week["a"].salience
    assert 0.0 < gap_week < after["b"].salience - after["a"].salience
    assert any("as noise (6d ago)" in why for why in week["a"].reasons)


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


V0_SCHEMA = """
CREATE TABLE firings (
    fingerprint TEXT NOT NULL, starts REAL NOT NULL, ends REAL,
    labels TEXT NOT NULL, annotations TEXT NOT NULL, template TEXT NOT NULL,
    workload TEXT NOT NULL, first_received REAL NOT NULL, last_received REAL NOT NULL,
    notifications INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (fingerprint, starts));
CREATE TABLE feedback (
    fingerprint TEXT NOT NULL, template TEXT NOT NULL, workload TEXT NOT NULL,
    label TEXT NOT NULL, at REAL NOT NULL);
"""
"""The book's file as the first release wrote it (schema version 0)."""


def test_a_first_release_book_is_migrated_and_keeps_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "book.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V0_SCHEMA)
    db.execute(
        "INSERT INTO firings VALUES (?,?,?,?,?,?,?,?,?,1)",
        ("old", T0, None, '{"alertname": "DiskFull"}', "{}", "DiskFull", "", T0, T0),
    )
    db.commit()
    db.close()
    book = AlertBook(path=path)
    [r] = book.ranked(T0 + 60)
    assert (r.fingerprint, r.alertname, r.generator_url) == ("old", "DiskFull", "")
    src = alert("CPUHigh", "new", T0 + 5)
    src["generatorURL"] = "http://prometheus:9090/graph?g0.expr=up"
    book.ingest(payload(src), T0 + 30)
    book.close()
    reopened = AlertBook(path=path)
    by = {r.fingerprint: r for r in reopened.ranked(T0 + 60)}
    assert by["new"].generator_url == "http://prometheus:9090/graph?g0.expr=up"
    assert reopened._db.execute("PRAGMA user_version").fetchone()[0] == 1
    reopened.close()


def test_a_book_from_a_newer_sidecar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.sqlite"
    AlertBook(path=path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(SidecarError, match="newer"):
        AlertBook(path=path)


@pytest.mark.parametrize(
    ("earlier_hours", "now_hour", "chronic"),
    [
        ((9.0, 9.2, 8.5), 9.0, True),  # three earlier days within the hour
        ((9.0, 9.2), 9.0, False),  # two are not "most days"
        ((15.0, 15.0, 15.0), 9.0, False),  # another time of day
        ((23.7, 23.9, 23.5), 24.3, True),  # across midnight: 00:18 is near 23:42
        ((10.5, 10.6, 10.4), 9.0, False),  # over an hour off
    ],
)
def test_an_alert_that_fires_at_this_hour_most_days_is_chronic(
    earlier_hours: tuple[float, ...], now_hour: float, chronic: bool
) -> None:
    day = 86400.0
    midnight = T0 - T0 % day
    book = AlertBook()
    for k, hour in enumerate(earlier_hours, start=1):
        starts = midnight - (len(earlier_hours) + 1 - k) * day + hour * 3600
        fired = alert("BatchLag", f"old{k}", starts, starts + 600, job="batch")
        book.ingest(payload(fired), starts + 700)
    starts = midnight + now_hour * 3600
    book.ingest(payload(alert("BatchLag", "now", starts, job="batch")), starts + 30)
    [r] = book.ranked(starts + 60)
    assert ("chronic: fires at this time most days" in r.reasons) is chronic, r.reasons
