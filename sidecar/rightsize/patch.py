"""Recommendations as Kubernetes objects a user can apply or hand to the VPA tooling.

* `resources_patch`: a strategic-merge patch of a workload's pod template
  (`kubectl patch deployment NAME --patch-file p.yaml`): the container's requests, and its
  memory limit (no CPU limit: CPU above the request is throttled only under contention, a
  CPU limit throttles always).
* `vpa_object`: a VerticalPodAutoscaler in `Off` mode (it changes nothing) whose status holds
  the recommendation in VPA's own shape (target, lowerBound, upperBound, uncappedTarget),
  for tools that read VPA recommendations (Goldilocks, kubectl describe).

Quantities are rounded up: CPU to whole millicores, memory to whole MiB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.rightsize.recommend import Sizing

__all__ = ["Workload", "format_cpu", "format_memory", "resources_patch", "vpa_object"]

MIB = 2**20


def format_cpu(cores: float) -> str:
    """Cores as a Kubernetes quantity in millicores, rounded up (`0.2501` → `251m`)."""
    return f"{max(math.ceil(cores * 1000 * (1 - 1e-12)), 1)}m"


def format_memory(size: float) -> str:
    """Bytes as a Kubernetes quantity in MiB, rounded up."""
    return f"{max(math.ceil(size / MIB * (1 - 1e-12)), 1)}Mi"


@dataclass(frozen=True, slots=True)
class Workload:
    """The object a patch targets: its name, container, namespace and kind."""

    name: str
    container: str
    namespace: str = "default"
    kind: str = "Deployment"


def _quantities(sized: Mapping[str, Sizing], attr: str) -> tuple[dict[str, str], dict[str, str]]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if "cpu_request" in sized:
        requests["cpu"] = format_cpu(getattr(sized["cpu_request"], attr))
    if "memory_request" in sized:
        requests["memory"] = format_memory(getattr(sized["memory_request"], attr))
    if "memory_limit" in sized:
        limits["memory"] = format_memory(getattr(sized["memory_limit"], attr))
    return requests, limits


def resources_patch(sized: Mapping[str, Sizing], workload: Workload) -> dict[str, Any]:
    """A strategic-merge patch setting the container's requests and memory limit."""
    requests, limits = _quantities(sized, "value")
    resources: dict[str, Any] = {"requests": requests}
    if limits:
        resources["limits"] = limits
    return {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": workload.container, "resources": resources}]}
            }
        }
    }


def vpa_object(sized: Mapping[str, Sizing], workload: Workload) -> dict[str, Any]:
    """A VPA in `Off` mode carrying the recommendation in its status."""
    target, _ = _quantities(sized, "value")
    lower, _ = _quantities(sized, "lower")
    upper, _ = _quantities(sized, "upper")
    return {
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": {"name": f"{workload.name}-sidecar", "namespace": workload.namespace},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": workload.kind, "name": workload.name},
            "updatePolicy": {"updateMode": "Off"},
            "resourcePolicy": {
                "containerPolicies": [
                    {"containerName": workload.container, "controlledValues": "RequestsOnly"}
                ]
            },
        },
        "status": {
            "recommendation": {
                "containerRecommendations": [
                    {
                        "containerName": workload.container,
                        "target": target,
                        "lowerBound": lower,
                        "upperBound": upper,
                        "uncappedTarget": dict(target),
                    }
                ]
            }
        },
    }
