"""`sidecar run` on a Ray cluster of several nodes on this machine (`ray start`), with a rule
split by series over two shards: the shards land on different nodes; when the worker node's
raylet is killed, its shard restarts on another node from its checkpoint, `/readyz` says
what is happening meanwhile, and every series is exported again, once."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from sidecar.app.run import serve_environment
from sidecar.config.loader import load_rules
from tests.conftest import ROOT
from tests.rig import (
    LOOPBACK,
    ManagedProcess,
    MetricsTarget,
    PrometheusServer,
    RayCluster,
    free_port,
    wait_until,
)

SERIES = ("a", "d")
RULES = """\
settings:
  prometheus_url: {prometheus}
  listen_port: {port}
  interval: 1s
  data_dir: {data}
  query_timeout: 5s
  query_retries: 0
  shards: 2
  scheduler_cpus: 1
  ingress_resources: {{head_node: 0.01}}
  checkpoint_interval: 2s
detectors:
  - name: split
    query: rig_value{{job="rig"}}
    step: 1s
    lookback: 1m
    shard_by: [series]
    detector: {{kind: seasonal_robust_z, season: none, window: 60}}
"""


def test_the_series_split_is_what_the_test_expects() -> None:
    """The two series hash to different shards (else the cluster test proves nothing)."""
    assert sorted(zlib.crc32(s.encode()) % 2 for s in SERIES) == [0, 1]


def _drive(target: MetricsTarget, stop: threading.Event) -> None:
    rng = np.random.default_rng(0)
    while not stop.is_set():
        for s in SERIES:
            target.set(s, 10 + float(rng.normal(0, 1)))
        time.sleep(0.25)


def _ready(url: str) -> tuple[int, dict[str, Any]]:
    r = requests.get(f"{url}/readyz", timeout=10)
    return r.status_code, r.json()


def _scores(url: str) -> list[str]:
    """The `series` label of every exported `sidecar_anomaly_score` sample."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return [
        s.labels["series"]
        for fam in text_string_to_metric_families(text)
        if fam.name == "sidecar_anomaly_score"
        for s in fam.samples
    ]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RayCluster]:
    c = RayCluster()
    try:
        yield c
    finally:
        c.kill()


def test_a_shard_moves_off_a_dead_node_and_resumes_from_its_checkpoint(
    tmp_path: Path, cluster: RayCluster
) -> None:
    target, stop = MetricsTarget(), threading.Event()
    threading.Thread(target=_drive, args=(target, stop), daemon=True).start()
    port = free_port()
    prom = PrometheusServer(tmp_path / "prom", [target.address])
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.yaml").write_text(
        RULES.format(prometheus=prom.url, port=port, data=tmp_path / "data")
    )
    # Serve reads its flags in each node's processes: the nodes start with them, as the
    # README tells cluster operators (direct ingress on listen_port)
    cluster.env.update(serve_environment(load_rules([rules]).settings))
    cluster.start_head(cpus=1)
    cluster.add_node("worker_node", cpus=1)  # one CPU a node: the two shards, one a node
    proc = ManagedProcess(
        [sys.executable, "-m", "sidecar", "run", "--config", str(rules)],
        tmp_path / "sidecar.log",
        env={**cluster.env, "RAY_ADDRESS": cluster.address},
        cwd=ROOT,
        stop_timeout=60,
    )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until(lambda: _ready(url)[0] == 200, 180, "sidecar /readyz")
        _, body = _ready(url)
        shards = {s["shard"]: s for s in body["shards"]}
        assert shards[0]["node"] != shards[1]["node"]  # one shard on each node
        wait_until(lambda: sorted(_scores(url)) == sorted(SERIES), 60, "both series scored")
        time.sleep(5)  # a checkpoint or two
        assert len(list((tmp_path / "data" / "checkpoints").glob("shard-*.ckpt"))) == 2

        os.kill(cluster.raylet_of("worker_node"), signal.SIGKILL)
        during: list[dict[str, Any]] = []

        def not_ready() -> bool:
            code, body = _ready(url)
            if code == 503:
                during.append(body)
            return code == 503

        # no node has a CPU free for the lost shard: /readyz says so until one joins
        wait_until(not_ready, 60, "/readyz to say a shard is gone")
        lost = [s for s in during[0]["shards"] if not s["ready"]]
        assert len(lost) == 1 and "no answer" in lost[0]["error"]
        survivor = [v for v in SERIES if zlib.crc32(v.encode()) % 2 != lost[0]["shard"]]
        assert _scores(url) == survivor  # the lost shard's series are left out, not stale
        cluster.add_node("standby_node", cpus=1)  # where the shard can go
        joined_at = time.monotonic()
        wait_until(lambda: _ready(url)[0] == 200, 90, "the shard back on another node")
        moved = time.monotonic() - joined_at
        _, after = _ready(url)
        now_on = {s["shard"]: s for s in after["shards"]}
        stayed = [i for i in (0, 1) if now_on[i]["node"] == shards[i]["node"]]
        assert len(stayed) == 1  # the shard on the head stayed; the other one moved
        moved_shard = 1 - stayed[0]
        assert now_on[moved_shard]["node"] not in {shards[0]["node"], shards[1]["node"]}
        assert now_on[moved_shard]["restored"] == ["split"]  # from its checkpoint
        assert now_on[stayed[0]]["restored"] == []
        wait_until(lambda: sorted(_scores(url)) == sorted(SERIES), 30, "every series once")
        assert moved < 60, f"the shard took {moved:.0f} s to come back on the new node"
    finally:
        proc.stop()
        prom.close()
        stop.set()
        target.close()
