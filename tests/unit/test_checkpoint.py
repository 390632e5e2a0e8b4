"""Checkpoints: a restored engine continues exactly; bad files and changed rules start cold."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sidecar.app.scheduler import SchedulerCore
from sidecar.app.settings import AppArgs
from sidecar.checkpoint import (
    FORMAT_VERSION,
    MAGIC,
    CheckpointError,
    read_checkpoint,
    write_checkpoint,
)
from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.types import Frame, SeriesKey

RULES = """\
settings: {{data_dir: {data}, checkpoint_interval: 5m}}
detectors:
  - name: bank
    query: up
    step: 1m
    lookback: 1d
    detector: {{kind: seasonal_robust_z, season: none, window: {window}}}
  - name: quantile
    query: up
    step: 1m
    lookback: 1d
    threshold: {{quantile: 0.99}}
forecasts:
  - name: load
    query: up
    step: 1m
    lookback: 1d
    horizon: 10m
    model: naive
    scaling: {{capacity_per_replica: 5}}
"""
T = 1_700_000_000.0 + 60.0 * np.arange(1500)
RNG = np.random.default_rng(0)
VALUES = {i: 10 + RNG.normal(0, 1, T.size) for i in range(4)}
VALUES[0][1459] += 15  # a spike after the checkpoint, the last sample of a tick


def rules_file(tmp_path: Path, window: int = 60) -> Path:
    path = tmp_path / f"rules-{window}.yaml"
    path.write_text(RULES.format(data=tmp_path / "data", window=window))
    return path


def frames(upto: int, since: int = 0) -> dict[str, list[Frame]]:
    def series(i: int) -> Frame:
        key = SeriesKey.from_labels({"__name__": "up", "instance": f"i{i}"})
        return Frame(key, T[since:upto], VALUES[i][since:upto, None], ("value",))

    all_series = [series(i) for i in range(4)]
    return {"bank": all_series, "quantile": all_series[:2], "load": all_series[:2]}


def test_a_restored_engine_scores_the_next_samples_exactly_as_the_running_one(
    tmp_path: Path,
) -> None:
    rules = load_rules([rules_file(tmp_path)], environ={})
    running = Engine(rules)
    running.step(frames(1400), float(T[1399]))
    path = tmp_path / "shard-0.ckpt"
    size = write_checkpoint(path, running.export_state(), float(T[1399]))
    assert size > 0
    restarted = Engine(rules)
    assert sorted(restarted.restore_state(read_checkpoint(path).rules)) == [
        "bank",
        "load",
        "quantile",
    ]
    # the restart asks Prometheus from the watermark, not for the day of lookback
    plans = {p.key: p for p in restarted.plan(float(T[1400]))}
    assert {p.start for p in plans.values()} == {float(T[1399]) - 60.0}
    verdicts = []
    for i in range(1400, 1500, 10):  # the same new samples, in ticks of 10 minutes
        a = running.step(frames(i + 10, i - 1), float(T[i + 9]))
        b = restarted.step(frames(i + 10, i - 1), float(T[i + 9]))
        assert a.anomalies == b.anomalies and a.forecasts == b.forecasts
        assert a.replicas == b.replicas
        verdicts += [p.anomalous for p in b.anomalies if ("instance", "i0") in p.labels]
    assert any(verdicts)  # the spike after the restart is an anomaly


def test_a_changed_rule_starts_cold_alone(tmp_path: Path) -> None:
    before = load_rules([rules_file(tmp_path)], environ={})
    engine = Engine(before)
    engine.step(frames(300), float(T[299]))
    path = tmp_path / "shard-0.ckpt"
    write_checkpoint(path, engine.export_state(), float(T[299]))
    after = Engine(load_rules([rules_file(tmp_path, window=90)], environ={}))
    assert sorted(after.restore_state(read_checkpoint(path).rules)) == ["load", "quantile"]
    starts = {p.rule: p.start for p in after.plan(float(T[300]))}
    assert starts["bank"] == float(T[300]) - 86400  # cold: the whole lookback


def test_bad_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    engine = Engine(load_rules([rules_file(tmp_path)], environ={}))
    engine.step(frames(100), float(T[99]))
    good = tmp_path / "good.ckpt"
    write_checkpoint(good, engine.export_state(), float(T[99]))
    data = good.read_bytes()
    cases = {
        "truncated": data[: len(data) // 2],
        "corrupt": data[:-10] + bytes(10),
        "newer": data.replace(MAGIC + str(FORMAT_VERSION).encode(), MAGIC + b"99", 1),
        "not a checkpoint": b"hello",
    }
    for why, blob in cases.items():
        bad = tmp_path / f"{why}.ckpt"
        bad.write_bytes(blob)
        with pytest.raises(CheckpointError, match=why.split()[0] if why != "newer" else "v99"):
            read_checkpoint(bad)


def test_a_write_killed_midway_leaves_the_previous_checkpoint(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    engine = Engine(load_rules([rules], environ={}))
    engine.step(frames(200), float(T[199]))
    path = tmp_path / "data" / "checkpoints" / "shard-0.ckpt"
    write_checkpoint(path, engine.export_state(), float(T[199]))
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from sidecar.checkpoint import *; "
            "big = {'x': RuleState('h', 'detector', bytes(500_000_000))}; "
            "write_checkpoint(Path(sys.argv[1]), big, 0.0)",
            str(path),
        ]
    )
    deadline = time.monotonic() + 60
    while not list(path.parent.glob(".shard-0.ckpt.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.kill()  # SIGKILL while the temporary file is being written
    writer.wait()
    assert list(path.parent.glob(".shard-0.ckpt.*.tmp"))  # it was cut short mid-write
    assert set(read_checkpoint(path).rules) == {"bank", "quantile", "load"}
    # a shard starting now uses that checkpoint, and clears the leftover
    core = SchedulerCore(AppArgs(config=(str(rules),)))
    assert core._checkpoint_load_errors == 0
    assert not list(path.parent.glob(".shard-0.ckpt.*.tmp"))
    starts = {p.rule: p.start for p in core.engine.plan(float(T[200]))}
    assert starts["bank"] == float(T[199]) - 60.0


def test_a_shard_counts_files_it_cannot_use_and_starts_those_cold(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    folder = tmp_path / "data" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "shard-0.ckpt").write_bytes(b"SIDECAR-CHECKPOINT v1\n" + bytes(10))
    core = SchedulerCore(AppArgs(config=(str(rules),)))
    assert core._checkpoint_load_errors == 1
    starts = {p.rule: p.start for p in core.engine.plan(float(T[10]))}
    assert starts["bank"] == float(T[10]) - 86400
