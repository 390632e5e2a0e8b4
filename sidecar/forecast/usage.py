"""`POST /scaling` logic: a usage snapshot (and optional history) to a replica recommendation.

With `history` of the load and a per-replica capacity, the load is forecast (auto model,
conformal 95% interval, the scaling policy's default level) and the predictive policy
applies. With a snapshot only, the recommendation is the reactive one: utilisation (the
larger of `cpu_avg` and `memory_avg`) against the target, as the HPA computes it, or
`request_rate` against the per-replica capacity when that is given; the larger wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sidecar.config.schema import ScalingPolicy
from sidecar.forecast.auto import AutoForecaster
from sidecar.forecast.conformal import MAX_HORIZON
from sidecar.forecast.models import median_step
from sidecar.forecast.scaling import recommend
from sidecar.types import Forecast, Recommendation

__all__ = ["UsageAdvice", "advise"]


@dataclass(frozen=True, slots=True)
class UsageAdvice:
    """The recommendation, the forecast behind it (if any) and how the load was read."""

    recommendation: Recommendation
    forecast: Forecast | None
    basis: str


def advise(
    usage: Mapping[str, float],
    now: float,
    *,
    current: int | None = None,
    capacity_per_replica: float | None = None,
    target_utilization: float = 0.7,
    min_replicas: int = 1,
    max_replicas: int = 100,
    lead_time: float = 300.0,
    horizon: float = 3600.0,
    history: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    level: float = 0.95,
) -> UsageAdvice:
    """Recommend replicas for the usage snapshot (see the module docstring)."""
    util = max(float(usage.get("cpu_avg", 0.0) or 0.0), float(usage.get("memory_avg", 0.0) or 0.0))
    rate = usage.get("request_rate")
    replicas_now = current if current is not None else 1
    capacity = 1.0
    if capacity_per_replica is not None and rate is not None:
        capacity = capacity_per_replica
        load_now, basis = float(rate), "request_rate against capacity_per_replica"
    else:
        # utilisation: one replica "carries" its share of the load at 100% utilisation
        load_now = util * replicas_now
        basis = "utilisation (max of cpu_avg, memory_avg) as HPA does"
    policy = ScalingPolicy(
        capacity_per_replica=capacity,
        target_utilization=target_utilization,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        lead_time=lead_time,
        scale_down_stabilization=0.0,
    )
    fc: Forecast | None = None
    if history is not None and len(history[0]) >= 20:
        t, y = np.asarray(history[0], dtype=np.float64), np.asarray(history[1], dtype=np.float64)
        step = median_step(t)
        h = min(max(1, math.ceil(horizon / step)), MAX_HORIZON)  # a fine step: as far as kept
        fc = AutoForecaster(horizon=h).fit(t, y).forecast(h, level)
        basis += f"; history of {len(t)} samples forecast with {fc.model}"
    rec, _ = recommend(fc, policy, load_now, now, current=current)
    if util > 0 and capacity_per_replica is not None and rate is not None:
        # the utilisation rule still applies: never below what current utilisation needs
        util_needed = math.ceil(util * replicas_now / target_utilization - 1e-9)
        if util_needed > rec.replicas:
            reasons = (*rec.reasons, f"utilisation {util:.2f} needs {util_needed}")
            rec = Recommendation(
                replicas=min(util_needed, max_replicas),
                predictive=rec.predictive,
                reactive=max(rec.reactive, util_needed),
                current=current,
                load_forecast=rec.load_forecast,
                load_now=rec.load_now,
                capacity_per_replica=rec.capacity_per_replica,
                target_utilization=rec.target_utilization,
                reasons=reasons,
            )
    return UsageAdvice(rec, fc, basis)
