"""What an alert *is*, beyond its fingerprint: its template, workload, layer and relations.

* template: alertname plus its labels with volatile values normalised (numbers, hashes and
  IDs stripped; pods mapped to their workload), so "the same alert on another pod" and
  "the same alert after a rollout" share a history.
* workload: the deployment/statefulset behind a pod name (`checkout-7d9f8b6c5-x2k4q` →
  `checkout`, `db-0` → `db`), else the service/job/app label.
* layer: infrastructure/stateful components (nodes, disks, volumes, databases, brokers,
  etcd, DNS, network) versus application symptoms; infrastructure explains symptoms.
* relations: label values other alerts can point at (node, instance, volume, service,
  upstream, broker, database, namespace, cluster) for root-cause reasoning in an episode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Identity", "identify", "normalise_value", "workload_of"]

_POD_RS = re.compile(r"^(?P<w>.+?)-[a-f0-9]{6,10}-[a-z0-9]{5}$")  # deployment pod
_POD_DS = re.compile(r"^(?P<w>.+?)-[a-z0-9]{5}$")  # daemonset / job pod
_POD_STS = re.compile(r"^(?P<w>.+?)-\d+$")  # statefulset pod
_HEXISH = re.compile(
    r"\b[0-9a-f]{8,}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
_NUMBER = re.compile(r"\d+")
_VOLATILE = frozenset(
    {
        "pod",
        "pod_name",
        "instance",
        "container_id",
        "id",
        "uid",
        "ip",
        "endpoint",
        "replica",
        "prometheus_replica",
    }
)
_INFRA_WORDS = re.compile(
    r"node|disk|filesystem|volume|pvc|persistentvolume|etcd|apiserver|kubelet|dns|network|"
    r"cpu_throttl|memorypressure|diskpressure|oom|kafka|broker|zookeeper|rabbit|redis|"
    r"postgres|mysql|database|db\b|cassandra|elastic|storage|ceph|certificate|cert",
    re.I,
)
_SYMPTOM_WORDS = re.compile(
    r"error|5xx|latency|slow|timeout|availability|slo|burn|apdex|http|crashloop|restart|targetdown",
    re.I,
)
_SUBJECT_INFRA_KEYS = (
    "node",
    "volume",
    "persistentvolumeclaim",
    "database",
    "db",
    "broker",
    "host",
)
_SUBJECT_APP_KEYS = ("pod", "pod_name", "service", "container", "deployment", "job_name", "app")
_MAINTENANCE = re.compile(r"maintenance|drain|cordon|unschedulable|rolloutinprogress", re.I)
_LOAD_ONLY = re.compile(
    r"highrequestrate|trafficspike|highload|highcpu|cpuhigh|requestrate|qps", re.I
)
RELATION_LABELS = (
    "node",
    "instance",
    "volume",
    "persistentvolumeclaim",
    "service",
    "upstream",
    "broker",
    "database",
    "db",
    "namespace",
    "cluster",
    "host",
)


def workload_of(labels: Mapping[str, str]) -> str:
    """The workload behind the alert's pod (or its service/job/app label)."""
    for key in ("deployment", "statefulset", "daemonset", "workload"):
        if labels.get(key):
            return labels[key]
    pod = labels.get("pod") or labels.get("pod_name")
    if pod:
        for pat in (_POD_RS, _POD_STS, _POD_DS):
            m = pat.match(pod)
            if m:
                return m.group("w")
        return pod
    for key in ("service", "app", "job", "container"):
        if labels.get(key):
            return labels[key]
    return ""


def normalise_value(value: str) -> str:
    """Strip IDs and numbers so values that differ only in them compare equal."""
    return _NUMBER.sub("#", _HEXISH.sub("*", value))


@dataclass(frozen=True, slots=True)
class Identity:
    template: str
    workload: str
    infrastructure: bool
    symptom: bool
    maintenance: bool
    load_only: bool
    relations: tuple[tuple[str, str], ...]


def identify(labels: Mapping[str, str], annotations: Mapping[str, str] | None = None) -> Identity:
    """The template, workload, layer and relation labels of an alert."""
    name = labels.get("alertname", "")
    workload = workload_of(labels)
    parts = [name]
    for k in sorted(labels):
        if k in ("alertname", "severity") or k in _VOLATILE:
            continue
        parts.append(f"{k}={normalise_value(labels[k])}")
    if workload:
        parts.append(f"workload={workload}")
    ann = " ".join((annotations or {}).values())
    # the alert is *about* infrastructure when its name says so, or when it names an
    # infrastructure subject (node, volume, database, broker) and no application subject;
    # an application alert merely carrying a node label is a symptom, not the node's alert
    about_infra = any(labels.get(k) for k in _SUBJECT_INFRA_KEYS) and not any(
        labels.get(k) for k in _SUBJECT_APP_KEYS
    )
    infra = (bool(_INFRA_WORDS.search(name)) or about_infra) and not bool(
        _SYMPTOM_WORDS.search(name)
    )
    relations = tuple(sorted((k, labels[k]) for k in RELATION_LABELS if labels.get(k)))
    return Identity(
        template="|".join(parts),
        workload=workload,
        infrastructure=infra,
        symptom=bool(_SYMPTOM_WORDS.search(name)),
        maintenance=bool(_MAINTENANCE.search(name + " " + ann))
        or labels.get("maintenance", "").lower() in ("true", "1", "yes"),
        load_only=bool(_LOAD_ONLY.search(name)),
        relations=relations,
    )
