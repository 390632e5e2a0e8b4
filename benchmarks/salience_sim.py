"""A simulated platform's alerts, as Alertmanager would deliver them, with graded relevance.

The platform: services in several namespaces and two clusters, each depending on upstream
services, a database or a broker, running as pods on nodes with volumes. Over a week:
* incidents: a root cause (node down, disk/volume full, database or broker down, a bad
  deploy of a service) followed by symptoms on what depends on it (error rates, latency,
  crash loops, target down), arriving with delays; sometimes the root alert comes last;
* early warnings on stateful components (volume filling) that precede an incident;
* noise: chronic alerts (CPU throttling that never stops), daily batch windows, a flapping
  latency alert, maintenance drains, load surges without errors, info alerts;
* unreliable severities: some noisy rules are critical, some roots only warnings;
* sparse, sometimes wrong operator feedback (noise on chronic alerts, actionable on roots).
Alerts are grouped by `group_by` (varied per scenario) and delivered after `group_wait`,
then on change every `group_interval`, and again every `repeat_interval`, with resolved
alerts once (send_resolved). Relevance at a snapshot: root cause 2, symptom 1, noise 0.

Metrics at every snapshot with an incident firing: NDCG@10 of the ranking and whether a
root cause is in the top 3. Baselines in the same run: severity order, and a hand-tuned
heuristic (severity, 24-hour rarity, flapping, blast radius, novelty).

    python -m benchmarks.salience_sim [--scenarios 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from sidecar.config.schema import SalienceFeatures, SalienceSettings
from sidecar.progress import progress
from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.book import AlertBook

DAY = 86400.0
T0 = 1_700_006_400.0  # a Wednesday 00:00 UTC


def _fp(labels: dict[str, str]) -> str:
    text = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class SimAlert:
    labels: dict[str, str]
    starts: float
    ends: float
    relevance: int  # 2 root, 1 symptom, 0 noise
    incident: int | None = None

    @property
    def fingerprint(self) -> str:
        return _fp(self.labels)


@dataclass
class Platform:
    rng: random.Random
    services: list[dict[str, str]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, rng: random.Random) -> Platform:
        p = cls(rng)
        p.nodes = [f"worker-{i}" for i in range(12)]
        for c in ("eu1", "us1"):
            for ns in ("shop", "payments", "search"):
                for k in range(5):
                    name = f"{ns}-svc{k}"
                    p.services.append(
                        {
                            "cluster": c,
                            "namespace": ns,
                            "service": name,
                            "upstream": f"{ns}-svc{k + 1}" if k < 4 else "",
                            "database": f"{ns}-db" if k % 2 == 0 else "",
                            "broker": "kafka-1" if k == 3 else "",
                            "node": rng.choice(p.nodes),
                            "pod": f"{name}-{rng.getrandbits(32):08x}"[: len(name) + 9]
                            + f"-{rng.getrandbits(20):05x}"[:6],
                        }
                    )
        return p


def _alert(name: str, severity: str, **labels: str) -> dict[str, str]:
    return {"alertname": name, "severity": severity, **{k: v for k, v in labels.items() if v}}


def generate(rng: random.Random, days: float = 7.0) -> list[SimAlert]:
    p = Platform.build(rng)
    out: list[SimAlert] = []
    end_t = T0 + days * DAY
    inc = 0
    # incidents: about 2-4 a day
    t = T0 + rng.uniform(1800, 6 * 3600)
    while t < end_t - 3600:
        inc += 1
        kind = rng.choice(["node", "volume", "database", "broker", "deploy"])
        dur = rng.uniform(900, 3 * 3600)
        c = rng.choice(("eu1", "us1"))
        affected: list[dict[str, str]]
        if kind == "node":
            node = rng.choice(p.nodes)
            root = _alert("NodeNotReady", rng.choice(["critical", "warning"]), node=node, cluster=c)
            affected = [s for s in p.services if s["node"] == node and s["cluster"] == c]
        elif kind == "volume":
            node = rng.choice(p.nodes)
            vol = f"pvc-{rng.getrandbits(24):06x}"
            root = _alert(
                "KubePersistentVolumeFillingUp",
                rng.choice(["warning", "critical"]),
                persistentvolumeclaim=vol,
                node=node,
                cluster=c,
                namespace="data",
            )
            # early warning an hour before
            out.append(
                SimAlert(
                    _alert(
                        "KubePersistentVolumeFillingUp",
                        "warning",
                        persistentvolumeclaim=vol,
                        node=node,
                        cluster=c,
                        namespace="data",
                        predicted="true",
                    ),
                    t - 3600,
                    t,
                    2,
                    inc,
                )
            )
            affected = [s for s in p.services if s["node"] == node and s["cluster"] == c]
        elif kind == "database":
            ns = rng.choice(("shop", "payments", "search"))
            root = _alert(
                "PostgresDown",
                rng.choice(["critical", "warning"]),
                database=f"{ns}-db",
                namespace=ns,
                cluster=c,
            )
            affected = [s for s in p.services if s["database"] == f"{ns}-db" and s["cluster"] == c]
        elif kind == "broker":
            root = _alert(
                "KafkaBrokerUnavailable",
                rng.choice(["critical", "warning"]),
                broker="kafka-1",
                cluster=c,
            )
            affected = [s for s in p.services if s["broker"] == "kafka-1" and s["cluster"] == c]
        else:
            svc = rng.choice([s for s in p.services if s["cluster"] == c])
            root = _alert(
                "KubeDeploymentRolloutFailed",
                rng.choice(["warning", "critical"]),
                service=svc["service"],
                namespace=svc["namespace"],
                cluster=c,
            )
            affected = [svc] + [
                s for s in p.services if s["upstream"] == svc["service"] and s["cluster"] == c
            ]
        root_delay = rng.uniform(0, 240) if rng.random() < 0.3 else 0.0  # root may arrive late
        out.append(SimAlert(root, t + root_delay, t + dur, 2, inc))
        for s in affected[:12]:
            for name in rng.sample(
                ["HighErrorRate", "HighLatency", "KubePodCrashLooping", "TargetDown"], 2
            ):
                labels = _alert(
                    name,
                    rng.choice(["critical", "warning", "critical"]),
                    service=s["service"],
                    namespace=s["namespace"],
                    cluster=s["cluster"],
                    node=s["node"] if name != "HighLatency" else "",
                    pod=s["pod"] if name == "KubePodCrashLooping" else "",
                    upstream=s["upstream"],
                    database=s["database"],
                    broker=s["broker"],
                )
                st = t + rng.uniform(10, 300)
                out.append(SimAlert(labels, st, t + dur + rng.uniform(0, 600), 1, inc))
        t += rng.expovariate(3 / DAY) + dur
    # chronic noise: always firing, critical-looking
    for s in rng.sample(p.services, 6):
        out.append(
            SimAlert(
                _alert(
                    "CPUThrottlingHigh",
                    rng.choice(["critical", "warning"]),
                    service=s["service"],
                    namespace=s["namespace"],
                    cluster=s["cluster"],
                    pod=s["pod"],
                ),
                T0 - 3 * DAY,
                end_t + DAY,
                0,
            )
        )
    # daily batch windows at 02:00 for 40 minutes
    for d in range(int(days)):
        for job in ("etl-nightly", "backup-db"):
            st = T0 + d * DAY + 2 * 3600 + rng.uniform(-300, 300)
            out.append(
                SimAlert(
                    _alert("KubeJobRunningLong", "warning", job_name=job, namespace="batch"),
                    st,
                    st + 2400,
                    0,
                )
            )
    # a flapping latency alert
    t = T0
    s = rng.choice(p.services)
    while t < end_t:
        st = t + rng.uniform(600, 7200)
        out.append(
            SimAlert(
                _alert(
                    "HighLatency",
                    "warning",
                    service=s["service"],
                    namespace=s["namespace"],
                    cluster=s["cluster"],
                    flaky="true",
                ),
                st,
                st + rng.uniform(120, 600),
                0,
            )
        )
        t = st + 600
    # maintenance drains and load surges without errors
    for _ in range(int(days * 1.5)):
        st = T0 + rng.uniform(0, days * DAY)
        node = rng.choice(p.nodes)
        out.append(
            SimAlert(
                _alert(
                    "KubeNodeUnschedulable",
                    rng.choice(["warning", "critical"]),
                    node=node,
                    cluster=rng.choice(("eu1", "us1")),
                ),
                st,
                st + 1800,
                0,
            )
        )
        s = rng.choice(p.services)
        st2 = T0 + rng.uniform(0, days * DAY)
        out.append(
            SimAlert(
                _alert(
                    "HighRequestRate",
                    rng.choice(["critical", "warning"]),
                    service=s["service"],
                    namespace=s["namespace"],
                    cluster=s["cluster"],
                ),
                st2,
                st2 + 1500,
                0,
            )
        )
    # info alerts
    for _ in range(int(days * 4)):
        st = T0 + rng.uniform(0, days * DAY)
        out.append(
            SimAlert(
                _alert(
                    "KubeVersionMismatch",
                    "info",
                    cluster=rng.choice(("eu1", "us1")),
                    component=f"c{rng.randint(1, 5)}",
                ),
                st,
                st + rng.uniform(600, 6 * 3600),
                0,
            )
        )
    return out


def notifications(
    alerts: list[SimAlert],
    group_by: tuple[str, ...],
    rng: random.Random,
    group_wait: float = 30,
    group_interval: float = 300,
    repeat: float = 4 * 3600,
) -> list[tuple[float, dict[str, object]]]:
    """Webhook payloads as Alertmanager would send them, in delivery order."""

    def gkey(a: SimAlert) -> tuple[str, ...]:
        return tuple(a.labels.get(k, "") for k in group_by)

    end = max(a.ends for a in alerts)
    groups: dict[tuple[str, ...], list[SimAlert]] = {}
    for a in alerts:
        groups.setdefault(gkey(a), []).append(a)
    out: list[tuple[float, dict[str, object]]] = []
    for key, members in groups.items():
        members.sort(key=lambda a: a.starts)
        t = members[0].starts + group_wait
        last_sent: dict[str, str] = {}
        last_time = -math.inf
        while t <= end + group_interval:
            firing = [a for a in members if a.starts <= t < a.ends]
            resolved = [
                a for a in members if a.ends <= t and last_sent.get(a.fingerprint) == "firing"
            ]
            state = {a.fingerprint: "firing" for a in firing} | {
                a.fingerprint: "resolved" for a in resolved
            }
            changed = any(last_sent.get(fp) != st for fp, st in state.items())
            if state and (changed or t - last_time >= repeat):
                delay = rng.uniform(0, 20)
                payload = {
                    "version": "4",
                    "status": "firing" if firing else "resolved",
                    "receiver": "sidecar",
                    "groupKey": "{}:" + str(dict(zip(group_by, key, strict=True))),
                    "groupLabels": dict(zip(group_by, key, strict=True)),
                    "commonLabels": {},
                    "commonAnnotations": {},
                    "externalURL": "http://am",
                    "alerts": [
                        {
                            "status": state[a.fingerprint],
                            "labels": a.labels,
                            "annotations": {},
                            "startsAt": _iso(a.starts),
                            "endsAt": _iso(a.ends)
                            if state[a.fingerprint] == "resolved"
                            else "0001-01-01T00:00:00Z",
                            "generatorURL": "",
                            "fingerprint": a.fingerprint,
                        }
                        for a in firing + resolved
                    ],
                }
                out.append((t + delay, payload))
                last_time = t
                for fp, st in state.items():
                    last_sent[fp] = st
                if rng.random() < 0.02:  # a duplicate delivery
                    out.append((t + delay + rng.uniform(0, 5), payload))
            nxt = [a.starts for a in members if a.starts > t] + [
                a.ends for a in members if a.ends > t
            ]
            if not firing and not nxt:
                break
            t = t + group_interval if firing else max(t + group_interval, min(nxt) + group_wait)
    out.sort(key=lambda x: x[0])
    return out


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    gains = [rel.get(fp, 0) for fp in ranked[:10]]
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 1.0


Ranker = Callable[[AlertBook, float], list[str]]


def severity_order(book: AlertBook, now: float) -> list[str]:
    order = {"critical": 0, "page": 0, "error": 1, "warning": 2, "info": 3}
    firing = sorted(
        book.firing.values(), key=lambda f: (order.get(f.labels.get("severity", ""), 4), -f.starts)
    )
    return [f.fingerprint for f in firing]


def heuristic_settings() -> SalienceSettings:
    on = {"severity", "rarity", "flapping", "blast_radius", "novelty"}
    feats = SalienceFeatures(**{k: (k in on) for k in SalienceFeatures.model_fields})
    return SalienceSettings(features=feats)


def run(
    seed: int, group_by: tuple[str, ...], days: float = 7.0
) -> dict[str, tuple[float, float, int, float]]:
    rng = random.Random(seed)
    alerts = generate(rng, days)
    rel = {a.fingerprint: a.relevance for a in alerts}
    roots = {a.fingerprint for a in alerts if a.relevance == 2}
    notes = notifications(alerts, group_by, rng)
    # sparse, sometimes wrong feedback: about 3% of notifications, 10% wrong
    lines: list[tuple[float, dict[str, object] | tuple[str, str]]] = []
    for t, p in notes:
        lines.append((t, p))
        if rng.random() < 0.03:
            a = rng.choice(p["alerts"])  # type: ignore[arg-type]
            fp = a["fingerprint"]
            good = rel.get(fp, 0) > 0
            if rng.random() < 0.1:
                good = not good
            lines.append((t + rng.uniform(60, 900), (fp, "actionable" if good else "noise")))
    lines.sort(key=lambda x: x[0])
    books = {
        "severity": AlertBook(),
        "heuristic": AlertBook(heuristic_settings()),
        "sidecar": AlertBook(),
    }
    rankers: dict[str, Ranker] = {
        "severity": severity_order,
        "heuristic": lambda b, now: [r.fingerprint for r in b.ranked(now)],
        "sidecar": lambda b, now: [r.fingerprint for r in b.ranked(now)],
    }
    scores: dict[str, list[float]] = {k: [] for k in books}
    top3: dict[str, list[bool]] = {k: [] for k in books}
    elapsed = {k: 0.0 for k in books}
    for t, item in lines:
        for name, book in books.items():
            c0 = time.process_time()
            if isinstance(item, tuple):
                book.feedback(item[0], item[1], t)  # type: ignore[arg-type]
            else:
                book.ingest(WebhookPayload.model_validate(item), t)
            ranked = rankers[name](book, t)
            elapsed[name] += time.process_time() - c0
            firing_rel = {fp: rel.get(fp, 0) for fp in ranked}
            if any(v > 0 for v in firing_rel.values()):
                scores[name].append(ndcg10(ranked, firing_rel))
                if roots & set(ranked):
                    top3[name].append(bool(roots & set(ranked[:3])))
    return {
        k: (float(np.mean(scores[k])), float(np.mean(top3[k])), len(lines), elapsed[k])
        for k in books
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    groupings = [
        ("alertname",),
        ("alertname", "namespace"),
        ("cluster", "namespace"),
        ("alertname", "cluster"),
    ]
    results: dict[str, list[tuple[float, float, int, float]]] = {}
    with progress(args.scenarios, "scenarios", unit="scenario") as bar:
        for i in range(args.scenarios):
            g = groupings[i % len(groupings)]
            for k, v in run(args.seed + i, g).items():
                results.setdefault(k, []).append(v)
                print(
                    f"scenario {i} group_by={list(g)} {k:<10} NDCG@10 {v[0]:.3f} root@3 {v[1]:.3f} "
                    f"({v[2]} lines, {v[3]:.1f} CPU-s)"
                )
            bar.update(1)
    print(f"\n{'ranker':<12}{'NDCG@10':>9}{'root@3':>9}")
    for k, vs in results.items():
        print(f"{k:<12}{np.mean([v[0] for v in vs]):>9.3f}{np.mean([v[1] for v in vs]):>9.3f}")


if __name__ == "__main__":
    main()
