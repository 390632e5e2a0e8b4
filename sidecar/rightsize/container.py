"""One container's CPU request, memory request and memory limit under a rightsizing rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sidecar.config.schema import RightsizingPolicy
from sidecar.rightsize.recommend import Sizing, memory_limit, request

__all__ = ["RESOURCES", "ContainerUsage", "recommend_container"]

Array = NDArray[np.floating[Any]]
RESOURCES = ("cpu_request", "memory_request", "memory_limit")
"""What a recommendation sizes, in the order they are reported."""


@dataclass(frozen=True)
class ContainerUsage:
    """A container's history: usage samples (unix seconds, cores or bytes), OOM-kill times and
    the recent throttled share of CPU periods (None where not known)."""

    cpu_t: Array | None = None
    cpu: Array | None = None
    memory_t: Array | None = None
    memory: Array | None = None
    oom_kills: tuple[float, ...] = ()
    throttled: float | None = None


def _enough(t: Array | None, u: Array | None) -> bool:
    return t is not None and u is not None and int(np.sum(np.isfinite(u))) >= 2


def recommend_container(usage: ContainerUsage, rule: RightsizingPolicy) -> dict[str, Sizing]:
    """Whatever the history allows of `RESOURCES` (a resource without two samples is left out)."""
    out: dict[str, Sizing] = {}
    if _enough(usage.cpu_t, usage.cpu):
        assert usage.cpu_t is not None and usage.cpu is not None
        floor = 0.0
        if usage.throttled is not None and usage.throttled > rule.throttling_threshold:
            floor = float(np.nanmax(usage.cpu))
        out["cpu_request"] = request(
            usage.cpu_t,
            usage.cpu,
            risk=rule.risk,
            half_life=rule.half_life,
            cover_daily_peak=rule.cover_daily_peak,
            minimum=rule.min_cpu,
            maximum=rule.max_cpu,
            floor=floor,
            unit="cores",
        )
    if _enough(usage.memory_t, usage.memory):
        assert usage.memory_t is not None and usage.memory is not None
        limit = memory_limit(
            usage.memory_t,
            usage.memory,
            oom_kills=usage.oom_kills,
            window=rule.limit_window,
            minimum=rule.min_memory,
            maximum=rule.max_memory,
        )
        req = request(
            usage.memory_t,
            usage.memory,
            risk=rule.memory_risk,
            half_life=rule.half_life,
            cover_daily_peak=rule.cover_daily_peak,
            minimum=rule.min_memory,
            maximum=min(limit.value, rule.max_memory or limit.value),
            unit="bytes",
        )
        out["memory_request"] = req
        out["memory_limit"] = limit
    return out
