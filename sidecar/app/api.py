"""HTTP contract of the sidecar (FastAPI): request/response models and the routes.

The routes are defined on `api` and served by the `Ingress` deployment (deployments.py);
the request shapes of `/anomaly`, `/scaling` and `/salience` follow ../shared/API.md.
Bad input is a 422 whose `detail[].loc` is the field path, also when the input held NaN or
Infinity (numbers must be finite); text that is not valid Unicode (lone surrogates) is
replaced with U+FFFD on the way in;
bodies over `MAX_BODY_BYTES` are refused with 413 (FastAPI's own body limit: by
Content-Length, and while streaming a chunked body).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sidecar import __version__
from sidecar.app.auth import Authorize
from sidecar.config.schema import RightsizingPolicy, ThresholdSpec
from sidecar.detect.observations import score_observations
from sidecar.forecast.usage import UsageAdvice
from sidecar.rightsize.container import RESOURCES
from sidecar.rightsize.patch import (
    Workload,
    format_cpu,
    format_memory,
    resources_patch,
    vpa_object,
)
from sidecar.rightsize.recommend import Sizing
from sidecar.salience.events import Event, EventSalience
from sidecar.unicode_text import replace_unencodable

__all__ = [
    "MAX_BODY_BYTES",
    "AnomalyRequest",
    "FeedbackRequest",
    "RightsizingRequest",
    "SalienceRequest",
    "ScalingRequest",
    "UsagePoint",
    "WorkloadRef",
    "anomaly_response",
    "api",
    "rightsizing_response",
    "salience_response",
    "scaling_response",
]

MAX_BODY_BYTES = 4 * 1024 * 1024


# Swagger UI and ReDoc from the package's own files (FastAPI's default loads them from a CDN)
api = FastAPIOffline(
    title="sidecar",
    version=__version__,
    description="SeedCore sidecar: anomaly scores, forecasts and replica recommendations, "
    "and alert salience for Prometheus and Alertmanager.",
    max_body_size=MAX_BODY_BYTES,
)
api.add_middleware(Authorize)


def _echoable(value: Any) -> Any:
    """`value` as JSON can carry it: non-finite numbers become their names, lone surrogates
    U+FFFD."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return replace_unencodable(value)[0]
    if isinstance(value, dict):
        return {_echoable(str(k)): _echoable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_echoable(v) for v in value]
    return value


@api.exception_handler(RequestValidationError)
async def _unprocessable(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, able to echo NaN and Infinity (its own handler fails on them: 500)."""
    return JSONResponse({"detail": _echoable(jsonable_encoder(exc.errors()))}, 422)


class _Request(BaseModel):
    """A request body: lone surrogates become U+FFFD before validation (they could not be
    echoed back or stored), numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any) -> Any:
        return replace_unencodable(data)[0]


class AnomalyRequest(_Request):
    """Observations of one target: each item maps metric names to numbers (`timestamp` optional)."""

    metrics: list[dict[str, float]] = Field(min_length=1, max_length=10_000)
    threshold: ThresholdSpec | None = None


class UsagePatterns(BaseModel):
    """A snapshot of a workload's usage (unknown keys are kept and reported)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    cpu_avg: float | None = Field(default=None, ge=0)
    memory_avg: float | None = Field(default=None, ge=0)
    request_rate: float | None = Field(default=None, ge=0)
    response_time: float | None = Field(default=None, ge=0)


class HistoryPoint(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    timestamp: float
    value: float


class ScalingRequest(_Request):
    """API.md's `usage_patterns`, plus optional history and policy fields."""

    usage_patterns: UsagePatterns
    current_replicas: int | None = Field(default=None, ge=0)
    capacity_per_replica: float | None = Field(default=None, gt=0)
    target_utilization: float = Field(default=0.7, gt=0, le=1)
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=100, ge=1)
    lead_time_seconds: float = Field(default=300.0, ge=0)
    horizon_seconds: float = Field(default=3600.0, gt=0)
    history: list[HistoryPoint] | None = Field(default=None, max_length=100_000)

    @field_validator("max_replicas")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_replicas")
        if isinstance(low, int) and value < low:
            raise ValueError(f"must be at least min_replicas ({low})")
        return value


class UsagePoint(HistoryPoint):
    """One usage sample: unix seconds (1970 to 2100) and a non-negative value."""

    timestamp: float = Field(ge=0, le=4_102_444_800)
    value: float = Field(ge=0, le=1e18)


class WorkloadRef(BaseModel):
    """The workload a patch is for."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=253)
    container: str = Field(min_length=1, max_length=253)
    namespace: str = Field(default="default", min_length=1, max_length=253)
    kind: str = Field(default="Deployment", min_length=1, max_length=63)


class RightsizingRequest(_Request):
    """A container's usage history (CPU in cores, memory in bytes) and how to size it."""

    cpu: list[UsagePoint] | None = Field(default=None, max_length=100_000)
    memory: list[UsagePoint] | None = Field(default=None, max_length=100_000)
    oom_kills: list[Annotated[float, Field(ge=0, le=4_102_444_800)]] = Field(
        default=[], max_length=10_000
    )
    throttled: float | None = Field(default=None, ge=0, le=1)
    policy: RightsizingPolicy = RightsizingPolicy()
    workload: WorkloadRef | None = None

    @model_validator(mode="after")
    def _something_to_size(self) -> RightsizingRequest:
        if len(self.cpu or ()) < 2 and len(self.memory or ()) < 2:
            raise ValueError("give cpu or memory with at least two points")
        return self


class SalienceRequest(_Request):
    """Free-form events; known keys are validated, unknown ones reported per item."""

    features: list[Event] = Field(min_length=1, max_length=10_000)


class FeedbackRequest(_Request):
    """Operator feedback on a firing (or recently seen) alert."""

    fingerprint: str = Field(min_length=1, max_length=64)
    label: Literal["actionable", "noise"]


def anomaly_response(req: AnomalyRequest, now: float) -> dict[str, Any]:
    """The `POST /anomaly` answer: one result per observation (timestamp defaults to `now`)."""
    obs = [{k: v for k, v in m.items() if k != "timestamp"} for m in req.metrics]
    ts = [m.get("timestamp", now) for m in req.metrics]
    results = score_observations(obs, ts, req.threshold)
    return {
        "results": [
            {
                "score": r.score,
                "anomalous": r.anomalous,
                "threshold": r.threshold,
                "driver": r.driver,
                "basis": r.basis,
                "reason": r.reason,
                "metrics": {
                    k: {
                        "value": m.value,
                        "score": m.score,
                        "expected": list(m.expected) if m.expected else None,
                    }
                    for k, m in r.metrics.items()
                },
            }
            for r in results
        ]
    }


def scaling_response(advice: UsageAdvice, unknown_keys: list[str]) -> dict[str, Any]:
    """The `POST /scaling` answer: the recommendation, how the load was read, the forecast."""
    rec = advice.recommendation
    out: dict[str, Any] = {
        "replicas": rec.replicas,
        "predictive": rec.predictive,
        "reactive": rec.reactive,
        "current": rec.current,
        "target_utilization": rec.target_utilization,
        "capacity_per_replica": rec.capacity_per_replica,
        "load_now": rec.load_now,
        "load_forecast": rec.load_forecast,
        "reasons": list(rec.reasons),
        "basis": advice.basis,
        "unknown_keys": unknown_keys,
    }
    if advice.forecast is not None:
        fc = advice.forecast
        out["forecast"] = {
            "model": fc.model,
            "level": fc.level,
            "t": fc.t.tolist(),
            "mean": fc.mean.tolist(),
            "lower": fc.lower.tolist(),
            "upper": fc.upper.tolist(),
        }
    return out


def rightsizing_response(sized: dict[str, Sizing], workload: WorkloadRef | None) -> dict[str, Any]:
    """The `POST /rightsizing` answer: each resource with its range, quantity and reason, and
    the patch and VPA object when the workload is named."""
    out: dict[str, Any] = {
        "recommendations": {
            res: {
                "value": s.value,
                "lower": s.lower,
                "upper": s.upper,
                "quantity": (format_cpu if res.startswith("cpu") else format_memory)(s.value),
                "share_above": s.share_above,
                "history_days": s.days,
                "reason": s.reason,
            }
            for res in RESOURCES
            if (s := sized.get(res)) is not None
        }
    }
    if workload is not None:
        ref = Workload(workload.name, workload.container, workload.namespace, workload.kind)
        out["patch"] = resources_patch(sized, ref)
        out["vpa"] = vpa_object(sized, ref)
    return out


def salience_response(results: list[EventSalience]) -> dict[str, Any]:
    """The `POST /salience` answer: one result per event, in input order, with reasons."""
    return {
        "results": [
            {
                "salience": r.salience.value,
                "reasons": list(r.salience.reasons),
                "unknown_keys": list(r.unknown_keys),
            }
            for r in results
        ]
    }
