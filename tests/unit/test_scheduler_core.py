"""The shard's tick loop with a replay clock and an in-memory source (no Prometheus, no Ray):
one failing rule does not stop the others, a reload keeps unchanged rules' state, a series
that goes away expires and its detector channel is reused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs
from sidecar.clock import ReplayClock
from sidecar.errors import QueryError
from sidecar.snapshot import Snapshot
from sidecar.types import Frame, SeriesKey

RULES = """\
settings: {{interval: 1m, data_dir: {data}, checkpoint_interval: 0s}}
detectors:
  - {{name: good, query: up, step: 1m, lookback: 1h}}
  - {{name: broken, query: nonsense, step: 1m, lookback: 1h}}
{extra}"""
T0 = 1_700_000_000.0


class MemorySource:
    """Series by metric name; `up` answers for every instance still `live`."""

    def __init__(self) -> None:
        self.live = {"a", "b"}
        self.calls: list[tuple[str, float, float]] = []
        self.jump_at = np.inf  # from then on instance "a" is 50 higher

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Frame]:
        self.calls.append((promql, start, end))
        if promql != "up":
            raise QueryError(f"unknown metric {promql}", "bad_data", 400)
        t = np.arange(np.ceil(start / step) * step, end + 1e-9, step)
        out = []
        for inst in sorted(self.live):
            # the same noise at the same time in every query, as a real series has
            noise = np.random.default_rng(sum(map(ord, inst))).normal(0, 1, 10_000)
            x = 10 + noise[(t // 60).astype(np.int64) % noise.size]
            x += np.where((inst == "a") & (t >= self.jump_at), 50, 0)
            key = SeriesKey.from_labels({"__name__": "up", "instance": inst})
            out.append(Frame(key, t, x[:, None], ("value",)))
        return out

    def query(self, promql: str, at: float) -> dict[SeriesKey, float]:
        return {}


def core(tmp_path: Path, extra: str = "") -> tuple[SchedulerCore, ReplayClock, MemorySource, Path]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(data=tmp_path / "data", extra=extra))
    clock, source = ReplayClock(T0), MemorySource()
    c = SchedulerCore(AppArgs(config=(str(rules),)), clock=clock, source=source)
    return c, clock, source, rules


def tick(c: SchedulerCore, clock: ReplayClock, at: float) -> Snapshot:
    clock.set(at)
    return asyncio.run(c.tick())


def test_one_failing_rule_does_not_stop_the_others(tmp_path: Path) -> None:
    c, clock, source, _ = core(tmp_path)
    snap = tick(c, clock, T0 + 3600)
    health = {h.rule: h for h in snap.rules}
    assert health["good"].success and health["good"].series == 2
    assert not health["broken"].success and health["broken"].error == "query_error"
    assert dict(snap.errors_total)["query_error"] == 1
    assert snap.source_up is True  # a rejected query is not Prometheus being down
    # the next tick asks only from the watermark (one step of overlap)
    source.calls.clear()
    tick(c, clock, T0 + 3660)
    [(_, start, _)] = [call for call in source.calls if call[0] == "up"]
    last_sample = np.floor((T0 + 3600) / 60) * 60  # the grid is multiples of the step
    assert start == last_sample - 60


def test_reload_keeps_the_state_of_unchanged_rules(tmp_path: Path) -> None:
    c, clock, _, rules = core(tmp_path)
    tick(c, clock, T0 + 3600)
    before = c.engine._detectors["good"]
    rules.write_text(
        RULES.format(data=tmp_path / "data", extra="  - {name: more, query: up, step: 1m}\n")
    )
    assert c.reload()
    assert c.engine._detectors["good"] is before  # learned state kept
    assert "more" in c.engine._detectors
    snap = tick(c, clock, T0 + 3660)
    assert {h.rule for h in snap.rules} >= {"good", "more"}
    rules.write_text("detectors: [{name: bad, query: up, step: nope}]\n")
    assert not c.reload() and "step" in c.reload_errors[0]
    assert c.engine._detectors["good"] is before  # a broken file keeps the old rules


def test_a_series_that_goes_away_expires_and_its_channel_is_reused(tmp_path: Path) -> None:
    c, clock, source, _ = core(tmp_path)
    tick(c, clock, T0 + 3600)
    st = c.engine._detectors["good"]
    channel_b = next(v for k, v in st.index.items() if dict(k.labels)["instance"] == "b")
    source.live = {"a"}
    now = T0 + 3600
    for _ in range(12):  # ten steps and three intervals later, b is stale
        now += 60
        snap = tick(c, clock, now)
    instances = {dict(p.labels)["instance"] for p in snap.anomalies}
    assert instances == {"a"}
    source.live = {"a", "c"}
    tick(c, clock, now + 60)
    channel_c = next(v for k, v in st.index.items() if dict(k.labels)["instance"] == "c")
    assert channel_c == channel_b  # the freed channel, not a new one


def test_an_anomalous_series_keeps_when_and_how_high_it_last_was(tmp_path: Path) -> None:
    """What the on-call page lists as "anomalous lately": the time of the last anomalous
    verdict and the episode's peak travel with each point, whatever the page's polling."""
    c, clock, source, _ = core(tmp_path)
    source.jump_at = T0 + 20 * 60
    for k in range(31):
        snap = tick(c, clock, T0 + 60 * k)
    points = {dict(p.labels)["instance"]: p for p in snap.anomalies}
    jumped, quiet = points["a"], points["b"]
    assert jumped.last_anomalous is not None and jumped.last_anomalous >= T0 + 20 * 60
    assert jumped.peak is not None and jumped.peak > 0.9
    assert quiet.last_anomalous is None and quiet.peak is None


def test_a_series_history_for_the_page_comes_from_the_rules_query(tmp_path: Path) -> None:
    c, clock, source, _ = core(tmp_path)
    tick(c, clock, T0)  # the rule's series count is known: small enough to query again
    history = c.series_history("good", {"instance": "a"}, "value", 1800.0)
    assert history is not None
    assert len(history["t"]) == 30 and T0 - 60 < history["t"][-1] <= T0  # one a minute
    assert min(history["value"]) > 5 and max(history["value"]) < 15
    assert history["lower"] == [] and history["upper"] == []  # not scraped: no band history
    assert ("up", T0 - 1800.0, T0) in source.calls
    exported = [q for q, _, _ in source.calls if q.startswith("sidecar_anomaly_")]
    assert exported == [
        'sidecar_anomaly_observed{rule="good",metric="value"}',
        'sidecar_anomaly_expected_lower{rule="good"}',
        'sidecar_anomaly_expected_upper{rule="good"}',
    ]  # asked for this series alone (its `instance` may be the scrape's)
    assert c.series_history("no such rule", {"instance": "a"}, "value", 1800.0) is None
