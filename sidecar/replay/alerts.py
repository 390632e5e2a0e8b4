"""`sidecar alerts replay`: Alertmanager notifications (JSONL) through the `AlertBook`.

Each input line is a webhook payload with an extra `receivedAt` (RFC 3339), which is the
clock, or a feedback line `{"feedback": {"fingerprint": ..., "label": ...}, "receivedAt":
...}`. After each line is applied (durably, when `--db` is given) one output line lists
every firing alert once, most salient first: its fingerprint and salience (`ids`, the
format of ../shared/API.md), or also its alertname and reasons (`full`). A malformed line
stops the replay with its line number; the output keeps every line processed before it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sidecar.config.schema import SalienceSettings
from sidecar.errors import InputError
from sidecar.progress import progress
from sidecar.replay.streams import display_name, open_input, open_output
from sidecar.salience.alertmanager import WebhookPayload, parse_time
from sidecar.salience.book import AlertBook

__all__ = ["FORMATS", "FeedbackLine", "ReplayFormat", "replay_alerts"]

ReplayFormat = Literal["ids", "full"]
FORMATS: tuple[ReplayFormat, ...] = ("ids", "full")


class _Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fingerprint: str
    label: Literal["actionable", "noise"]


class FeedbackLine(BaseModel):
    """A feedback line of the replay format."""

    model_config = ConfigDict(extra="forbid")
    feedback: _Feedback
    receivedAt: str


def _field_path(exc: ValidationError) -> str:
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"])
    return f"{path}: {err['msg']}" if path else str(err["msg"])


def replay_alerts(
    src: str,
    dst: str,
    rules: SalienceSettings | None = None,
    db: str | None = None,
    fmt: ReplayFormat = "ids",
) -> int:
    """Replay `src` into `dst`; returns the number of lines processed."""
    full = fmt == "full"
    name = display_name(src, "<stdin>")
    book = AlertBook(rules, db)
    lines = 0
    try:
        with (
            open_input(src) as fin,
            open_output(dst, atomic=False) as fout,
            progress(
                fin.size,
                f"replay {Path(name).name}",
                unit="line" if fin.size is None else "B",
                unit_scale=True,
            ) as bar,
        ):
            for lineno, line in enumerate(fin.stream, start=1):
                bar.update(1 if fin.size is None else len(line.encode()))
                if not line.strip():
                    continue
                received, now = _apply(book, name, lineno, line)
                ranked: list[dict[str, Any]] = [
                    {"fingerprint": r.fingerprint, "salience": round(r.salience, 4)}
                    | ({"alertname": r.alertname, "reasons": list(r.reasons)} if full else {})
                    for r in book.ranked(now, reasons=full)
                ]
                fout.write(json.dumps({"receivedAt": received, "ranked": ranked}) + "\n")
                fout.flush()
                lines += 1
    except UnicodeDecodeError as exc:
        raise InputError(name, None, f"not UTF-8 text: {exc.reason}") from None
    finally:
        book.close()
    return lines


def _apply(book: AlertBook, src: str, lineno: int, line: str) -> tuple[str, float]:
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(src, lineno, f"not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(src, lineno, "expected a JSON object")
    received = data.get("receivedAt")
    try:
        now = parse_time(received) if isinstance(received, str) else None
    except ValueError:
        now = None
    if now is None:
        raise InputError(src, lineno, "receivedAt: missing or not an RFC 3339 time")
    try:
        if "feedback" in data:
            fb = FeedbackLine.model_validate(data)
            book.feedback(fb.feedback.fingerprint, fb.feedback.label, now)
        else:
            book.ingest(WebhookPayload.model_validate(data), now)
    except ValidationError as exc:
        raise InputError(src, lineno, _field_path(exc)) from None
    return str(received), now
