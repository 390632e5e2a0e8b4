"""Alert identity: templates survive rollouts; the layer is what the alert is about."""

from __future__ import annotations

import pytest

from sidecar.salience.identity import identify, workload_of


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("checkout-7d9f8b6c5-x2k4q", "checkout"),
        ("db-0", "db"),
        ("node-exporter-abcde", "node-exporter"),
    ],
)
def test_pods_map_to_their_workload(pod: str, workload: str) -> None:
    assert workload_of({"pod": pod}) == workload


def test_template_is_the_same_after_a_rollout() -> None:
    a = identify(
        {"alertname": "KubePodCrashLooping", "pod": "api-6d4f9c7b8-abcde", "namespace": "shop"}
    )
    b = identify(
        {"alertname": "KubePodCrashLooping", "pod": "api-59c7d8f6b4-zzz12", "namespace": "shop"}
    )
    assert a.template == b.template and a.workload == b.workload == "api"


@pytest.mark.parametrize(
    ("labels", "infra"),
    [
        ({"alertname": "NodeNotReady", "node": "w1"}, True),
        (
            {"alertname": "KubePersistentVolumeFillingUp", "persistentvolumeclaim": "data-db-0"},
            True,
        ),
        ({"alertname": "PostgresDown", "database": "shop-db"}, True),
        # application alerts that merely carry a node label are symptoms, not node alerts
        ({"alertname": "TargetDown", "service": "cart", "node": "w1"}, False),
        ({"alertname": "KubePodCrashLooping", "pod": "cart-5d8f-abcde", "node": "w1"}, False),
        ({"alertname": "HighErrorRate", "service": "cart", "database": "shop-db"}, False),
    ],
)
def test_layer_is_what_the_alert_is_about(labels: dict[str, str], infra: bool) -> None:
    assert identify(labels).infrastructure is infra


def test_maintenance_and_load_only_hints() -> None:
    assert identify({"alertname": "KubeNodeUnschedulable", "node": "w1"}).maintenance
    assert not identify({"alertname": "KubeDeploymentRolloutFailed", "service": "x"}).maintenance
    assert identify({"alertname": "HighRequestRate", "service": "x"}).load_only
