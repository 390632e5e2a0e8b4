"""`Scheduler`: one shard's tick loop: plan → query Prometheus → Engine.step → swap the snapshot.

Rules belong to a shard by a stable hash of their name, so more Scheduler replicas on a
Ray cluster watch more series. A tick that overruns its interval makes the loop skip to the
next interval boundary (counted, never stacked). When Prometheus is down the loop keeps
going with backoff (at most 2 intervals, so recovery shows within two) and says so in
`sidecar_source_up` and by not being ready (`/readyz` 503); that is not a health failure,
so Serve does not restart the replica. Rule files are re-read when they
change (or on `reload()`); a bad file keeps the old rules and sets the reload metric to 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidecar.app.settings import AppArgs, series_shard, shard_of
from sidecar.checkpoint import CheckpointError, RuleState, read_checkpoint, write_checkpoint
from sidecar.clock import Clock, SystemClock
from sidecar.config.loader import Rules, expand_paths
from sidecar.config.schema import DetectorRule, ForecastRule, RightsizingRule
from sidecar.engine import Engine, QueryPlan, newest_per_series
from sidecar.errors import QueryError, RuleErrors, SourceError, SourceTimeout, SourceUnavailable
from sidecar.snapshot import Snapshot
from sidecar.sources.base import MetricsSource
from sidecar.sources.prometheus import PrometheusSource
from sidecar.types import Frame, SeriesKey

__all__ = ["SchedulerCore", "rules_for_shard"]

log = logging.getLogger("sidecar.scheduler")
MAX_BACKOFF_INTERVALS = 2
CHART_POINTS = 240
"""Points at most in a series' history for the on-call page's chart."""
CHART_REQUERY_SERIES = 200
"""A rule's own query is re-run for a chart only up to this many series (it returns all of
them); bigger rules are charted from the sidecar's exported metrics alone."""


def _matchers(rule: str, labels: dict[str, str]) -> str:
    """PromQL matchers for one series of `rule` as the sidecar exports it: its labels, those
    named like the sidecar's own as `exported_*`, without the ones a scrape may rename."""
    out = [f'rule="{_escape_label(rule)}"']
    for k, v in sorted(labels.items()):
        if k in ("job", "instance"):
            continue
        name = f"exported_{k}" if k in ("rule", "metric", "bound") else k
        out.append(f'{name}="{_escape_label(v)}"')
    return ",".join(out)


def _same_series(found: dict[str, str], wanted: dict[str, str]) -> bool:
    """Whether a returned series is the scored one: the same labels, ignoring the ones the
    scrape of the sidecar adds (`job`, `instance`) when only one side has them."""
    keys = (set(found) | set(wanted)) - ({"job", "instance"} - (set(found) & set(wanted)))
    return all(found.get(k) == wanted.get(k) for k in keys)


def _scraped_labels(labels: dict[str, str]) -> dict[str, str]:
    """A series' own labels back from the sidecar's exported metric as Prometheus stored
    it: without `rule` and `metric`, and with `exported_job`/`exported_instance` (the
    scrape's clash renaming) under their own names again."""
    out = {k: v for k, v in labels.items() if k not in ("rule", "metric")}
    for name in ("job", "instance"):
        if f"exported_{name}" in out:
            out[name] = out.pop(f"exported_{name}")
    return out


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def rules_for_shard(rules: Rules, shard: int, shards: int) -> Rules:
    """The rules this shard runs: those it owns, and every rule split by series
    (`shard_by`), of which it keeps its share of the series."""

    def runs(rule: DetectorRule | ForecastRule | RightsizingRule) -> bool:
        split = not isinstance(rule, RightsizingRule) and bool(rule.shard_by)
        return split or shard_of(rule.name, shards) == shard

    return dataclasses.replace(
        rules,
        detectors=tuple(r for r in rules.detectors if runs(r)),
        forecasts=tuple(r for r in rules.forecasts if runs(r)),
        rightsizing=tuple(r for r in rules.rightsizing if runs(r)),
    )


def _kind(exc: SourceError) -> str:
    if isinstance(exc, SourceTimeout):
        return "timeout"
    if isinstance(exc, SourceUnavailable):
        return "source_unavailable"
    if isinstance(exc, QueryError):
        return "query_error"
    return "bad_response"


class SchedulerCore:
    """The tick loop without Serve (the deployment in deployments.py wraps it)."""

    def __init__(
        self,
        args: AppArgs,
        shard: int = 0,
        shards: int = 1,
        *,
        clock: Clock | None = None,
        source: MetricsSource | None = None,
        rules: Rules | None = None,
    ) -> None:
        """`rules` as loaded by `build_app` (else read from `args`); `clock` and `source`
        default to the wall clock and the settings' Prometheus (tests and replays pass a
        `ReplayClock` and an in-memory source)."""
        self.args = args
        self.shard = shard
        self.shards = shards
        self.clock: Clock = clock or SystemClock()
        rules = rules if rules is not None else args.load()
        self.settings = rules.settings
        self.engine = Engine(
            rules_for_shard(rules, shard, shards), interval=rules.settings.interval
        )
        self.source: MetricsSource = source or PrometheusSource.from_settings(rules.settings)
        self._snapshot = Snapshot(
            shard=str(shard), reload_success=True, reload_success_at=self.clock.now()
        )
        self._reload_ok = True
        self.reload_errors: list[str] = []  # of the last reload, file:line:col: key: message
        self._reload_at: float | None = self.clock.now()
        self._mtimes = self._rule_mtimes()
        self._source_up: bool | None = None
        self._failures = 0
        self._ticks = 0
        self._skipped = 0
        self._heartbeat = self.clock.monotonic()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._checkpoints = Path(self.settings.data_dir) / "checkpoints"
        self._checkpoint_load_errors = 0
        self._checkpoint_bytes: int | None = None
        self._checkpoint_at: float | None = None
        self.restored: list[str] = []  # rules whose state came from a checkpoint at start
        self._load_checkpoints()

    # -- checkpoints -------------------------------------------------------------------------

    def _load_checkpoints(self) -> None:
        """Adopt the saved state of this shard's rules from every checkpoint (rules move
        between shards when `shards` changes; `sidecar train` writes one of its own): the
        newest file wins per rule, and per series for a rule split by series."""
        saved: dict[str, list[tuple[float, RuleState]]] = {}
        for leftover in self._checkpoints.glob(".shard-*.tmp"):  # of a write cut short
            leftover.unlink(missing_ok=True)
        for path in sorted(self._checkpoints.glob("*.ckpt")):  # shards' and `sidecar train`'s
            try:
                ckpt = read_checkpoint(path)
            except (CheckpointError, OSError) as exc:
                self._checkpoint_load_errors += 1
                log.warning("checkpoint not used, its rules start cold: %s", exc)
                continue
            for name, state in ckpt.rules.items():
                saved.setdefault(name, []).append((ckpt.written_at, state))
        if not saved:
            return
        current = self.engine.export_state()
        chosen: dict[str, RuleState] = {}
        for name, copies in saved.items():
            fitting = [s for _, s in sorted(copies, key=lambda c: -c[0])]
            if name in current:  # only copies of today's definition can be combined
                fitting = [s for s in fitting if s.hash == current[name].hash]
            if not fitting:
                continue
            keep = self._series_filter(name)
            if keep is None:
                chosen[name] = fitting[0]
                continue
            mine = newest_per_series(fitting, keep)
            if mine.state.memo:  # none of its series saved: a cold start, not a restore
                chosen[name] = mine
        restored = self.engine.restore_state(chosen)
        self.restored = sorted(restored)
        log.info(
            "shard %d: restored %d rule(s) from checkpoints: %s",
            self.shard,
            len(restored),
            ", ".join(sorted(restored)) or "none",
        )

    @property
    def _split(self) -> dict[str, tuple[str, ...]]:
        """The `shard_by` labels of each rule split by series (with one shard, the shard
        keeps all of their series, but still takes each from its newest checkpoint)."""
        rules = self.engine.rules
        split = {r.name: tuple(r.shard_by) for r in rules.detectors if r.shard_by}
        split.update((r.name, tuple(r.shard_by)) for r in rules.forecasts if r.shard_by)
        return split

    def _series_filter(self, rule_name: str) -> Callable[[SeriesKey], bool] | None:
        """Which series of a rule split by series this shard keeps (None: not split)."""
        by = self._split.get(rule_name)
        if not by:
            return None
        shard, shards = self.shard, self.shards
        if shards == 1:
            return lambda key: True
        return lambda key: series_shard(key.as_dict(), by, shards) == shard

    async def save_checkpoint(self) -> None:
        """Write this shard's state (between ticks, so it is consistent); errors are logged."""
        if self.settings.checkpoint_interval <= 0:
            return
        path = self._checkpoints / f"shard-{self.shard}.ckpt"
        async with self._lock:
            now = self.clock.now()
            try:
                self._checkpoint_bytes = await asyncio.to_thread(
                    write_checkpoint, path, self.engine.export_state(), now
                )
                self._checkpoint_at = now
            except Exception as exc:  # noqa: BLE001 (a failed save must not stop the loop)
                log.error("checkpoint of shard %d not written: %s", self.shard, exc)

    def _checkpoint_due(self) -> bool:
        every = self.settings.checkpoint_interval
        if every <= 0 or self._ticks == 0:
            return False
        last = self._checkpoint_at
        return last is None or self.clock.now() - last >= every

    # -- loop ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_event_loop().create_task(self._loop())

    async def _loop(self) -> None:
        interval = self.settings.interval
        while True:
            started = self.clock.monotonic()
            self._heartbeat = started
            try:
                await self.tick()
                if self._checkpoint_due():
                    await self.save_checkpoint()
            except Exception:
                log.exception("tick failed")
            elapsed = self.clock.monotonic() - started
            wait = (
                interval * min(2**self._failures, MAX_BACKOFF_INTERVALS)
                if self._failures
                else interval
            )
            if elapsed > wait:
                skipped = int(elapsed // wait)
                self._skipped += skipped
                log.warning(
                    "tick took %.1fs, over the %.1fs interval: skipping %d", elapsed, wait, skipped
                )
                wait = wait * (skipped + 1)
            self._heartbeat = self.clock.monotonic()
            await asyncio.sleep(max(0.0, wait - elapsed))

    def alive(self) -> bool:
        """False if the loop died or has not come round for a long time (liveness)."""
        if self._task is not None and self._task.done():
            return False
        limit = max(600.0, 20 * self.settings.interval)
        return self.clock.monotonic() - self._heartbeat < limit

    @property
    def ready(self) -> bool:
        """True once a tick completed and Prometheus answered it."""
        return self._ticks > 0 and self._source_up is True

    # -- one tick ---------------------------------------------------------------------------

    async def tick(self) -> Snapshot:
        """Run one cycle now and return the new snapshot."""
        async with self._lock:
            self._maybe_reload()
            now = self.clock.now()
            plans = self.engine.plan(now)
            t0 = self.clock.monotonic()
            frames, failed, current, up = await asyncio.to_thread(self._query, plans, now)
            snap = await asyncio.to_thread(self.engine.step, frames, now, failed, current)
            self._source_up = up
            self._failures = 0 if up else self._failures + 1
            self._ticks += 1
            self._snapshot = dataclasses.replace(
                snap,
                shard=str(self.shard),
                source_up=up,
                reload_success=self._reload_ok,
                reload_success_at=self._reload_at,
                tick_duration_s=self.clock.monotonic() - t0,
                ticks_skipped_total=self._skipped,
                checkpoint_load_errors_total=self._checkpoint_load_errors,
                checkpoint_bytes=self._checkpoint_bytes,
                checkpoint_written_at=self._checkpoint_at,
            )
            return self._snapshot

    def _query(
        self, plans: list[QueryPlan], now: float
    ) -> tuple[dict[str, list[Frame]], dict[str, str], dict[str, int], bool]:
        frames: dict[str, list[Frame]] = {}
        failed: dict[str, str] = {}
        up = True
        for p in plans:
            if p.rule in failed:
                continue
            try:
                got = self.source.query_range(p.promql, p.start, p.end, p.step)
                keep = self._series_filter(p.rule) if self.shards > 1 else None
                frames[p.key] = got if keep is None else [f for f in got if keep(f.key)]
            except SourceError as exc:
                failed[p.rule] = _kind(exc)
                up = up and not isinstance(exc, SourceUnavailable)
                log.warning("rule %s: %s", p.rule, exc)
        current: dict[str, int] = {}
        for r in self.engine.rules.forecasts:
            q = r.scaling.current_replicas_query if r.scaling else None
            if q and r.name not in failed:
                try:
                    values = list(self.source.query(q, now).values())
                    if values:
                        current[r.name] = int(round(values[0]))
                except SourceError as exc:
                    log.warning("rule %s current replicas: %s", r.name, exc)
        return frames, failed, current, up

    # -- reload ---------------------------------------------------------------------------

    def _rule_mtimes(self) -> dict[str, float]:
        files, _ = expand_paths(self.args.config)
        return {str(f): os.stat(f).st_mtime for f in files if f.exists()}

    def _maybe_reload(self) -> None:
        mtimes = self._rule_mtimes()
        if mtimes != self._mtimes:
            self._mtimes = mtimes
            self.reload()

    def reload(self) -> bool:
        """Re-read the rule files; on any error keep the old rules and report it (in the
        log and in `reload_errors`)."""
        try:
            rules = self.args.load()
        except RuleErrors as exc:
            self._reload_ok = False
            self.reload_errors = [str(err) for err in exc.errors]
            for err in exc.errors:
                log.error("rule reload failed: %s", err)
            return False
        self.reload_errors = []
        self.engine.replace_rules(rules_for_shard(rules, self.shard, self.shards))
        self._reload_ok = True
        self._reload_at = self.clock.now()
        log.info(
            "rules reloaded: %d detector(s), %d forecast(s) on shard %d",
            len(self.engine.rules.detectors),
            len(self.engine.rules.forecasts),
            self.shard,
        )
        return True

    def snapshot(self) -> Snapshot:
        return dataclasses.replace(
            self._snapshot, reload_success=self._reload_ok, reload_success_at=self._reload_at
        )

    def rules_report(self) -> dict[str, Any]:
        """This shard's rules as `GET /rules` lists them: definition summary, last run, series
        and last error; and whether the last reload worked (with its errors)."""
        health = {h.rule: h for h in self._snapshot.rules}
        out = []
        for kind, rules in (
            ("detector", self.engine.rules.detectors),
            ("forecast", self.engine.rules.forecasts),
            ("rightsizing", self.engine.rules.rightsizing),
        ):
            for r in rules:
                h = health.get(r.name)
                out.append(
                    {
                        "name": r.name,
                        "kind": kind,
                        "shard": self.shard,  # a rule split by series is on every shard
                        "enabled": r.enabled,
                        "location": str(self.engine.rules.locations.get(r.name, "")),
                        "last_run_success": None if h is None else h.success,
                        "last_success": None if h is None else h.last_success,
                        "last_run_seconds": None if h is None else h.duration_s,
                        "series": None if h is None else h.series,
                        "last_error": None if h is None or not h.error else h.error,
                    }
                )
        return {
            "shard": self.shard,
            "rules": out,
            "reload_success": self._reload_ok,
            "reload_errors": list(self.reload_errors),
        }

    def series_history(
        self, rule: str, labels: dict[str, str], metric: str, seconds: float
    ) -> dict[str, Any] | None:
        """One scored series over the last `seconds` (at most the rule's own lookback), for the
        on-call page's chart: its values and, where Prometheus scrapes the sidecar, the
        expected range it was scored against, each read with matchers for this series alone
        (the sidecar's exported metrics); a rule of at most CHART_REQUERY_SERIES series is
        read again from its own query when those are missing. None if no rule of this shard
        is `rule`; empty lists if Prometheus has nothing or cannot be reached."""
        found = [r for r in self.engine.rules.detectors if r.name == rule]
        if not found:
            return None
        r = found[0]
        end = self.clock.now()
        seconds = min(seconds, r.lookback)
        start, step = end - seconds, max(r.step, seconds / CHART_POINTS)
        own = _matchers(rule, labels)
        out: dict[str, Any] = {"t": [], "value": [], "lower": [], "upper": []}
        observed = self._history(
            f'sidecar_anomaly_observed{{{own},metric="{_escape_label(metric)}"}}',
            start,
            end,
            step,
            labels,
        )
        query = r.query if r.query is not None else (r.queries or {}).get(metric)
        health = {h.rule: h for h in self._snapshot.rules}.get(rule)
        small = health is not None and health.series <= CHART_REQUERY_SERIES
        if observed is None and query is not None and small:
            observed = self._history(query, start, end, step, labels, scraped=False)
        if observed is not None:
            out["t"], out["value"] = observed
        for bound in ("lower", "upper"):
            band = self._history(
                f"sidecar_anomaly_expected_{bound}{{{own}}}", start, end, step, labels
            )
            if band is not None:
                out[bound] = list(band)
        return out

    def _history(
        self,
        promql: str,
        start: float,
        end: float,
        step: float,
        labels: dict[str, str],
        scraped: bool = True,
    ) -> tuple[list[float], list[float]] | None:
        """The times and values of the one returned series that is `labels` (read back from
        the sidecar's own export when `scraped`), or None."""
        try:
            frames = self.source.query_range(promql, start, end, step)
        except SourceError as exc:
            log.info("history for the on-call page (%s): %s", promql, exc)
            return None
        for frame in frames:
            key = frame.key.as_dict()
            if _same_series(_scraped_labels(key) if scraped else key, labels) and frame.t.size:
                return frame.t.tolist(), frame.X[:, 0].tolist()
        return None

    def status(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "ready": self.ready,
            "source_up": self._source_up,
            "ticks": self._ticks,
            "alive": self.alive(),
            "restored": self.restored,
        }
