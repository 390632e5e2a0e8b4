"""Engine: a scaling rule with learn_capacity uses the capacity its history shows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.export import render
from sidecar.types import Frame, SeriesKey
from tests.queue_sim import daily_load, exponential, simulate

RULE = """\
forecasts:
  - name: web
    query: load
    step: 5m
    lookback: 1d
    horizon: 15m
    model: naive
    scaling:
      capacity_per_replica: 100
      target_utilization: 1.0
      current_replicas_query: replicas
      max_replicas: 500
      lead_time: 5m
      scale_down_stabilization: 0s
      learn_capacity: {{latency_query: p95, objective: 0.5, lookback: 4d, every: 1h}}
"""
TRUTH = 1 / 0.05 - math.log(20) / 0.5  # M/M/1 at 0.05 s a request: p95 = 0.5 s at 14 req/s
REPLICAS = 4


def frame(name: str, t: np.ndarray, values: np.ndarray) -> Frame:
    return Frame(
        SeriesKey.from_labels({"__name__": name, "service": "web"}), t, values[:, None], ("value",)
    )


def frames(reach: float) -> tuple[dict[str, list[Frame]], float]:
    per_replica, p95, _ = simulate(
        daily_load(reach * TRUTH), exponential(0.05), seconds=4 * 86400, seed=0
    )
    end = int(np.argmax(per_replica[-288:])) + per_replica.size - 288 + 1  # the last day's peak
    per_replica, p95 = per_replica[:end], p95[:end]
    t = 1_700_006_400.0 + 300.0 * np.arange(per_replica.size)
    load = per_replica * REPLICAS
    by_key = {
        "web": [frame("load", t[-288:], load[-288:])],
        "web/capacity/load": [frame("load", t, load)],
        "web/capacity/replicas": [frame("replicas", t, np.full(t.size, float(REPLICAS)))],
        "web/capacity/latency": [frame("p95", t, p95)],
    }
    return by_key, float(t[-1])


def test_learned_capacity_is_used_and_exported(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULE.format())
    engine = Engine(load_rules([path], environ={}))
    by_key, now = frames(0.8)
    keys = {p.key for p in engine.plan(now)}
    assert keys == {"web", "web/capacity/load", "web/capacity/replicas", "web/capacity/latency"}
    snap = engine.step(by_key, now, current_replicas={"web": REPLICAS})
    [cap] = snap.capacities
    assert cap.learned and abs(cap.value / TRUTH - 1) < 0.15, cap.reason
    [rec] = snap.replicas
    now_load = float(by_key["web"][0].X[-1, 0])
    assert rec.replicas >= math.ceil(now_load / cap.value) > 1  # not at 100 per replica
    body = render([snap])[0].decode()
    assert 'sidecar_capacity_learned{rule="web",service="web"} 1.0' in body
    assert "sidecar_capacity_per_replica_upper{" in body
    assert {p.key for p in engine.plan(now + 300)} == {"web"}  # relearned only every hour


def test_history_that_cannot_tell_keeps_the_configured_value(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULE.format())
    engine = Engine(load_rules([path], environ={}))
    by_key, now = frames(0.3)
    engine.plan(now)
    snap = engine.step(by_key, now, current_replicas={"web": REPLICAS})
    [cap] = snap.capacities
    assert not cap.learned and cap.value == 100
    assert cap.reason.startswith("configured value kept:")
    [rec] = snap.replicas
    assert rec.replicas == 1  # the load is far below 100 per replica
