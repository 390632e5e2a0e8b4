"""`sidecar train` against a real Prometheus holding backfilled history, on a real local Ray.

The state learned in chunks (Ray tasks, each fetching its series with a query of its own)
is the state one uninterrupted replay of the window learns: the next samples score the
same to the bit, and the restored engine asks Prometheus for minutes, not the lookback.
A job whose chunk fails keeps the finished chunks, and the rerun does only the rest.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs
from sidecar.checkpoint import read_checkpoint
from sidecar.clock import ReplayClock
from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.snapshot import Snapshot
from sidecar.sources.prometheus import PrometheusSource
from sidecar.train.job import TRAINED_FILE, run_job
from sidecar.types import Frame, SeriesKey
from tests.rig import LOOPBACK, PrometheusServer, RayCluster, backfill, ray_child_env

STEP = 300.0
DAYS = 2
WINDOW = DAYS * 86400.0
INSTANCES = [f"i{k}" for k in range(6)]
RULES = """\
settings:
  prometheus_url: {url}
  data_dir: {data}
detectors:
  - name: load_anomaly
    query: demo_load{{job="app"}}
    step: 5m
    lookback: {days}d
    shard_by: [instance]
{forecast}"""
FORECAST = """\
forecasts:
  - name: load_forecast
    query: demo_load{{job="app"}}
    step: 5m
    lookback: {days}d
    horizon: 1h
"""


def _load(t: np.ndarray, k: int) -> np.ndarray:
    rng = np.random.default_rng(k)
    return 20 + 8 * np.sin(2 * np.pi * t / 86400 + k) + rng.normal(0, 1, t.size)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrometheusServer, float]]:
    """A Prometheus whose TSDB holds two days of six series at 5 minutes (backfilled)."""
    root = tmp_path_factory.mktemp("train")
    end = (time.time() // STEP) * STEP - STEP
    t = np.arange(end - WINDOW, end + 1, STEP)
    series = {f'instance="{i}",job="app"': (t, _load(t, k)) for k, i in enumerate(INSTANCES)}
    backfill(root / "prom" / "tsdb", series, "demo_load")
    prom = PrometheusServer(root / "prom", [], query_log=True)
    yield prom, end
    prom.close()


def _rules(tmp_path: Path, url: str, forecast: bool) -> Path:
    path = tmp_path / "rules.yaml"
    extra = FORECAST.format(days=DAYS) if forecast else ""
    path.write_text(RULES.format(url=url, data=tmp_path / "data", days=DAYS, forecast=extra))
    return path


def _next_samples(at: float) -> dict[str, list[Frame]]:
    """Two new samples per series; the second of `i3` a spike."""
    t = np.array([at - STEP, at])
    out = []
    for k, inst in enumerate(INSTANCES):
        x = _load(t, k)
        if inst == "i3":
            x[1] += 40
        key = SeriesKey.from_labels({"__name__": "demo_load", "instance": inst, "job": "app"})
        out.append(Frame(key, t, x[:, None], ("value",)))
    return {"load_anomaly": out, "load_forecast": out}


def _points(snap: Snapshot) -> list[Any]:
    """Every exported point (scores, expected ranges, forecasts), in a fixed order."""
    return [
        *sorted(snap.anomalies, key=lambda p: p.labels),
        *sorted(snap.forecasts, key=lambda p: p.labels),
    ]


def test_chunked_training_learns_what_one_replay_learns(
    history: tuple[PrometheusServer, float], tmp_path: Path
) -> None:
    prom, end = history
    rules = load_rules([_rules(tmp_path, prom.url, forecast=True)])
    now = end + 1.0
    points = int(WINDOW // STEP) + 1  # what a task plans for: [now - window, now] inclusive
    # two series to a chunk: the detector rule in 3 tasks, the forecast rule (no shard_by) in 1
    summary = run_job(rules, [], WINDOW, workers=2, samples_per_task=2 * points, now=now)
    assert summary.failed == []
    assert summary.chunks == 4
    assert summary.series == 12
    assert summary.samples == 12 * (points - 1)  # now = end + 1: the first step is outside
    assert summary.checkpoint == tmp_path / "data" / "checkpoints" / TRAINED_FILE
    assert not (tmp_path / "data" / "train").exists()  # the parts are merged and gone

    trained = Engine(rules)
    restored = trained.restore_state(read_checkpoint(summary.checkpoint).rules)
    assert sorted(restored) == ["load_anomaly", "load_forecast"]
    reference = Engine(rules)  # the scheduler's cold start over the same window
    source = PrometheusSource.from_settings(rules.settings)
    reference.step(
        {p.key: source.query_range(p.promql, p.start, p.end, p.step) for p in reference.plan(now)},
        now,
    )
    later = end + 2 * STEP
    plans = trained.plan(later)
    assert {p.rule for p in plans} == {"load_anomaly", "load_forecast"}
    assert min(p.start for p in plans) >= end - STEP  # minutes of history, not two days

    after_training = trained.step(_next_samples(later), later)
    after_replay = reference.step(_next_samples(later), later)
    assert all(h.success for h in after_training.rules)
    assert _points(after_training) == _points(after_replay)
    spike = [p for p in after_training.anomalies if dict(p.labels)["instance"] == "i3"]
    assert spike[0].anomalous and spike[0].lower is not None  # warm: the state was learned
    quiet = [p for p in after_training.anomalies if dict(p.labels)["instance"] != "i3"]
    assert len(quiet) == 5 and not any(p.anomalous for p in quiet)


class _FailingProxy:
    """Forwards to Prometheus, but answers a query naming `needle` with a Prometheus error."""

    def __init__(self, upstream: str, needle: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._forward(None)

            def do_POST(self) -> None:
                self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _forward(self, body: bytes | None) -> None:
                query = urllib.parse.unquote_plus(self.path + (body or b"").decode())
                if needle in query:
                    reply = {"status": "error", "errorType": "execution", "error": "injected"}
                    self._send(422, json.dumps(reply).encode())
                    return
                headers = {"Content-Type": self.headers.get("Content-Type", "")}
                got = requests.request(
                    self.command, upstream + self.path, data=body, headers=headers, timeout=30
                )
                self._send(got.status_code, got.content)

            def _send(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _train(rules: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "sidecar", "train", "--config", str(rules), "--from"]
    return subprocess.run(
        [*argv, f"{DAYS}d", *extra], capture_output=True, text=True, timeout=300, env=env
    )


def test_a_failed_chunk_is_redone_alone_by_the_rerun(
    history: tuple[PrometheusServer, float], tmp_path: Path
) -> None:
    prom, _ = history
    proxy = _FailingProxy(prom.url, "i4")
    try:
        rules = _rules(tmp_path, proxy.url, forecast=False)
        env = ray_child_env()
        points = int(WINDOW // STEP) + 1
        per_task = ["--samples-per-task", str(2 * points), "--workers", "2"]
        first = _train(rules, *per_task, env=env)
        assert first.returncode == 1, first.stderr
        assert "1 chunk(s) failed" in first.stdout
        assert "load_anomaly chunk 2: QueryError" in first.stdout  # i4 and i5
        parts = sorted((tmp_path / "data" / "train").glob("part-*.ckpt"))
        assert len(parts) == 2
        assert not (tmp_path / "data" / "checkpoints" / TRAINED_FILE).exists()

        before = len(prom.logged_queries())
        second = _train(rules, *per_task, env={**env, "SIDECAR_PROMETHEUS_URL": prom.url})
        assert second.returncode == 0, second.stderr
        assert "resuming the unfinished job (3 chunk(s)" in second.stderr
        assert "2 chunk(s) were already done by an earlier run" in second.stdout
        assert "2 series, " in second.stdout  # the last chunk's only
        asked = [q["query"] for q in prom.logged_queries()[before:]]
        assert asked and all("i4|i5" in q for q in asked), asked
    finally:
        proxy.close()
    ckpt = read_checkpoint(tmp_path / "data" / "checkpoints" / TRAINED_FILE)
    state = ckpt.rules["load_anomaly"].state
    assert sorted(dict(k.labels)["instance"] for k in state.memo) == INSTANCES


def test_the_scheduler_starts_from_the_trained_checkpoint(
    history: tuple[PrometheusServer, float], tmp_path: Path
) -> None:
    prom, end = history
    path = _rules(tmp_path, prom.url, forecast=False)
    summary = run_job(load_rules([path]), ["load_anomaly"], WINDOW, workers=1, now=end + 1.0)
    assert summary.chunks == 1 and summary.series == 6
    before = len(prom.logged_queries())
    core = SchedulerCore(AppArgs(config=(str(path),)), clock=ReplayClock(end + 2 * STEP))
    snap = asyncio.run(core.tick())
    asked = [q for q in prom.logged_queries()[before:] if "start" in q]
    assert len(asked) == 1
    assert _when(asked[0]["start"]) >= end - STEP  # from the watermark, not the 2-day lookback
    assert len(snap.anomalies) == 6 and all(p.lower is not None for p in snap.anomalies)


def _when(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_training_spreads_over_the_nodes_of_a_ray_cluster(
    history: tuple[PrometheusServer, float], tmp_path: Path
) -> None:
    """A head and a worker node started with `ray start` (one CPU each, so two tasks at
    once need both nodes); `sidecar train` joins them through RAY_ADDRESS."""
    prom, _ = history
    cluster = RayCluster()
    try:
        cluster.start_head(cpus=1)
        cluster.add_node("worker_node", cpus=1)
        rules = _rules(tmp_path, prom.url, forecast=False)
        points = int(WINDOW // STEP) + 1
        done = _train(
            rules,
            *["--samples-per-task", str(points), "--workers", "2"],
            env={**cluster.env, "RAY_ADDRESS": cluster.address},
        )
        assert done.returncode == 0, done.stderr
        assert "in 6 chunk(s) with 2 worker(s) on 2 Ray node(s)" in done.stdout
    finally:
        cluster.kill()
    ckpt = read_checkpoint(tmp_path / "data" / "checkpoints" / TRAINED_FILE)
    assert len(ckpt.rules["load_anomaly"].state.memo) == 6
