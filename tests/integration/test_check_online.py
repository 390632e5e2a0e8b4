"""`sidecar check --online` asks the real Prometheus to parse each query."""

from __future__ import annotations

from pathlib import Path

from tests.rig import PrometheusServer, free_port
from tests.unit.test_cli_check import run_cli


def test_prometheus_parse_errors_are_reported_at_the_rule(
    prometheus: PrometheusServer, tmp_path: Path
) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "detectors:\n"
        "  - name: fine\n"
        "    query: sum by (job) (rate(rig_value[1m]))\n"
        "  - name: not_a_range\n"
        "    query: limitk(2, rig_value)\n"  # valid PromQL, unknown or experimental here
        "forecasts:\n"
        "  - name: bad_fn\n"
        "    query: double_exponential_smoothing(rig_value[5m], 0.5, 0.5)\n"
    )
    done = run_cli("check", "--online", "--prometheus-url", prometheus.url, str(rules))
    assert done.returncode == 2, done.stdout
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{rules}:5:12: not_a_range: Prometheus rejects the query:")
    assert "limitk" in lines[0]
    assert lines[1].startswith(f"{rules}:8:12: bad_fn: Prometheus rejects the query:")
    assert "double_exponential_smoothing" in lines[1]
    assert lines[2] == "2 error(s)"


def test_valid_rules_pass_online(prometheus: PrometheusServer) -> None:
    done = run_cli("check", "--online", "--prometheus-url", prometheus.url, "rules/")
    assert done.returncode == 0, done.stderr


def test_unreachable_prometheus_is_a_failure_not_a_pass() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_cli("check", "--online", "--prometheus-url", url, "rules/")
    assert done.returncode == 1
    assert "unreachable: online checks not done" in done.stderr
