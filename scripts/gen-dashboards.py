#!/usr/bin/env python3
"""Write grafana/dashboards/*.json (Grafana 11 JSON model) from the panel lists below.

Each panel's PromQL runs in tests against a real Prometheus scraping a real sidecar
(tests/integration/test_dashboards.py); edit here, run this script, commit the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "grafana" / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39


def var_datasource() -> dict[str, object]:
    return {
        "name": "datasource",
        "type": "datasource",
        "query": "prometheus",
        "label": "Prometheus",
        "current": {},
        "hide": 0,
    }


def var_query(name: str, query: str, label: str, multi: bool = False) -> dict[str, object]:
    return {
        "name": name,
        "type": "query",
        "label": label,
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-var"},
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": multi,
        "current": {},
        "hide": 0,
    }


def panel(
    pid: int,
    title: str,
    kind: str,
    targets: list[tuple[str, str]],
    x: int,
    y: int,
    w: int = 12,
    h: int = 8,
    description: str = "",
    unit: str = "",
    overrides: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    return {
        "id": pid,
        "title": title,
        "type": kind,
        "datasource": DS,
        "description": description,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [
            {
                "refId": chr(65 + i),
                "datasource": DS,
                "expr": expr,
                "legendFormat": legend,
                "instant": kind in ("table", "stat", "bargauge"),
            }
            for i, (expr, legend) in enumerate(targets)
        ],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": overrides or []},
        "options": {},
    }


def band(lower_ref: str, upper_ref: str) -> list[dict[str, object]]:
    """Grafana's fill-between-series override: shade lower..upper as the expected band."""
    return [
        {
            "matcher": {"id": "byFrameRefID", "options": lower_ref},
            "properties": [
                {"id": "custom.fillBelowTo", "value": upper_ref},
                {"id": "custom.lineWidth", "value": 0},
            ],
        },
        {
            "matcher": {"id": "byFrameRefID", "options": upper_ref},
            "properties": [{"id": "custom.lineWidth", "value": 0}],
        },
    ]


def dashboard(
    uid: str,
    title: str,
    panels: list[dict[str, object]],
    variables: list[dict[str, object]],
    description: str,
) -> dict[str, object]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "tags": ["sidecar"],
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "timezone": "browser",
        "templating": {"list": [var_datasource(), *variables]},
        "panels": panels,
        "annotations": {"list": []},
        "links": [],
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    overview = dashboard(
        "sidecar-overview",
        "Sidecar / Overview",
        [
            panel(
                1,
                "Most anomalous series, last hour",
                "table",
                [("topk(10, max_over_time(sidecar_anomaly_score[1h]))", "")],
                0,
                0,
                12,
                9,
                "Highest calibrated scores: 0.5 is a 1-in-1,000 deviation for that series, 0.91 1-in-10,000.",
            ),
            panel(
                2,
                "Highest score per rule",
                "timeseries",
                [("max by (rule) (sidecar_anomaly_score)", "{{rule}}")],
                12,
                0,
                12,
                9,
            ),
            panel(
                3,
                "Current anomalies with expected range",
                "table",
                [
                    ("sidecar_anomaly == 1", ""),
                    (
                        "sidecar_anomaly_expected_lower * on (rule, instance) group_left () (sidecar_anomaly == 1)",
                        "lower",
                    ),
                    (
                        "sidecar_anomaly_expected_upper * on (rule, instance) group_left () (sidecar_anomaly == 1)",
                        "upper",
                    ),
                ],
                0,
                9,
                24,
                7,
            ),
            panel(
                4,
                "Tick duration",
                "timeseries",
                [("sidecar_tick_duration_seconds", "shard {{shard}}")],
                0,
                16,
                8,
                7,
                unit="s",
            ),
            panel(
                5,
                "Seconds since each rule last succeeded",
                "bargauge",
                [("time() - sidecar_rule_last_success_timestamp_seconds", "{{rule}}")],
                8,
                16,
                8,
                7,
                unit="s",
            ),
            panel(
                6,
                "Series covered per rule",
                "stat",
                [("sidecar_rule_series", "{{rule}}")],
                16,
                16,
                8,
                7,
            ),
            panel(
                7,
                "Errors by kind",
                "timeseries",
                [("sum by (kind) (rate(sidecar_errors_total[$__rate_interval]))", "{{kind}}")],
                0,
                23,
                8,
                7,
                unit="ops",
            ),
            panel(
                8,
                "Prometheus reachable",
                "stat",
                [("min(sidecar_source_up)", "source up")],
                8,
                23,
                8,
                7,
            ),
            panel(
                9,
                "Rules reload successful",
                "stat",
                [("min(sidecar_rules_last_reload_successful)", "reload ok")],
                16,
                23,
                8,
                7,
            ),
        ],
        [],
        "Anomaly scores across all rules and the sidecar's own health.",
    )
    rule = dashboard(
        "sidecar-rule",
        "Sidecar / Rule drill-down",
        [
            panel(
                1,
                "Observed value and expected band",
                "timeseries",
                [
                    ('sidecar_anomaly_expected_lower{rule="$rule"}', "expected lower {{instance}}"),
                    ('sidecar_anomaly_expected_upper{rule="$rule"}', "expected upper {{instance}}"),
                    ('sidecar_anomaly_observed{rule="$rule"}', "observed {{instance}} {{metric}}"),
                ],
                0,
                0,
                24,
                10,
                "The shaded band is where the baseline expected the value (prediction ± 3 sigma).",
                overrides=band("A", "B"),
            ),
            panel(
                2,
                "Anomaly score",
                "timeseries",
                [('sidecar_anomaly_score{rule="$rule"}', "{{instance}}")],
                0,
                10,
                24,
                8,
                "Calibrated score, given at an episode's onset; crossing the threshold sets "
                "sidecar_anomaly to 1 until the series is back within 5 sigma.",
            ),
            panel(
                3,
                "Anomaly markers",
                "state-timeline",
                [('sidecar_anomaly{rule="$rule"}', "{{instance}}")],
                0,
                18,
                24,
                6,
            ),
        ],
        [var_query("rule", "label_values(sidecar_anomaly_score, rule)", "Rule")],
        "One detector rule: its series, the expected band and the anomaly markers.",
    )
    forecast = dashboard(
        "sidecar-forecast",
        "Sidecar / Forecasts, replicas and resources",
        [
            panel(
                1,
                "Forecast at the horizon with its 90% interval",
                "timeseries",
                [
                    ('sidecar_forecast{rule="$frule", bound="lower"}', "lower {{instance}}"),
                    ('sidecar_forecast{rule="$frule", bound="upper"}', "upper {{instance}}"),
                    ('sidecar_forecast{rule="$frule", bound="mean"}', "forecast {{instance}}"),
                ],
                0,
                0,
                24,
                10,
                "Each point is the forecast made then for one horizon later.",
                overrides=band("A", "B"),
            ),
            panel(
                2,
                "Recommended vs current replicas",
                "timeseries",
                [
                    ('sidecar_recommended_replicas{rule="$frule"}', "recommended"),
                    ('sidecar_current_replicas{rule="$frule"}', "current"),
                ],
                0,
                10,
                24,
                8,
            ),
            panel(
                3,
                "Recommended container resources (rightsizing rules)",
                "table",
                [
                    ("sidecar_recommended_cpu_request_cores", "cpu request"),
                    ("sidecar_recommended_memory_request_bytes", "memory request"),
                    ("sidecar_recommended_memory_limit_bytes", "memory limit"),
                ],
                0,
                18,
                24,
                9,
                "CPU in cores, memory in bytes; `sidecar rightsize --patch` or POST /rightsizing "
                "give the same as a Kubernetes patch, with reasons.",
            ),
            panel(
                4,
                "CPU request with its 80% range",
                "timeseries",
                [
                    ("sidecar_recommended_cpu_request_cores_lower", "lower {{pod}} {{container}}"),
                    ("sidecar_recommended_cpu_request_cores_upper", "upper {{pod}} {{container}}"),
                    ("sidecar_recommended_cpu_request_cores", "request {{pod}} {{container}}"),
                ],
                0,
                27,
                24,
                9,
                "The range is what each recent day alone would have needed; it narrows as "
                "history grows.",
                unit="short",
                overrides=band("A", "B"),
            ),
        ],
        [var_query("frule", "label_values(sidecar_forecast, rule)", "Forecast rule")],
        "Usage forecasts with their intervals, replica recommendations, and container "
        "requests and limits.",
    )
    alerts = dashboard(
        "sidecar-alerts",
        "Sidecar / Alert salience",
        [
            panel(
                1,
                "Firing alerts, most salient first",
                "table",
                [("sort_desc(sidecar_alert_salience)", "")],
                0,
                0,
                24,
                10,
                "Salience in [0, 1]; the reasons are in GET /alerts/ranked.",
            ),
            panel(
                2,
                "Salience over time",
                "timeseries",
                [("sidecar_alert_salience", "{{alertname}} {{fingerprint}}")],
                0,
                10,
                24,
                9,
            ),
        ],
        [],
        "Which firing alerts a human should look at now.",
    )
    for d in (overview, rule, forecast, alerts):
        (OUT / f"{d['uid']}.json").write_text(json.dumps(d, indent=2) + "\n")


if __name__ == "__main__":
    main()
