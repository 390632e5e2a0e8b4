"""A restarted `sidecar run` loads its checkpoint and asks Prometheus only from where it
stopped (counted in Prometheus' own query log), not for each rule's lookback."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import requests

from sidecar.app.ports import port_state
from tests.integration.test_app_e2e import running_sidecar
from tests.rig import MetricsTarget, PrometheusServer, free_port, wait_until


def _drive(target: MetricsTarget, stop: threading.Event) -> None:
    rng = np.random.default_rng(1)
    while not stop.is_set():
        for s in ("a", "b"):
            target.set(s, 10 + float(rng.normal(0, 1)))
        time.sleep(0.25)


def _starts(prom: PrometheusServer, since: float, needle: str) -> list[float]:
    """Start times of the range queries containing `needle` run after `since`."""
    out = []
    for q in prom.logged_queries():
        if needle in q.get("query", "") and "start" in q and "step" in q:
            start = datetime.fromisoformat(q["start"].replace("Z", "+00:00")).timestamp()
            end = datetime.fromisoformat(q["end"].replace("Z", "+00:00")).timestamp()
            if end > since:
                out.append(start)
    return out


def test_restart_resumes_from_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = MetricsTarget()
    stop = threading.Event()
    threading.Thread(target=_drive, args=(target, stop), daemon=True).start()
    port = free_port()
    prom = PrometheusServer(
        tmp_path / "prom", [target.address], sidecars=[f"127.0.0.1:{port}"], query_log=True
    )
    data = tmp_path / "state"
    monkeypatch.setenv("SIDECAR_DATA_DIR", str(data))
    try:
        first, second = tmp_path / "first", tmp_path / "second"
        first.mkdir()
        second.mkdir()
        extra = "  checkpoint_interval: 5s\n"
        with running_sidecar(first, prom.url, port, extra_settings=extra) as (url, _, _):
            ckpt = data / "checkpoints" / "shard-0.ckpt"
            wait_until(ckpt.exists, 60, "the first checkpoint")
            time.sleep(3)
        stopped = time.time()
        assert ckpt.exists()
        with running_sidecar(second, prom.url, port, extra_settings=extra) as (url, _, proc):
            log = (second / "sidecar.log").read_text()
            assert "restored 3 rule(s) from checkpoints" in log, log[-3000:]
            wait_until(lambda: _starts(prom, stopped, 'series=~"a|b"'), 60, "a query after restart")
            first_start = min(_starts(prom, stopped, 'series=~"a|b"'))
            # cold, it would ask for the rule's 2m lookback; restored, from the watermark
            assert first_start >= stopped - 30, (first_start, stopped)
            metrics = requests.get(f"{url}/metrics", timeout=10).text
            assert "sidecar_checkpoint_load_errors_total" in metrics
            assert proc.alive()
            # the Ray dashboard is off by default: nothing of this run listens on 8265
            assert port_state("127.0.0.1", 8265) != "in_use"
    finally:
        stop.set()
        prom.close()
        target.close()
