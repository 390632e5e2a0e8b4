"""`sidecar train`: learn the state of chosen rules from Prometheus history, as Ray tasks.

The job lists each rule's chunks (by its `shard_by` labels), writes a manifest, runs one
task per chunk (at most `workers` at once) and keeps each finished chunk's state as a part
file. When every chunk is done the parts are merged per rule into `trained.ckpt` beside
the scheduler's own checkpoints, which the scheduler loads on its next start. A job cut
short is resumed by running it again: the manifest fixes the window and the chunks, and
finished parts are not redone.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sidecar.checkpoint import (
    CheckpointError,
    RuleState,
    read_checkpoint,
    rule_hash,
    write_checkpoint,
)
from sidecar.config.loader import Rules
from sidecar.config.schema import DetectorRule, ForecastRule
from sidecar.engine import STALE_STEPS, merge_rule_states
from sidecar.errors import SidecarError
from sidecar.progress import progress
from sidecar.sources.prometheus import PrometheusSource
from sidecar.train.split import Chunk, SplitError, chunk_values, listing_query
from sidecar.train.task import ChunkResult, ChunkTask, train_chunk

__all__ = ["TRAINED_FILE", "TrainError", "TrainSummary", "plan_job", "run_job"]

TRAINED_FILE = "trained.ckpt"
"""The job's output in `data_dir/checkpoints` (the scheduler reads every `*.ckpt` there)."""
MANIFEST_VERSION = 1
DEFAULT_SAMPLES_PER_TASK = 2_000_000
"""Samples a task fetches at most (about 0.5 GiB of worker memory with the JSON decoding)."""

TrainedRule = DetectorRule | ForecastRule


class TrainError(SidecarError):
    """A training job that cannot start (no such rule, nothing to train)."""


@dataclass(frozen=True, slots=True)
class JobPlan:
    """The window and the chunks of one job, as its manifest holds them."""

    start: float
    end: float
    rules: dict[str, str]  # name → rule hash
    chunks: tuple[Chunk, ...]
    notes: tuple[str, ...] = ()  # what the planner had to decide (printed)


@dataclass
class TrainSummary:
    """What a run did (printed at exit)."""

    rules: int = 0
    chunks: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    series: int = 0
    samples: int = 0
    seconds: float = 0.0
    query_seconds: float = 0.0
    replay_seconds: float = 0.0
    workers: int = 1
    peak_worker_rss: int = 0  # bytes
    nodes: set[str] = field(default_factory=set)  # Ray nodes the tasks of this run ran on
    checkpoint: Path | None = None
    checkpoint_bytes: int = 0
    trained_series: int = 0

    def lines(self) -> list[str]:
        """The exit summary."""
        rate = self.samples / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"trained {self.rules} rule(s) in {self.chunks} chunk(s) with {self.workers} "
            f"worker(s) on {len(self.nodes)} Ray node(s): {self.series} series, "
            f"{self.samples} samples in {self.seconds:.1f} s "
            f"({rate:,.0f} samples/s; query {self.query_seconds:.1f} s, replay "
            f"{self.replay_seconds:.1f} s summed over tasks)",
        ]
        if self.reused:
            out.append(f"{self.reused} chunk(s) were already done by an earlier run: not redone")
        if self.peak_worker_rss:
            out.append(f"peak worker memory {self.peak_worker_rss / 2**20:.0f} MiB (RSS)")
        if self.failed:
            out.append(
                f"{len(self.failed)} chunk(s) failed; run the same command again to "
                "finish them (finished chunks are kept):"
            )
            out.extend(f"  {f}" for f in self.failed)
        elif self.checkpoint is not None:
            per = self.checkpoint_bytes / max(1, self.trained_series)
            out.append(
                f"wrote {self.checkpoint} ({self.checkpoint_bytes / 2**20:.1f} MiB, "
                f"{per:,.0f} B/series); `sidecar run` loads it when it starts"
            )
        return out


def chosen_rules(rules: Rules, names: Sequence[str]) -> list[TrainedRule]:
    """The enabled detector and forecast rules named (all of them when `names` is empty)."""
    trainable: dict[str, TrainedRule] = {r.name: r for r in rules.detectors if r.enabled}
    trainable.update((r.name, r) for r in rules.forecasts if r.enabled)
    unknown = [n for n in names if n not in trainable]
    if unknown:
        raise TrainError(
            f"no enabled detector or forecast rule named {', '.join(map(repr, unknown))} "
            f"(there are: {', '.join(sorted(trainable)) or 'none'})"
        )
    picked = [trainable[n] for n in names] if names else list(trainable.values())
    if not picked:
        raise TrainError("the rule files have no enabled detector or forecast rule to train")
    return picked


def plan_job(
    rules: Rules,
    chosen: Sequence[TrainedRule],
    window: float,
    now: float,
    samples_per_task: int = DEFAULT_SAMPLES_PER_TASK,
    source: PrometheusSource | None = None,
) -> JobPlan:
    """List each rule's series by its `shard_by` labels and cut them into chunks."""
    source = source or PrometheusSource.from_settings(rules.settings)
    chunks: list[Chunk] = []
    notes: list[str] = []
    for rule in chosen:
        queries = _queries(rule)
        columns = len(queries)
        points = math.floor(window / rule.step) + 1
        size = max(1, samples_per_task // (points * columns))
        if not rule.shard_by:
            chunks.append(Chunk(rule.name, 0))
            continue
        labels = tuple(rule.shard_by)
        listed = source.query_range(
            listing_query(queries[0], labels), now - STALE_STEPS * rule.step, now, rule.step
        )
        found = [tuple(f.key.as_dict().get(n, "") for n in labels) for f in listed]
        mine = chunk_values(rule.name, labels, found, size) or [Chunk(rule.name, 0)]
        try:
            for q in queries:
                mine[0].restrict(q)
        except SplitError as exc:
            notes.append(f"rule {rule.name}: trained as one chunk: {exc}")
            mine = [Chunk(rule.name, 0)]
        chunks.extend(mine)
    return JobPlan(
        now - window,
        now,
        {r.name: rule_hash(r) for r in chosen},
        tuple(chunks),
        tuple(notes),
    )


def _queries(rule: TrainedRule) -> list[str]:
    if isinstance(rule, DetectorRule) and rule.queries is not None:
        return [rule.queries[c] for c in sorted(rule.queries)]
    assert rule.query is not None
    return [rule.query]


# -- the job's files ----------------------------------------------------------------------------


class JobFiles:
    """`data_dir/train`: the manifest and one part file per finished chunk."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "train"
        self.manifest = self.root / "job.json"
        self.output = data_dir / "checkpoints" / TRAINED_FILE

    def load(self) -> JobPlan | None:
        """The unfinished job's plan, or None."""
        try:
            body = json.loads(self.manifest.read_text())
            if body.get("version") != MANIFEST_VERSION:
                return None
            return JobPlan(
                float(body["start"]),
                float(body["end"]),
                {str(k): str(v) for k, v in body["rules"].items()},
                tuple(
                    Chunk(
                        c["rule"],
                        int(c["index"]),
                        tuple(c["labels"]),
                        tuple(tuple(v) for v in c["values"]),
                    )
                    for c in body["chunks"]
                ),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def start(self, plan: JobPlan) -> None:
        """Forget any earlier job and write this one's manifest."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        body = {
            "version": MANIFEST_VERSION,
            "start": plan.start,
            "end": plan.end,
            "rules": plan.rules,
            "chunks": [
                {
                    "rule": c.rule,
                    "index": c.index,
                    "labels": list(c.labels),
                    "values": [list(v) for v in c.values],
                }
                for c in plan.chunks
            ],
        }
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.manifest)

    def part(self, chunk: Chunk, plan: JobPlan) -> Path:
        return self.root / f"part-{plan.rules[chunk.rule]}-{chunk.index:05d}.ckpt"

    def done(self, chunk: Chunk, plan: JobPlan) -> bool:
        """Whether the chunk's part is on disk and whole."""
        try:
            read_checkpoint(self.part(chunk, plan))
        except (OSError, CheckpointError):
            return False
        return True

    def save(self, result: ChunkResult, plan: JobPlan) -> None:
        write_checkpoint(
            self.part(result.chunk, plan), {result.chunk.rule: result.state()}, time.time()
        )

    def finish(self, plan: JobPlan) -> tuple[int, int]:
        """Merge the parts per rule into the trained checkpoint, keeping the rules an earlier
        job trained and this one did not; returns (bytes written, series in this job)."""
        by_rule: dict[str, list[RuleState]] = {}
        for chunk in plan.chunks:
            state = read_checkpoint(self.part(chunk, plan)).rules[chunk.rule]
            by_rule.setdefault(chunk.rule, []).append(state)
        merged = {name: merge_rule_states(parts) for name, parts in by_rule.items()}
        series = sum(len(m.state.memo) for m in merged.values())
        kept: dict[str, RuleState] = {}
        if self.output.exists():
            try:
                kept = dict(read_checkpoint(self.output).rules)
            except CheckpointError:
                kept = {}
        kept.update(merged)
        written = write_checkpoint(self.output, kept, time.time())
        shutil.rmtree(self.root, ignore_errors=True)
        return written, series


# -- running ------------------------------------------------------------------------------------


def run_job(
    rules: Rules,
    names: Sequence[str],
    window: float,
    *,
    workers: int | None = None,
    samples_per_task: int = DEFAULT_SAMPLES_PER_TASK,
    fresh: bool = False,
    now: float | None = None,
    say: Callable[[str], None] = print,
) -> TrainSummary:
    """Plan (or resume) the job, run its chunks as Ray tasks, write the checkpoint."""
    chosen = chosen_rules(rules, names)
    files = JobFiles(Path(rules.settings.data_dir))
    wanted = {r.name: rule_hash(r) for r in chosen}
    plan = None if fresh else files.load()
    if plan is not None and (
        plan.rules != wanted or not math.isclose(plan.end - plan.start, window)
    ):
        say("an unfinished training job of other rules or another window: starting afresh")
        plan = None
    if plan is None:
        plan = plan_job(
            rules, chosen, window, time.time() if now is None else now, samples_per_task
        )
        files.start(plan)
    else:
        say(
            f"resuming the unfinished job ({len(plan.chunks)} chunk(s), window ending "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(plan.end))} UTC)"
        )
    for note in plan.notes:
        say(note)
    by_name = {r.name: r for r in chosen}
    todo = [c for c in plan.chunks if not files.done(c, plan)]
    summary = TrainSummary(rules=len(chosen), chunks=len(plan.chunks))
    summary.reused = len(plan.chunks) - len(todo)
    tasks = [ChunkTask(rules, by_name[c.rule], c, plan.start, plan.end) for c in todo]
    began = time.perf_counter()
    with progress(len(plan.chunks), "training", unit="chunk", initial=summary.reused) as bar:

        def finished(result: ChunkResult, rss: int, node: str) -> None:
            files.save(result, plan)
            summary.nodes.add(node)
            summary.series += result.series
            summary.samples += result.samples
            summary.query_seconds += result.query_seconds
            summary.replay_seconds += result.replay_seconds
            summary.peak_worker_rss = max(summary.peak_worker_rss, rss)
            bar.update(1)
            elapsed = time.perf_counter() - began
            bar.set_postfix(
                series=summary.series,
                samples=summary.samples,
                rate=f"{summary.samples / max(elapsed, 1e-9):,.0f}/s",
            )

        def failed(task: ChunkTask, error: str) -> None:
            summary.failed.append(f"{task.chunk.rule} chunk {task.chunk.index}: {error}")

        summary.workers = _run_on_ray(tasks, workers, finished, failed) if tasks else 0
    summary.seconds = time.perf_counter() - began
    if not summary.failed:
        summary.checkpoint = files.output
        summary.checkpoint_bytes, summary.trained_series = files.finish(plan)
    return summary


def _train_on_worker(task: ChunkTask) -> tuple[ChunkResult, int, str]:
    """A task: the chunk's result, the worker process's peak RSS in bytes, its Ray node."""
    import ray

    result = train_chunk(task)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result, rss, ray.get_runtime_context().get_node_id()


def _run_on_ray(
    tasks: Sequence[ChunkTask],
    workers: int | None,
    finished: Callable[[ChunkResult, int, str], None],
    failed: Callable[[ChunkTask, str], None],
) -> int:
    """Run the tasks, at most `workers` at once, on the cluster at RAY_ADDRESS or an
    embedded local Ray; returns the number of workers used."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if os.environ.get("RAY_ADDRESS"):
            ray.init(log_to_driver=False)
        else:
            ray.init(
                address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False
            )
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        limit = max(1, min(workers or cpus, cpus))
        remote = ray.remote(num_cpus=1)(_train_on_worker)
        queue = list(tasks)
        running: dict[Any, ChunkTask] = {}
        while queue or running:
            while queue and len(running) < limit:
                task = queue.pop(0)
                running[remote.remote(task)] = task
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                task = running.pop(ref)
                try:
                    result, rss, node = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    failed(task, _cause(exc))
                else:
                    finished(result, rss, node)
        return limit
    finally:
        if started_here:
            ray.shutdown()


def _cause(exc: BaseException) -> str:
    """The task's own error in one line (Ray wraps it with the remote traceback)."""
    inner = getattr(exc, "cause", None)
    err = inner if isinstance(inner, BaseException) else exc
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}"
