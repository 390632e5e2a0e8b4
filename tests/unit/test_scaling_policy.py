"""`recommend` as tables: (forecast, current, policy) → replicas, with stabilisation and limits."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.config.schema import ScalingPolicy
from sidecar.forecast.scaling import ScalingMemory, hpa_value, recommend, replicas_for
from sidecar.types import Forecast

NOW = 1_700_000_000.0


def fc(upper: list[float], step: float = 60.0, mean: float = 0.8) -> Forecast:
    """A forecast whose mean is `mean` times its upper bound."""
    u = np.array(upper, dtype=float)
    t = NOW + step * np.arange(1, len(u) + 1)
    return Forecast(t, u * mean, u * 0.6 * mean, u, 0.9)


def policy(**kw: object) -> ScalingPolicy:
    base: dict[str, object] = {
        "capacity_per_replica": 10.0,
        "target_utilization": 0.5,
        "min_replicas": 1,
        "max_replicas": 20,
        "lead_time": 120.0,
        "scale_down_stabilization": 300.0,
    }
    base.update(kw)
    return ScalingPolicy.model_validate(base)


@pytest.mark.parametrize(
    ("upper", "load_now", "current", "kw", "expected"),
    [
        ([10, 10, 10, 10], 10.0, 2, {}, 2),  # mean 8 / (10*0.5) -> 2; bound 10 / 10 = 1
        ([10, 30, 10, 80], 10.0, 2, {}, 5),  # peak within lead time + one step: mean 24 / 5
        ([10, 30, 10, 80], 10.0, 2, {"peak_utilization": 0.5}, 6),  # stacked: bound 30 / 5
        ([10, 30, 10, 80], 10.0, 2, {"peak_utilization": 0.6}, 5),  # 30 / 6 = 5 = mean's 5
        ([10, 10, 10, 90], 10.0, 2, {}, 2),  # beyond the lead time: not yet
        ([5, 5, 5], 40.0, 2, {}, 8),  # reactive wins: never below what load needs now
        ([500, 500], 10.0, 2, {}, 20),  # clamped to max
        ([0, 0], 0.0, 2, {"min_replicas": 3}, 3),  # clamped to min
        ([100, 100], 10.0, 2, {"max_step_up": 3}, 5),  # step limit up
        ([0, 0], 0.0, 10, {"max_step_down": 2, "min_replicas": 0}, 8),  # step limit down
    ],
)
def test_recommendation_table(
    upper: list[float], load_now: float, current: int, kw: dict[str, object], expected: int
) -> None:
    p = policy(**kw)
    rec, _ = recommend(fc(upper), p, load_now, NOW, current=current)
    assert rec.replicas == expected
    assert rec.reasons


def test_scale_down_is_held_for_the_stabilisation_window() -> None:
    p = policy(scale_down_stabilization=300.0)
    memory = ScalingMemory()
    rec, memory = recommend(fc([50, 50]), p, 10.0, NOW, current=2, memory=memory)
    assert rec.replicas == 8  # mean 40 at 5 a replica
    rec, memory = recommend(fc([10, 10]), p, 10.0, NOW + 120, current=10, memory=memory)
    assert rec.replicas == 8 and any("held" in r for r in rec.reasons)
    rec, memory = recommend(fc([10, 10]), p, 10.0, NOW + 400, current=10, memory=memory)
    assert rec.replicas == 2  # the high recommendation left the window


def test_scale_up_is_immediate_despite_stabilisation() -> None:
    p = policy()
    _, memory = recommend(fc([10, 10]), p, 10.0, NOW, current=2)
    rec, _ = recommend(fc([60, 60]), p, 10.0, NOW + 30, current=2, memory=memory)
    assert rec.replicas == 10  # mean 48 at 5 a replica


@pytest.mark.parametrize(
    ("mean", "expected", "driver"),
    [
        (0.9, 4, "mean"),  # narrow interval: mean 18 at 5 a replica (bound 20 at 10: 2)
        (0.25, 2, "upper bound"),  # wide interval: bound 20 at 10 a replica (mean 5: 1)
    ],
)
def test_the_mean_sizes_at_the_target_and_the_bound_at_the_peak_utilisation(
    mean: float, expected: int, driver: str
) -> None:
    rec, _ = recommend(fc([20, 20], mean=mean), policy(), 0.0, NOW, current=1)
    assert rec.replicas == rec.predictive == expected
    line = next(r for r in rec.reasons if r.startswith(f"forecast {driver}"))
    assert line.split(" needs ")[1].startswith(str(expected))


def test_peak_utilisation_below_the_target_is_refused() -> None:
    with pytest.raises(ValueError, match="at least target_utilization"):
        policy(peak_utilization=0.4)


def test_replicas_for_rounds_up_and_ignores_bad_load() -> None:
    assert replicas_for(10.0, policy()) == 2
    assert replicas_for(10.01, policy()) == 3
    assert replicas_for(float("nan"), policy()) == 0


def test_without_forecast_it_is_the_reactive_rule() -> None:
    rec, _ = recommend(None, policy(), 23.0, NOW, current=1)
    assert rec.replicas == rec.reactive == 5 and rec.predictive == 5


@pytest.mark.parametrize(
    ("recommended", "current", "value"),
    [
        (10, 5, 10.0),  # a big move: HPA applies ceil(10) = 10
        (21, 20, 23.0),  # +5% would be ignored by a 10% tolerance: ask for 23 (> 22)
        (19, 20, 20.0),  # -5%: not worth forcing, stay
        (3, None, 3.0),
        (5, 5, 5.0),
    ],
)
def test_hpa_value_accounts_for_the_tolerance(
    recommended: int, current: int | None, value: float
) -> None:
    v = hpa_value(recommended, current)
    assert v == value
    if current:
        ratio = v / current
        applied = current if abs(ratio - 1) <= 0.1 else int(np.ceil(v))
        assert applied >= min(recommended, current) and (
            applied >= recommended or recommended < current
        )
