"""HTTP contract of the sidecar (FastAPI): request/response models and the routes.

The routes are defined on `api` and served by the `Ingress` deployment (deployments.py);
the request shapes of `/anomaly`, `/scaling` and `/salience` follow ../shared/API.md.
Bad input is a 422 whose `detail[].loc` is the field path; bodies over `MAX_BODY_BYTES`
are refused with 413 (FastAPI's own body limit: by Content-Length, and while streaming a
chunked body).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sidecar import __version__
from sidecar.config.schema import ThresholdSpec
from sidecar.detect.observations import score_observations
from sidecar.salience.events import Event

__all__ = [
    "MAX_BODY_BYTES",
    "AnomalyRequest",
    "FeedbackRequest",
    "SalienceRequest",
    "ScalingRequest",
    "anomaly_response",
    "api",
]

MAX_BODY_BYTES = 4 * 1024 * 1024

api = FastAPI(
    title="sidecar",
    version=__version__,
    description="SeedCore sidecar: anomaly scores, forecasts and replica recommendations, "
    "and alert salience for Prometheus and Alertmanager.",
    max_body_size=MAX_BODY_BYTES,
)


class AnomalyRequest(BaseModel):
    """Observations of one target: each item maps metric names to numbers (`timestamp` optional)."""

    model_config = ConfigDict(extra="forbid")
    metrics: list[dict[str, float]] = Field(min_length=1, max_length=10_000)
    threshold: ThresholdSpec | None = None

    @field_validator("metrics")
    @classmethod
    def _finite_timestamps(cls, value: list[dict[str, float]]) -> list[dict[str, float]]:
        for item in value:
            ts = item.get("timestamp")
            if ts is not None and not math.isfinite(ts):
                raise ValueError("timestamp must be a finite number of unix seconds")
        return value


class UsagePatterns(BaseModel):
    """A snapshot of a workload's usage (unknown keys are kept and reported)."""

    model_config = ConfigDict(extra="allow")
    cpu_avg: float | None = Field(default=None, ge=0)
    memory_avg: float | None = Field(default=None, ge=0)
    request_rate: float | None = Field(default=None, ge=0)
    response_time: float | None = Field(default=None, ge=0)


class HistoryPoint(BaseModel):
    timestamp: float
    value: float


class ScalingRequest(BaseModel):
    """API.md's `usage_patterns`, plus optional history and policy fields."""

    model_config = ConfigDict(extra="forbid")
    usage_patterns: UsagePatterns
    current_replicas: int | None = Field(default=None, ge=0)
    capacity_per_replica: float | None = Field(default=None, gt=0)
    target_utilization: float = Field(default=0.7, gt=0, le=1)
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=100, ge=1)
    lead_time_seconds: float = Field(default=300.0, ge=0)
    horizon_seconds: float = Field(default=3600.0, gt=0)
    history: list[HistoryPoint] | None = Field(default=None, max_length=100_000)


class SalienceRequest(BaseModel):
    """Free-form events; known keys are validated, unknown ones reported per item."""

    model_config = ConfigDict(extra="forbid")
    features: list[Event] = Field(min_length=1, max_length=10_000)


class FeedbackRequest(BaseModel):
    """Operator feedback on a firing (or recently seen) alert."""

    model_config = ConfigDict(extra="forbid")
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
