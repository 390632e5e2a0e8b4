"""Prometheus exposition of snapshots: a collector over immutable data, a registry per scrape.

No global REGISTRY and no Gauges mutated from several places: `SnapshotCollector` yields
metric families built from the snapshots it was given, and `render` makes a fresh
`CollectorRegistry` per request and encodes it in the format the scraper asked for
(OpenMetrics when its Accept header says so). Names and HELP texts are constants here.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sidecar import __version__
from sidecar.snapshot import Snapshot

__all__ = ["METRICS", "SnapshotCollector", "render"]

METRICS = {
    "sidecar_anomaly_score": "Calibrated anomaly score in [0, 1] of the latest sample "
    "(higher = rarer for this series).",
    "sidecar_anomaly_expected_lower": "Lower end of the range the series was expected in.",
    "sidecar_anomaly_expected_upper": "Upper end of the range the series was expected in.",
    "sidecar_anomaly": "1 while an anomalous episode lasts (its first sample crossed the "
    "rule's threshold; it ends when the series is back within 5 sigma), else 0.",
    "sidecar_anomaly_observed": "The latest sample the score is about (of the driving metric).",
    "sidecar_forecast": "Forecast of the series at the rule's horizon; bound is mean, lower "
    "or upper.",
    "sidecar_forecast_target_timestamp_seconds": "Time the exported forecast is for.",
    "sidecar_recommended_replicas": "Replicas recommended by the scaling rule.",
    "sidecar_current_replicas": "Replicas running now, as the scaling rule's "
    "current_replicas_query says.",
    "sidecar_recommended_replicas_hpa_value": "Value to feed an HPA/KEDA AverageValue=1 "
    "target so it lands on the recommendation.",
    "sidecar_capacity_per_replica": "Load one replica carries at 100%, as the scaling rule "
    "uses it: learned from history (learn_capacity) or configured.",
    "sidecar_capacity_per_replica_lower": "Lower end of the learned capacity's range.",
    "sidecar_capacity_per_replica_upper": "Upper end of the learned capacity's range.",
    "sidecar_capacity_learned": "1 if the capacity in use was learned from history, 0 if the "
    "history cannot tell yet and the configured value is kept.",
    "sidecar_recommended_cpu_request_cores": "Recommended CPU request of the container.",
    "sidecar_recommended_memory_request_bytes": "Recommended memory request of the container.",
    "sidecar_recommended_memory_limit_bytes": "Recommended memory limit of the container.",
    "sidecar_alert_salience": "Salience in [0, 1] of a firing alert (how much a human "
    "should look now).",
    "sidecar_rule_last_run_success": "1 if the rule's last run succeeded.",
    "sidecar_rule_last_run_duration_seconds": "Duration of the rule's last run.",
    "sidecar_rule_last_success_timestamp_seconds": "When the rule last ran successfully.",
    "sidecar_rule_series": "Series the rule covers.",
    "sidecar_errors": "Errors by kind since start.",
    "sidecar_nonfinite_samples": "Samples Prometheus answered as NaN or +-Inf, by rule, since "
    "start (they are gaps to the models).",
    "sidecar_source_up": "1 if the last Prometheus query succeeded.",
    "sidecar_rules_last_reload_successful": "1 if the last rule reload succeeded.",
    "sidecar_rules_last_reload_success_timestamp_seconds": "When the rules last loaded "
    "successfully.",
    "sidecar_tick_duration_seconds": "Duration of the scheduler's last tick.",
    "sidecar_ticks_skipped": "Ticks skipped because the previous one overran its interval, "
    "since start.",
    "sidecar_checkpoint_load_errors": "Checkpoint files that could not be used at start "
    "(corrupt, truncated, newer format): those rules started cold.",
    "sidecar_checkpoint_bytes": "Size of the shard's last checkpoint.",
    "sidecar_checkpoint_last_success_timestamp_seconds": "When the shard last wrote its "
    "checkpoint.",
    "sidecar_snapshot_timestamp_seconds": "When the exported snapshot was taken.",
    "sidecar_build_info": "Always 1; the labels say which sidecar and Python run.",
}


RIGHTSIZE_METRICS = {
    "cpu_request": "sidecar_recommended_cpu_request_cores",
    "memory_request": "sidecar_recommended_memory_request_bytes",
    "memory_limit": "sidecar_recommended_memory_limit_bytes",
}
for _name in RIGHTSIZE_METRICS.values():
    METRICS[f"{_name}_lower"] = "Lower end of the 80% range of the recommendation."
    METRICS[f"{_name}_upper"] = "Upper end of the 80% range of the recommendation."


def _gauge(name: str, labels: Sequence[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, METRICS[name], labels=list(labels))


OWN_LABELS = frozenset({"rule", "metric", "bound"})
"""Labels the sidecar sets on a series' metrics; the series' own are kept as `exported_*`."""


def _series_labels(rule: str, labels: tuple[tuple[str, str], ...]) -> tuple[list[str], list[str]]:
    """`rule` first, then the series' labels, those the sidecar sets itself renamed to
    `exported_<name>` as Prometheus does on a clash (repeatedly, if that one is taken too)."""
    taken = {k for k, _ in labels} | OWN_LABELS
    names, values = ["rule"], [rule]
    for name, v in labels:
        if name in OWN_LABELS:
            renamed = f"exported_{name}"
            while renamed in taken:
                renamed = f"exported_{renamed}"
            taken.add(renamed)
            name = renamed  # noqa: PLW2901 (the series' label under its new name)
        names.append(name)
        values.append(v)
    return names, values


class SnapshotCollector(Collector):
    """Collects the metric families of one or more snapshots (shards and the alert desk)."""

    def __init__(self, snapshots: Iterable[Snapshot]) -> None:
        self.snapshots = tuple(snapshots)

    def collect(self) -> Iterator[Metric]:
        # label sets differ between series, so each series gets its own family sample set
        families: dict[tuple[str, tuple[str, ...]], GaugeMetricFamily] = {}

        def add(name: str, labels: list[str], values: list[str], value: float) -> None:
            key = (name, tuple(labels))
            fam = families.get(key)
            if fam is None:
                fam = families[key] = _gauge(name, labels)
            fam.add_metric(values, value)

        errors = CounterMetricFamily(
            "sidecar_errors", METRICS["sidecar_errors"], labels=["kind", "shard"]
        )
        nonfinite = CounterMetricFamily(
            "sidecar_nonfinite_samples",
            METRICS["sidecar_nonfinite_samples"],
            labels=["rule", "shard"],
        )
        skipped = CounterMetricFamily(
            "sidecar_ticks_skipped", METRICS["sidecar_ticks_skipped"], labels=["shard"]
        )
        load_errors = CounterMetricFamily(
            "sidecar_checkpoint_load_errors",
            METRICS["sidecar_checkpoint_load_errors"],
            labels=["shard"],
        )
        for snap in self.snapshots:
            for rule, count in snap.nonfinite_samples_total:
                nonfinite.add_metric([rule, snap.shard], float(count))
            for a in snap.anomalies:
                names, values = _series_labels(a.rule, a.labels)
                add("sidecar_anomaly_score", names, values, a.score)
                add("sidecar_anomaly", names, values, 1.0 if a.anomalous else 0.0)
                if a.observed is not None and math.isfinite(a.observed):
                    add(
                        "sidecar_anomaly_observed",
                        [*names, "metric"],
                        [*values, a.metric],
                        a.observed,
                    )
                if a.lower is not None and a.upper is not None:
                    add(
                        "sidecar_anomaly_expected_lower",
                        [*names, "metric"],
                        [*values, a.metric],
                        a.lower,
                    )
                    add(
                        "sidecar_anomaly_expected_upper",
                        [*names, "metric"],
                        [*values, a.metric],
                        a.upper,
                    )
            for f in snap.forecasts:
                names, values = _series_labels(f.rule, f.labels)
                for bound, v in (("mean", f.mean), ("lower", f.lower), ("upper", f.upper)):
                    add("sidecar_forecast", [*names, "bound"], [*values, bound], v)
                add("sidecar_forecast_target_timestamp_seconds", names, values, f.t)
            for r in snap.replicas:
                if r.dry_run:
                    continue
                names, values = _series_labels(r.rule, r.labels)
                add("sidecar_recommended_replicas", names, values, float(r.replicas))
                add("sidecar_recommended_replicas_hpa_value", names, values, r.hpa_value)
                if r.current is not None:
                    add("sidecar_current_replicas", names, values, float(r.current))
            for cp in snap.capacities:
                names, values = _series_labels(cp.rule, cp.labels)
                add("sidecar_capacity_per_replica", names, values, cp.value)
                add("sidecar_capacity_learned", names, values, float(cp.learned))
                if cp.lower is not None and cp.upper is not None:
                    add("sidecar_capacity_per_replica_lower", names, values, cp.lower)
                    add("sidecar_capacity_per_replica_upper", names, values, cp.upper)
            for rp in snap.rightsizing:
                names, values = _series_labels(rp.rule, rp.labels)
                metric = RIGHTSIZE_METRICS[rp.resource]
                add(metric, names, values, rp.value)
                add(f"{metric}_lower", names, values, rp.lower)
                add(f"{metric}_upper", names, values, rp.upper)
            for al in snap.alerts:
                add(
                    "sidecar_alert_salience",
                    ["fingerprint", "alertname"],
                    [al.fingerprint, al.alertname],
                    al.salience,
                )
            for h in snap.rules:  # a rule split by series runs on every shard: one each
                run = ["rule", "kind", "shard"], [h.rule, h.kind, snap.shard]
                add("sidecar_rule_last_run_success", *run, float(h.success))
                add("sidecar_rule_last_run_duration_seconds", *run, h.duration_s)
                add("sidecar_rule_series", *run, float(h.series))
                if h.last_success is not None:
                    add("sidecar_rule_last_success_timestamp_seconds", *run, h.last_success)
            for kind, count in snap.errors_total:
                errors.add_metric([kind, snap.shard], float(count))
            shard = [snap.shard]
            if snap.source_up is not None:
                add("sidecar_source_up", ["shard"], shard, float(snap.source_up))
            if snap.reload_success is not None:
                add(
                    "sidecar_rules_last_reload_successful",
                    ["shard"],
                    shard,
                    float(snap.reload_success),
                )
            if snap.reload_success_at is not None:
                add(
                    "sidecar_rules_last_reload_success_timestamp_seconds",
                    ["shard"],
                    shard,
                    snap.reload_success_at,
                )
            if snap.tick_duration_s is not None:
                add("sidecar_tick_duration_seconds", ["shard"], shard, snap.tick_duration_s)
                skipped.add_metric(shard, float(snap.ticks_skipped_total))
            if snap.taken_at:
                add("sidecar_snapshot_timestamp_seconds", ["shard"], shard, snap.taken_at)
            if snap.checkpoint_load_errors_total is not None:
                load_errors.add_metric(shard, float(snap.checkpoint_load_errors_total))
            if snap.checkpoint_bytes is not None and snap.checkpoint_written_at is not None:
                add("sidecar_checkpoint_bytes", ["shard"], shard, float(snap.checkpoint_bytes))
                add(
                    "sidecar_checkpoint_last_success_timestamp_seconds",
                    ["shard"],
                    shard,
                    snap.checkpoint_written_at,
                )
        # one family per metric name: merge label-set variants (exposition needs one TYPE line)
        merged: dict[str, GaugeMetricFamily] = {}
        for (name, _), fam in families.items():
            if name in merged:
                merged[name].samples.extend(fam.samples)
            else:
                merged[name] = fam
        yield from merged.values()
        yield _build_info()
        if errors.samples:
            yield errors
        for counter in (nonfinite, skipped, load_errors):
            if counter.samples:
                yield counter


def _build_info() -> GaugeMetricFamily:
    """`sidecar_build_info{version,python} 1`, as exporters ship their build info."""
    fam = GaugeMetricFamily(
        "sidecar_build_info", METRICS["sidecar_build_info"], labels=["version", "python"]
    )
    fam.add_metric([__version__, platform.python_version()], 1.0)
    return fam


def render(
    snapshots: Iterable[Snapshot], accept: str = "", *, process: bool = False
) -> tuple[bytes, str]:
    """Exposition bytes and content type for `accept` (text format, or OpenMetrics); with
    `process`, also this process's `process_*`, `python_gc_*` and `python_info`, as
    client_python's default registry ships them."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshots))
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
