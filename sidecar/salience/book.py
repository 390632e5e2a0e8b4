"""`AlertBook`: the one owner of alert state: what fires now, history, episodes, feedback.

Semantics of Alertmanager notifications it follows:
* a notification carries all alerts of a group, firing and resolved; repeats resend them;
* a firing is identified by (fingerprint, startsAt): a repeat or duplicate of a known firing
  changes no history count, a resolve then a new `startsAt` counts twice;
* late or out-of-order notifications never undo newer knowledge: a firing notification
  older than the stored resolution is ignored, a resolve of an older firing only closes it.

Episodes group alerts whose firings *started* within `episode_gap` of each other, whatever
Alertmanager's grouping and notification delays (chains merge).

Persistence: an SQLite database (WAL) written in one transaction per notification or
feedback, before the call returns; reopening the book restores the firing set, history
and feedback. History older than `history` is deleted (bounded size).
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sidecar.config.schema import SalienceSettings
from sidecar.errors import SidecarError
from sidecar.salience.alertmanager import Alert, WebhookPayload
from sidecar.salience.identity import Identity, identify
from sidecar.salience.scorer import (
    AlertContext,
    Prepared,
    Salience,
    SalienceScorer,
    age_text,
)

__all__ = ["AlertBook", "FeedbackLabel", "Placed", "RankedAlert"]

FeedbackLabel = Literal["actionable", "noise"]
DAY = 86400.0
_CHRONIC_AFTER = 6 * 3600.0
_REFRESH = 600.0  # recompute history-dependent signals at least this often (sliding windows)
_ROOTS_CACHED = 64  # episodes whose root causes are kept while their members stay
_COMPACT = 60.0  # delete history older than `history` at most this often (clock seconds)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS firings (
    fingerprint TEXT NOT NULL, starts REAL NOT NULL, ends REAL,
    labels TEXT NOT NULL, annotations TEXT NOT NULL, template TEXT NOT NULL,
    workload TEXT NOT NULL, first_received REAL NOT NULL, last_received REAL NOT NULL,
    notifications INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (fingerprint, starts));
CREATE INDEX IF NOT EXISTS firings_template ON firings(template, starts);
CREATE INDEX IF NOT EXISTS firings_ends ON firings(ends);
CREATE TABLE IF NOT EXISTS feedback (
    fingerprint TEXT NOT NULL, template TEXT NOT NULL, workload TEXT NOT NULL,
    label TEXT NOT NULL, at REAL NOT NULL);
"""
_MIGRATIONS = (
    # 1: the alert's source graph (Alertmanager's generatorURL), linked from the on-call page
    "ALTER TABLE firings ADD COLUMN generator_url TEXT NOT NULL DEFAULT ''",
)
"""Schema changes after the first release, in order; `PRAGMA user_version` counts those
applied, so a file of any earlier version is brought up to date when opened."""
_INSERT_FIRING = (
    "INSERT {} INTO firings (fingerprint, starts, ends, labels, annotations, template, "
    "workload, first_received, last_received, notifications, generator_url) "
    "VALUES (?,?,?,?,?,?,?,?,?,1,?)"
)


def migrate(db: sqlite3.Connection) -> int:
    """Create the tables if new and apply the migrations a file has not had; returns the
    schema version. A file from a newer sidecar is refused rather than misread."""
    db.executescript(_SCHEMA)
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(_MIGRATIONS):
        raise SidecarError(
            f"alert book schema v{version} is newer than this sidecar's v{len(_MIGRATIONS)}"
        )
    for number in range(version, len(_MIGRATIONS)):
        with db:  # each step and its version number together, or neither
            db.execute(_MIGRATIONS[number])
            db.execute(f"PRAGMA user_version = {number + 1}")
    return len(_MIGRATIONS)


@dataclass
class _Firing:
    fingerprint: str
    starts: float
    ends: float | None
    labels: dict[str, str]
    annotations: dict[str, str]
    ident: Identity
    first_received: float
    last_received: float
    notifications: int = 1
    generator_url: str = ""


@dataclass(frozen=True, slots=True)
class RankedAlert:
    """A firing alert with its salience and why."""

    fingerprint: str
    alertname: str
    salience: float
    reasons: tuple[str, ...]
    labels: dict[str, str]
    starts: float
    episode: int
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    generator_url: str = ""
    incident: str = ""  # alerts of one episode tied by a relation label share it


@dataclass(frozen=True, slots=True)
class Placed:
    """A ranked alert without reasons, with the cached signals its reasons come from."""

    firing: _Firing
    salience: float
    episode: int
    prepared: Prepared  # the alert's signals that do not change with the clock
    ctx: AlertContext

    @property
    def alert(self) -> RankedAlert:
        """The ranked alert without reasons."""
        return self.ranked(self.salience, ())

    def ranked(self, salience: float, reasons: tuple[str, ...]) -> RankedAlert:
        f = self.firing
        return RankedAlert(
            f.fingerprint,
            f.labels.get("alertname", ""),
            salience,
            reasons,
            f.labels,
            f.starts,
            self.episode,
            f.annotations,
            f.generator_url,
            self.ctx.incident or f.fingerprint,
        )


@dataclass
class _Episode:
    first: float
    last: float
    members: set[str] = field(default_factory=set)


class AlertBook:
    """Firing alerts, their history and feedback; `ranked(now)` orders what fires now."""

    def __init__(
        self, rules: SalienceSettings | None = None, path: str | Path | None = None
    ) -> None:
        self.rules = SalienceSettings() if rules is None else rules
        self.scorer = SalienceScorer(self.rules)
        # one owner serialises access (AlertDesk holds a lock), which may run in a worker thread
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        migrate(self._db)
        self.firing: dict[str, _Firing] = {}  # fingerprint → current firing
        self._latest: dict[str, tuple[float, float | None]] = {}  # fp → (starts, ends) newest
        self._template_starts: dict[str, list[float]] = defaultdict(list)  # sorted
        self._fp_starts: dict[str, list[float]] = defaultdict(list)
        self._template_first: dict[str, float] = {}
        self._feedback: list[tuple[str, str, str, str, float]] = []
        # salience without the time-dependent "fresh" signal, per firing alert; recomputed
        # for alerts marked dirty (their state, episode or history changed) and for all of
        # them every _REFRESH seconds of clock time (history windows slide)
        self._static: dict[str, tuple[Prepared, AlertContext, float]] = {}
        # reasons by prepared signals and the clock signal's words and place (explain)
        self._reasons: dict[Any, Any] = {}
        self._dirty: set[str] = set()
        self._dirty_all = True
        self._last_refresh = -math.inf
        self._last_compact = -math.inf
        self._members: dict[str, frozenset[str]] = {}
        # per episode (its firings): root causes, and the incident of each member
        self._roots: dict[
            frozenset[tuple[str, float]], tuple[dict[str, tuple[float, str]], dict[str, str]]
        ] = {}
        self._anomalies: Mapping[tuple[str, str], float] = {}
        self._load()

    # -- persistence -----------------------------------------------------------------------

    def _load(self) -> None:
        rows = self._db.execute(
            "SELECT fingerprint, starts, ends, labels, annotations, first_received, "
            "last_received, notifications, generator_url FROM firings ORDER BY starts"
        ).fetchall()
        for fp, starts, ends, labels, ann_json, first, last, n, source in rows:
            lab, ann = json.loads(labels), json.loads(ann_json)
            f = _Firing(fp, starts, ends, lab, ann, identify(lab, ann), first, last, n, source)
            self._remember_start(f)
            prev = self._latest.get(fp)
            if prev is None or starts >= prev[0]:
                self._latest[fp] = (starts, ends)
                if ends is None:
                    self.firing[fp] = f
                else:
                    self.firing.pop(fp, None)
        self._feedback = [
            tuple(r)
            for r in self._db.execute(
                "SELECT fingerprint, template, workload, label, at FROM feedback ORDER BY at"
            )
        ]

    def close(self) -> None:
        self._db.close()

    def _remember_start(self, f: _Firing) -> None:
        bisect.insort(self._template_starts[f.ident.template], f.starts)
        bisect.insort(self._fp_starts[f.fingerprint], f.starts)
        first = self._template_first.get(f.ident.template)
        if first is None or f.starts < first:
            self._template_first[f.ident.template] = f.starts

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, payload: WebhookPayload, now: float) -> None:
        """Apply one notification; durable when this returns."""
        with self._db:
            self._db.execute("BEGIN")
            for alert in payload.alerts:
                self._apply(alert, now)
            self._compact(now)
        self._dirty.update(a.fingerprint for a in payload.alerts)

    def _apply(self, alert: Alert, now: float) -> None:
        fp, starts = alert.fingerprint, alert.starts
        latest = self._latest.get(fp)
        ends = alert.ends if alert.status == "resolved" else None
        if ends is None and alert.status == "resolved":
            ends = now
        if latest is not None and starts < latest[0]:
            # an older firing: record it (history) and close it, never revive it
            self._upsert_history(alert, starts, ends if ends is not None else latest[0], now)
            return
        if latest is not None and starts == latest[0]:
            if alert.status == "firing":
                if latest[1] is not None and latest[1] >= starts:
                    return  # a late repeat of a firing already resolved
                cur = self.firing.get(fp)
                if cur is not None:
                    cur.last_received = now
                    cur.notifications += 1
                    self._db.execute(
                        "UPDATE firings SET last_received=?, notifications=notifications+1 "
                        "WHERE fingerprint=? AND starts=?",
                        (now, fp, starts),
                    )
                return
            # resolved
            self._latest[fp] = (starts, ends)
            self.firing.pop(fp, None)
            self._db.execute(
                "UPDATE firings SET ends=?, last_received=? WHERE fingerprint=? AND starts=?",
                (ends, now, fp, starts),
            )
            return
        # a firing (or resolution) newer than anything known for this fingerprint
        if latest is not None and latest[1] is None:  # the previous firing ended unseen
            self._db.execute(
                "UPDATE firings SET ends=? WHERE fingerprint=? AND starts=? AND ends IS NULL",
                (starts, fp, latest[0]),
            )
        f = _Firing(
            fp,
            starts,
            ends,
            dict(alert.labels),
            dict(alert.annotations),
            identify(alert.labels, alert.annotations),
            now,
            now,
            generator_url=alert.generatorURL,
        )
        self._db.execute(
            _INSERT_FIRING.format("OR IGNORE"),
            (
                fp,
                starts,
                ends,
                json.dumps(f.labels, sort_keys=True),
                json.dumps(f.annotations, sort_keys=True),
                f.ident.template,
                f.ident.workload,
                now,
                now,
                f.generator_url,
            ),
        )
        self._remember_start(f)
        self._latest[fp] = (starts, ends)
        if ends is None:
            self.firing[fp] = f
        else:
            self.firing.pop(fp, None)

    def _upsert_history(self, alert: Alert, starts: float, ends: float, now: float) -> None:
        exists = self._db.execute(
            "SELECT 1 FROM firings WHERE fingerprint=? AND starts=?", (alert.fingerprint, starts)
        ).fetchone()
        if exists:
            self._db.execute(
                "UPDATE firings SET ends=COALESCE(ends, ?) WHERE fingerprint=? AND starts=?",
                (ends, alert.fingerprint, starts),
            )
            return
        ident = identify(alert.labels, alert.annotations)
        self._db.execute(
            _INSERT_FIRING.format(""),
            (
                alert.fingerprint,
                starts,
                ends,
                json.dumps(dict(alert.labels), sort_keys=True),
                json.dumps(dict(alert.annotations), sort_keys=True),
                ident.template,
                ident.workload,
                now,
                now,
                alert.generatorURL,
            ),
        )
        self._remember_start(
            _Firing(
                alert.fingerprint,
                starts,
                ends,
                dict(alert.labels),
                dict(alert.annotations),
                ident,
                now,
                now,
            )
        )

    def _compact(self, now: float) -> None:
        if now - self._last_compact < _COMPACT:
            return
        self._last_compact = now
        horizon = now - self.rules.history
        self._db.execute("DELETE FROM firings WHERE ends IS NOT NULL AND ends < ?", (horizon,))
        self._db.execute(
            "DELETE FROM feedback WHERE at < ?", (now - 8 * self.rules.feedback_half_life,)
        )

    # -- feedback ------------------------------------------------------------------------------

    def feedback(self, fingerprint: str, label: FeedbackLabel, now: float) -> bool:
        """Record operator feedback on an alert; False if the fingerprint was never seen."""
        f = self.firing.get(fingerprint)
        if f is None:
            row = self._db.execute(
                "SELECT template, workload FROM firings WHERE fingerprint=? ORDER BY starts "
                "DESC LIMIT 1",
                (fingerprint,),
            ).fetchone()
            if row is None:
                return False
            template, workload = row
        else:
            template, workload = f.ident.template, f.ident.workload
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO feedback VALUES (?,?,?,?,?)",
                (fingerprint, template, workload, label, now),
            )
        self._feedback.append((fingerprint, template, workload, label, now))
        self._dirty_all = True  # feedback spreads to templates and workloads
        return True

    # -- ranking --------------------------------------------------------------------------------

    @property
    def anomalies(self) -> Mapping[tuple[str, str], float]:
        """Latest anomaly score per (label, value) of the sidecar's series."""
        return self._anomalies

    @anomalies.setter
    def anomalies(self, value: Mapping[tuple[str, str], float]) -> None:
        self._anomalies = value
        self._dirty_all = True

    def ranked(
        self, now: float, reasons: bool = True, limit: int | None = None
    ) -> list[RankedAlert]:
        """Every firing alert once (the first `limit`), most salient first; reasons are
        worked out only for the alerts returned, and only if asked."""
        order = self.order(now, limit)
        return [self.explain(e, now) if reasons else e.alert for e in order]

    def order(self, now: float, limit: int | None = None) -> list[Placed]:
        """The ranking without reasons (the first `limit`), and what `explain` needs to give
        them later: that part reads no book state, so the owner may run it unlocked."""
        if not self.firing:
            return []
        episodes = self._refresh(now)
        if len(self._reasons) > 4 * len(self.firing) + 1000:  # words of past minutes
            self._reasons.clear()
        firing, static = self.firing, self._static
        fps = list(firing)
        n = len(fps)
        logit = np.fromiter((static[fp][2] for fp in fps), np.float64, n)
        starts = np.fromiter((firing[fp].starts for fp in fps), np.float64, n)
        if self.rules.features.fresh:  # the clock's signal, for every alert at once
            w_fresh = self.rules.weights.fresh
            age = now - starts
            repeat = np.fromiter((static[fp][1].repeat_notification for fp in fps), bool, n)
            fresh = w_fresh * np.exp(-np.maximum(age, 0.0) / 1800.0)
            logit += np.where(repeat & (age > 3600), -0.5 * w_fresh, fresh)
        value = 1.0 / (1.0 + np.exp(-logit))
        ranked = np.lexsort((np.array(fps), starts, -value))[:limit]  # ties: older, then fp
        index = episodes[1]
        out = []
        for i, salience in zip(ranked.tolist(), value[ranked].tolist(), strict=True):
            fp = fps[i]
            prepared, ctx, _ = static[fp]  # replaced, never mutated, when recomputed
            out.append(Placed(firing[fp], salience, index[fp], prepared, ctx))
        return out

    def explain(self, placed: Placed, now: float) -> RankedAlert:
        """`placed` with its salience's reasons (pure: the scorer and the placed values)."""
        age = now - placed.firing.starts
        value, reasons = self.scorer.value_and_reasons(
            placed.prepared, self.scorer.time_signals(placed.ctx, age), self._reasons
        )
        return placed.ranked(value, reasons)

    def salience_of(self, fingerprint: str, now: float) -> Salience | None:
        """The salience of one firing alert, or None if it is not firing."""
        f = self.firing.get(fingerprint)
        if f is None:
            return None
        self._refresh(now)
        prepared, ctx, _ = self._static[fingerprint]
        return self.scorer.combine_prepared(prepared, self.scorer.time_signals(ctx, now - f.starts))

    def _refresh(self, now: float) -> tuple[list[_Episode], dict[str, int]]:
        """Recompute the cached signals of every alert whose inputs changed."""
        episodes = self._episodes()
        eps, index = episodes
        if self._dirty_all or now - self._last_refresh >= _REFRESH:
            dirty = set(self.firing)
            self._last_refresh = now
            self._dirty_all = False
        else:
            dirty = {fp for fp in self._dirty if fp in self.firing}
            dirty |= {fp for fp in self.firing if fp not in self._static}
            for ep in eps:  # membership changed: the whole episode is dirty (once per episode)
                members = frozenset(ep.members)
                known = {id(self._members.get(m)) for m in members}
                if len(known) != 1 or self._members.get(next(iter(members))) != members:
                    dirty |= members
        self._dirty.clear()
        for fp in list(self._static):
            if fp not in self.firing:
                del self._static[fp]
        if dirty:
            contexts = self._contexts(now, episodes, dirty)
            for fp, ctx in contexts.items():
                f = self.firing[fp]
                static = self.scorer.signals(
                    f.labels, ctx, f.ident.infrastructure, include_time=False
                )
                self._static[fp] = (self.scorer.prepare(static), ctx, self.scorer.logit(static))
            # every member holds the same set object: the check above is one compare each
            for i in {index[fp] for fp in contexts}:
                members = frozenset(eps[i].members)
                for m in members:
                    self._members[m] = members
        return episodes

    def _episodes(self) -> tuple[list[_Episode], dict[str, int]]:
        gap = self.rules.episode_gap
        order = sorted(self.firing.values(), key=lambda f: f.starts)
        eps: list[_Episode] = []
        index: dict[str, int] = {}
        for f in order:
            if eps and f.starts - eps[-1].last <= gap:
                eps[-1].last = f.starts
                eps[-1].members.add(f.fingerprint)
            else:
                eps.append(_Episode(f.starts, f.starts, {f.fingerprint}))
            index[f.fingerprint] = len(eps) - 1
        return eps, index

    def _contexts(
        self, now: float, episodes: tuple[list[_Episode], dict[str, int]], only: set[str]
    ) -> dict[str, AlertContext]:
        eps, index = episodes
        roots: dict[str, tuple[float, str]] = {}
        incident: dict[str, str] = {}
        for i in sorted({index[fp] for fp in only}):
            # an episode's root causes and incidents depend on which firings are in it, not
            # on their notifications
            key = frozenset((m, self.firing[m].starts) for m in eps[i].members)
            found = self._roots.pop(key, None)
            if found is None:
                members = [self.firing[m] for m in eps[i].members]
                found = (self._root_causes([eps[i]]), _incidents(members))
            self._roots[key] = found
            roots.update(found[0])
            incident.update(found[1])
        while len(self._roots) > _ROOTS_CACHED:  # the least recently used go first
            del self._roots[next(iter(self._roots))]
        feedback = self._feedback_scores(now)
        out: dict[str, AlertContext] = {}
        summary: dict[int, tuple[list[_Firing], int]] = {}
        for fp in only:
            f = self.firing[fp]
            tpl = f.ident.template
            starts = self._template_starts.get(tpl, [])
            lo = bisect.bisect_left(starts, now - self.rules.history)
            hi = bisect.bisect_left(starts, f.starts)
            earlier = max(0, hi - lo)
            fps = self._fp_starts.get(fp, [])
            last_day = len(fps) - bisect.bisect_left(fps, now - DAY)
            ep_i = index[fp]
            if ep_i not in summary:
                members_i = [self.firing[m] for m in eps[ep_i].members]
                summary[ep_i] = (
                    members_i,
                    len({m.ident.workload or m.fingerprint for m in members_i}),
                )
            members, workloads = summary[ep_i]
            harmless, harmless_reason = self._harmless(f, members)
            root, root_reason = roots.get(fp, (0.0, ""))
            fb, fb_reason = feedback(f)
            out[fp] = AlertContext(
                starts=f.starts,
                template_firings=earlier,
                template_new=self._template_first.get(tpl, f.starts) >= f.starts and earlier == 0,
                fingerprint_firings_24h=last_day,
                duration_chronic=now - f.starts > _CHRONIC_AFTER,
                daily_recurring=_daily_recurring(starts[lo:hi], f.starts),
                repeat_notification=f.notifications > 1,
                episode_size=len(members),
                episode_workloads=workloads,
                root_cause=root,
                root_reason=root_reason,
                harmless=harmless,
                harmless_reason=harmless_reason,
                anomaly=self._anomaly(f),
                feedback=fb,
                feedback_reason=fb_reason,
                incident=incident[fp],
            )
        return out

    def _root_causes(self, eps: list[_Episode]) -> dict[str, tuple[float, str]]:
        """Within each episode, only alerts tied by a shared relation label explain each
        other: an infrastructure alert explains the application alerts that share one of
        its ties (root +1, those symptoms -0.5); with no such root, the first of the tied
        alerts to start leads (+0.5). An alert tied to nothing is nobody's cause."""
        out: dict[str, tuple[float, str]] = {}
        for ep in eps:
            if len(ep.members) < 2:
                continue
            members = sorted(
                (self.firing[m] for m in ep.members), key=lambda m: (m.starts, m.fingerprint)
            )
            by_relation: dict[tuple[str, str], list[_Firing]] = defaultdict(list)
            for m in members:
                for r in set(m.ident.relations):
                    by_relation[r].append(m)
            symptom_of: dict[str, tuple[_Firing, tuple[str, str]]] = {}
            for m in members:
                if not m.ident.infrastructure:
                    continue
                followers: dict[str, _Firing] = {}
                tie: tuple[str, str] | None = None
                for r in _ties(m.ident.relations):
                    for o in by_relation[r]:
                        if o is not m and not o.ident.infrastructure:
                            followers.setdefault(o.fingerprint, o)
                            tie = tie or r
                if tie is None:
                    continue
                out[m.fingerprint] = (
                    1.0,
                    f"likely root cause of {len(followers)} alert(s) on {tie[0]} {tie[1]}: "
                    + _names(followers.values()),
                )
                for fp in followers:
                    symptom_of.setdefault(fp, (m, tie))
            for fp, (root, tie) in symptom_of.items():
                if fp not in out:
                    out[fp] = (-0.5, f"symptom of {_names([root])} on {tie[0]} {tie[1]}")
            if symptom_of:
                continue
            for m in members:  # no infrastructure root: the first tied alert leads
                tied = {
                    o.fingerprint: o
                    for r in _ties(m.ident.relations)
                    for o in by_relation[r]
                    if o is not m
                }
                if tied:
                    out[m.fingerprint] = (
                        0.5,
                        f"started first of {len(tied) + 1} related alerts: "
                        + _names(tied.values()),
                    )
                    break
        return out

    def _harmless(self, f: _Firing, members: list[_Firing]) -> tuple[float, str]:
        if f.ident.maintenance:
            return -1.0, "maintenance or drain"
        if f.ident.load_only and not any(m.ident.symptom for m in members):
            return -0.7, "load surge without errors"
        return 0.0, ""

    def _anomaly(self, f: _Firing) -> float | None:
        if not self.anomalies:
            return None
        best = None
        for key in f.labels.items():
            v = self.anomalies.get(key)
            if v is not None and (best is None or v > best):
                best = v
        return best

    def _feedback_scores(self, now: float) -> Callable[[_Firing], tuple[float, str]]:
        half = self.rules.feedback_half_life
        # per key: decayed actionable and noise votes, and the time of the latest vote
        by: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, -math.inf])
        for fp, tpl, wl, label, at in self._feedback:
            w = 0.5 ** (max(0.0, now - at) / half)
            i = 0 if label == "actionable" else 1
            for key in (("fp", fp), ("tpl", tpl), ("wl", wl)):
                if key[1]:
                    votes = by[key]
                    votes[i] += w
                    votes[2] = max(votes[2], at)

        def score(f: _Firing) -> tuple[float, str]:
            a = n = 0.0
            latest = -math.inf
            about = ""
            for kind, key, weight, word in (
                ("fp", f.fingerprint, 1.0, "this alert"),
                ("tpl", f.ident.template, 0.6, "this rule on the same labels"),
                ("wl", f.ident.workload, 0.3, "alerts of this workload"),
            ):
                if key and (kind, key) in by:
                    ca, cn, at = by[(kind, key)]
                    a += weight * ca
                    n += weight * cn
                    latest = max(latest, at)
                    about = about or word
            if not about:
                return 0.0, ""
            value = (a - n) / (a + n + 1.0)  # cautious: one vote moves it by at most 1/2
            label, moved = ("actionable", "raised") if value > 0 else ("noise", "lowered")
            ago = age_text(max(0.0, now - latest))
            return value, f"operators marked {about} as {label} ({ago} ago): {moved}"

        return score


_BROAD_RELATIONS = ("namespace", "cluster")


def _ties(relations: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The relations an alert explains others through: its specific ones (node, instance,
    volume, service, database, ...); a namespace or cluster only for an alert scoped no
    finer (a cluster-wide alert, not a node's that happens to carry the cluster label)."""
    specific = [r for r in relations if r[0] not in _BROAD_RELATIONS]
    return specific or list(relations)


def _incidents(members: list[_Firing]) -> dict[str, str]:
    """The alerts of one episode grouped by the relations that tie them (what may share a
    cause): each group named by its earliest alert's fingerprint; an alert tied to no other
    is an incident of its own."""
    order = sorted(members, key=lambda m: (m.starts, m.fingerprint))
    rank = {m.fingerprint: i for i, m in enumerate(order)}
    parent = {m.fingerprint: m.fingerprint for m in order}

    def root(fp: str) -> str:
        while parent[fp] != fp:
            parent[fp] = parent[parent[fp]]
            fp = parent[fp]
        return fp

    first_with: dict[tuple[str, str], str] = {}
    for m in order:
        for r in _ties(m.ident.relations):
            other = first_with.setdefault(r, m.fingerprint)
            a, b = root(other), root(m.fingerprint)
            if a != b:  # the earlier alert names the group
                keep, drop = sorted((a, b), key=rank.__getitem__)
                parent[drop] = keep
    return {m.fingerprint: root(m.fingerprint) for m in order}


def _names(alerts: Iterable[_Firing], most: int = 3) -> str:
    """Alert names, sorted and counted once, for a reason: `A, B, C and 2 more`."""
    names = sorted({a.labels.get("alertname", "?") for a in alerts})
    head = ", ".join(names[:most])
    return head + (f" and {len(names) - most} more" if len(names) > most else "")


def _daily_recurring(earlier: Iterable[float], starts: float) -> bool:
    """Fired within an hour of this time of day on at least 3 distinct earlier days."""
    tod = starts % DAY
    days = {
        int(s // DAY)
        for s in earlier
        if min(abs(s % DAY - tod), DAY - abs(s % DAY - tod)) <= 3600 and s < starts - 3600
    }
    return len(days) >= 3
