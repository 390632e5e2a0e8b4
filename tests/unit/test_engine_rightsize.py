"""Engine rightsizing rules: planned every `every`, joined per container, exported."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.export import render
from sidecar.types import Frame, SeriesKey

RULE = """\
rightsizing:
  - name: pods
    cpu_query: cpu
    memory_query: mem
    oom_query: oom
    step: 5m
    lookback: 3d
    every: 1h
    max_cpu: 1500m
"""
T = 1_700_006_400.0 + 300.0 * np.arange(3 * 288)


def frame(metric: str, container: str, values: np.ndarray) -> Frame:
    labels = {"__name__": metric, "namespace": "shop", "pod": "web-1", "container": container}
    return Frame(SeriesKey.from_labels(labels), T, values[:, None], ("value",))


def test_rule_runs_every_interval_and_exports_each_container(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULE)
    engine = Engine(load_rules([path], environ={}))
    now = float(T[-1])
    plans = engine.plan(now)
    assert sorted(p.key for p in plans) == ["pods/cpu", "pods/memory", "pods/oom"]
    assert all(p.start == now - 3 * 86400 and p.step == 300 for p in plans)
    rng = np.random.default_rng(0)
    oom = np.zeros(T.size)
    oom[-10] = 1.0  # the app container was OOM-killed near the end
    frames = {
        "pods/cpu": [
            frame("cpu", "app", 0.5 + rng.gamma(2, 0.05, T.size)),
            frame("cpu", "proxy", np.full(T.size, 3.0)),  # above max_cpu
        ],
        "pods/memory": [frame("mem", "app", np.full(T.size, 300e6))],
        "pods/oom": [frame("oom", "app", oom)],
    }
    snap = engine.step(frames, now)
    got = {(dict(p.labels)["container"], p.resource): p for p in snap.rightsizing}
    assert set(got) == {
        ("app", "cpu_request"),
        ("app", "memory_request"),
        ("app", "memory_limit"),
        ("proxy", "cpu_request"),
    }
    assert got[("proxy", "cpu_request")].value == 1.5
    assert got[("app", "memory_limit")].value >= 1.2 * 300e6
    assert "OOM" in got[("app", "memory_limit")].reason
    [health] = [h for h in snap.rules if h.rule == "pods"]
    assert health.success and health.kind == "rightsizing" and health.series == 2

    body = render([snap])[0].decode()
    assert (
        'sidecar_recommended_cpu_request_cores{container="proxy",namespace="shop",pod="web-1",'
        'rule="pods"} 1.5'
    ) in body
    assert "sidecar_recommended_memory_limit_bytes_upper{" in body

    assert engine.plan(now + 600) == []  # not due again before `every`
    assert engine.step({}, now + 600).rightsizing == snap.rightsizing  # kept meanwhile
    assert len(engine.plan(now + 3600)) == 3


def test_a_failed_query_is_retried_next_tick(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULE)
    engine = Engine(load_rules([path], environ={}))
    now = float(T[-1])
    assert engine.plan(now)
    snap = engine.step({}, now, failed={"pods": "timeout"})
    [health] = [h for h in snap.rules if h.rule == "pods"]
    assert not health.success and health.error == "timeout"
    assert engine.plan(now + 30)  # due again at once
