"""One training task: query a chunk of a rule's series over the window, replay, return state.

A plain function of picklable values, so the job runs it as a Ray task on any node (and a
test runs it in-process). The replay is the scheduler's own cold start (`Engine.step` over
the whole window), so the state is what a scheduler that had run through the window holds.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
from dataclasses import dataclass

from sidecar.checkpoint import RuleState
from sidecar.config.loader import Rules
from sidecar.config.schema import DetectorRule, ForecastRule
from sidecar.engine import Engine
from sidecar.errors import SidecarError
from sidecar.sources.prometheus import PrometheusSource
from sidecar.train.split import Chunk

__all__ = ["ChunkResult", "ChunkTask", "TrainFailed", "train_chunk"]


class TrainFailed(SidecarError):
    """A chunk whose replay raised (the engine records it as the rule's health)."""


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """What a task needs: the settings (Prometheus), the rule, its chunk and the window."""

    rules: Rules
    rule: DetectorRule | ForecastRule
    chunk: Chunk
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """The chunk's learned state (pickled in the task: Ray hands numpy arrays back
    read-only, and a restored model must be able to learn) and what it took."""

    chunk: Chunk
    state_pickle: bytes
    series: int
    samples: int
    query_seconds: float
    replay_seconds: float

    def state(self) -> RuleState:
        """The learned state, as fresh (writable) objects."""
        state = pickle.loads(self.state_pickle)
        assert isinstance(state, RuleState)
        return state


def train_chunk(task: ChunkTask) -> ChunkResult:
    """Fetch the chunk's series over [start, end] and replay them through a fresh Engine."""
    rule = task.rule
    only = dataclasses.replace(
        task.rules,
        detectors=(rule,) if isinstance(rule, DetectorRule) else (),
        forecasts=(rule,) if isinstance(rule, ForecastRule) else (),
        rightsizing=(),
    )
    engine = Engine(only, interval=task.rules.settings.interval)
    source = PrometheusSource.from_settings(task.rules.settings)
    member = task.chunk.member_filter()
    began = time.perf_counter()
    frames = {}
    samples = 0
    series: set[tuple[tuple[str, str], ...]] = set()
    for plan in engine.plan(task.end):
        if "/capacity/" in plan.key:  # learned on the scheduler's first tick
            continue
        got = source.query_range(task.chunk.restrict(plan.promql), task.start, task.end, plan.step)
        kept = [f for f in got if member(f.key.as_dict())]
        frames[plan.key] = kept
        samples += sum(int(f.t.size) for f in kept)
        series.update(f.key.labels for f in kept)
    queried = time.perf_counter()
    snapshot = engine.step(frames, task.end)
    for health in snapshot.rules:
        if not health.success:
            raise TrainFailed(f"rule {health.rule}: the replay failed: {health.error}")
    state = engine.export_state()[rule.name]
    return ChunkResult(
        task.chunk,
        pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),
        len(series),
        samples,
        queried - began,
        time.perf_counter() - queried,
    )
