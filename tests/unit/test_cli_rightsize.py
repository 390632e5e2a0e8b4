"""`sidecar rightsize`: the replay is scored without look-ahead, patches apply, bad input exits
2."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml

from tests.unit.test_cli_check import run_cli

T0 = 1_700_006_400  # a midnight


def write(path: Path, values: np.ndarray, step: int = 300) -> None:
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for i, v in enumerate(values):
            fh.write(f"{T0 + step * i},{v:.12g}\n")


def usage(days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hour = (np.arange(days * 288) % 288) / 12
    return (
        0.4
        + 0.3 * np.clip(np.sin((hour - 6) / 24 * 2 * np.pi), 0, None)
        + rng.gamma(2, 0.02, hour.size)
    )


def test_replay_scores_each_day_from_the_days_before(tmp_path: Path) -> None:
    cpu, mem, out = tmp_path / "cpu.csv", tmp_path / "mem.csv", tmp_path / "out.csv"
    u = usage(6)
    u[-288:] = 5.0  # the last day jumps: no recommendation made before it can know
    write(cpu, u)
    write(mem, np.full(6 * 288, 300e6))
    done = run_cli("rightsize", str(cpu), "--memory", str(mem), "-o", str(out))
    assert done.returncode == 0, done.stderr
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "origin_timestamp",
        "resource",
        "value",
        "lower",
        "upper",
        "next_share_above",
        "next_mean_slack",
    ]
    cpu_rows = [r for r in rows if r["resource"] == "cpu_request"]
    assert [int(r["origin_timestamp"]) for r in cpu_rows] == [T0 + d * 86400 for d in (2, 3, 4, 5)]
    assert float(cpu_rows[-1]["value"]) < 2.0  # made before the jump
    assert float(cpu_rows[-1]["next_share_above"]) == 1.0
    assert {r["resource"] for r in rows} == {"cpu_request", "memory_request", "memory_limit"}
    assert "cpu_request: 4 period(s) replayed" in done.stderr
    assert done.stdout.startswith("cpu_request ")  # the final recommendation, from every row
    assert "memory_limit " in done.stdout


def test_patches_are_valid_kubernetes_yaml(tmp_path: Path) -> None:
    cpu, mem = tmp_path / "cpu.csv", tmp_path / "mem.csv"
    write(cpu, usage(4))
    write(mem, np.full(4 * 288, 300 * 2**20))
    common = (
        "rightsize",
        str(cpu),
        "--memory",
        str(mem),
        "--workload",
        "web",
        "--container",
        "app",
    )
    done = run_cli(*common, "--patch", "resources", "--namespace", "shop")
    assert done.returncode == 0, done.stderr
    patch = yaml.safe_load(done.stdout)
    [container] = patch["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "app"
    assert container["resources"]["requests"]["cpu"].endswith("m")
    assert container["resources"]["limits"]["memory"] == "345Mi"  # 300 MiB + 15%
    assert "cpu" not in container["resources"]["limits"]  # no CPU limit
    done = run_cli(*common, "--patch", "vpa")
    vpa = yaml.safe_load(done.stdout)
    assert vpa["kind"] == "VerticalPodAutoscaler"
    assert vpa["spec"]["updatePolicy"]["updateMode"] == "Off"
    assert vpa["spec"]["targetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    [rec] = vpa["status"]["recommendation"]["containerRecommendations"]
    assert set(rec) >= {"target", "lowerBound", "upperBound"}
    assert "&id" not in done.stdout  # no YAML anchors


def test_rule_settings_and_risk_flag(tmp_path: Path) -> None:
    cpu = tmp_path / "cpu.csv"
    write(cpu, usage(4))
    rules = tmp_path / "r.yaml"
    rules.write_text("rightsizing:\n  - name: c\n    cpu_query: cpu\n    max_cpu: 100m\n")
    done = run_cli("rightsize", str(cpu), "--rules", str(rules))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cpu_request 100m") and "maximum" in done.stdout
    low = run_cli("rightsize", str(cpu), "--risk", "0.3")
    high = run_cli("rightsize", str(cpu), "--risk", "0.01")
    assert int(low.stdout.split()[1][:-1]) < int(high.stdout.split()[1][:-1])


def test_bad_input_exits_2_with_the_file(tmp_path: Path) -> None:
    assert run_cli("rightsize").returncode == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n1700000000,1\n1700000300,oops\n")
    done = run_cli("rightsize", str(bad))
    assert done.returncode == 2 and f"{bad}:3" in done.stderr
    neg = tmp_path / "neg.csv"
    neg.write_text("timestamp,value\n1700000000,1\n1700000300,-1\n")
    done = run_cli("rightsize", str(neg))
    assert done.returncode == 2 and "negative" in done.stderr
    assert run_cli("rightsize", str(neg), "--risk", "2").returncode == 2
    assert run_cli("rightsize", "--memory", str(tmp_path / "missing.csv")).returncode == 2
