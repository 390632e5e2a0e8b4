"""`recommend`: replicas from a usage forecast, as an autoscaler should apply them (pure).

1. Predictive: over the time a new replica needs to start (`lead_time`), the larger of
   the forecast mean at the target utilisation and the forecast's upper bound at
   `peak_utilization` (default 100%). The headroom below the target absorbs the expected
   load's fluctuation and the interval the uncertainty; stacking both (dividing the upper
   bound by the target) widens wide intervals further and, on the development benchmark,
   bought fewer under-provisioned steps per replica-hour than this.
2. Reactive: the same for the load now; the answer is never below it (HPA's own rule).
3. Clamped to [min_replicas, max_replicas] and to the step limits around `current`.
4. Scale-down stabilisation: the highest raw recommendation of the last
   `scale_down_stabilization` seconds wins (as the HPA's behaviour field does), so a dip in
   the forecast does not flap replicas. `ScalingMemory` carries that window between calls.
5. HPA arithmetic: an HPA (or KEDA, which drives one) fed the recommendation as an
   `AverageValue: 1` metric sets `ceil(value)` replicas, but only when value/current is
   outside its tolerance (10%). `hpa_value` gives the value to export so the HPA lands on
   the smallest count it can reach that is at least the recommendation (a small scale-up
   that the tolerance would swallow is rounded up to one it will act on).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from sidecar.config.schema import ScalingPolicy
from sidecar.types import Forecast, Recommendation

__all__ = ["ScalingMemory", "hpa_value", "recommend", "replicas_for"]


@dataclass(frozen=True, slots=True)
class ScalingMemory:
    """Raw recommendations of the recent past, (time, replicas), oldest first."""

    history: tuple[tuple[float, int], ...] = ()

    def remember(self, now: float, replicas: int, window: float) -> ScalingMemory:
        kept = tuple((t, r) for t, r in self.history if t > now - window)
        return ScalingMemory((*kept, (now, replicas)))

    def highest(self, now: float, window: float) -> int | None:
        recent = [r for t, r in self.history if t > now - window]
        return max(recent) if recent else None


def replicas_for(load: float, policy: ScalingPolicy, utilization: float | None = None) -> int:
    """Replicas that carry `load` at `utilization` (default: the target), at least 0."""
    if not math.isfinite(load) or load <= 0:
        return 0
    per_replica = policy.capacity_per_replica * (utilization or policy.target_utilization)
    need = load / per_replica
    if not math.isfinite(need):  # a tiny capacity against a huge load: more than any maximum
        return sys.maxsize
    return math.ceil(need - 1e-9)


def recommend(
    fc: Forecast | None,
    policy: ScalingPolicy,
    load_now: float,
    now: float,
    current: int | None = None,
    memory: ScalingMemory | None = None,
) -> tuple[Recommendation, ScalingMemory]:
    """The replicas to run now, and the memory to pass to the next call."""
    memory = memory or ScalingMemory()
    reasons: list[str] = []
    reactive = replicas_for(load_now, policy)
    load_forecast = load_now
    predictive = reactive
    if fc is not None and fc.t.size:
        step = float(fc.t[1] - fc.t[0]) if fc.t.size > 1 else policy.lead_time or 60.0
        horizon_end = now + policy.lead_time + step
        ahead = fc.t <= horizon_end
        upper = fc.upper[ahead & np.isfinite(fc.upper)]
        mean = fc.mean[ahead & np.isfinite(fc.mean)]
        if upper.size:
            load_forecast = float(np.max(upper))
            for_bound = replicas_for(load_forecast, policy, policy.peak_utilization)
            for_mean = replicas_for(float(np.max(mean)), policy) if mean.size else 0
            predictive = max(for_bound, for_mean)
            reasons.append(
                f"forecast upper bound {load_forecast:.4g} within the {policy.lead_time:g}s lead "
                f"time needs {for_bound} at {policy.peak_utilization:.0%}"
            )
            if mean.size:
                reasons.append(
                    f"forecast mean {float(np.max(mean)):.4g} needs {for_mean} at "
                    f"{policy.target_utilization:.0%}"
                )
    reasons.append(f"current load {load_now:.4g} needs {reactive}")
    raw = max(predictive, reactive)
    clamped = min(max(raw, policy.min_replicas), policy.max_replicas)
    if clamped != raw:
        reasons.append(f"clamped to [{policy.min_replicas}, {policy.max_replicas}]")
    if current is not None:
        if policy.max_step_up is not None and clamped > current + policy.max_step_up:
            clamped = current + policy.max_step_up
            reasons.append(f"scale-up limited to +{policy.max_step_up}")
        if policy.max_step_down is not None and clamped < current - policy.max_step_down:
            clamped = current - policy.max_step_down
            reasons.append(f"scale-down limited to -{policy.max_step_down}")
    window_s = policy.scale_down_stabilization
    highest = memory.highest(now, window_s)
    memory = memory.remember(now, clamped, window_s)
    final = clamped
    if highest is not None and highest > clamped:
        final = highest
        reasons.append(f"scale-down held at {highest} for {window_s:g}s stabilisation")
    rec = Recommendation(
        replicas=final,
        predictive=predictive,
        reactive=reactive,
        current=current,
        load_forecast=load_forecast,
        load_now=load_now,
        capacity_per_replica=policy.capacity_per_replica,
        target_utilization=policy.target_utilization,
        reasons=tuple(reasons),
        dry_run=policy.dry_run,
    )
    return rec, memory


def hpa_value(recommended: int, current: int | None, tolerance: float = 0.1) -> float:
    """The metric value (AverageValue target 1) that makes an HPA set `recommended`, or the
    smallest count above it the HPA's tolerance lets it reach."""
    if current is None or current <= 0:
        return float(recommended)
    ratio = recommended / current
    if abs(ratio - 1.0) <= tolerance:
        if recommended > current:  # the HPA would ignore this small scale-up: round it up
            return float(math.floor(current * (1.0 + tolerance)) + 1)
        return float(current)  # a small scale-down is not worth forcing
    return float(recommended)
