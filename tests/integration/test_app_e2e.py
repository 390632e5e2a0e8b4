"""End to end: `sidecar run` (real local Ray, real Serve) between a real Prometheus and
Alertmanager.

A scrape target serves two noisy series; one jumps. The sidecar pulls them from Prometheus,
Prometheus scrapes the sidecar back, and the anomaly shows in Prometheus for the series that
jumped and not for the other. A forecast rule yields replicas; an alert fired through
Alertmanager reaches POST /alerts and the ranking; a bad rule file on reload keeps the old
rules and says so in the reload metric.
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT
from tests.integration.bad_bodies import VALID, bodies
from tests.rig import (
    AlertmanagerServer,
    ManagedProcess,
    MetricsTarget,
    PrometheusServer,
    free_port,
    ray_child_env,
    wait_until,
)

RULES = """\
detectors:
  - name: e2e
    query: rig_value{{job="rig", series=~"a|b"}}
    step: 1s
    lookback: 2m
    detector: {{kind: seasonal_robust_z, season: none, window: 60}}
    threshold: {{false_alarm_rate: 0.001}}
forecasts:
  - name: e2e_load
    query: rig_value{{job="rig", series="a"}}
    step: 1s
    lookback: 2m
    horizon: 10s
    model: naive
    scaling: {{capacity_per_replica: 4, target_utilization: 1.0, min_replicas: 1, max_replicas: 50,
               lead_time: 5s, scale_down_stabilization: 0s}}
rightsizing:
  - name: e2e_size
    cpu_query: rig_value{{job="rig", series="a"}} / 10
    memory_query: rig_value{{job="rig", series="a"}} * 1e7
    group_by: [series]
    step: 1s
    lookback: 2m
    every: 5s
"""
SETTINGS = """\
settings:
  prometheus_url: {prometheus}
  listen_port: {port}
  interval: 1s
  data_dir: {data}
  query_timeout: 5s
  query_retries: 0
  ray_dashboard: {dashboard}
  ray_metrics_port: {ray_port}
{extra}"""


@dataclass
class Stack:
    prometheus: PrometheusServer
    target: MetricsTarget
    url: str
    rules_dir: Path
    proc: ManagedProcess
    jump: threading.Event
    ray_metrics_port: int


def _drive(target: MetricsTarget, stop: threading.Event, jump: threading.Event) -> None:
    rng = np.random.default_rng(0)
    while not stop.is_set():
        target.set("a", 10 + float(rng.normal(0, 1)))
        target.set("b", (60.0 if jump.is_set() else 10.0) + float(rng.normal(0, 1)))
        time.sleep(0.25)


@contextlib.contextmanager
def running_sidecar(
    tmp: Path,
    prometheus_url: str,
    port: int,
    wait_ready: bool = True,
    dashboard: bool = False,
    ray_port: int | None = None,
    extra_settings: str = "",
) -> Iterator[tuple[str, Path, ManagedProcess]]:
    """`sidecar run` in a subprocess with the e2e rules; stopped with SIGTERM afterwards."""
    rules_dir = tmp / "rules"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(RULES.format())
    (rules_dir / "sidecar.yaml").write_text(
        SETTINGS.format(
            prometheus=prometheus_url,
            port=port,
            data=tmp / "data",
            ray_port=ray_port or free_port(),
            dashboard=str(dashboard).lower(),
            extra=extra_settings,
        )
    )
    proc = ManagedProcess(
        [sys.executable, "-m", "sidecar", "run", "--config", str(rules_dir)],
        tmp / "sidecar.log",
        env=ray_child_env(),
        cwd=ROOT,
        stop_timeout=60,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if wait_ready:
            wait_until(
                lambda: requests.get(f"{url}/readyz", timeout=2).status_code == 200,
                180,
                "sidecar /readyz",
            )
        yield url, rules_dir, proc
    finally:
        proc.stop()


@contextlib.contextmanager
def scraped_stack(tmp: Path, dashboard: bool = False, extra_settings: str = "") -> Iterator[Stack]:
    """A scrape target driven by `_drive`, a Prometheus scraping it and the sidecar, and
    `sidecar run` with the e2e rules between them."""
    target = MetricsTarget()
    stop, jump = threading.Event(), threading.Event()
    driver = threading.Thread(target=_drive, args=(target, stop, jump), daemon=True)
    driver.start()
    port, ray_port = free_port(), free_port()
    prometheus = PrometheusServer(tmp / "prom", [target.address], sidecars=[f"127.0.0.1:{port}"])
    try:
        with running_sidecar(
            tmp,
            prometheus.url,
            port,
            dashboard=dashboard,
            ray_port=ray_port,
            extra_settings=extra_settings,
        ) as (url, rules_dir, proc):
            yield Stack(prometheus, target, url, rules_dir, proc, jump, ray_port)
    finally:
        stop.set()
        prometheus.close()
        target.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with scraped_stack(tmp_path_factory.mktemp("e2e"), dashboard=True) as s:
        yield s


def _metrics(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = requests.get(f"{url}/metrics", timeout=5).text
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_anomaly_reaches_prometheus_for_the_series_that_jumped(stack: Stack) -> None:
    # let the detector warm up on normal data first: a warm score comes with its expected range
    wait_until(
        lambda: any(
            lab.get("series") == "b"
            for lab, _ in _metrics(stack.url).get("sidecar_anomaly_expected_upper", [])
        ),
        120,
        "a warm detector for series b",
    )
    time.sleep(3)
    stack.jump.set()

    def seen() -> bool:
        res = stack.prometheus.instant('max_over_time(sidecar_anomaly_score{rule="e2e"}[2m])')
        peak = {r["metric"].get("series"): float(r["value"][1]) for r in res}
        return peak.get("b", 0.0) > 0.9 and "a" in peak

    wait_until(seen, 90, "Prometheus holding a high sidecar_anomaly_score for series b")
    peak = {
        r["metric"]["series"]: float(r["value"][1])
        for r in stack.prometheus.instant('max_over_time(sidecar_anomaly_score{rule="e2e"}[2m])')
    }
    assert peak["b"] > 0.9 and peak["a"] < peak["b"]
    # through Prometheus the series keeps its own job and instance (honor_labels: true)
    [scored] = stack.prometheus.instant('sidecar_anomaly_score{rule="e2e", series="b"}')
    assert scored["metric"]["job"] == "rig"
    assert scored["metric"]["instance"] == stack.target.address
    assert not any(k.startswith("exported_") for k in scored["metric"])
    [own] = stack.prometheus.instant('sidecar_rule_series{rule="e2e"}')
    assert own["metric"]["job"] == "sidecar"  # its own metrics carry the scrape's job
    # the exported expected range explains the jump: 60 is far above it
    upper = {
        lab["series"]: v
        for lab, v in _metrics(stack.url)["sidecar_anomaly_expected_upper"]
        if lab.get("rule") == "e2e"
    }
    assert upper["a"] < 30


def test_forecast_rule_produces_replicas(stack: Stack) -> None:
    def replicas() -> float | None:
        for lab, v in _metrics(stack.url).get("sidecar_recommended_replicas", []):
            if lab.get("rule") == "e2e_load":
                return v
        return None

    value = wait_until(replicas, 90, "sidecar_recommended_replicas{rule=e2e_load}")
    assert 3 <= value <= 6  # load about 10 ± noise at 4 per replica
    bounds = {
        lab["bound"]
        for lab, _ in _metrics(stack.url)["sidecar_forecast"]
        if lab.get("rule") == "e2e_load"
    }
    assert bounds == {"mean", "lower", "upper"}


def test_rightsizing_rule_is_exported_through_prometheus(stack: Stack) -> None:
    """Usage from the rig's Prometheus → recommendations → scraped back, with the series' labels."""

    def recommended() -> dict[str, float] | None:
        found = {}
        for name in ("cpu_request_cores", "memory_limit_bytes", "memory_request_bytes"):
            rows = stack.prometheus.instant(f'sidecar_recommended_{name}{{rule="e2e_size"}}')
            if not rows:
                return None
            [row] = rows
            assert row["metric"]["series"] == "a" and row["metric"]["job"] == "sidecar"
            found[name] = float(row["value"][1])
        return found

    got = wait_until(recommended, 120, "sidecar_recommended_*{rule=e2e_size} in Prometheus")
    assert 0.9 <= got["cpu_request_cores"] <= 1.6  # usage 1.0 ± 0.1 cores
    assert got["memory_limit_bytes"] >= 1.15 * 1e8  # peak of 1e8 ± 1e7 bytes, plus 15%
    assert got["memory_request_bytes"] <= got["memory_limit_bytes"]
    bounds = _metrics(stack.url)
    [(_, lower)] = [
        (lab, v)
        for lab, v in bounds["sidecar_recommended_cpu_request_cores_lower"]
        if lab.get("rule") == "e2e_size"
    ]
    assert lower <= got["cpu_request_cores"] * 1.01


def test_rightsizing_endpoint_answers_with_a_patch(stack: Stack) -> None:
    body = VALID["/rightsizing"]
    r = requests.post(f"{stack.url}/rightsizing", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out["recommendations"]) == {"cpu_request", "memory_request", "memory_limit"}
    cpu = out["recommendations"]["cpu_request"]
    assert cpu["lower"] <= cpu["value"] <= cpu["upper"] <= 2.0 * 1.0001  # max_cpu: "2"
    assert out["recommendations"]["memory_limit"]["value"] >= 1.2 * 3e8  # OOM-killed
    [container] = out["patch"]["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "app" and container["resources"]["requests"]["cpu"].endswith("m")
    assert out["vpa"]["spec"]["updatePolicy"]["updateMode"] == "Off"
    bad = {**body, "cpu": [{"timestamp": 1_700_000_000, "value": -1}, *body["cpu"][1:]]}
    r = requests.post(f"{stack.url}/rightsizing", json=bad, timeout=30)
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "cpu", 0, "value"]]
    r = requests.post(f"{stack.url}/rightsizing", json={"cpu": body["cpu"][:1]}, timeout=30)
    assert r.status_code == 422 and "at least two points" in r.text


def test_rules_page_lists_every_rule_with_its_last_run(stack: Stack) -> None:
    def listed() -> dict[str, dict[str, object]] | None:
        body = requests.get(f"{stack.url}/rules", timeout=30).json()
        rules = {r["name"]: r for r in body["rules"]}
        done = all(r["last_run_success"] for r in rules.values())
        return rules if done and body["reload_success"] else None

    rules = wait_until(listed, 120, "every rule run once in GET /rules")
    assert {n: r["kind"] for n, r in rules.items()} == {
        "e2e": "detector",
        "e2e_load": "forecast",
        "e2e_size": "rightsizing",
    }
    assert rules["e2e"]["series"] == 2 and rules["e2e"]["last_error"] is None
    assert str(rules["e2e"]["location"]).startswith(str(stack.rules_dir / "rules.yaml") + ":")


def test_api_docs_work_offline(stack: Stack) -> None:
    """/docs and /redoc load every asset from the sidecar itself, none from a CDN."""
    for page in ("/docs", "/redoc"):
        html = requests.get(stack.url + page, timeout=10).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and not [a for a in assets if "://" in a], assets
        for asset in assets:
            r = requests.get(stack.url + asset, timeout=10)
            assert r.status_code == 200 and len(r.content) > 1000, asset
    assert requests.get(stack.url + "/openapi.json", timeout=10).json()["paths"]


def test_process_metrics_are_exported(stack: Stack) -> None:
    metrics = _metrics(stack.url)
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"):
        assert name in metrics, name


def test_alert_through_alertmanager_is_ranked_and_exported(stack: Stack, tmp_path: Path) -> None:
    am = AlertmanagerServer(tmp_path / "am", f"{stack.url}/alerts")
    try:
        am.post_alerts(
            [
                {
                    "labels": {
                        "alertname": "E2EDiskFull",
                        "severity": "critical",
                        "node": "worker-1",
                    },
                    "startsAt": datetime.now(UTC).isoformat(),
                }
            ]
        )

        def ranked() -> list[dict[str, object]]:
            alerts: list[dict[str, object]] = requests.get(
                f"{stack.url}/alerts/ranked", timeout=5
            ).json()["alerts"]
            return [a for a in alerts if a["alertname"] == "E2EDiskFull"]

        [alert] = wait_until(ranked, 60, "the alert in /alerts/ranked")
        assert 0 < float(alert["salience"]) <= 1 and alert["reasons"]
        exported = {lab["alertname"]: v for lab, v in _metrics(stack.url)["sidecar_alert_salience"]}
        assert exported["E2EDiskFull"] == pytest.approx(float(alert["salience"]), abs=0.05)
    finally:
        am.close()


def test_http_bad_input_is_422_with_the_field_path(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/anomaly", json={"metrics": [{"cpu_usage": "high"}]}, timeout=10)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "metrics", 0, "cpu_usage"]
    r = requests.post(f"{stack.url}/salience", json={"features": [{"frequency": 3}]}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "features", 0]
    r = requests.post(
        f"{stack.url}/anomaly",
        json={"metrics": [{"cpu_usage": 0.95, "memory_usage": 0.8, "timestamp": 1234567890}]},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["results"][0]["driver"] == "cpu_usage"


def test_oversized_body_is_413_and_the_server_keeps_serving(stack: Stack) -> None:
    from sidecar.app.api import MAX_BODY_BYTES

    big = b'{"metrics": [' + b'{"x": 1.0},' * (MAX_BODY_BYTES // 10) + b'{"x": 1.0}]}'
    headers = {"Content-Type": "application/json"}
    r = requests.post(f"{stack.url}/anomaly", data=big, headers=headers, timeout=30)
    assert r.status_code == 413
    # a chunked body (no Content-Length) is cut off while it streams in
    chunks = (big[i : i + 65536] for i in range(0, len(big), 65536))
    r = requests.post(f"{stack.url}/anomaly", data=chunks, headers=headers, timeout=30)
    assert r.status_code == 413
    r = requests.post(f"{stack.url}/anomaly", json={"metrics": [{"x": 1.0}]}, timeout=10)
    assert r.status_code == 200


def test_ray_dashboard_and_ray_metrics_are_reachable(stack: Stack) -> None:
    r = requests.get("http://127.0.0.1:8265/api/version", timeout=10)
    assert r.status_code == 200 and "ray_version" in r.json()
    text = requests.get(f"http://127.0.0.1:{stack.ray_metrics_port}/metrics", timeout=10).text
    assert any(fam.name.startswith("ray_") for fam in text_string_to_metric_families(text))


def test_bad_rule_file_on_reload_keeps_the_old_rules(stack: Stack) -> None:
    path = stack.rules_dir / "rules.yaml"
    good = path.read_text()
    try:
        path.write_text(good.replace("step: 1s", "step: 1 s", 1))
        r = requests.post(f"{stack.url}/-/reload", timeout=30)
        assert r.status_code == 200 and r.json()["reloaded"] is False
        [shard] = r.json()["shards"]
        assert shard["reloaded"] is False and "rules.yaml:" in shard["errors"][0]
        # SIGHUP does what POST /-/reload does, and says why it failed in the process log
        stack.proc.proc.send_signal(signal.SIGHUP)
        log = stack.rules_dir.parent / "sidecar.log"
        wait_until(
            lambda: "SIGHUP: reload of shard 0 failed (old rules kept): " in log.read_text(),
            30,
            "the SIGHUP reload's error in the log",
        )
        assert "No event loop running" not in log.read_text()  # the old SIGHUP path

        def reload_metric() -> float | None:
            for _, v in _metrics(stack.url).get("sidecar_rules_last_reload_successful", []):
                return v
            return None

        assert wait_until(lambda: reload_metric() == 0.0, 30, "reload metric 0") is True
        ok = {lab["rule"]: v for lab, v in _metrics(stack.url)["sidecar_rule_last_run_success"]}
        assert ok["e2e"] == 1.0  # the old rules keep running
        listed = requests.get(f"{stack.url}/rules", timeout=30).json()
        assert listed["reload_success"] is False
        assert any("rules.yaml:" in e and "step" in e for e in listed["reload_errors"])
    finally:
        path.write_text(good)
        requests.post(f"{stack.url}/-/reload", timeout=30)


# Panels that must show data once the stack above has run (the others must at least parse).
EXPECT_DATA = {
    "sidecar-overview": {
        "Most anomalous series, last hour",
        "Highest score per rule",
        "Tick duration",
        "Seconds since each rule last succeeded",
        "Series covered per rule",
        "Prometheus reachable",
        "Rules reload successful",
    },
    "sidecar-rule": {"Observed value and expected band", "Anomaly score", "Anomaly markers"},
    "sidecar-forecast": {
        "Forecast at the horizon with its 90% interval",
        "Recommended vs current replicas",
    },
    "sidecar-alerts": {"Firing alerts, most salient first", "Salience over time"},
}


def test_every_dashboard_query_runs_on_the_real_stack(stack: Stack) -> None:
    import json

    variables = {
        "$rule": "e2e",
        "$frule": "e2e_load",
        "$__rate_interval": "1m",
        "$job": ".*",
        "$instance": ".*",
    }
    # the template variables resolve to these values on this stack
    rules = {
        r["metric"]["rule"]
        for r in stack.prometheus.instant("group by (rule) (sidecar_anomaly_score)")
    }
    assert "e2e" in rules

    def run_panel(p: dict[str, object]) -> bool:
        found = False
        for t in p["targets"]:  # type: ignore[attr-defined]
            expr = t["expr"]
            for k, v in variables.items():
                expr = expr.replace(k, v)
            body = requests.get(
                f"{stack.prometheus.url}/api/v1/query", params={"query": expr}, timeout=10
            ).json()
            assert body["status"] == "success", (p["title"], expr, body)
            found = found or bool(body["data"]["result"])
        return found

    for path in sorted((ROOT / "grafana" / "dashboards").glob("*.json")):
        dash = json.loads(path.read_text())
        for a in dash["annotations"].get("list", []):  # annotation queries must run too
            run_panel({"title": a["name"], "targets": [{"expr": a["expr"]}]})
        for p in dash["panels"]:
            found = run_panel(p)
            if p["title"] in EXPECT_DATA[dash["uid"]] and not found:
                # a scrape can land between two snapshots: give it a few scrapes
                wait_until(
                    functools.partial(run_panel, p), 20, f"{dash['uid']} / {p['title']} data"
                )


def _post_raw(url: str, body: bytes) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        (
            "/anomaly",
            b'{"metrics":[{"cpu_usage":0.9,"timestamp":NaN}]}',
            ["metrics", 0, "timestamp"],
        ),
        ("/anomaly", b'{"metrics":[{"cpu_usage":Infinity}]}', ["metrics", 0, "cpu_usage"]),
        ("/anomaly", b'{"metrics":[{"cpu_usage":1e400}]}', ["metrics", 0, "cpu_usage"]),
        ("/anomaly", b'{"metrics":[{"x":1}],"threshold":{"fixed":NaN}}', ["threshold", "fixed"]),
        ("/scaling", b'{"usage_patterns":{"cpu_avg":Infinity}}', ["usage_patterns", "cpu_avg"]),
        (
            "/scaling",
            b'{"usage_patterns":{"cpu_avg":0.5},"min_replicas":5,"max_replicas":2}',
            ["max_replicas"],
        ),
        ("/salience", b'{"features":[{"frequency":-Infinity}]}', ["features", 0, "frequency"]),
    ],
)
def test_non_finite_input_is_422_naming_the_field(
    stack: Stack, path: str, body: bytes, loc: list[object]
) -> None:
    r = _post_raw(stack.url + path, body)
    assert r.status_code == 422, r.text
    assert [d["loc"] for d in r.json()["detail"]] == [["body", *loc]]


def test_odd_but_valid_input_is_answered(stack: Stack) -> None:
    r = _post_raw(
        f"{stack.url}/scaling",
        b'{"usage_patterns":{"request_rate":1e300},"capacity_per_replica":5e-324,"max_replicas":7}',
    )
    assert r.status_code == 200, r.text
    assert r.json()["replicas"] == 7
    # a one-second history and a two-hour horizon: forecast as far as the model keeps errors
    history = [{"timestamp": 1_700_000_000 + i, "value": 5.0 + i % 3} for i in range(60)]
    r = requests.post(
        f"{stack.url}/scaling",
        json={
            "usage_patterns": {"request_rate": 5.0},
            "capacity_per_replica": 1.0,
            "history": history,
            "horizon_seconds": 7200,
        },
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["forecast"]["mean"]) == 2016
    r = _post_raw(f"{stack.url}/salience", b'{"features":[{"type":"a","\\udfff":1}]}')
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["unknown_keys"] == ["\ufffd"]


def test_a_webhook_with_text_no_store_can_encode_keeps_every_alert(stack: Stack) -> None:
    now = datetime.now(UTC).isoformat()
    body = (
        '{"version":"4","status":"firing","receiver":"r","alerts":['
        '{"status":"firing","labels":{"alertname":"Surrogate","bad":"\\ud800"},'
        f'"startsAt":"{now}","fingerprint":"sur00001"}},'
        '{"status":"firing","labels":{"alertname":"Surrogate","ok":"fine"},'
        f'"startsAt":"{now}","fingerprint":"sur00002"}}]}}'
    )
    r = _post_raw(f"{stack.url}/alerts", body.encode())
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2 and r.json()["replaced_characters"] == 1
    ranked = requests.get(f"{stack.url}/alerts/ranked", timeout=10).json()["alerts"]
    mine = {a["fingerprint"]: a for a in ranked if a["alertname"] == "Surrogate"}
    assert set(mine) == {"sur00001", "sur00002"}
    assert mine["sur00001"]["labels"]["bad"] == "\ufffd"

    def counted() -> float | None:
        errors = _metrics(stack.url).get("sidecar_errors_total", [])
        found = [v for lab, v in errors if lab.get("kind") == "unencodable_text"]
        return found[0] if found and found[0] >= 1 else None

    wait_until(counted, 30, "sidecar_errors_total{kind=unencodable_text}")


@pytest.mark.parametrize("endpoint", list(VALID))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_body_gets_a_5xx(stack: Stack, endpoint: str, data: st.DataObject) -> None:
    """Property: whatever a client sends, the answer is a 2xx or a 4xx with a JSON body."""
    body = data.draw(bodies(endpoint))
    r = _post_raw(stack.url + endpoint, body)
    assert r.status_code < 500, (body, r.status_code, r.text)
    r.json()


def test_ranked_limit_returns_the_most_salient_first(stack: Stack) -> None:
    now = datetime.now(UTC).isoformat()
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"Limit{i}", "severity": sev},
            "startsAt": now,
            "fingerprint": f"limit{i:04d}",
        }
        for i, sev in enumerate(["info", "critical", "warning"])
    ]
    body = {"version": "4", "status": "firing", "alerts": alerts}
    assert requests.post(f"{stack.url}/alerts", json=body, timeout=10).status_code == 200
    everything = requests.get(f"{stack.url}/alerts/ranked", timeout=10).json()["alerts"]
    top = requests.get(f"{stack.url}/alerts/ranked?limit=2", timeout=10).json()["alerts"]
    assert len(top) == 2 and len(everything) >= 3
    assert [a["fingerprint"] for a in top] == [a["fingerprint"] for a in everything[:2]]
    assert top[0]["reasons"] == everything[0]["reasons"]
    bad = requests.get(f"{stack.url}/alerts/ranked?limit=0", timeout=10)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]
