"""`Snapshot`: the immutable result of a tick, which the exporter renders at scrape time.

One owner builds it (a Scheduler shard's `Engine`, or the `AlertDesk`), then swaps its
reference; readers never see a half-built state and never lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AlertPoint",
    "AnomalyPoint",
    "CapacityPoint",
    "ForecastPoint",
    "ReplicaPoint",
    "RightsizePoint",
    "RuleHealth",
    "Snapshot",
]

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class AnomalyPoint:
    """The latest score of one series of a detector rule."""

    rule: str
    labels: Labels
    metric: str
    score: float
    lower: float | None
    upper: float | None
    anomalous: bool
    t: float
    observed: float | None = None  # the driver metric's latest value
    last_anomalous: float | None = None  # when the series last had an anomalous verdict
    peak: float | None = None  # the highest score of that (or the current) episode


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """The forecast of one series at the rule's horizon (for time `t`)."""

    rule: str
    labels: Labels
    t: float
    mean: float
    lower: float
    upper: float
    model: str


@dataclass(frozen=True, slots=True)
class ReplicaPoint:
    """The replica recommendation of one series of a scaling rule."""

    rule: str
    labels: Labels
    replicas: int
    hpa_value: float
    current: int | None
    dry_run: bool


@dataclass(frozen=True, slots=True)
class CapacityPoint:
    """The capacity per replica a scaling rule uses for one series, learned or configured."""

    rule: str
    labels: Labels
    value: float
    learned: bool
    lower: float | None
    upper: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class RightsizePoint:
    """One recommended resource (`cpu_request`, `memory_request`, `memory_limit`) of a container."""

    rule: str
    labels: Labels
    resource: str
    value: float
    lower: float
    upper: float
    reason: str


@dataclass(frozen=True, slots=True)
class RuleHealth:
    """How the last run of one rule went."""

    rule: str
    kind: str  # "detector", "forecast" or "rightsizing"
    success: bool
    duration_s: float
    last_success: float | None
    series: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class AlertPoint:
    """A firing alert's salience, for the exported gauge."""

    fingerprint: str
    alertname: str
    salience: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one owner exports, as of `taken_at`."""

    taken_at: float = 0.0
    anomalies: tuple[AnomalyPoint, ...] = ()
    forecasts: tuple[ForecastPoint, ...] = ()
    replicas: tuple[ReplicaPoint, ...] = ()
    capacities: tuple[CapacityPoint, ...] = ()
    rightsizing: tuple[RightsizePoint, ...] = ()
    rules: tuple[RuleHealth, ...] = ()
    alerts: tuple[AlertPoint, ...] = ()
    errors_total: tuple[tuple[str, int], ...] = ()  # by kind, monotonic
    nonfinite_samples_total: tuple[tuple[str, int], ...] = ()  # by rule, monotonic
    source_up: bool | None = None
    reload_success: bool | None = None
    reload_success_at: float | None = None
    tick_duration_s: float | None = None
    ticks_skipped_total: int = 0
    checkpoint_load_errors_total: int | None = None  # None: this owner keeps no checkpoint
    checkpoint_bytes: int | None = None  # of the last checkpoint written
    checkpoint_written_at: float | None = None
    shard: str = ""
    extra: dict[str, float] = field(default_factory=dict)
