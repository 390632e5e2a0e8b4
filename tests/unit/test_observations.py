"""POST /anomaly's scoring: history, batch and prior bases, each explained."""

from __future__ import annotations

import numpy as np

from sidecar.detect.observations import MIN_BATCH, score_observations
from sidecar.types import Frame, SeriesKey


def test_single_cold_observation_uses_the_saturation_prior() -> None:
    [busy] = score_observations([{"cpu_usage": 0.95, "memory_usage": 0.8}], [1234567890])
    [calm] = score_observations([{"cpu_usage": 0.5, "memory_usage": 0.6}], [1234567890])
    assert busy.basis == "prior" and busy.driver == "cpu_usage"
    assert busy.score > calm.score == 0.0
    assert busy.metrics["cpu_usage"].expected == (0.0, 0.8)
    [pct] = score_observations([{"disk_used_percent": 99.0}], [0])
    assert pct.score > 0.9 and pct.anomalous


def test_metric_without_a_prior_says_so() -> None:
    [r] = score_observations([{"latency_seconds": 3.5}], [0])
    assert r.score == 0.0 and not r.anomalous
    assert "no prior for latency_seconds" in r.reason


def test_batch_flags_the_outlier_and_names_its_metric() -> None:
    rng = np.random.default_rng(1)
    obs = [
        {"cpu": float(rng.normal(0.5, 0.02)), "rps": float(rng.normal(100, 3))}
        for _ in range(MIN_BATCH + 8)
    ]
    obs[7]["rps"] = 180.0
    results = score_observations(obs, list(range(len(obs))))
    assert {r.basis for r in results} == {"batch"}
    assert results[7].anomalous and results[7].driver == "rps"
    assert sum(r.anomalous for r in results) == 1


def test_history_basis_scores_like_the_live_monitor() -> None:
    rng = np.random.default_rng(2)
    t = 1_700_000_000.0 + 60.0 * np.arange(600)
    X = np.stack([rng.normal(0.5, 0.05, 600), rng.normal(100, 5, 600)], axis=1)
    hist = Frame(SeriesKey("target"), t, X, ("cpu_usage", "rps"))
    later = float(t[-1])
    normal, spike = score_observations(
        [{"cpu_usage": 0.51, "rps": 101.0}, {"cpu_usage": 0.95, "rps": 100.0}],
        [later + 60, later + 120],
        history=hist,
    )
    assert normal.basis == spike.basis == "history"
    assert not normal.anomalous
    assert spike.anomalous and spike.driver == "cpu_usage"
    assert spike.metrics["rps"].score < 0.5
