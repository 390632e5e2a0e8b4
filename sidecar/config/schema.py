"""Pydantic models of the YAML rule files: frozen, `extra="forbid"`, defaults only here.

A rule file is a mapping with any of five sections (`settings`, `detectors`, `forecasts`,
`rightsizing`, `salience`); several files merge into one `Rules`. Every field has a description,
from
which rules/README.md's reference is generated (`python -m sidecar.config.reference`).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sidecar.config.durations import Duration, PositiveDuration, format_duration
from sidecar.config.promql import check_promql
from sidecar.config.quantities import Quantity

__all__ = [
    "ChangePointDetector",
    "DetectorRule",
    "DetectorSpec",
    "ForecastRule",
    "IsolationForestDetector",
    "LearnCapacity",
    "RightsizingPolicy",
    "RightsizingRule",
    "RobustDeviationDetector",
    "RuleFile",
    "SalienceFeatures",
    "SalienceSettings",
    "SalienceWeights",
    "ScalingPolicy",
    "SeasonalRobustZDetector",
    "Settings",
    "ThresholdSpec",
]


class _Strict(BaseModel):
    """Base of every model we own: unknown keys are errors and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _promql(value: str) -> str:
    problem = check_promql(value)
    if problem is not None:
        raise PydanticCustomError("promql", "invalid PromQL: {problem}", {"problem": problem})
    return value


PromQL = Annotated[str, StringConstraints(strip_whitespace=True), Field(min_length=1)]
_RULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:.-]{0,127}")


def _rule_name(value: str) -> str:
    if not _RULE_NAME.fullmatch(value):
        raise PydanticCustomError(
            "rule_name",
            "rule names start with a letter or _ and use only letters, digits, _ : . - "
            "(at most 128 characters)",
        )
    return value


RuleName = Annotated[str, AfterValidator(_rule_name)]
LabelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Season = Literal["auto", "none"] | PositiveDuration
ShardBy = Annotated[
    tuple[LabelName, ...],
    Field(
        description="Labels every selector of the query carries and every result series keeps "
        "(e.g. `[instance]`) to split the rule by series: with `settings.shards` above 1 every "
        "shard runs the rule and keeps the series whose values hash to it, and `sidecar train` "
        "cuts the series into chunks by their values, one query per chunk with the values "
        "matched in each selector. Empty: the rule lives on one shard and trains as one chunk."
    ),
]
Fraction = Annotated[float, Field(gt=0, lt=1)]


# ---------------------------------------------------------------------------------------
# Process settings
# ---------------------------------------------------------------------------------------


class Settings(_Strict):
    """How the process runs; every key can be overridden by `SIDECAR_<KEY>` in the environment."""

    prometheus_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:9090"),
        description="Base URL of the Prometheus HTTP API the sidecar reads.",
    )
    alertmanager_url: AnyHttpUrl | None = Field(
        default=None,
        description="Alertmanager base URL, used only for links (the on-call page's "
        "pre-filled silences).",
    )
    grafana_url: AnyHttpUrl | None = Field(
        default=None,
        description="Grafana base URL, used only for links from the on-call page to the "
        "shipped rule dashboard (`/d/sidecar-rule`).",
    )
    listen_host: str = Field(default="127.0.0.1", description="Address the HTTP endpoints bind.")
    listen_port: int = Field(
        default=8000, ge=1, le=65535, description="Port of the HTTP endpoints."
    )
    interval: PositiveDuration = Field(
        default=30.0, description="How often every rule is evaluated (a Prometheus duration)."
    )
    checkpoint_interval: Duration = Field(
        default=300.0,
        description="How often each scheduler shard saves its learned state to "
        "`data_dir/checkpoints` (also on shutdown); a restart loads it and queries Prometheus "
        "only from where it left off. 0s = never.",
    )
    data_dir: str = Field(
        default="data", description="Directory for the SQLite state (alert history, feedback)."
    )
    shards: PositiveInt = Field(
        default=1, description="Scheduler shards; rules are split between them by a stable hash."
    )
    query_timeout: PositiveDuration = Field(
        default=10.0, description="Timeout of one Prometheus request (also sent as its `timeout`)."
    )
    query_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed Prometheus request, with backoff."
    )
    webhook_token: str | None = Field(
        default=None,
        description="Bearer token of the writes (POST /alerts, /alerts/feedback, /-/reload); "
        "none = no check.",
    )
    read_token: str | None = Field(
        default=None,
        description="Bearer token of GET /alerts/ranked (alert labels and annotations); the "
        "webhook token also reads; none = open.",
    )
    ray_dashboard: bool = Field(
        default=False,
        description="Start the Ray dashboard on 127.0.0.1:8265 with the embedded Ray (11 more "
        "processes, about 220 MB more memory).",
    )
    ingress_min_replicas: PositiveInt = Field(
        default=1, description="Fewest replicas of the stateless HTTP ingress (Serve autoscaling)."
    )
    ingress_max_replicas: PositiveInt = Field(
        default=1, description="Most replicas of the HTTP ingress; above min enables autoscaling."
    )

    @field_validator("ingress_max_replicas")
    @classmethod
    def _ingress_max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("ingress_min_replicas")
        if isinstance(low, int) and value < low:
            raise PydanticCustomError(
                "replicas", "must be at least ingress_min_replicas ({low})", {"low": low}
            )
        return value

    ingress_target_ongoing_requests: PositiveFloat = Field(
        default=32.0, description="Ongoing requests per ingress replica Serve's autoscaler aims at."
    )
    ingress_max_ongoing_requests: PositiveInt = Field(
        default=200, description="Requests one ingress replica takes at once before queueing."
    )
    ingress_resources: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Custom Ray resources each ingress replica needs, to keep the HTTP front on "
        "the nodes that offer them (e.g. `{head_node: 0.01}` with `ray start --resources "
        "'{\"head_node\": 1}'` on the node the Service points at).",
    )
    scheduler_cpus: PositiveFloat = Field(
        default=0.25,
        description="CPUs each scheduler shard reserves on its Ray node. 1 spreads the shards "
        "one a core (Ray places a shard where that much is free, and moves it to another node "
        "when its node dies).",
    )
    http_mode: Literal["direct", "proxy"] = Field(
        default="direct",
        description="`direct`: the ingress replica serves HTTP on listen_port itself (Ray Serve's "
        "direct ingress, about 10x the throughput); `proxy`: through Serve's HTTP proxy actor. "
        "With `direct`, each further ingress replica on one node takes the next port.",
    )
    access_log: bool = Field(
        default=False,
        description="Log every HTTP request in the Serve replica logs (costs about a fifth of "
        "the ingress throughput).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe log lines written (`sidecar run --log-level`)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text`: one line per record; `json`: one JSON object per line "
        "(time, level, logger, message), for log pipelines (`sidecar run --log-format`).",
    )
    ray_metrics_port: int | None = Field(
        default=8080,
        ge=1,
        le=65535,
        description="Port of the embedded Ray's own Prometheus metrics; null = none.",
    )


# ---------------------------------------------------------------------------------------
# Anomaly detectors
# ---------------------------------------------------------------------------------------


class _UnivariateParams(_Strict):
    season: Season = Field(
        default="auto",
        description="Season length (`1d`, `1w`, ...), `none`, or `auto`: a day, a week and a "
        "period found in the series' own recent history (any other cycle of four samples to "
        "14 hours at 5-minute sampling, to 7 days at hourly: a batch job, a shift, a cron) are "
        "tried and the one that explains the data best is used (a day or a week only once "
        "seen in full after the first half of the shortest: 1.5 days, 7.5 days; a found "
        "period once the history holds three cycles).",
    )
    window: PositiveInt = Field(
        default=120,
        description="Memory of the level, in samples; the scale (sigma) remembers 3 times as long.",
    )
    warmup: PositiveInt = Field(default=20, description="Samples learned before scores are given.")
    onset_window: PositiveInt | None = Field(
        default=240,
        description="Score each episode at its onset: a sample scores when it beats every "
        "score of its last `onset_window` samples, but at most 4 hours of them and at "
        "least 4 (240 is 4 hours at 1 minute, 48 at 5 minutes, 4 at hourly steps), not "
        "counting samples 5 sigma or more off the baseline (later samples of the same "
        "episode score 0, however long it lasts; the verdict `sidecar_anomaly` stays 1 while "
        "the series is 5 sigma or more off its baseline), and such a run is learned as one "
        "sample, so an incident does not teach the calibration that its values are normal. "
        "null: the score stays high while the series is off its baseline.",
    )


class RobustDeviationDetector(_UnivariateParams):
    """Point anomalies, level shifts and frozen values (the default): the largest robust
    z-score of a sample against its seasonal baseline learned online and against the median
    of its recent history (the last 512 sampling intervals), calibrated against a prior worth
    5,000 samples, then confirmed: a sample within 5 robust spreads of that median scores in
    proportion to its distance from it. Best on real operations series; a value that is
    wrong only for the time of day (traffic at its night level at noon) is ordinary to the
    history, so it is missed: use `seasonal_robust_z` where such values matter."""

    kind: Literal["robust_deviation"] = Field(description="Selects this detector.")


class SeasonalRobustZDetector(_UnivariateParams):
    """Point anomalies: robust z-score against a seasonal baseline learned online, read without
    the history's confirmation, so a value wrong for the time of day is found (the choice for
    strongly seasonal series; more false alarms on real operations series than the default).
    A second statistic, the median of the last three residuals, is calibrated on its own: in
    heavy-tailed noise two of three samples off are rare where one is not. A third, the drift
    (how far the level moved in its last ~0.6 `window` samples), finds ramps that re-levelling
    follows. At 30-minute and coarser sampling it also reads sustained changes (the CUSUM)."""

    kind: Literal["seasonal_robust_z"] = Field(description="Selects this detector.")


class ChangePointDetector(_UnivariateParams):
    """Sustained changes in level, variance (CUSUM) and trend (the drift: how far the level
    moved lately); adapts to the new normal."""

    kind: Literal["change_point"] = Field(description="Selects this detector.")


class IsolationForestDetector(_Strict):
    """Multivariate: an IsolationForest fitted on a recent window of all columns of a target."""

    kind: Literal["isolation_forest"] = Field(description="Selects this detector.")
    window: PositiveInt = Field(default=1000, description="Recent samples the forest is fitted on.")
    n_estimators: PositiveInt = Field(default=100, description="Trees in the forest.")
    refit_every: PositiveInt = Field(default=250, description="Refit after this many new samples.")
    warmup: PositiveInt = Field(default=50, description="Samples learned before scores are given.")
    seed: int = Field(default=0, description="Random seed (fits are reproducible).")


DetectorSpec = Annotated[
    SeasonalRobustZDetector
    | RobustDeviationDetector
    | ChangePointDetector
    | IsolationForestDetector,
    Field(discriminator="kind"),
]


class ThresholdSpec(_Strict):
    """When a score becomes an anomaly: give at most one of `false_alarm_rate`, `fixed`, `quantile`.

    Scores are calibrated per series (a score s means the series' own history puts the
    deviation's tail probability at 0.001 * (1/s - 1)), so a false-alarm rate maps to one
    score threshold for every series. The default is `false_alarm_rate: 0.0001`.
    """

    false_alarm_rate: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        default=None,
        description="Expected fraction of normal samples flagged (0.0001 = 1 in 10,000); "
        "the default policy, at 0.0001.",
    )
    fixed: float | None = Field(
        default=None, ge=0, le=1, description="Anomalous when the score is at least this."
    )
    quantile: Fraction | None = Field(
        default=None,
        description="Anomalous above this streaming quantile of the series' own past scores "
        "(and at least `min_score`).",
    )
    min_score: float = Field(
        default=0.5, ge=0, le=1, description="Floor of the `quantile` policy's threshold."
    )
    protect: bool = Field(
        default=False,
        description="Do not learn anomalous points as normal (change detection still sees "
        "them). Off by default: on the development benchmark it raised false alarms.",
    )

    @model_validator(mode="after")
    def _one_policy(self) -> ThresholdSpec:
        given = [
            n for n in ("false_alarm_rate", "fixed", "quantile") if getattr(self, n) is not None
        ]
        if len(given) > 1:
            raise PydanticCustomError(
                "threshold",
                "give one of `false_alarm_rate`, `fixed` or `quantile`, not {given}",
                {"given": " and ".join(given)},
            )
        return self

    @property
    def policy(self) -> Literal["fixed", "quantile"]:
        """`quantile` for a streaming quantile, `fixed` for everything else."""
        return "quantile" if self.quantile is not None else "fixed"

    @property
    def score_threshold(self) -> float:
        """The fixed score threshold in force (from `fixed` or the false-alarm rate)."""
        if self.fixed is not None:
            return self.fixed
        rate = 1e-4 if self.false_alarm_rate is None else self.false_alarm_rate
        return CALIBRATION_P_HALF / (rate + CALIBRATION_P_HALF)


CALIBRATION_P_HALF = 1e-3
"""Tail probability that scores 0.5 (sidecar.detect.calibration.P_HALF; kept equal by a test)."""


class DetectorRule(_Strict):
    """One anomaly rule: which PromQL to watch and how to score it."""

    name: RuleName = Field(description="Unique rule name; becomes the `rule` label.")
    query: PromQL | None = Field(
        default=None, description="PromQL; every series it returns is scored on its own."
    )
    queries: dict[LabelName, PromQL] | None = Field(
        default=None,
        description="Several PromQL expressions, by column name, joined per target on `join_on` "
        "and scored together (multivariate). Give `query` or `queries`, not both.",
    )
    join_on: tuple[LabelName, ...] = Field(
        default=("instance",), description="Labels that identify one target across `queries`."
    )
    step: PositiveDuration = Field(default=30.0, description="Query resolution (range-query step).")
    lookback: PositiveDuration = Field(
        default=86400.0, description="History replayed on a cold start to rebuild detector state."
    )
    shard_by: ShardBy = ()
    detector: DetectorSpec = Field(
        default=RobustDeviationDetector(kind="robust_deviation"),
        description="Detector and its parameters.",
    )
    threshold: ThresholdSpec = Field(
        default=ThresholdSpec(), description="Policy turning scores into anomaly verdicts."
    )
    enabled: bool = Field(
        default=True, description="Off = validated and replayable, not scheduled."
    )

    @field_validator("query")
    @classmethod
    def _check_query(cls, value: str | None) -> str | None:
        return None if value is None else _promql(value)

    @field_validator("queries")
    @classmethod
    def _check_queries(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            if not value:
                raise PydanticCustomError("queries", "needs at least one query")
            for q in value.values():
                _promql(q)
        return value

    @model_validator(mode="after")
    def _query_or_queries(self) -> DetectorRule:
        if (self.query is None) == (self.queries is None):
            raise PydanticCustomError("query", "give exactly one of `query` or `queries`")
        return self


# ---------------------------------------------------------------------------------------
# Forecasts and scaling
# ---------------------------------------------------------------------------------------


class LearnCapacity(_Strict):
    """Learn the load one replica can carry from history instead of trusting a guess."""

    latency_query: PromQL = Field(
        description="PromQL of the latency (or saturation) the objective is about, with the "
        "labels of the rule's query, or one series for all (e.g. `histogram_quantile(0.95, "
        "sum by (le) (rate(http_request_duration_seconds_bucket[5m])))`)."
    )
    objective: PositiveFloat = Field(
        description="Latency objective, in the latency query's unit: the capacity is the "
        "load per replica where latency reaches it."
    )
    lookback: PositiveDuration = Field(
        default=14 * 86400.0, description="History the capacity is learned from."
    )
    step: PositiveDuration = Field(default=300.0, description="Window of each history point.")
    every: PositiveDuration = Field(default=3600.0, description="How often to relearn.")

    @field_validator("latency_query")
    @classmethod
    def _check_query(cls, value: str) -> str:
        return _promql(value)


class ScalingPolicy(_Strict):
    """Turns a usage forecast into a replica count an autoscaler can act on."""

    capacity_per_replica: PositiveFloat = Field(
        description="Usage one replica serves at 100% (same unit as the query); with "
        "`learn_capacity`, used while the history cannot tell."
    )
    learn_capacity: LearnCapacity | None = Field(
        default=None,
        description="Learn capacity_per_replica from load, replicas and latency history "
        "(needs current_replicas_query).",
    )
    target_utilization: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.7,
        description="Utilisation each replica should run at under the expected load "
        "(the forecast mean, and the load now).",
    )
    peak_utilization: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0,
        description="Utilisation the forecast's upper bound may reach. 1.0: the rare load "
        "at the bound may fill the replicas, so the interval, not a second margin, covers "
        "the uncertainty; set it to target_utilization to add the headroom on top of the "
        "bound (more replica-hours).",
    )
    min_replicas: int = Field(default=1, ge=0, description="Never recommend fewer.")
    max_replicas: PositiveInt = Field(default=100, description="Never recommend more.")
    lead_time: Duration = Field(
        default=300.0,
        description="How long a new replica takes to serve; the forecast is read there.",
    )
    scale_down_stabilization: Duration = Field(
        default=300.0, description="Scale down only to the highest recommendation of this window."
    )
    max_step_up: PositiveInt | None = Field(default=None, description="At most this many more.")
    max_step_down: PositiveInt | None = Field(default=None, description="At most this many fewer.")
    current_replicas_query: PromQL | None = Field(
        default=None, description="PromQL giving the current replica count (for step limits)."
    )
    hpa_tolerance: Annotated[float, Field(ge=0, lt=1)] = Field(
        default=0.1, description="The HPA's tolerance, accounted for so it is not applied twice."
    )
    level: Annotated[float, Field(ge=0.5, lt=1)] | None = Field(
        default=0.95,
        description="Interval level whose upper bound sizes the replicas (higher: fewer "
        "under-provisioned minutes, more replica-hours); null = the forecast rule's level.",
    )
    dry_run: bool = Field(default=False, description="Report only; export no recommendation.")

    @model_validator(mode="after")
    def _learning_needs_replicas(self) -> ScalingPolicy:
        if self.learn_capacity is not None and self.current_replicas_query is None:
            raise PydanticCustomError(
                "learn_capacity", "learn_capacity needs current_replicas_query", {}
            )
        return self

    @field_validator("max_replicas")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_replicas")
        if isinstance(low, int) and value < low:
            raise PydanticCustomError(
                "replicas", "must be at least min_replicas ({low})", {"low": low}
            )
        return value

    @field_validator("peak_utilization")
    @classmethod
    def _peak_not_below_target(cls, value: float, info: ValidationInfo) -> float:
        target = info.data.get("target_utilization")
        if isinstance(target, (int, float)) and value < target:
            raise PydanticCustomError(
                "utilization", "must be at least target_utilization ({target})", {"target": target}
            )
        return value

    @field_validator("current_replicas_query")
    @classmethod
    def _check_current(cls, value: str | None) -> str | None:
        return None if value is None else _promql(value)


class ForecastRule(_Strict):
    """One forecast rule: the usage series to forecast and, optionally, how to scale on it."""

    name: RuleName = Field(description="Unique rule name; becomes the `rule` label.")
    query: PromQL = Field(description="PromQL of the usage to forecast (one or more series).")
    step: PositiveDuration = Field(default=60.0, description="Query resolution of the history.")
    lookback: PositiveDuration = Field(
        default=604800.0, description="History the model is fitted on."
    )
    shard_by: ShardBy = ()
    horizon: PositiveDuration = Field(default=3600.0, description="How far ahead to forecast.")
    level: Annotated[float, Field(ge=0.5, lt=1)] = Field(
        default=0.9, description="Prediction-interval level (0.9 = 90%)."
    )
    model: Literal["auto", "ets", "mstl", "seasonal_naive", "naive"] = Field(
        default="auto", description="Forecasting model; `auto` picks per series by backtest."
    )
    season: Season = Field(default="auto", description="Season length, `none`, or `auto`.")
    interval_scale: Literal["absolute", "relative"] = Field(
        default="absolute",
        description="Interval width from absolute errors, or `relative` (errors per unit of "
        "forecast): for request rates whose noise grows with the load, so intervals are "
        "narrow at night and wide at the peak. Not for bursty near-zero series.",
    )
    scaling: ScalingPolicy | None = Field(
        default=None, description="Replica recommendation policy; none = forecast only."
    )
    enabled: bool = Field(
        default=True, description="Off = validated and replayable, not scheduled."
    )

    @field_validator("query")
    @classmethod
    def _check_query(cls, value: str) -> str:
        return _promql(value)

    @model_validator(mode="after")
    def _horizon_in_steps(self) -> ForecastRule:
        from sidecar.forecast.conformal import MAX_HORIZON  # numpy: only when forecasts exist

        steps = math.ceil(self.horizon / self.step)
        if steps > MAX_HORIZON:
            raise PydanticCustomError(
                "horizon",
                "horizon is {steps} steps of {step}, more than {most}: use a longer step",
                {"steps": steps, "step": format_duration(self.step), "most": MAX_HORIZON},
            )
        return self


class RightsizingPolicy(_Strict):
    """How requests and limits are sized from a history (a rule's, or a `/rightsizing` body's)."""

    risk: Fraction = Field(
        default=0.05,
        description="Target share of time above the CPU request (and the price of bursts: "
        "a burst is covered only if its time is worth the request it costs).",
    )
    memory_risk: Fraction = Field(
        default=0.01, description="Target share of time above the memory request."
    )
    half_life: PositiveDuration = Field(
        default=7 * 86400.0,
        description="History loses half its weight over this time (a week keeps every "
        "weekday's peak in view).",
    )
    cover_daily_peak: bool = Field(
        default=True,
        description="Size requests at the typical day's peak hours (off: price them as bursts).",
    )
    limit_window: PositiveDuration = Field(
        default=14 * 86400.0, description="Memory limit: peak usage over this window."
    )
    throttling_threshold: Fraction = Field(
        default=0.1,
        description="Throttled share above which the CPU request is at least the highest "
        "usage seen (throttled usage understates demand).",
    )
    min_cpu: Quantity | None = Field(default=None, description="Never recommend less CPU.")
    max_cpu: Quantity | None = Field(default=None, description="Never recommend more CPU.")
    min_memory: Quantity | None = Field(default=None, description="Never recommend less memory.")
    max_memory: Quantity | None = Field(default=None, description="Never recommend more memory.")

    @model_validator(mode="after")
    def _bounds_in_order(self) -> RightsizingPolicy:
        for low, high in (("min_cpu", "max_cpu"), ("min_memory", "max_memory")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and hi < lo:
                raise PydanticCustomError(
                    "bounds", "{high} must be at least {low}", {"high": high, "low": low}
                )
        return self


class RightsizingRule(RightsizingPolicy):
    """One right-sizing rule: usage per container in, CPU/memory requests and limits out."""

    name: RuleName = Field(description="Unique rule name; becomes the `rule` label.")
    cpu_query: PromQL | None = Field(
        default=None,
        description="PromQL of CPU usage in cores per container (e.g. `sum by (namespace, "
        'pod, container) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))`).',
    )
    memory_query: PromQL | None = Field(
        default=None,
        description="PromQL of memory in use, bytes per container (e.g. "
        "`container_memory_working_set_bytes`).",
    )
    oom_query: PromQL | None = Field(
        default=None,
        description="PromQL that is above 0 at steps where the container was OOM-killed "
        "(e.g. an `increase` of a restart counter filtered to reason OOMKilled).",
    )
    throttling_query: PromQL | None = Field(
        default=None,
        description="PromQL of the share (0-1) of CPU periods throttled per container.",
    )
    group_by: tuple[LabelName, ...] = Field(
        default=("namespace", "pod", "container"),
        description="Labels naming a container; the queries are joined on them.",
    )
    step: PositiveDuration = Field(default=300.0, description="Query resolution of the history.")
    lookback: PositiveDuration = Field(
        default=14 * 86400.0, description="History the recommendation is computed from."
    )
    every: PositiveDuration = Field(default=3600.0, description="How often to recompute.")
    enabled: bool = Field(
        default=True, description="Off = validated and replayable, not scheduled."
    )

    @field_validator("cpu_query", "memory_query", "oom_query", "throttling_query")
    @classmethod
    def _check_queries(cls, value: str | None) -> str | None:
        return None if value is None else _promql(value)

    @model_validator(mode="after")
    def _something_to_size(self) -> RightsizingRule:
        if self.cpu_query is None and self.memory_query is None:
            raise PydanticCustomError("rightsizing", "give cpu_query, memory_query or both", {})
        return self


# ---------------------------------------------------------------------------------------
# Alert salience
# ---------------------------------------------------------------------------------------


class SalienceWeights(_Strict):
    """How much each signal moves an alert's salience (0 = ignore the signal)."""

    severity: float = Field(default=1.0, ge=0, description="The alert's severity label.")
    rarity: float = Field(default=1.0, ge=0, description="How seldom this alert fired in history.")
    novelty: float = Field(default=1.0, ge=0, description="Never seen this alert or its template.")
    fresh: float = Field(default=0.5, ge=0, description="Just started, not a repeat notification.")
    flapping: float = Field(default=1.0, ge=0, description="Pushes down alerts that flap.")
    chronic: float = Field(default=1.0, ge=0, description="Pushes down long-running, daily alerts.")
    blast_radius: float = Field(default=1.0, ge=0, description="Size of the alert's episode.")
    root_cause: float = Field(default=1.0, ge=0, description="Likely cause within its episode.")
    infrastructure: float = Field(
        default=0.5, ge=0, description="Stateful or infrastructure component."
    )
    harmless: float = Field(
        default=1.0, ge=0, description="Pushes down maintenance, drains and error-free load surges."
    )
    anomaly: float = Field(default=1.0, ge=0, description="Anomaly scores of related series.")
    feedback: float = Field(default=2.0, ge=0, description="Operator feedback on similar alerts.")


class SalienceFeatures(_Strict):
    """Switches for the signals (off = not computed, not shown as a reason)."""

    severity: bool = Field(default=True, description="Use the severity label.")
    rarity: bool = Field(default=True, description="Use firing history.")
    novelty: bool = Field(default=True, description="Use first-seen templates.")
    fresh: bool = Field(default=True, description="Prefer fresh starts.")
    flapping: bool = Field(default=True, description="Detect flapping.")
    chronic: bool = Field(default=True, description="Detect chronic / daily alerts.")
    blast_radius: bool = Field(default=True, description="Group alerts into episodes.")
    root_cause: bool = Field(default=True, description="Rank likely causes above symptoms.")
    infrastructure: bool = Field(default=True, description="Boost infrastructure components.")
    harmless: bool = Field(default=True, description="Recognise harmless bursts.")
    anomaly: bool = Field(default=True, description="Use the sidecar's anomaly scores.")
    feedback: bool = Field(default=True, description="Learn from operator feedback.")


def _default_severities() -> dict[str, float]:
    return {
        "critical": 1.0,
        "page": 1.0,
        "high": 0.8,
        "error": 0.8,
        "warning": 0.5,
        "medium": 0.5,
        "low": 0.2,
        "info": 0.2,
        "none": 0.1,
    }


class SalienceSettings(_Strict):
    """How firing alerts are ranked (the `salience` section)."""

    weights: SalienceWeights = Field(default=SalienceWeights(), description="Signal weights.")
    features: SalienceFeatures = Field(default=SalienceFeatures(), description="Signal switches.")
    severities: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=_default_severities,
        description="Value of each `severity` label value in [0, 1]; unknown values count 0.3.",
    )
    severity_label: LabelName = Field(default="severity", description="Label holding severity.")
    history: PositiveDuration = Field(
        default=14 * 86400.0, description="How long per-alert history is kept before compaction."
    )
    episode_gap: PositiveDuration = Field(
        default=300.0, description="Alerts starting within this gap of each other form one episode."
    )
    feedback_half_life: PositiveDuration = Field(
        default=7 * 86400.0, description="Feedback loses half its weight over this time."
    )
    top_reasons: PositiveInt = Field(default=3, description="Reasons reported per alert.")


# ---------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------


class RuleFile(_Strict):
    """One YAML file under rules/: any of the five sections; files are merged by `load_rules`."""

    settings: Settings | None = Field(default=None, description="Process settings (one file only).")
    detectors: tuple[DetectorRule, ...] = Field(default=(), description="Anomaly rules.")
    forecasts: tuple[ForecastRule, ...] = Field(default=(), description="Forecast/scaling rules.")
    rightsizing: tuple[RightsizingRule, ...] = Field(
        default=(), description="Container request/limit rules."
    )
    salience: SalienceSettings | None = Field(
        default=None, description="Alert salience settings (one file only)."
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data
