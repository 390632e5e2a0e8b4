"""Alertmanager webhook payloads (version 4): lenient on what we receive (`extra="ignore"`).

A notification carries every alert of one group, firing and resolved; repeats resend
alerts already known; an alert that resolves and fires again keeps its fingerprint and
gets a new `startsAt`. Unknown fields are ignored (Alertmanager's data grows), but their
names are kept in `unknown_fields` so the receiver can report them. Text that is not valid
Unicode (a lone surrogate, which JSON can carry and no store can encode) is replaced with
U+FFFD and counted in `replaced_characters`: the alerts beside it are never refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sidecar.unicode_text import replace_unencodable

__all__ = ["Alert", "WebhookPayload", "parse_time"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def parse_time(text: str | datetime | None) -> float | None:
    """RFC 3339 text → unix seconds; Alertmanager's zero time (year 1) → None."""
    if text is None:
        return None
    dt = (
        text
        if isinstance(text, datetime)
        else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    )
    if dt.year <= 1:
        return None
    return dt.timestamp()


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Alert(_Lenient):
    """One alert as Alertmanager sends it."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1)

    @property
    def starts(self) -> float:
        value = parse_time(self.startsAt)
        return 0.0 if value is None else value

    @property
    def ends(self) -> float | None:
        return parse_time(self.endsAt)

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")


class WebhookPayload(_Lenient):
    """The body Alertmanager POSTs to a `webhook_config` receiver."""

    version: Literal["4"] = "4"
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = 0
    alerts: list[Alert]
    unknown_fields: tuple[str, ...] = ()
    replaced_characters: int = 0

    @model_validator(mode="before")
    @classmethod
    def _note_unknown(cls, data: Any) -> Any:
        data, replaced = replace_unencodable(data)
        if isinstance(data, dict):
            known = set(cls.model_fields) - {"unknown_fields", "replaced_characters"}
            extra = sorted(k for k in data if k not in known and k != "receivedAt")
            data = {**data, "unknown_fields": tuple(extra), "replaced_characters": replaced}
        return data
