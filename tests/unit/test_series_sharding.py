"""A rule split by series (`shard_by`) runs on every shard, each keeping the series whose
label hash falls to it; checkpoints give each shard back its own series (newest copy per
series, a training job's included), whatever the number of shards was when they were saved."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs
from sidecar.checkpoint import write_checkpoint
from sidecar.clock import ReplayClock
from sidecar.export import render
from sidecar.types import Frame, SeriesKey

RULES = """\
settings: {{interval: 1m, data_dir: {data}, checkpoint_interval: 1m}}
detectors:
  - {{name: split, query: load, step: 1m, lookback: 1h, shard_by: [instance]}}
  - {{name: whole, query: load, step: 1m, lookback: 1h}}
"""
T0 = 1_700_000_000.0
INSTANCES = {f"host-{k}" for k in range(20)}


class MemorySource:
    """`load` of every instance: the same noise at the same time in every query."""

    def __init__(self) -> None:
        self.calls = 0

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Frame]:
        self.calls += 1
        t = np.arange(np.ceil(start / step) * step, end + 1e-9, step)
        out = []
        for inst in sorted(INSTANCES):
            noise = np.random.default_rng(sum(map(ord, inst))).normal(0, 1, 10_000)
            x = 10 + noise[(t // 60).astype(np.int64) % noise.size]
            key = SeriesKey.from_labels({"__name__": "load", "instance": inst})
            out.append(Frame(key, t, x[:, None], ("value",)))
        return out

    def query(self, promql: str, at: float) -> dict[SeriesKey, float]:
        return {}


def _shard(path: Path, shard: int, shards: int, at: float) -> SchedulerCore:
    return SchedulerCore(
        AppArgs(config=(str(path),)), shard, shards, clock=ReplayClock(at), source=MemorySource()
    )


def _instances(core: SchedulerCore, rule: str) -> set[str]:
    memo = core.engine.export_state()[rule].state.memo
    return {dict(k.labels)["instance"] for k in memo}


def _rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(data=tmp_path / "data"))
    return path


def test_each_shard_scores_its_share_and_reports_its_own_run(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    shards = [_shard(path, i, 2, T0 + 3600) for i in range(2)]
    snaps = [asyncio.run(s.tick()) for s in shards]
    owned = [
        {dict(p.labels)["instance"] for p in snap.anomalies if p.rule == "split"} for snap in snaps
    ]
    assert owned[0] and owned[1] and not owned[0] & owned[1]
    assert owned[0] | owned[1] == INSTANCES
    whole = [sum(p.rule == "whole" for p in snap.anomalies) for snap in snaps]
    assert sorted(whole) == [0, 20]  # a rule that is not split lives on one shard, whole
    text = render(snaps)[0].decode()
    series = [line for line in text.splitlines() if line.startswith("sidecar_rule_series{")]
    split_lines = [line for line in series if 'rule="split"' in line]
    assert len(split_lines) == 2 and {'shard="0"' in line for line in split_lines} == {True, False}
    assert sum(float(line.rsplit(" ", 1)[1]) for line in split_lines) == 20


def test_restarted_shards_take_their_own_series_from_any_checkpoint(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    first = [_shard(path, i, 2, T0 + 3600) for i in range(2)]
    for s in first:
        asyncio.run(s.tick())
        asyncio.run(s.save_checkpoint())
    owned = [_instances(s, "split") for s in first]

    again = [_shard(path, i, 2, T0 + 3660) for i in range(2)]
    assert [_instances(s, "split") for s in again] == owned  # each its own, from its file

    single = _shard(path, 0, 1, T0 + 3660)  # fewer shards: one takes every series back
    assert _instances(single, "split") == INSTANCES
    assert single.engine.export_state()["split"].state.bank is not None

    # a newer training job's copy wins per series over the shards' files
    trained = single.engine.export_state()["split"]
    mark = max(m.watermark for m in trained.state.memo.values())
    for m in trained.state.memo.values():
        m.watermark = mark + 600
    write_checkpoint(
        tmp_path / "data" / "checkpoints" / "trained.ckpt", {"split": trained}, time.time() + 60
    )
    three = [_shard(path, i, 3, T0 + 3720) for i in range(3)]
    shares = [_instances(s, "split") for s in three]
    assert set().union(*shares) == INSTANCES and sum(map(len, shares)) == 20
    for s in three:
        memo = s.engine.export_state()["split"].state.memo
        assert all(m.watermark == mark + 600 for m in memo.values())
