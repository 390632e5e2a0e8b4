"""deploy/: the Kubernetes manifests are generated in sync and valid against the schemas."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sidecar.config.loader import load_rules
from tests.conftest import ROOT

K8S = ROOT / "deploy" / "kubernetes"
VERSION = "1.30"
CRDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}


def gen_k8s() -> Any:
    spec = importlib.util.spec_from_file_location("gen_k8s", ROOT / "scripts" / "gen-k8s.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kustomized() -> list[dict[str, Any]]:
    """Every resource of the kustomization, with the namespace it sets."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            doc["metadata"].setdefault("namespace", kustomization["namespace"])
            docs.append(doc)
    return docs


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


def test_generated_manifests_are_up_to_date() -> None:
    for name, text in gen_k8s().render().items():
        assert (K8S / name).read_text() == text, f"run scripts/gen-k8s.py ({name})"


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


EXAMPLES = [ROOT / "deploy" / "prometheus-adapter.yaml", ROOT / "deploy" / "keda-scaledobject.yaml"]


@pytest.mark.parametrize(
    "doc",
    [*kustomized(), *(d for p in EXAMPLES for d in yaml.safe_load_all(p.read_text()))],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_manifest_is_valid_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    if doc["kind"] in CRDS:
        assert {"apiVersion", "kind", "metadata", "spec"} <= set(doc)
        return
    assert kubernetes_validate.validate(doc, VERSION, strict=True) == VERSION


def test_the_validator_rejects_a_misspelt_field() -> None:
    sts = by_kind(kustomized())["StatefulSet"]
    bad = {**sts, "spec": {**sts["spec"], "replica": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSION, strict=True)


def test_the_pieces_fit_together(tmp_path: Path) -> None:
    docs = by_kind(kustomized())
    sts, svc, cm = docs["StatefulSet"], docs["Service"], docs["ConfigMap"]
    pod = sts["spec"]["template"]
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    assert svc["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["rules"]["configMap"]["name"] == cm["metadata"]["name"]
    assert {p["httpGet"]["path"] for k, p in container.items() if k.endswith("Probe")} == {
        "/healthz",
        "/readyz",
    }
    monitor = docs["ServiceMonitor"]
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    rules = yaml.safe_load((ROOT / "rules" / "prometheus" / "sidecar.rules.yml").read_text())
    assert docs["PrometheusRule"]["spec"]["groups"] == rules["groups"]
    for name, text in cm["data"].items():  # the ConfigMap's rule files load as they are
        (tmp_path / name).write_text(text)
    assert load_rules([tmp_path], environ={}).names


def test_autoscaler_examples_target_a_shipped_scaling_rule() -> None:
    rules = load_rules([ROOT / "rules"], environ={})
    scaling = {f.name for f in rules.forecasts if f.scaling is not None}
    keda = yaml.safe_load((ROOT / "deploy" / "keda-scaledobject.yaml").read_text())
    [trigger] = keda["spec"]["triggers"]
    assert any(f'rule="{name}"' in trigger["metadata"]["query"] for name in scaling)
    assert keda["spec"]["fallback"]["replicas"] >= keda["spec"]["minReplicaCount"]
    adapter, hpa = yaml.safe_load_all((ROOT / "deploy" / "prometheus-adapter.yaml").read_text())
    assert adapter["kind"] == "ConfigMap" and "externalRules" in yaml.safe_load(
        adapter["data"]["config.yaml"]
    )
    [metric] = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["selector"]["matchLabels"]["rule"] in scaling
