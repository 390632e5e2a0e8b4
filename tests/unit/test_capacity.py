"""Capacity learned from history, against simulated replicas whose capacity is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sidecar.forecast.capacity import estimate_capacity
from tests.queue_sim import daily_load, exponential, simulate

SERVICE = 0.05  # mean service time: 20 requests/s saturate a replica
OBJECTIVE = 0.5  # p95 latency
# M/M/1: the response time is exponential with rate mu - load, p95 = ln 20 / (mu - load)
TRUTH = 1 / SERVICE - math.log(20) / OBJECTIVE


def history(reach: float, seed: int = 0, days: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    load, p95, _ = simulate(
        daily_load(reach * TRUTH), exponential(SERVICE), seconds=days * 86400, seed=seed
    )
    return load, p95


@pytest.mark.parametrize("reach", [0.7, 0.9])
def test_capacity_within_15_percent_once_history_came_near(reach: float) -> None:
    est = estimate_capacity(*history(reach), OBJECTIVE)
    assert est.value is not None, est.reason
    assert est.value == pytest.approx(TRUTH, rel=0.15)
    assert est.lower is not None and est.upper is not None
    assert est.lower <= est.value <= est.upper
    assert "per replica keeps latency at 0.5" in est.reason


def test_history_far_from_saturation_cannot_tell() -> None:
    est = estimate_capacity(*history(0.3), OBJECTIVE)
    assert est.value is None
    assert "reached only" in est.reason or "bent" in est.reason


def test_flat_latency_cannot_tell() -> None:
    rng = np.random.default_rng(0)
    load = rng.uniform(1, 10, 2000)
    latency = 0.1 + rng.normal(0, 0.005, load.size)
    est = estimate_capacity(load, latency, 0.5)
    assert est.value is None


def test_objective_below_idle_latency_and_bad_input() -> None:
    est = estimate_capacity(*history(0.8), 0.01)
    assert est.value is None and "even without load" in est.reason
    assert estimate_capacity([1.0] * 5, [0.1] * 5, 0.5).reason.startswith("only 5 windows")
    with pytest.raises(ValueError, match="same length"):
        estimate_capacity([1.0, 2.0], [1.0], 0.5)
