#!/usr/bin/env python3
"""Write grafana/dashboards/*.json from typed builders (grafana-foundation-sdk).

Every panel has a unit; score panels run 0-1 with the default alarm threshold (0.91, a
1-in-10,000 deviation) drawn; expected bands are shaded between the named lower and upper
series (one panel per instance, so the names are fixed); `job`/`instance` variables filter
the series; table rows link to the rule drill-down and to Explore; anomaly onsets are
annotations. Each panel's PromQL runs in tests against a real Prometheus scraping a real
sidecar (tests/integration/test_app_e2e.py); edit here, run this script, commit the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

OUT = Path(__file__).resolve().parents[1] / "grafana" / "dashboards"
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
ALARM = 0.909  # the default false_alarm_rate 0.0001 as a score
SERIES = 'job=~"$job", instance=~"$instance"'
DRILL = (
    "/d/sidecar-rule/sidecar-rule-drill-down?var-rule=${__field.labels.rule}&${__url_time_range}"
)
EXPLORE = (
    '/explore?left={"datasource":"${datasource}","queries":[{"refId":"A","expr":'
    '"sidecar_anomaly_observed{rule=\\"${__field.labels.rule}\\"}"}]}'
)
Panel = Any  # the SDK's panel builders share no base type


def q(expr: str, legend: str = "", instant: bool = False) -> prom.Dataquery:
    out = prom.Dataquery().expr(expr).legend_format(legend or "__auto").datasource(DS)
    return out.instant() if instant else out.range()


def place(panel: Panel, pid: int, x: int, y: int, w: int, h: int) -> Panel:
    return panel.id(pid).datasource(DS).grid_pos(dm.GridPos(h=h, w=w, x=x, y=y))


def threshold_steps(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def score_axis(panel: timeseries.Panel) -> timeseries.Panel:
    """0-1 with the alarm threshold drawn as a dashed line."""
    return (
        panel.unit("none")
        .min(0)
        .max(1)
        .thresholds(threshold_steps((None, "transparent"), (ALARM, "red")))
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.DASHED))
    )


def band(panel: timeseries.Panel, lower: str, upper: str) -> timeseries.Panel:
    """Shade from the series named `lower` up to the one named `upper`."""
    return panel.override_by_name(
        lower,
        [
            dm.DynamicConfigValue(id_val="custom.fillBelowTo", value=upper),
            dm.DynamicConfigValue(id_val="custom.lineWidth", value=0),
        ],
    ).override_by_name(upper, [dm.DynamicConfigValue(id_val="custom.lineWidth", value=0)])


def up_down(panel: stat.Panel) -> stat.Panel:
    return panel.mappings(
        [
            dm.ValueMap(
                options={
                    "0": dm.ValueMappingResult(text="no", color="red"),
                    "1": dm.ValueMappingResult(text="yes", color="green"),
                },
            )
        ]
    ).thresholds(threshold_steps((None, "red"), (1, "green")))


def series_links() -> list[db.DashboardLink]:
    return [
        db.DashboardLink("Rule drill-down").url(DRILL),
        db.DashboardLink("Explore the series").url(EXPLORE),
    ]


def var_datasource() -> db.DatasourceVariable:
    return db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def var(name: str, query: str, label: str, multi: bool = False) -> db.QueryVariable:
    out = (
        db.QueryVariable(name)
        .label(label)
        .datasource(DS)
        .query(query)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
    )
    return out.multi(True).include_all(True).all_value(".*") if multi else out


def onsets(selector: str) -> db.AnnotationQuery:
    """Where a series' verdict turned 1 (the onset of an anomalous episode)."""
    return (
        db.AnnotationQuery()
        .name("Anomaly onsets")
        .datasource(DS)
        .enable(True)
        .icon_color("red")
        .expr(
            f"changes(sidecar_anomaly{{{selector}}}[2m]) > 0 and sidecar_anomaly{{{selector}}} == 1"
        )
    )


def dashboard(uid: str, title: str, description: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["sidecar"])
        .editable()
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(var_datasource())
    )


def overview() -> db.Dashboard:
    out = dashboard(
        "sidecar-overview",
        "Sidecar / Overview",
        "Anomaly scores across all rules and the sidecar's own health.",
    )
    out = out.with_variable(var("job", "label_values(sidecar_anomaly_score, job)", "Job", True))
    out = out.with_variable(
        var(
            "instance",
            'label_values(sidecar_anomaly_score{job=~"$job"}, instance)',
            "Instance",
            True,
        )
    )
    panels: list[Panel] = [
        place(
            table.Panel()
            .title("Most anomalous series, last hour")
            .description(
                "Highest calibrated scores: 0.5 is a 1-in-1,000 deviation for that "
                "series, 0.91 1-in-10,000. A row links to its rule's drill-down."
            )
            .with_target(
                q(f"topk(10, max_over_time(sidecar_anomaly_score{{{SERIES}}}[1h]))", instant=True)
            )
            .unit("none")
            .min(0)
            .max(1)
            .thresholds(threshold_steps((None, "green"), (0.5, "orange"), (ALARM, "red")))
            .links(series_links()),
            1,
            0,
            0,
            12,
            9,
        ),
        place(
            score_axis(
                timeseries.Panel()
                .title("Highest score per rule")
                .with_target(q(f"max by (rule) (sidecar_anomaly_score{{{SERIES}}})", "{{rule}}"))
            ),
            2,
            12,
            0,
            12,
            9,
        ),
        place(
            table.Panel()
            .title("Current anomalies with expected range")
            .description(
                "Series whose verdict is 1, with the range the baseline expected; "
                "a row links to its rule's drill-down."
            )
            .with_target(q(f"sidecar_anomaly{{{SERIES}}} == 1", "verdict", instant=True))
            .with_target(
                q(
                    f"sidecar_anomaly_expected_lower{{{SERIES}}} * on (rule, job, instance) "
                    "group_left () (sidecar_anomaly == 1)",
                    "lower",
                    instant=True,
                )
            )
            .with_target(
                q(
                    f"sidecar_anomaly_expected_upper{{{SERIES}}} * on (rule, job, instance) "
                    "group_left () (sidecar_anomaly == 1)",
                    "upper",
                    instant=True,
                )
            )
            .unit("short")
            .links(series_links()),
            3,
            0,
            9,
            24,
            7,
        ),
        place(
            timeseries.Panel()
            .title("Tick duration")
            .with_target(q("sidecar_tick_duration_seconds", "shard {{shard}}"))
            .unit("s")
            .min(0),
            4,
            0,
            16,
            8,
            7,
        ),
        place(
            bargauge.Panel()
            .title("Seconds since each rule last succeeded")
            .with_target(
                q("time() - sidecar_rule_last_success_timestamp_seconds", "{{rule}}", True)
            )
            .unit("s")
            .min(0)
            .thresholds(threshold_steps((None, "green"), (120, "orange"), (600, "red"))),
            5,
            8,
            16,
            8,
            7,
        ),
        place(
            stat.Panel()
            .title("Series covered per rule")
            .with_target(q("sidecar_rule_series", "{{rule}}", True))
            .unit("short"),
            6,
            16,
            16,
            8,
            7,
        ),
        place(
            timeseries.Panel()
            .title("Errors by kind")
            .with_target(
                q("sum by (kind) (rate(sidecar_errors_total[$__rate_interval]))", "{{kind}}")
            )
            .unit("ops")
            .min(0),
            7,
            0,
            23,
            8,
            7,
        ),
        place(
            up_down(stat.Panel().title("Prometheus reachable"))
            .with_target(q("min(sidecar_source_up)", "source up", True))
            .unit("none"),
            8,
            8,
            23,
            8,
            7,
        ),
        place(
            up_down(stat.Panel().title("Rules reload successful"))
            .with_target(q("min(sidecar_rules_last_reload_successful)", "reload ok", True))
            .unit("none"),
            9,
            16,
            23,
            8,
            7,
        ),
    ]
    for p in panels:
        out = out.with_panel(p)
    return out.annotation(onsets(SERIES))


def rule() -> db.Dashboard:
    out = dashboard(
        "sidecar-rule",
        "Sidecar / Rule drill-down",
        "One detector rule: its series, the expected band and the anomaly markers.",
    )
    out = out.with_variable(var("rule", "label_values(sidecar_anomaly_score, rule)", "Rule"))
    out = out.with_variable(
        var("job", 'label_values(sidecar_anomaly_score{rule="$rule"}, job)', "Job", True)
    )
    out = out.with_variable(
        var(
            "instance",
            'label_values(sidecar_anomaly_score{rule="$rule", job=~"$job"}, instance)',
            "Instance",
            True,
        )
    )
    sel = f'rule="$rule", {SERIES}'
    observed = band(
        timeseries.Panel()
        .title("Observed value and expected band")
        .description(
            "One panel per instance. The shaded band is where the baseline expected "
            "the value (prediction ± 3 sigma); red marks are anomaly onsets."
        )
        .with_target(q(f"sidecar_anomaly_expected_lower{{{sel}}}", "expected lower"))
        .with_target(q(f"sidecar_anomaly_expected_upper{{{sel}}}", "expected upper"))
        .with_target(q(f"sidecar_anomaly_observed{{{sel}}}", "observed {{metric}}"))
        .unit("short")
        .repeat("instance")
        .repeat_direction("h"),
        "expected lower",
        "expected upper",
    )
    panels: list[Panel] = [
        place(observed, 1, 0, 0, 24, 10),
        place(
            score_axis(
                timeseries.Panel()
                .title("Anomaly score")
                .description(
                    "Calibrated score, given at an episode's onset; crossing the "
                    "threshold (dashed) sets sidecar_anomaly to 1 until the series is "
                    "back within 5 sigma."
                )
                .with_target(q(f"sidecar_anomaly_score{{{sel}}}", "{{instance}}"))
            ),
            2,
            0,
            10,
            24,
            8,
        ),
        place(
            statetimeline.Panel()
            .title("Anomaly markers")
            .with_target(q(f"sidecar_anomaly{{{sel}}}", "{{instance}}"))
            .unit("none")
            .thresholds(threshold_steps((None, "green"), (1, "red"))),
            3,
            0,
            18,
            24,
            6,
        ),
    ]
    for p in panels:
        out = out.with_panel(p)
    return out.annotation(onsets(sel))


def forecast() -> db.Dashboard:
    out = dashboard(
        "sidecar-forecast",
        "Sidecar / Forecasts, replicas and resources",
        "Usage forecasts with their intervals, replica recommendations, and container "
        "requests and limits.",
    )
    out = out.with_variable(var("frule", "label_values(sidecar_forecast, rule)", "Forecast rule"))
    out = out.with_variable(
        var("instance", 'label_values(sidecar_forecast{rule="$frule"}, instance)', "Instance", True)
    )
    sel = 'rule="$frule", instance=~"$instance"'
    panels: list[Panel] = [
        place(
            band(
                timeseries.Panel()
                .title("Forecast at the horizon with its 90% interval")
                .description(
                    "One panel per instance. Each point is the forecast made then for "
                    "one horizon later."
                )
                .with_target(q(f'sidecar_forecast{{{sel}, bound="lower"}}', "lower"))
                .with_target(q(f'sidecar_forecast{{{sel}, bound="upper"}}', "upper"))
                .with_target(q(f'sidecar_forecast{{{sel}, bound="mean"}}', "forecast"))
                .unit("short")
                .repeat("instance")
                .repeat_direction("h"),
                "lower",
                "upper",
            ),
            1,
            0,
            0,
            24,
            10,
        ),
        place(
            timeseries.Panel()
            .title("Recommended vs current replicas")
            .with_target(
                q('sidecar_recommended_replicas{rule="$frule"}', "recommended {{instance}}")
            )
            .with_target(q('sidecar_current_replicas{rule="$frule"}', "current {{instance}}"))
            .with_target(
                q(
                    'sidecar_capacity_per_replica{rule="$frule"}',
                    "capacity per replica {{instance}}",
                )
            )
            .unit("none")
            .min(0)
            .override_by_query(
                "C", [dm.DynamicConfigValue(id_val="custom.axisPlacement", value="right")]
            ),
            2,
            0,
            10,
            24,
            8,
        ),
        place(
            table.Panel()
            .title("Recommended container resources (rightsizing rules)")
            .description(
                "`sidecar rightsize --patch` or POST /rightsizing give the same as a "
                "Kubernetes patch, with reasons."
            )
            .with_target(q("sidecar_recommended_cpu_request_cores", "cpu request", True))
            .with_target(q("sidecar_recommended_memory_request_bytes", "memory request", True))
            .with_target(q("sidecar_recommended_memory_limit_bytes", "memory limit", True))
            .unit("short")
            .override_by_query("B", [dm.DynamicConfigValue(id_val="unit", value="bytes")])
            .override_by_query("C", [dm.DynamicConfigValue(id_val="unit", value="bytes")]),
            3,
            0,
            18,
            24,
            9,
        ),
        place(
            timeseries.Panel()
            .title("CPU request with its 80% range")
            .description(
                "The range is what each recent day alone would have needed; it "
                "narrows as history grows. Cores."
            )
            .with_target(
                q("sidecar_recommended_cpu_request_cores_lower", "lower {{pod}} {{container}}")
            )
            .with_target(
                q("sidecar_recommended_cpu_request_cores_upper", "upper {{pod}} {{container}}")
            )
            .with_target(
                q("sidecar_recommended_cpu_request_cores", "request {{pod}} {{container}}")
            )
            .unit("short")
            .min(0),
            4,
            0,
            27,
            24,
            9,
        ),
    ]
    for p in panels:
        out = out.with_panel(p)
    return out


def alerts() -> db.Dashboard:
    out = dashboard(
        "sidecar-alerts",
        "Sidecar / Alert salience",
        "Which firing alerts a human should look at now.",
    )
    panels: list[Panel] = [
        place(
            table.Panel()
            .title("Firing alerts, most salient first")
            .description("Salience in [0, 1]; the reasons are in GET /alerts/ranked.")
            .with_target(q("sort_desc(sidecar_alert_salience)", "", True))
            .unit("none")
            .min(0)
            .max(1)
            .thresholds(threshold_steps((None, "green"), (0.5, "orange"), (0.8, "red"))),
            1,
            0,
            0,
            24,
            10,
        ),
        place(
            timeseries.Panel()
            .title("Salience over time")
            .with_target(q("sidecar_alert_salience", "{{alertname}} {{fingerprint}}"))
            .unit("none")
            .min(0)
            .max(1),
            2,
            0,
            10,
            24,
            9,
        ),
    ]
    for p in panels:
        out = out.with_panel(p)
    return out


def render() -> dict[str, str]:
    """File name → JSON of every dashboard."""
    out = {}
    for board in (overview(), rule(), forecast(), alerts()):
        model = json.loads(json.dumps(board.build(), cls=JSONEncoder))
        for panel in model["panels"]:  # queries are A, B, C… in order (overrides name them)
            for i, target in enumerate(panel["targets"]):
                target["refId"] = chr(65 + i)
        out[f"{model['uid']}.json"] = json.dumps(model, indent=2, sort_keys=True) + "\n"
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)


if __name__ == "__main__":
    main()
