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


def _rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_repeated_and_backward_rows_are_scored_as_repeats(tmp_path: Path) -> None:
    """A real export repeats rows (and the hour a DST change repeats): every row is scored,
    in place, and one warning names how many and the first line."""
    clean, dst_clean = tmp_path / "clean.csv", tmp_path / "clean-out.csv"
    write_series(clean)
    lines = clean.read_text().splitlines(keepends=True)
    # line 201 (row 200) repeated right after itself; a row 2 minutes back after line 402
    backward = lines[399].replace(lines[399].split(",")[1], "20.5\n")
    messy_lines = [*lines[:202], lines[201], *lines[202:402], backward, *lines[402:]]
    messy, dst = tmp_path / "messy.csv", tmp_path / "out.csv"
    messy.write_text("".join(messy_lines))
    assert run_cli("score", str(clean), "-o", str(dst_clean)).returncode == 0
    done = run_cli("score", str(messy), "-o", str(dst))
    assert done.returncode == 0, done.stderr
    warnings = [ln for ln in done.stderr.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        f"warning: {messy}:203: 2 row(s) with a timestamp not after the row before, scored as "
        "repeat samples at the previous time (--strict refuses them)"
    ]
    out = _rows_of(dst)
    assert [r[:2] for r in out] == [r[:2] for r in _rows_of(messy)]  # one row each, in order
    scores = [float(r[2]) for r in out[1:]]
    assert len(scores) == 602 and all(0.0 <= v <= 1.0 for v in scores)
    expected = read_scores(dst_clean)
    assert scores[:201] == expected[:201]  # before the first repeat: the clean file's scores
    assert scores[502] > 0.99  # the spike (row 500 of the clean file) is still found


def test_strict_refuses_a_repeated_timestamp(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("timestamp,value\n1,2\n3,2\n3,2\n4,2\n")
    done = run_cli("score", str(src), "-o", str(dst), "--strict")
    assert done.returncode == 2
    assert "in.csv:4: timestamps must increase" in done.stderr and "Traceback" not in done.stderr
    assert not dst.exists()
    assert run_cli("score", str(src), "-o", str(dst)).returncode == 0
    assert len(read_scores(dst)) == 4


def test_a_byte_order_mark_and_the_header_case_are_accepted(tmp_path: Path) -> None:
    """Spreadsheet exports start with a UTF-8 BOM; the Cloud Monitoring files say TimeStamp."""
    plain, dst_plain = tmp_path / "plain.csv", tmp_path / "plain-out.csv"
    write_series(plain, n=300, spike_at=250)
    body = plain.read_text().split("\n", 1)[1]
    src, dst = tmp_path / "bom.csv", tmp_path / "bom-out.csv"
    src.write_bytes(b"\xef\xbb\xbf" + ("TimeStamp,Value\n" + body).encode())
    assert run_cli("score", str(plain), "-o", str(dst_plain)).returncode == 0
    done = run_cli("score", str(src), "-o", str(dst))
    assert done.returncode == 0, done.stderr
    assert dst.read_text().splitlines()[0] == "TimeStamp,Value,anomaly_score"
    assert [r[2] for r in _rows_of(dst)[1:]] == [r[2] for r in _rows_of(dst_plain)[1:]]
