"""The replay commands read and write as Unix tools do: `-`, devices, pipes, missing folders,
the `.partial` file of a killed run; and `sidecar forecast` takes durations and rule settings."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.unit.test_alert_book import T0, alert, iso

STEP = 300


def series_csv(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["timestamp,value"]
    for i in range(n):
        v = 50 + 20 * np.sin(2 * np.pi * i / 288) + rng.normal(0, 2)
        lines.append(f"{1_700_000_000 + STEP * i},{v:.4f}")
    return "\n".join(lines) + "\n"


def alerts_jsonl() -> str:
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [alert("A", "a", T0, severity="critical")],
        "receivedAt": iso(T0 + 30),
    }
    return json.dumps(payload) + "\n"


def sidecar(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


COMMANDS = {  # name: (subcommand, options, input, the output's first characters)
    "score": (["score"], [], series_csv(300), "timestamp,value,anomaly_score"),
    "forecast": (
        ["forecast"],
        ["--horizon", "3", "--every", "50", "--warmup", "100"],
        series_csv(300),
        "origin_timestamp,h,yhat,yhat_lower,yhat_upper",
    ),
    "alerts": (["alerts", "replay"], [], alerts_jsonl(), '{"receivedAt"'),
}


def command(name: str, src: str, dst: str) -> list[str]:
    sub, options, _, _ = COMMANDS[name]
    return [*sub, src, "-o", dst, *options]


@pytest.mark.parametrize("name", COMMANDS)
def test_dash_reads_stdin_and_writes_stdout(name: str) -> None:
    done = sidecar(*command(name, "-", "-"), stdin=COMMANDS[name][2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(COMMANDS[name][3])


@pytest.mark.parametrize("name", COMMANDS)
def test_dev_stdin_is_read_without_seeking(name: str) -> None:
    done = sidecar(*command(name, "/dev/stdin", "-"), stdin=COMMANDS[name][2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(COMMANDS[name][3])


@pytest.mark.parametrize("name", COMMANDS)
def test_a_device_output_is_written_not_replaced(name: str, tmp_path: Path) -> None:
    src, link = tmp_path / "in", tmp_path / "out"
    src.write_text(COMMANDS[name][2])
    link.symlink_to("/dev/stdout")
    done = sidecar(*command(name, str(src), str(link)))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == "/dev/stdout"
    assert done.stdout.startswith(COMMANDS[name][3])


@pytest.mark.parametrize("name", COMMANDS)
def test_an_output_in_a_missing_folder_is_a_clear_error(name: str, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.write_text(COMMANDS[name][2])
    done = sidecar(*command(name, str(src), str(tmp_path / "nowhere" / "out")))
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "internal error" not in done.stderr


@pytest.mark.parametrize("name", ["score", "forecast"])
def test_a_partial_file_of_a_killed_run_is_replaced(name: str, tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out.csv"
    src.write_text(COMMANDS[name][2])
    stale = tmp_path / "out.csv.partial"
    stale.write_text("half a line from a run killed with -9")
    done = sidecar(*command(name, str(src), str(dst)))
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert dst.read_text().startswith(COMMANDS[name][3])


def test_a_failed_replay_leaves_the_earlier_output_alone(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(series_csv(50) + "1800000000,not-a-number\n")
    dst.write_text("earlier output\n")
    done = sidecar("score", str(src), "-o", str(dst))
    assert done.returncode == 2 and "not a number" in done.stderr
    assert dst.read_text() == "earlier output\n"
    assert not (tmp_path / "out.csv.partial").exists()


def forecast_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_forecast_lengths_as_durations() -> None:
    done = sidecar(
        "forecast", "-", "-o", "-", "--horizon", "1h", "--every", "50m", "--warmup", "1d",
        stdin=series_csv(400),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = forecast_rows(done.stdout)
    origins = sorted({int(r["origin_timestamp"]) for r in out})
    first = 1_700_000_000 + STEP * 287  # the warm-up is the first day's 288 rows
    assert origins == list(range(first, 1_700_000_000 + STEP * 400, 10 * STEP))
    assert {int(r["h"]) for r in out} == set(range(1, 13))


@pytest.mark.parametrize("bad", ["5x", "-3", "1.5h", ""])
def test_a_bad_length_exits_2_naming_it(bad: str) -> None:
    done = sidecar("forecast", "-", "-o", "-", "--horizon", bad, "--warmup", "100", stdin="")
    assert done.returncode == 2
    assert "--horizon" in done.stderr and "Traceback" not in done.stderr


def widths(text: str) -> np.ndarray:
    out = forecast_rows(text)
    return np.array([float(r["yhat_upper"]) - float(r["yhat_lower"]) for r in out])


def test_forecast_takes_a_rules_settings_and_level_overrides_it(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "forecasts:\n"
        "  - name: web\n"
        "    query: sum(rate(http_requests_total[5m]))\n"
        "    horizon: 30m\n"
        "    level: 0.95\n"
        "    model: ets\n"
    )
    data = series_csv(400, seed=3)
    args = ["forecast", "-", "-o", "-", "--warmup", "300", "--every", "20"]
    ruled = sidecar(*args, "--rules", str(rules), "--rule", "web", stdin=data)
    assert ruled.returncode == 0, ruled.stderr
    assert {int(r["h"]) for r in forecast_rows(ruled.stdout)} == set(range(1, 7))
    lower = sidecar(*args, "--rules", str(rules), "--level", "0.6", stdin=data)
    assert lower.returncode == 0, lower.stderr
    assert (widths(lower.stdout) < widths(ruled.stdout)).all()
    plain = sidecar(*args, "--horizon", "6", "--model", "ets", "--level", "0.95", stdin=data)
    assert plain.stdout == ruled.stdout


def test_forecast_rule_errors_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("forecasts: []\n")
    missing = sidecar("forecast", "-", "-o", "-", "--warmup", "20", "--rules", str(rules), stdin="")
    assert missing.returncode == 2 and "name the forecast rule" in missing.stderr
    orphan = sidecar("forecast", "-", "-o", "-", "--warmup", "20", "--rule", "x", stdin="")
    assert orphan.returncode == 2 and "--rule needs --rules" in orphan.stderr
    bare = sidecar("forecast", "-", "-o", "-", "--warmup", "20", stdin="")
    assert bare.returncode == 2 and "--horizon is required" in bare.stderr
