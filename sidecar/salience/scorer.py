"""`SalienceScorer`: how much a human should look at an alert now, in [0, 1], with reasons.

Each signal gives a value in about [-1, 1] (positive = look, negative = can wait); the
salience is the logistic of the weighted sum (weights and switches from the salience rule
file) plus a bias, so signals add up as evidence and one strong signal cannot exceed 1.
The reasons are the signals that moved the score most, in words.

Signals that need history or an episode come in an `AlertContext`; without one (a lone
event, `POST /salience`) only the alert's own attributes count.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sidecar.config.schema import SalienceSettings

__all__ = [
    "BIAS",
    "AlertContext",
    "Prepared",
    "Salience",
    "SalienceScorer",
    "Signal",
    "age_text",
]

BIAS = -0.5
UNKNOWN_SEVERITY = 0.3
_ALWAYS_SAID = ("feedback",)
"""Signals whose reason is always reported when they count: the operators who gave the
feedback must see that it was taken."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal's value in [-1, 1] and the words that explain it."""

    name: str
    value: float
    reason: str


@dataclass(frozen=True, slots=True)
class Salience:
    """Salience in [0, 1] and the top reasons, most influential first."""

    value: float
    reasons: tuple[str, ...]
    contributions: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class AlertContext:
    """What the alert book knows around one alert (every field optional)."""

    starts: float | None = None  # when this firing started
    template_firings: int | None = None  # earlier firings of the template within history
    template_new: bool = False  # first firing of this template ever seen
    fingerprint_firings_24h: int = 0  # firings of this very alert in the last day
    duration_chronic: bool = False  # firing for a long time already
    daily_recurring: bool = False  # fires at about this hour on most days
    repeat_notification: bool = False  # a notification for a firing already known
    episode_size: int = 1  # alerts in its episode
    episode_workloads: int = 1  # distinct workloads in its episode
    root_cause: float = 0.0  # +1 likely cause of its episode, -1 explained symptom
    root_reason: str = ""
    harmless: float = 0.0  # -1 maintenance / error-free load surge
    harmless_reason: str = ""
    anomaly: float | None = None  # highest related anomaly score in [0, 1]
    feedback: float = 0.0  # in (-1, 1): actionable > 0, noise < 0
    feedback_reason: str = ""
    incident: str = ""  # the alerts that share a cause share this (the first one's fingerprint)
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Signals with their contributions worked out (see `SalienceScorer.prepare`)."""

    contributions: tuple[tuple[str, float], ...]
    total: float  # the contributions summed left to right
    ranked: tuple[tuple[Signal, float], ...]  # those with a reason that count, strongest
    # first (a stable sort: ties keep the signals' order)
    pinned: tuple[tuple[Signal, float], ...]  # those of them always said, in order


def _strength(sc: tuple[Signal, float]) -> float:
    return -abs(sc[1])


class SalienceScorer:
    """Scores alerts (labels + context) with the weights of the salience settings."""

    def __init__(self, rules: SalienceSettings | None = None) -> None:
        self.rules = SalienceSettings() if rules is None else rules

    def signals(
        self,
        labels: Mapping[str, str],
        ctx: AlertContext | None,
        infrastructure: bool = False,
        now: float | None = None,
        include_time: bool = True,
    ) -> list[Signal]:
        """Every enabled signal that applies to this alert (`now` for the age-based ones)."""
        f = self.rules.features
        out: list[Signal] = []
        sev_name = labels.get(self.rules.severity_label, "")
        if f.severity:
            sev = self.rules.severities.get(sev_name.lower(), UNKNOWN_SEVERITY)
            out.append(Signal("severity", 2 * sev - 1, f"severity {sev_name or 'unset'}"))
        if f.infrastructure and infrastructure:
            out.append(Signal("infrastructure", 1.0, "infrastructure or stateful component"))
        if ctx is None:
            return out
        long_running = ctx.duration_chronic or ctx.daily_recurring
        novel = f.novelty and ctx.template_new and not long_running
        if f.rarity and ctx.template_firings is not None and not long_running:
            n = ctx.template_firings
            v = 1 - 2 * min(1.0, math.log1p(n) / math.log1p(30))
            span = age_text(self.rules.history)
            if n == 0:  # one fact, one reason: a new template says "never seen before"
                why = "" if novel else f"not fired in the last {span}"
            else:
                why = f"fired {n} time{'s' * (n != 1)} in the last {span}"
            out.append(Signal("rarity", v, why))
        if novel:
            out.append(Signal("novelty", 0.5, "never seen before"))
        if include_time and now is not None and ctx.starts is not None:
            out += self.time_signals(ctx, now - ctx.starts)
        if f.flapping and ctx.fingerprint_firings_24h >= 2:
            k = ctx.fingerprint_firings_24h
            out.append(
                Signal("flapping", -min(1.0, (k - 1) / 4), f"flapping: fired {k} times in 24h")
            )
        if f.chronic and long_running:
            why = "fires at this time most days" if ctx.daily_recurring else "firing for hours"
            out.append(Signal("chronic", -1.0, f"chronic: {why}"))
        if f.blast_radius and ctx.episode_size > 1 and not long_running:
            v = min(1.0, math.log2(1 + ctx.episode_workloads) / 4 + math.log2(ctx.episode_size) / 8)
            out.append(
                Signal(
                    "blast_radius",
                    v,
                    f"episode of {ctx.episode_size} alerts across "
                    f"{ctx.episode_workloads} workload(s)",
                )
            )
        if f.root_cause and ctx.root_cause:
            out.append(Signal("root_cause", ctx.root_cause, ctx.root_reason))
        if f.harmless and ctx.harmless:
            out.append(Signal("harmless", ctx.harmless, ctx.harmless_reason))
        if f.anomaly and ctx.anomaly is not None and ctx.anomaly > 0.5:
            out.append(
                Signal(
                    "anomaly", 2 * ctx.anomaly - 1, f"related series anomalous ({ctx.anomaly:.2f})"
                )
            )
        if f.feedback and ctx.feedback:
            out.append(Signal("feedback", ctx.feedback, ctx.feedback_reason))
        return out

    def time_signals(self, ctx: AlertContext, age: float) -> list[Signal]:
        """The signals that change with the clock alone (freshness)."""
        if not self.rules.features.fresh:
            return []
        if ctx.repeat_notification and age > 3600:
            return [Signal("fresh", -0.5, "repeat notification of a long-running alert")]
        return [Signal("fresh", math.exp(-max(age, 0.0) / 1800.0), f"started {age_text(age)} ago")]

    def logit(self, signals: list[Signal]) -> float:
        """BIAS plus the weighted signals: the salience before the logistic."""
        w = self.rules.weights
        return BIAS + sum(float(getattr(w, s.name)) * s.value for s in signals)

    def combine(self, signals: list[Signal]) -> Salience:
        """Logistic of the weighted signals plus the bias, with the top reasons."""
        return self.combine_prepared(self.prepare(signals), ())

    def prepare(self, signals: list[Signal]) -> Prepared:
        """The weighted contributions of `signals`, worked out once: an alert's signals that
        do not change with the clock, combined again at every ranking (`combine_prepared`)."""
        w = self.rules.weights
        contributions = tuple((s, getattr(w, s.name) * s.value) for s in signals)
        said = tuple(sc for sc in contributions if sc[1] != 0 and sc[0].reason)
        return Prepared(
            tuple((s.name, c) for s, c in contributions),
            sum(c for _, c in contributions),
            tuple(sorted(said, key=_strength)),
            tuple(sc for sc in said if sc[0].name in _ALWAYS_SAID),
        )

    def combine_prepared(self, prepared: Prepared, more: Sequence[Signal]) -> Salience:
        """`combine(prepared signals + more)`, to the bit, without redoing the prepared part."""
        w = self.rules.weights
        most = self.rules.top_reasons
        total, contributions = prepared.total, prepared.contributions
        top = list(prepared.ranked[:most])  # a prepared reason past these can never rise
        pinned = list(prepared.pinned)
        for s in more:  # the same left-to-right sum, and the same stable order, as one list
            c = getattr(w, s.name) * s.value
            total += c
            contributions += ((s.name, c),)
            if c != 0 and s.reason:
                top.insert(bisect.bisect_right(top, -abs(c), key=_strength), (s, c))
                if s.name in _ALWAYS_SAID:
                    pinned.append((s, c))
        value = 1.0 / (1.0 + math.exp(-(BIAS + total)))
        del top[most:]
        pinned = [sc for sc in pinned if sc not in top]
        if pinned:  # an operator's feedback is always named, in place of the weakest reason
            top = top[: max(0, len(top) - len(pinned))] + pinned
        return Salience(value, tuple([s.reason for s, _ in top]), contributions)

    def value_and_reasons(
        self, prepared: Prepared, more: Sequence[Signal], seen: dict[Any, Any]
    ) -> tuple[float, tuple[str, ...]]:
        """`combine_prepared`'s value and reasons, the reasons kept in `seen` per prepared
        signals and per place and words of the others (a ranking asks again for every alert
        at every request, and only the clock's signal has moved)."""
        if len(more) > 1:  # their order among themselves would be part of the key
            sal = self.combine_prepared(prepared, more)
            return sal.value, sal.reasons
        w = self.rules.weights
        total = prepared.total
        places = []
        for s in more:
            c = getattr(w, s.name) * s.value
            total += c
            said = c != 0 and bool(s.reason)
            at = bisect.bisect_right(prepared.ranked, -abs(c), key=_strength) if said else -1
            places.append((s.name, s.reason, at))
        value = 1.0 / (1.0 + math.exp(-(BIAS + total)))
        key = (id(prepared), tuple(places))
        hit = seen.get(key)
        if hit is None or hit[0] is not prepared:
            hit = seen[key] = (prepared, self.combine_prepared(prepared, more).reasons)
        return value, hit[1]

    def score(
        self,
        labels: Mapping[str, str],
        ctx: AlertContext | None = None,
        infrastructure: bool = False,
        now: float | None = None,
    ) -> Salience:
        """Salience of one alert or event."""
        return self.combine(self.signals(labels, ctx, infrastructure, now))


def age_text(seconds: float) -> str:
    """`45s`, `12m`, `5h` or `3d`: an age in reasons."""
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"
