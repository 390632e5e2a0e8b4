"""`sidecar check` as a user runs it: a real subprocess, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_shipped_rules_pass() -> None:
    done = run_cli("check", "rules/")
    assert done.returncode == 0, done.stderr
    assert "valid in rules/detectors.yaml" in done.stdout


def test_default_path_is_rules_directory() -> None:
    done = run_cli("check")
    assert done.returncode == 0, done.stderr
    assert "rules/scaling.yaml" in done.stdout


def test_broken_file_exits_2_with_every_error_located() -> None:
    bad = FIXTURES / "rules" / "bad" / "many_errors.yaml"
    done = run_cli("check", str(bad.relative_to(ROOT)))
    assert done.returncode == 2
    expected = bad.with_suffix(".expected").read_text().splitlines()
    assert done.stderr.splitlines() == [*expected, f"{len(expected)} error(s)"]
    assert "Traceback" not in done.stderr + done.stdout


def test_errors_of_several_files_are_all_printed() -> None:
    bad_dir = FIXTURES / "rules" / "bad"
    done = run_cli("check", str(bad_dir.relative_to(ROOT)))
    assert done.returncode == 2
    for expected in sorted(bad_dir.glob("*.expected")):
        for line in expected.read_text().splitlines():
            if "duplicate rule name" not in line:  # cross-file duplicates add lines, not remove
                assert line in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_exits_2() -> None:
    done = run_cli("check", "no/such/rules.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith("no/such/rules.yaml: no such file or directory")


def test_bad_environment_override_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sidecar", "check", "rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SIDECAR_QUERY_RETRIES": "many"},
    )
    assert done.returncode == 2
    assert "$SIDECAR_QUERY_RETRIES: settings.query_retries:" in done.stderr


def test_usage_errors_exit_2() -> None:
    done = run_cli("frobnicate")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_import_has_no_side_effects_and_no_heavy_modules() -> None:
    code = (
        "import sys, sidecar, sidecar.cli, sidecar.config.loader;"
        "heavy = [m for m in ('ray', 'sklearn', 'statsmodels', 'prometheus_api_client', 'fastapi')"
        " if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
