"""`sidecar forecast`: the API.md format, no look-ahead, and exit 2 on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_cli_check import run_cli


def write(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t0 = 1_700_000_000
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for i in range(n):
            v = 50 + 20 * np.sin(2 * np.pi * i / 288) + rng.normal(0, 2)
            fh.write(f"{t0 + 300 * i},{v:.4f}\n")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_format_and_origins(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    write(src, 700)
    done = run_cli(
        "forecast", str(src), "-o", str(dst), "--horizon", "6", "--every", "10", "--warmup", "600"
    )
    assert done.returncode == 0, done.stderr
    assert dst.read_text().splitlines()[0] == "origin_timestamp,h,yhat,yhat_lower,yhat_upper"
    out = rows(dst)
    origins = sorted({int(r["origin_timestamp"]) for r in out})
    assert origins == [1_700_000_000 + 300 * i for i in range(599, 700, 10)]
    assert [int(r["h"]) for r in out[:6]] == [1, 2, 3, 4, 5, 6]
    for r in out:
        assert float(r["yhat_lower"]) <= float(r["yhat"]) <= float(r["yhat_upper"])


def test_no_look_ahead_a_truncated_file_gives_identical_forecasts(tmp_path: Path) -> None:
    src, short = tmp_path / "in.csv", tmp_path / "short.csv"
    write(src, 900, seed=1)
    lines = src.read_text().splitlines()
    short.write_text("\n".join(lines[: 1 + 800]) + "\n")
    args = ["--horizon", "12", "--every", "5", "--warmup", "600"]
    assert run_cli("forecast", str(src), "-o", str(tmp_path / "a.csv"), *args).returncode == 0
    assert run_cli("forecast", str(short), "-o", str(tmp_path / "b.csv"), *args).returncode == 0
    full, cut = rows(tmp_path / "a.csv"), rows(tmp_path / "b.csv")
    assert full[: len(cut)] == cut and len(cut) == 12 * len(range(599, 800, 5))


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("timestamp,value\n1,1\n", ["--warmup", "50"], "only 1 rows"),
        ("timestamp,value\n1,1\n2,x\n", ["--warmup", "10"], "in.csv:3: value 'x' is not a number"),
        ("timestamp,value\n1,1\n", ["--warmup", "3"], "--warmup must be at least 10"),
        (
            "timestamp,value\n" + "".join(f"{i},1\n" for i in range(30)),
            ["--warmup", "10", "--horizon", "1h"],
            "--horizon 1h is 3600 rows, more than 2016",
        ),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content)
    done = run_cli("forecast", str(src), "-o", str(tmp_path / "o.csv"), "--horizon", "3", *args)
    assert not (tmp_path / "o.csv").exists()
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
