"""The shipped integration files are valid for the real tools: promtool, amtool, compose, Grafana
JSON."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.rig import require_binary

DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=120)


def test_prometheus_rules_pass_promtool_check_and_unit_tests() -> None:
    promtool = require_binary("promtool")
    done = run(promtool, "check", "rules", "rules/prometheus/sidecar.rules.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(promtool, "test", "rules", "sidecar_test.yml", cwd=ROOT / "tests" / "promtool")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_compose_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "prometheus", rules)
    config["rule_files"] = [str(rules / "*.rules.yml")]  # the container path, adjusted
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = {j["job_name"] for j in config["scrape_configs"]}
    assert {"node", "sidecar", "ray"} <= jobs


def test_alertmanager_example_passes_amtool() -> None:
    amtool = shutil.which("amtool") or shutil.which("prometheus-alertmanager-amtool")
    if amtool is None:  # Debian ships amtool in prometheus-alertmanager
        amtool = require_binary("amtool")
    done = run(amtool, "check-config", "deploy/alertmanager.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((ROOT / "deploy" / "alertmanager.yml").read_text())
    [hook] = next(r for r in config["receivers"] if r["name"] == "sidecar")["webhook_configs"]
    assert hook["url"].endswith("/alerts") and hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["type"] == "Bearer"


def test_compose_file_matches_the_files_it_mounts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"sidecar", "prometheus", "alertmanager", "grafana", "node-exporter"} <= set(services)
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        if name != "node-exporter":
            assert "healthcheck" in svc, f"{name} has no healthcheck"
    build = services["sidecar"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).exists()
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t.split(":")[0]
        for j in prom["scrape_configs"]
        for sc in j["static_configs"]
        for t in sc["targets"]
    }
    assert targets <= set(services), targets - set(services)


def test_compose_file_passes_docker_compose_config() -> None:
    done = run(require_binary("docker-compose"), "-f", "docker-compose.yml", "config", "-q")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_json_model(path: Path) -> None:
    d = json.loads(path.read_text())
    assert d["uid"] == path.stem and d["schemaVersion"] >= 36  # Grafana 11 migrates on load
    names = [v["name"] for v in d["templating"]["list"]]
    assert names[0] == "datasource"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}" and t["expr"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_panels_have_units_bands_and_thresholds(path: Path) -> None:
    d = json.loads(path.read_text())
    for p in d["panels"]:
        assert p["fieldConfig"]["defaults"].get("unit"), p["title"]
        legends = {t["legendFormat"] for t in p["targets"]}
        for o in p["fieldConfig"]["overrides"]:
            for prop in o["properties"]:
                if prop["id"] == "custom.fillBelowTo":  # names a series of this panel
                    assert {o["matcher"]["options"], prop["value"]} <= legends, p["title"]
        if "score" in p["title"].lower() and p["type"] == "timeseries":
            defaults = p["fieldConfig"]["defaults"]
            assert (defaults["min"], defaults["max"]) == (0, 1)
            steps = defaults["thresholds"]["steps"]
            assert any(s["value"] and 0.9 < s["value"] < 0.92 for s in steps), p["title"]
    if d["uid"] in ("sidecar-overview", "sidecar-rule"):
        assert {v["name"] for v in d["templating"]["list"]} >= {"job", "instance"}
        assert d["annotations"]["list"][0]["name"] == "Anomaly onsets"


def test_dashboards_have_stable_unique_uids_and_are_generated() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids)) == 4
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen-dashboards.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name, text in gen.render().items():
        assert (ROOT / "grafana" / "dashboards" / name).read_text() == text, "run the script"
    provisioning = yaml.safe_load(
        (ROOT / "grafana" / "provisioning" / "dashboards" / "sidecar.yml").read_text()
    )
    assert provisioning["providers"][0]["type"] == "file"


def test_every_alert_links_its_runbook_section() -> None:
    """As the Prometheus mixins do: `runbook_url` to a section that exists."""
    rules = yaml.safe_load((ROOT / "rules" / "prometheus" / "sidecar.rules.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    headings = {
        line[3:].strip().lower()
        for line in (ROOT / "docs" / "runbook.md").read_text().splitlines()
        if line.startswith("## ")
    }
    base = "https://github.com/seedcore/sidecar/blob/main/docs/runbook.md#"
    assert alerts
    for alert in alerts:
        url = alert["annotations"]["runbook_url"]
        assert url == base + alert["alert"].lower()
        assert alert["alert"].lower() in headings
