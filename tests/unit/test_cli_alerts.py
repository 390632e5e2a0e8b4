"""`sidecar alerts replay`: one output line per input line; bad lines exit 2; crash-safe with
--db."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sidecar.salience.book import AlertBook
from tests.conftest import FIXTURES, ROOT
from tests.unit.test_alert_book import T0, alert, iso
from tests.unit.test_cli_check import run_cli


def note(t: float, *alerts: dict[str, object]) -> str:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return json.dumps(
        {"version": "4", "status": status, "alerts": list(alerts), "receivedAt": iso(t)}
    )


def test_one_line_per_input_line_every_firing_alert_once(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    captured = json.loads((FIXTURES / "alertmanager" / "firing.json").read_text())
    lines = [
        note(
            T0 + 30, alert("A", "a", T0, severity="critical"), alert("B", "b", T0, severity="info")
        ),
        note(T0 + 40, alert("A", "a", T0, severity="critical")),  # repeat
        json.dumps(
            {"feedback": {"fingerprint": "a", "label": "noise"}, "receivedAt": iso(T0 + 50)}
        ),
        note(T0 + 60, alert("B", "b", T0, ends=T0 + 55, severity="info")),
        json.dumps(captured),  # a real Alertmanager payload, captured from the rig
    ]
    src.write_text("\n".join(lines) + "\n")
    done = run_cli("alerts", "replay", str(src), "-o", str(dst))
    assert done.returncode == 0, done.stderr
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert len(out) == 5
    assert [o["receivedAt"] for o in out[:4]] == [iso(T0 + t) for t in (30, 40, 50, 60)]
    assert [r["fingerprint"] for r in out[0]["ranked"]] == ["a", "b"]  # critical above info
    assert out[2]["ranked"][0]["salience"] < out[1]["ranked"][0]["salience"]  # feedback moved it
    assert [r["fingerprint"] for r in out[3]["ranked"]] == ["a"]
    assert {r["fingerprint"] for r in out[4]["ranked"]} == {
        "a",
        captured["alerts"][0]["fingerprint"],
    }
    for o in out:
        fps = [r["fingerprint"] for r in o["ranked"]]
        assert len(fps) == len(set(fps))
        assert all(0.0 <= r["salience"] <= 1.0 for r in o["ranked"])
        sal = [r["salience"] for r in o["ranked"]]
        assert sal == sorted(sal, reverse=True)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "in.jsonl:2: not JSON"),
        ('{"version": "4", "status": "firing", "alerts": []}', "in.jsonl:2: receivedAt: missing"),
        (
            json.dumps(
                {"status": "firing", "alerts": [{"status": "firing"}], "receivedAt": iso(T0)}
            ),
            "in.jsonl:2: alerts.0.labels: Field required",
        ),
        (
            json.dumps({"feedback": {"fingerprint": "a", "label": "meh"}, "receivedAt": iso(T0)}),
            "in.jsonl:2: feedback.label",
        ),
    ],
)
def test_malformed_line_exits_2_with_its_number(tmp_path: Path, bad: str, message: str) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(note(T0 + 30, alert("A", "a", T0)) + "\n" + bad + "\n")
    done = run_cli("alerts", "replay", str(src), "-o", str(dst))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(dst.read_text().splitlines()) == 1  # the good line before it was written


def test_full_format_names_each_alert_and_says_why(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(note(T0 + 30, alert("DiskFull", "a", T0, severity="critical")) + "\n")
    by_format = {}
    for fmt in ("ids", "full"):
        dst = tmp_path / f"{fmt}.jsonl"
        done = run_cli("alerts", "replay", str(src), "-o", str(dst), "--format", fmt)
        assert done.returncode == 0, done.stderr
        [line] = dst.read_text().splitlines()
        by_format[fmt] = json.loads(line)["ranked"][0]
    assert set(by_format["ids"]) == {"fingerprint", "salience"}  # API.md's shape for scripts
    full = by_format["full"]
    assert full["alertname"] == "DiskFull" and full["salience"] == by_format["ids"]["salience"]
    assert "severity critical" in full["reasons"] and "never seen before" in full["reasons"]
    default = run_cli("alerts", "replay", str(src), "-o", str(tmp_path / "d.jsonl"))
    assert default.returncode == 0
    assert set(json.loads((tmp_path / "d.jsonl").read_text())["ranked"][0]) == {
        "fingerprint",
        "salience",
    }  # not a terminal: ids


def test_killed_replay_keeps_every_acknowledged_alert(tmp_path: Path) -> None:
    src, dst, db = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "book.sqlite"
    lines = [
        note(T0 + 60 * i, alert("Alert", f"fp{i}", T0 + 60 * i, n=str(i))) for i in range(20000)
    ]
    src.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar",
            "alerts",
            "replay",
            str(src),
            "-o",
            str(dst),
            "--db",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if dst.exists() and len(dst.read_text().splitlines()) >= 300:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    acknowledged = [json.loads(x) for x in dst.read_text().splitlines() if x.endswith("}")]
    assert 300 <= len(acknowledged) < 20000
    book = AlertBook(path=db)
    seen = {r[0] for r in book._db.execute("SELECT fingerprint FROM firings")}
    assert {f"fp{i}" for i in range(len(acknowledged))} <= seen
    assert {r["fingerprint"] for r in acknowledged[-1]["ranked"]} <= set(book.firing)
    book.close()
