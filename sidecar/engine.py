"""`Engine`: detectors, forecasters and scaling for the rules of one shard; no I/O, time as input.

Each tick the owner asks `plan(now)` which range queries to run (a cold rule replays its
`lookback`; a warm one asks only from its watermark), runs them, and hands the frames to
`step(frames, now)`, which feeds only samples newer than each series' watermark and returns
an immutable `Snapshot`. A series that stops appearing is dropped after `stale_after`
(no unbounded label growth); its detector channel is reused.

Detector rules with a fixed or false-alarm-rate threshold run vectorised: one `Bank` per
rule, one channel per series, one array step per timestamp for all series together.
Rules with a streaming-quantile threshold, multivariate rules (`queries`) and the
isolation forest run one `Monitor` per series (the per-row path; the same numbers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from sidecar.checkpoint import RuleState, rule_hash
from sidecar.config.loader import Rules
from sidecar.config.schema import DetectorRule, ForecastRule, RightsizingRule
from sidecar.detect.base import Bank, UnivariateDetector
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import DETECTORS, make_detector
from sidecar.forecast.auto import AutoForecaster
from sidecar.forecast.capacity import CapacityEstimate, estimate_capacity
from sidecar.forecast.scaling import ScalingMemory, hpa_value, recommend
from sidecar.rightsize.container import ContainerUsage, recommend_container
from sidecar.snapshot import (
    AnomalyPoint,
    CapacityPoint,
    ForecastPoint,
    ReplicaPoint,
    RightsizePoint,
    RuleHealth,
    Snapshot,
)
from sidecar.types import Frame, SeriesKey

__all__ = ["Engine", "QueryPlan", "join_frames", "merge_rule_states", "newest_per_series"]

ERROR_KINDS = ("timeout", "source_unavailable", "query_error", "bad_response", "rule")
"""What `sidecar_errors_total{kind}` counts for a shard: the Prometheus failure kinds of a
rule's query, and `rule` for a rule whose own run raised."""
STALE_STEPS = 10  # a series unseen for this many steps (and 3 intervals) is dropped
MIN_BANK_CHANNELS = 16
"""Channels a rule's bank starts with at least (it doubles as series arrive)."""
REFIT_EVERY_S = 86400.0
"""A forecast series is refitted from scratch after a day of samples (at least
`MIN_REFIT_STEPS`), between which its model only updates."""
MIN_REFIT_STEPS = 60
MIN_FIT_SAMPLES = 20
"""Finite samples a forecast series needs before its first fit."""
THROTTLING_WINDOW_S = 86400.0
"""The CPU throttling a rightsizing recommendation reports: the last day's mean."""


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """One range query the owner should run for a rule (`key` names it in `step`)."""

    key: str
    rule: str
    promql: str
    start: float
    end: float
    step: float


def join_frames(by_column: Mapping[str, list[Frame]], on: tuple[str, ...]) -> list[Frame]:
    """Frames of several queries joined per target (labels in `on`) into multi-column frames."""
    targets: dict[tuple[tuple[str, str], ...], dict[str, Frame]] = {}
    for column, frames in by_column.items():
        for f in frames:
            ident = tuple((k, v) for k, v in f.key.labels if k in on)
            targets.setdefault(ident, {})[column] = f
    out = []
    columns = tuple(sorted(by_column))
    for ident, parts in sorted(targets.items()):
        grid = np.unique(np.concatenate([p.t for p in parts.values()]))
        X = np.full((grid.size, len(columns)), np.nan)
        for j, c in enumerate(columns):
            if c in parts:
                idx = np.searchsorted(grid, parts[c].t)
                X[idx, j] = parts[c].X[:, 0]
        out.append(Frame(SeriesKey("", ident), grid, X, columns))
    return out


@dataclass
class _SeriesMemo:
    watermark: float = -math.inf
    last_seen: float = 0.0
    lowest: float = math.inf  # the least value the series has shown
    last_anomalous: float | None = None  # the time of its latest anomalous verdict
    peak: float = 0.0  # the highest score of its current (or last) anomalous episode
    in_episode: bool = False

    def verdict(self, t: float, anomalous: bool, score: float) -> None:
        """Follow the series' episodes: when it last was anomalous and how high it scored."""
        if anomalous:
            self.peak = max(self.peak, score) if self.in_episode else score
            self.last_anomalous = t
        self.in_episode = anomalous

    def floor(self, lower: float | None) -> float | None:
        """An expected lower bound kept within what the series can be: never below zero
        for a series that has never gone below zero (a rate, a count, `up`)."""
        if lower is None or self.lowest < 0:
            return lower
        return max(lower, 0.0)


@dataclass
class _DetectorState:
    rule: DetectorRule
    bank: Bank | None = None
    index: dict[SeriesKey, int] = field(default_factory=dict)
    free: list[int] = field(default_factory=list)
    monitors: dict[SeriesKey, Monitor] = field(default_factory=dict)
    memo: dict[SeriesKey, _SeriesMemo] = field(default_factory=dict)
    points: dict[SeriesKey, AnomalyPoint] = field(default_factory=dict)
    episodes: set[int] = field(default_factory=set)  # bank channels whose last verdict was 1


@dataclass
class _ForecastSeries:
    model: AutoForecaster
    since_fit: int = 0
    memory: ScalingMemory = field(default_factory=ScalingMemory)


@dataclass
class _ForecastState:
    rule: ForecastRule
    series: dict[SeriesKey, _ForecastSeries] = field(default_factory=dict)
    memo: dict[SeriesKey, _SeriesMemo] = field(default_factory=dict)
    forecasts: dict[SeriesKey, ForecastPoint] = field(default_factory=dict)
    replicas: dict[SeriesKey, ReplicaPoint] = field(default_factory=dict)
    capacity_run: float | None = None  # when capacity was last learned
    capacity_planned: bool = False
    capacity: dict[tuple[tuple[str, str], ...], CapacityEstimate] = field(default_factory=dict)
    capacities: dict[SeriesKey, CapacityPoint] = field(default_factory=dict)


@dataclass
class _RightsizeState:
    rule: RightsizingRule
    last_run: float | None = None  # when the last recommendation was computed
    planned: bool = False  # queries were planned this tick
    points: dict[tuple[tuple[str, str], ...], tuple[RightsizePoint, ...]] = field(
        default_factory=dict
    )


RIGHTSIZE_QUERIES = ("cpu", "memory", "oom", "throttling")
CAPACITY_QUERIES = ("load", "replicas", "latency")
"""The queries capacity learning runs (`<name>/capacity/<column>` plan keys)."""
"""The query columns of a rightsizing rule (`<name>/<column>` plan keys)."""


def frames_of_capacity(frames: Mapping[str, list[Frame]], rule: str) -> dict[str, list[Frame]]:
    """The capacity-learning frames of `rule`, by column (`load`, `replicas`, `latency`)."""
    prefix = f"{rule}/capacity/"
    return {k[len(prefix) :]: v for k, v in frames.items() if k.startswith(prefix)}


def _matching(frames: list[Frame], labels: tuple[tuple[str, str], ...]) -> Frame | None:
    """The frame with the same labels (ignoring the metric name), or the only one there is."""
    own = tuple((k, v) for k, v in labels if k != "__name__")
    for f in frames:
        if tuple((k, v) for k, v in f.key.labels if k != "__name__") == own:
            return f
    return frames[0] if len(frames) == 1 else None


def _on_grid(frame: Frame, grid: np.ndarray) -> np.ndarray:
    """The frame's first column at the times of `grid` (NaN where it has no sample)."""
    out = np.full(grid.size, np.nan)
    idx = np.searchsorted(frame.t, grid)
    hit = (idx < frame.t.size) & (frame.t[np.minimum(idx, frame.t.size - 1)] == grid)
    out[hit] = frame.X[idx[hit], 0]
    return out


SeriesFilter = Callable[[SeriesKey], bool]


def merge_rule_states(parts: Sequence[RuleState]) -> RuleState:
    """One rule's state from states learned on disjoint parts of its series (a training
    job's chunks): each series keeps what it learned, in a bank channel of its own."""
    return _gather([(p, _everything) for p in parts])


def newest_per_series(saved: Sequence[RuleState], keep: SeriesFilter) -> RuleState:
    """One rule's state from several saved copies, newest first: each series that `keep`
    accepts from the newest copy that has it (a shard's share of a rule split by series,
    from the shards' checkpoints and a training job's)."""
    taken: set[SeriesKey] = set()
    picks: list[tuple[RuleState, SeriesFilter]] = []
    for state in saved:
        mine = {k for k in state.state.memo if keep(k) and k not in taken}
        taken |= mine
        picks.append((state, mine.__contains__))
    return _gather(picks)


def _everything(key: SeriesKey) -> bool:
    return True


def _gather(parts: Sequence[tuple[RuleState, SeriesFilter]]) -> RuleState:
    """The series each part's filter accepts, joined into one state (they must be disjoint)."""
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0][0]
    if any(p.hash != first.hash or p.kind != first.kind for p, _ in parts):
        raise ValueError("states of different rules (or rule versions) cannot be merged")
    if first.kind == "detector":
        detectors = [(p.state, keep) for p, keep in parts]
        return RuleState(first.hash, first.kind, _gather_detectors(detectors))
    if first.kind == "forecast":
        forecasts = [(p.state, keep) for p, keep in parts]
        return RuleState(first.hash, first.kind, _gather_forecasts(forecasts))
    raise ValueError(f"no merge for {first.kind} state")


def _gather_detectors(parts: Sequence[tuple[_DetectorState, SeriesFilter]]) -> _DetectorState:
    out = _DetectorState(parts[0][0].rule)
    template = next((p.bank for p, _ in parts if p.bank is not None), None)
    if template is not None:
        size = sum(1 for p, keep in parts for k in p.index if keep(k))
        out.bank = template.detector.bank(max(MIN_BANK_CHANNELS, size))
    for p, keep in parts:
        if p.bank is not None and out.bank is not None:
            keys = [k for k in p.index if keep(k)]
            at = np.arange(len(out.index), len(out.index) + len(keys), dtype=np.intp)
            held = np.array([p.index[k] for k in keys], dtype=np.intp)
            out.bank.copy_channels(p.bank, held, at)
            moved = dict(zip(held.tolist(), at.tolist(), strict=True))
            out.index.update(zip(keys, at.tolist(), strict=True))
            out.episodes.update(moved[ch] for ch in p.episodes if ch in moved)
        _take_memo(out.memo, p.memo, keep)
        out.monitors.update((k, m) for k, m in p.monitors.items() if keep(k))
        out.points.update((k, v) for k, v in p.points.items() if keep(k))
    return out


def _take_memo(
    into: dict[SeriesKey, _SeriesMemo], memo: dict[SeriesKey, _SeriesMemo], keep: SeriesFilter
) -> None:
    """Add the kept series' memos; a series already there means the parts overlap."""
    mine = {k: m for k, m in memo.items() if keep(k)}
    if mine.keys() & into.keys():
        raise ValueError("the parts share series: they must be disjoint")
    into.update(mine)


def _gather_forecasts(parts: Sequence[tuple[_ForecastState, SeriesFilter]]) -> _ForecastState:
    out = _ForecastState(parts[0][0].rule)  # capacity is relearned on the first tick
    for p, keep in parts:
        _take_memo(out.memo, p.memo, keep)
        out.series.update((k, v) for k, v in p.series.items() if keep(k))
        out.forecasts.update((k, v) for k, v in p.forecasts.items() if keep(k))
        out.replicas.update((k, v) for k, v in p.replicas.items() if keep(k))
    return out


class Engine:
    """Owns the model state of a set of rules; `step` is the only mutator."""

    def __init__(self, rules: Rules, *, interval: float = 30.0, seed: int = 0) -> None:
        self.rules = rules
        self.interval = interval
        self.seed = seed
        self._detectors = {r.name: _DetectorState(r) for r in rules.detectors if r.enabled}
        self._forecasts = {r.name: _ForecastState(r) for r in rules.forecasts if r.enabled}
        self._rightsizing = {r.name: _RightsizeState(r) for r in rules.rightsizing if r.enabled}
        self._health: dict[str, RuleHealth] = {}
        # every kind from the start, at 0, as exporters ship counters (rate() needs the 0)
        self._errors: dict[str, int] = dict.fromkeys(ERROR_KINDS, 0)
        self._nonfinite: dict[str, int] = {}  # samples Prometheus answered NaN or ±Inf, by rule
        # (rule, query, series) → (time of the last sample counted, when it was seen)
        self._counted: dict[tuple[str, str, SeriesKey], tuple[float, float]] = {}

    def replace_rules(self, rules: Rules) -> None:
        """Swap in new rules; rules whose definition is unchanged keep their learned state."""
        detectors = {r.name: r for r in rules.detectors if r.enabled}
        forecasts = {r.name: r for r in rules.forecasts if r.enabled}
        self._detectors = {
            n: (
                self._detectors[n]
                if n in self._detectors and self._detectors[n].rule == r
                else _DetectorState(r)
            )
            for n, r in detectors.items()
        }
        self._forecasts = {
            n: (
                self._forecasts[n]
                if n in self._forecasts and self._forecasts[n].rule == r
                else _ForecastState(r)
            )
            for n, r in forecasts.items()
        }
        rightsizing = {r.name: r for r in rules.rightsizing if r.enabled}
        self._rightsizing = {
            n: (
                self._rightsizing[n]
                if n in self._rightsizing and self._rightsizing[n].rule == r
                else _RightsizeState(r)
            )
            for n, r in rightsizing.items()
        }
        kept = set(detectors) | set(forecasts) | set(rightsizing)
        self._health = {n: h for n, h in self._health.items() if n in kept}
        self.rules = rules

    # -- checkpoints -----------------------------------------------------------------------------

    def export_state(self) -> dict[str, RuleState]:
        """Every rule's learned state (live objects: pickle them before the next `step`)."""
        out: dict[str, RuleState] = {}
        for name, st in self._detectors.items():
            out[name] = RuleState(rule_hash(st.rule), "detector", st)
        for name, fs in self._forecasts.items():
            out[name] = RuleState(rule_hash(fs.rule), "forecast", fs)
        for name, rs in self._rightsizing.items():
            out[name] = RuleState(rule_hash(rs.rule), "rightsizing", rs)
        return out

    def restore_state(self, saved: Mapping[str, RuleState]) -> list[str]:
        """Adopt the saved state of every rule whose definition is unchanged (same hash);
        the others start cold. Returns the names restored."""
        restored = []

        def fits(name: str, kind: str, cls: type, rule: BaseModel) -> Any:
            s = saved.get(name)
            ok = s is not None and s.kind == kind and isinstance(s.state, cls)
            if ok and s is not None and s.hash == rule_hash(rule):
                restored.append(name)
                return s.state
            return None

        for name, st in list(self._detectors.items()):
            self._detectors[name] = fits(name, "detector", _DetectorState, st.rule) or st
        for name, fs in list(self._forecasts.items()):
            self._forecasts[name] = fits(name, "forecast", _ForecastState, fs.rule) or fs
        for name, rs in list(self._rightsizing.items()):
            self._rightsizing[name] = fits(name, "rightsizing", _RightsizeState, rs.rule) or rs
        return restored

    # -- planning -----------------------------------------------------------------------------

    def plan(self, now: float) -> list[QueryPlan]:
        """The range queries for this tick: a rule's lookback when cold, else since its
        watermark."""
        plans: list[QueryPlan] = []
        for name, st in self._detectors.items():
            r = st.rule
            start = self._start(st.memo, now, r.lookback, r.step)
            queries = {"": r.query} if r.query is not None else dict(r.queries or {})
            for col, q in queries.items():
                plans.append(
                    QueryPlan(f"{name}/{col}" if col else name, name, q, start, now, r.step)
                )
        for name, fs in self._forecasts.items():
            fr = fs.rule
            start = self._start(fs.memo, now, fr.lookback, fr.step)
            plans.append(QueryPlan(name, name, fr.query, start, now, fr.step))
            learn = fr.scaling.learn_capacity if fr.scaling else None
            fs.capacity_planned = learn is not None and (
                fs.capacity_run is None or now - fs.capacity_run >= learn.every
            )
            if learn is not None and fs.capacity_planned and fr.scaling is not None:
                replicas_q = fr.scaling.current_replicas_query
                assert replicas_q is not None  # the schema requires it with learn_capacity
                for col, cap_q in zip(
                    CAPACITY_QUERIES, (fr.query, replicas_q, learn.latency_query), strict=True
                ):
                    plans.append(
                        QueryPlan(
                            f"{name}/capacity/{col}",
                            name,
                            cap_q,
                            now - learn.lookback,
                            now,
                            learn.step,
                        )
                    )
        for name, rs in self._rightsizing.items():
            sized = rs.rule
            rs.planned = rs.last_run is None or now - rs.last_run >= sized.every
            if not rs.planned:
                continue
            for col in RIGHTSIZE_QUERIES:
                q = getattr(sized, f"{col}_query")
                if q is not None:
                    start = now - sized.lookback
                    plans.append(QueryPlan(f"{name}/{col}", name, q, start, now, sized.step))
        return plans

    @staticmethod
    def _start(
        memo: Mapping[SeriesKey, _SeriesMemo], now: float, lookback: float, step: float
    ) -> float:
        marks = [m.watermark for m in memo.values() if math.isfinite(m.watermark)]
        if not marks:
            return now - lookback
        return max(now - lookback, min(marks) - step)  # one step of overlap, filtered later

    # -- one tick -------------------------------------------------------------------------------

    def step(
        self,
        frames: Mapping[str, list[Frame]],
        now: float,
        failed: Mapping[str, str] | None = None,
        current_replicas: Mapping[str, int] | None = None,
    ) -> Snapshot:
        """Feed the new samples of every rule; `failed` maps rule → error kind (skipped)."""
        failed = failed or {}
        for name, st in self._detectors.items():
            self._run(name, "detector", failed, now, lambda st=st: self._detect(st, frames, now))
        for name, fs in self._forecasts.items():
            self._run(
                name,
                "forecast",
                failed,
                now,
                lambda fs=fs: self._forecast(
                    fs,
                    frames.get(fs.rule.name, []),
                    now,
                    (current_replicas or {}).get(fs.rule.name),
                    frames_of_capacity(frames, fs.rule.name),
                ),
            )
        for name, rs in self._rightsizing.items():
            if rs.planned:
                rs.planned = False
                self._run(
                    name, "rightsizing", failed, now, lambda rs=rs: self._rightsize(rs, frames, now)
                )
        return self.snapshot(now)

    def _run(self, name: str, kind: str, failed: Mapping[str, str], now: float, work: Any) -> None:
        """Run one rule; a failure is recorded for that rule and never stops the others."""
        prev = self._health.get(name)
        last_ok = prev.last_success if prev else None
        count = prev.series if prev else 0
        if name in failed:
            self._errors[failed[name]] = self._errors.get(failed[name], 0) + 1
            self._health[name] = RuleHealth(name, kind, False, 0.0, last_ok, count, failed[name])
            return
        started = time.perf_counter()
        try:
            series = int(work())
        except Exception as exc:  # noqa: BLE001 (one failing rule never stops the cycle)
            self._errors["rule"] = self._errors.get("rule", 0) + 1
            self._health[name] = RuleHealth(
                name,
                kind,
                False,
                time.perf_counter() - started,
                last_ok,
                count,
                f"{type(exc).__name__}: {exc}",
            )
            return
        self._health[name] = RuleHealth(
            name, kind, True, time.perf_counter() - started, now, series
        )

    def _detect(self, st: _DetectorState, frames: Mapping[str, list[Frame]], now: float) -> int:
        r = st.rule
        if r.queries is not None:
            parts = {col: frames.get(f"{r.name}/{col}", []) for col in r.queries}
            series = join_frames(parts, r.join_on)
            for col, raw in parts.items():  # the raw answers (a join adds gaps of its own)
                self._count_nonfinite(r.name, raw, now, r.step, col)
        else:
            series = list(frames.get(r.name, []))
            self._count_nonfinite(r.name, series, now, r.step)
        vectorised = (
            issubclass(DETECTORS[r.detector.kind], UnivariateDetector)
            and r.threshold.policy == "fixed"
            and r.queries is None
        )
        if vectorised:
            self._detect_bank(st, series, now)
        else:
            self._detect_monitors(st, series, now)
        self._expire(st.memo, now, r.step, drop=lambda k: self._drop_detector_series(st, k))
        # a verdict whose series still answers, but with no number, is no verdict any more
        limit = self._stale_after(r.step)
        for key in [k for k, p in st.points.items() if now - p.t > limit]:
            del st.points[key]
        return len(st.points)

    def _detect_monitors(self, st: _DetectorState, series: list[Frame], now: float) -> None:
        r = st.rule
        for f in series:
            memo = st.memo.setdefault(f.key, _SeriesMemo())
            memo.last_seen = now
            mon = st.monitors.get(f.key)
            if mon is None:
                mon = st.monitors[f.key] = Monitor(make_detector(r.detector), r.threshold)
            new = (f.t > memo.watermark) & ~np.all(np.isnan(f.X), axis=1)
            if not new.any():
                continue
            fresh = Frame(f.key, f.t[new], f.X[new], f.columns)
            finite = fresh.X[np.isfinite(fresh.X)]
            if finite.size:
                memo.lowest = min(memo.lowest, float(finite.min()))
            verdicts = mon.update_frame(fresh)
            for verdict, at in zip(verdicts, fresh.t.tolist(), strict=True):
                memo.verdict(at, verdict.anomalous, verdict.score.value)
            v, t = verdicts[-1], float(fresh.t[-1])
            memo.watermark = t
            exp = v.score.expected
            driver = v.score.driver or f.columns[0]
            observed = float(fresh.X[-1, f.columns.index(driver)]) if driver in f.columns else None
            st.points[f.key] = AnomalyPoint(
                r.name,
                f.key.labels,
                v.score.driver or f.columns[0],
                v.score.value,
                memo.floor(exp[0]) if exp else None,
                exp[1] if exp else None,
                v.anomalous,
                t,
                observed,
                memo.last_anomalous,
                memo.peak if memo.last_anomalous is not None else None,
            )

    def _detect_bank(self, st: _DetectorState, series: list[Frame], now: float) -> None:
        r = st.rule
        if st.bank is None:
            det = make_detector(r.detector)
            assert isinstance(det, UnivariateDetector)
            st.bank = det.bank(max(MIN_BANK_CHANNELS, len(series)))
        bank = st.bank
        channels = []
        for f in series:
            ch = st.index.get(f.key)
            if ch is None:
                ch = st.free.pop() if st.free else len(st.index)
                if ch >= bank.n:
                    bank.resize(max(ch + 1, 2 * bank.n))
                st.index[f.key] = ch
            memo = st.memo.setdefault(f.key, _SeriesMemo())
            memo.last_seen = now
            channels.append(ch)
        if not series:
            return
        grid = np.unique(np.concatenate([f.t for f in series]))
        marks = np.array([st.memo[f.key].watermark for f in series])
        grid = grid[grid > marks.min()]
        if grid.size == 0:
            return
        X = np.full((grid.size, bank.n), np.nan)
        for f, ch, mark in zip(series, channels, marks, strict=True):
            keep = f.t > mark
            X[np.searchsorted(grid, f.t[keep]), ch] = f.X[keep, 0]
        threshold = r.threshold.score_threshold
        keys = {ch: f.key for f, ch in zip(series, channels, strict=True)}
        labels = {ch: f.key.labels for f, ch in zip(series, channels, strict=True)}
        metric = {ch: f.columns[0] for f, ch in zip(series, channels, strict=True)}
        for i, t in enumerate(grid.tolist()):
            x = X[i]
            s = bank.score(np.full(bank.n, t), x)
            held = np.zeros(bank.n, dtype=bool)  # episodes continue as in Monitor._classify
            held[list(st.episodes)] = True
            anomalous = s.warm & ((s.value >= threshold) | (held & s.deviating))
            sampled = ~np.isnan(x)
            st.episodes = set(np.flatnonzero((anomalous & sampled) | (held & ~sampled)).tolist())
            bank.learn(s, ~(anomalous & r.threshold.protect))
            for ch in np.flatnonzero(~np.isnan(x)).tolist():
                if ch not in keys:
                    continue
                warm = bool(s.warm[ch])
                memo = st.memo[keys[ch]]
                if math.isfinite(x[ch]):
                    memo.lowest = min(memo.lowest, float(x[ch]))
                memo.verdict(t, bool(anomalous[ch]), float(s.value[ch]))
                st.points[keys[ch]] = AnomalyPoint(
                    r.name,
                    labels[ch],
                    metric[ch],
                    float(s.value[ch]),
                    memo.floor(float(s.lower[ch])) if warm else None,
                    float(s.upper[ch]) if warm else None,
                    bool(anomalous[ch]),
                    t,
                    float(x[ch]),
                    memo.last_anomalous,
                    memo.peak if memo.last_anomalous is not None else None,
                )
                memo.watermark = t

    def _drop_detector_series(self, st: _DetectorState, key: SeriesKey) -> None:
        st.points.pop(key, None)
        st.monitors.pop(key, None)
        ch = st.index.pop(key, None)
        if ch is not None and st.bank is not None:
            st.bank.reset(np.array([ch], dtype=np.intp))
            st.free.append(ch)
            st.episodes.discard(ch)

    def _forecast(
        self,
        fs: _ForecastState,
        series: list[Frame],
        now: float,
        current: int | None,
        capacity_frames: Mapping[str, list[Frame]] | None = None,
    ) -> int:
        r = fs.rule
        if fs.capacity_planned:
            fs.capacity_planned = False
            self._learn_capacity(fs, capacity_frames or {}, now)
        horizon = max(1, math.ceil(r.horizon / r.step))
        refit = max(int(REFIT_EVERY_S / r.step), MIN_REFIT_STEPS)
        model = "auto" if r.model == "auto" else r.model
        self._count_nonfinite(r.name, series, now, r.step)
        for f in series:
            memo = fs.memo.setdefault(f.key, _SeriesMemo())
            memo.last_seen = now
            y = f.X[:, 0]
            state = fs.series.get(f.key)
            if state is None or state.since_fit >= refit:
                known = f.t <= now
                if np.sum(np.isfinite(y[known])) < MIN_FIT_SAMPLES:
                    continue
                state = fs.series[f.key] = _ForecastSeries(
                    # errors are kept per step: no more steps than the rule forecasts
                    AutoForecaster(
                        horizon=horizon,
                        model=model,
                        max_horizon=horizon,
                        interval_scale=r.interval_scale,
                    ).fit(
                        np.asarray(f.t[known], dtype=np.float64),
                        np.asarray(y[known], dtype=np.float64),
                    ),
                    memory=state.memory if state else ScalingMemory(),
                )
                memo.watermark = float(f.t[known][-1])
            else:
                new = f.t > memo.watermark
                for t, v in zip(f.t[new].tolist(), y[new].tolist(), strict=True):
                    state.model.update(t, v)
                    state.since_fit += 1
                    memo.watermark = t
            fc = state.model.forecast(horizon, r.level)
            fs.forecasts[f.key] = ForecastPoint(
                r.name,
                f.key.labels,
                float(fc.t[-1]),
                float(fc.mean[-1]),
                float(fc.lower[-1]),
                float(fc.upper[-1]),
                state.model.chosen_name,
            )
            if r.scaling is not None:
                finite = y[np.isfinite(y)]
                load_now = float(finite[-1]) if finite.size else 0.0
                level = r.scaling.level or r.level
                sized = fc if level == r.level else state.model.forecast(horizon, level)
                policy = r.scaling
                if policy.learn_capacity is not None:
                    point = self._capacity_point(fs, f.key)
                    fs.capacities[f.key] = point
                    policy = policy.model_copy(update={"capacity_per_replica": point.value})
                rec, state.memory = recommend(sized, policy, load_now, now, current, state.memory)
                fs.replicas[f.key] = ReplicaPoint(
                    r.name,
                    f.key.labels,
                    rec.replicas,
                    hpa_value(rec.replicas, current, r.scaling.hpa_tolerance),
                    current,
                    r.scaling.dry_run,
                )

        def drop(key: SeriesKey) -> None:
            fs.series.pop(key, None)
            fs.forecasts.pop(key, None)
            fs.replicas.pop(key, None)
            fs.capacities.pop(key, None)

        self._expire(fs.memo, now, r.step, drop)
        return len(fs.forecasts)

    def _learn_capacity(
        self, fs: _ForecastState, frames: Mapping[str, list[Frame]], now: float
    ) -> None:
        """Relearn each series' capacity per replica from load / replicas against latency."""
        r = fs.rule
        assert r.scaling is not None and r.scaling.learn_capacity is not None
        learn = r.scaling.learn_capacity
        fs.capacity_run = now
        loads = frames.get("load", [])
        if not loads:
            return
        learned = {}
        for f in loads:
            ident = f.key.labels
            replicas = _matching(frames.get("replicas", []), ident)
            latency = _matching(frames.get("latency", []), ident)
            if replicas is None or latency is None:
                learned[ident] = CapacityEstimate(
                    None, None, None, 0.0, "no replicas or latency series with these labels"
                )
                continue
            grid = f.t
            x = f.X[:, 0] / _on_grid(replicas, grid)
            y = _on_grid(latency, grid)
            learned[ident] = estimate_capacity(x, y, learn.objective)
        fs.capacity = learned

    def _capacity_point(self, fs: _ForecastState, key: SeriesKey) -> CapacityPoint:
        r = fs.rule
        assert r.scaling is not None
        est = fs.capacity.get(key.labels)
        if est is not None and est.value is not None:
            return CapacityPoint(
                r.name, key.labels, est.value, True, est.lower, est.upper, est.reason
            )
        why = est.reason if est is not None else "not learned yet"
        return CapacityPoint(
            r.name,
            key.labels,
            r.scaling.capacity_per_replica,
            False,
            None,
            None,
            f"configured value kept: {why}",
        )

    def _rightsize(self, rs: _RightsizeState, frames: Mapping[str, list[Frame]], now: float) -> int:
        """Recompute every container's recommendation from the rule's full lookback."""
        r = rs.rule
        parts: dict[tuple[tuple[str, str], ...], dict[str, Frame]] = {}
        for col in RIGHTSIZE_QUERIES:
            series = frames.get(f"{r.name}/{col}", [])
            self._count_nonfinite(r.name, series, now, r.step, col)
            for f in series:
                ident = tuple((k, v) for k, v in f.key.labels if k in r.group_by)
                parts.setdefault(ident, {})[col] = f
        points: dict[tuple[tuple[str, str], ...], tuple[RightsizePoint, ...]] = {}
        for ident, cols in parts.items():
            cpu, mem, oom, thr = (cols.get(c) for c in RIGHTSIZE_QUERIES)
            throttled = None
            if thr is not None:
                recent = thr.X[thr.t >= now - THROTTLING_WINDOW_S, 0]
                recent = recent[np.isfinite(recent)]
                throttled = float(recent.mean()) if recent.size else None
            kills: tuple[float, ...] = ()
            if oom is not None:
                kills = tuple(oom.t[np.nan_to_num(oom.X[:, 0]) > 0].tolist())
            usage = ContainerUsage(
                cpu_t=cpu.t if cpu is not None else None,
                cpu=cpu.X[:, 0] if cpu is not None else None,
                memory_t=mem.t if mem is not None else None,
                memory=mem.X[:, 0] if mem is not None else None,
                oom_kills=kills,
                throttled=throttled,
            )
            sized = recommend_container(usage, r)
            if sized:
                points[ident] = tuple(
                    RightsizePoint(r.name, ident, res, s.value, s.lower, s.upper, s.reason)
                    for res, s in sized.items()
                )
        rs.points = points
        rs.last_run = now
        return len(points)

    def _stale_after(self, step: float) -> float:
        """Seconds after which a series (or its verdict) not refreshed is stale."""
        return max(STALE_STEPS * step, 3 * self.interval)

    def _count_nonfinite(
        self, rule: str, series: list[Frame], now: float, step: float, query: str = ""
    ) -> None:
        """Count the samples that are NaN or ±Inf (Prometheus can answer them), each once:
        a series' samples up to the last one counted are skipped (queries overlap). All
        finite, the common case, is one vectorised check for the whole rule."""
        n = 0
        if series and not np.isfinite(np.concatenate([f.X.ravel() for f in series])).all():
            for f in series:
                if f.t.size == 0 or np.isfinite(f.X).all():
                    continue
                key = (rule, query, f.key)
                new = f.X[f.t > self._counted.get(key, (-math.inf, 0.0))[0]]
                n += int(new.size - np.count_nonzero(np.isfinite(new)))
                self._counted[key] = (float(f.t[-1]), now)
        self._nonfinite[rule] = self._nonfinite.get(rule, 0) + n
        limit = self._stale_after(step)
        for key in [
            k for k, (_, seen) in self._counted.items() if k[0] == rule and now - seen > limit
        ]:
            del self._counted[key]

    def _expire(
        self, memo: dict[SeriesKey, _SeriesMemo], now: float, step: float, drop: Any
    ) -> None:
        limit = self._stale_after(step)
        for key in [k for k, m in memo.items() if now - m.last_seen > limit]:
            del memo[key]
            drop(key)

    # -- output ----------------------------------------------------------------------------------

    def snapshot(self, now: float) -> Snapshot:
        """The current state as an immutable snapshot."""
        return Snapshot(
            taken_at=now,
            anomalies=tuple(p for st in self._detectors.values() for p in st.points.values()),
            forecasts=tuple(p for fs in self._forecasts.values() for p in fs.forecasts.values()),
            replicas=tuple(p for fs in self._forecasts.values() for p in fs.replicas.values()),
            capacities=tuple(p for fs in self._forecasts.values() for p in fs.capacities.values()),
            rightsizing=tuple(
                p for rs in self._rightsizing.values() for pts in rs.points.values() for p in pts
            ),
            rules=tuple(self._health[n] for n in sorted(self._health)),
            errors_total=tuple(sorted(self._errors.items())),
            nonfinite_samples_total=tuple(sorted(self._nonfinite.items())),
        )
