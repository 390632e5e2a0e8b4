"""`POST /salience` events: free-form descriptions scored with the alert signals that apply.

Known keys are typed and validated (`type`, `severity`, `frequency`, `engagement`,
`duration`, `labels`); other keys are accepted and reported back as `unknown_keys`, never
a failure (lenient on what we receive). The mapping onto the alert signals:
`severity` (a name from the salience settings or a number in [0, 1]) → severity;
`frequency` in [0, 1] (how often this happens) → rarity; `duration` seconds → freshness;
`engagement` in [0, 1] (how much people act on it) → feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sidecar.salience.scorer import Salience, SalienceScorer, Signal

__all__ = ["Event", "EventSalience", "score_event"]

_KNOWN = ("type", "severity", "frequency", "engagement", "duration", "labels")


class Event(BaseModel):
    """One free-form event; unknown keys are kept in `unknown_keys`."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    type: str = Field(default="event", max_length=200)
    severity: str | float | None = None
    frequency: float | None = Field(default=None, ge=0, le=1)
    engagement: float | None = Field(default=None, ge=0, le=1)
    duration: float | None = Field(default=None, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)
    unknown_keys: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _note_unknown(cls, data: object) -> object:
        if isinstance(data, dict):
            extra = tuple(sorted(k for k in data if k not in _KNOWN and k != "unknown_keys"))
            if extra:
                data = {**data, "unknown_keys": extra}
        return data

    @model_validator(mode="after")
    def _severity_range(self) -> Event:
        if isinstance(self.severity, float) and not 0.0 <= self.severity <= 1.0:
            raise ValueError("severity as a number must be in [0, 1]")
        return self


@dataclass(frozen=True, slots=True)
class EventSalience:
    """The salience of one event, its reasons and the keys that were not understood."""

    salience: Salience
    unknown_keys: tuple[str, ...]


def score_event(event: Event, scorer: SalienceScorer) -> EventSalience:
    """Score one event with the signals that apply to it."""
    rules = scorer.rules
    signals: list[Signal] = []
    if rules.features.severity and event.severity is not None:
        if isinstance(event.severity, str):
            sev = rules.severities.get(event.severity.lower(), 0.3)
            label = event.severity
        else:
            sev, label = float(event.severity), f"{event.severity:g}"
        signals.append(Signal("severity", 2 * sev - 1, f"severity {label}"))
    if rules.features.rarity and event.frequency is not None:
        signals.append(Signal("rarity", 1 - 2 * event.frequency, f"frequency {event.frequency:g}"))
    if rules.features.fresh and event.duration is not None:
        signals.append(
            Signal("fresh", math.exp(-event.duration / 1800.0), f"lasted {event.duration:g}s")
        )
    if rules.features.feedback and event.engagement is not None:
        signals.append(
            Signal("feedback", 2 * event.engagement - 1, f"engagement {event.engagement:g}")
        )
    if rules.features.infrastructure and event.type in ("system_event", "infrastructure"):
        signals.append(Signal("infrastructure", 0.5, "system event"))
    return EventSalience(scorer.combine(signals), event.unknown_keys)
