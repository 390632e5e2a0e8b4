"""`sidecar score` end to end: streaming scores, formats, and exit 2 with the line on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from sidecar.config.loader import load_rules
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import make_detector
from sidecar.types import Frame, SeriesKey
from tests.unit.test_cli_check import run_cli


def write_series(
    path: Path, n: int = 600, spike_at: int | None = 500, iso: bool = False
) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = 20 + rng.normal(0, 1, n)
    if spike_at is not None:
        x[spike_at] += 15
    t0 = 1_700_000_000
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for i, v in enumerate(x):
            ts = t0 + 60 * i
            stamp = (
                f"2023-11-14 {22 + (ts - t0) // 3600 % 2}:{(ts // 60) % 60:02d}:20"
                if iso
                else str(ts)
            )
            fh.write(f"{stamp},{v:.6f}\n")
    return x


def read_scores(path: Path) -> list[float]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return [float(r["anomaly_score"]) for r in rows]


def test_scores_every_row_and_flags_the_spike(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    write_series(src)
    done = run_cli("score", str(src), "-o", str(dst))
    assert done.returncode == 0, done.stderr
    scores = read_scores(dst)
    assert len(scores) == 600
    assert scores[500] > 0.99 and max(scores[:500]) < scores[500]
    assert all(0.0 <= s <= 1.0 for s in scores)
    header = dst.read_text().splitlines()[0]
    assert header == "timestamp,value,anomaly_score"


def test_streaming_a_prefix_gives_the_same_scores(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    write_series(src)
    lines = src.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:301]) + "\n")
    assert run_cli("score", str(src), "-o", str(dst)).returncode == 0
    assert run_cli("score", str(short), "-o", str(tmp_path / "s.csv")).returncode == 0
    assert read_scores(tmp_path / "s.csv") == read_scores(dst)[:300]


def test_cli_equals_the_monitor_of_the_rule(tmp_path: Path, repo_root: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    x = write_series(src)
    done = run_cli(
        "score",
        str(src),
        "-o",
        str(dst),
        "--rules",
        "rules/detectors.yaml",
        "--rule",
        "node_memory_used",
    )
    assert done.returncode == 0, done.stderr
    rule = next(
        r for r in load_rules(["rules"], environ={}).detectors if r.name == "node_memory_used"
    )
    t = 1_700_000_000.0 + 60.0 * np.arange(len(x))
    xs = np.array([float(f"{v:.6f}") for v in x])
    verdicts = Monitor(make_detector(rule.detector), rule.threshold).update_frame(
        Frame(SeriesKey("s"), t, xs, ("value",))
    )
    assert read_scores(dst) == [float(f"{v.score.value:.6f}") for v in verdicts]


def test_iso_timestamps_are_accepted(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01T00:01:00Z,2\n"
        "2024-01-01 00:02:30,\n2024-01-01T00:03:00+00:00,NaN\n"
    )
    done = run_cli("score", str(src), "-o", str(dst))
    assert done.returncode == 0, done.stderr
    assert read_scores(dst) == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,value\n1,2\n", "in.csv:1: missing column(s) timestamp"),
        ("timestamp,value\n1,2\n2,abc\n", "in.csv:3: value 'abc' is not a number"),
        ("timestamp,value\n1,2\n3,2\n2,2\n", "in.csv:4: timestamps must increase"),
        ("timestamp,value\n1,2\nyesterday,2\n", "in.csv:3: timestamp 'yesterday' is neither"),
        ("timestamp,value\n1,2\n2,3,4\n", "in.csv:3: expected 2 fields, found 3"),
        ("", "in.csv:1: empty file"),
    ],
)
def test_bad_input_exits_2_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content)
    dst = tmp_path / "out.csv"
    done = run_cli("score", str(src), "-o", str(dst))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not dst.exists()  # nothing half-written


def test_unknown_rule_and_missing_file_exit_2(tmp_path: Path, repo_root: Path) -> None:
    src = tmp_path / "in.csv"
    write_series(src, n=10, spike_at=None)
    done = run_cli(
        "score",
        str(src),
        "-o",
        str(tmp_path / "o.csv"),
        "--rules",
        "rules/detectors.yaml",
        "--rule",
        "nope",
    )
    assert done.returncode == 2 and "no detector rule named 'nope'" in done.stderr
    done = run_cli("score", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "cannot read" in done.stderr
