"""The on-call page (`GET /ui`): incidents ranked by salience with reasons and links,
anomalous series with charts, scaling and rules, rendered on the server.

Everything shown comes from people who can fire alerts, so it is escaped by the template
engine (autoescape), links are only ever http(s) URLs, and the page carries no script: it
refreshes itself with a meta refresh and posts feedback with plain forms, so it works with
JavaScript off and a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from sidecar.app.chart import BandChart, band_chart
from sidecar.salience.scorer import age_text
from sidecar.snapshot import AnomalyPoint, ForecastPoint, ReplicaPoint

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "AlertView",
    "AnomalyView",
    "IncidentView",
    "Link",
    "Page",
    "RuleView",
    "ScalingView",
    "anomaly_views",
    "feedback_notice",
    "incidents",
    "render_login",
    "render_page",
    "safe_url",
    "scaling_views",
    "silence_url",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
REFRESH_S = 30
"""Seconds between the page's own refreshes (a meta refresh: no script needed)."""
SHOWN_LABELS = 8
_FIRST_LABELS = ("namespace", "service", "job", "instance", "node", "pod", "cluster")
_HIDDEN_LABELS = ("alertname", "severity")

_ENV = Environment(
    loader=PackageLoader("sidecar.app", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True, slots=True)
class AlertView:
    fingerprint: str
    alertname: str
    severity: str
    salience: float
    reasons: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    age: str
    fired_before: int | None
    summary: str
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class IncidentView:
    title: str
    salience: float
    age: str
    alerts: tuple[AlertView, ...]


@dataclass(frozen=True, slots=True)
class AnomalyView:
    rule: str
    labels: str
    metric: str
    score: float
    peak: float | None
    observed: float | None
    lower: float | None
    upper: float | None
    anomalous: bool
    last_anomalous: str
    chart: Markup
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class ScalingView:
    rule: str
    labels: str
    current: int | None
    recommended: int
    dry_run: bool
    forecast: ForecastPoint | None


@dataclass(frozen=True, slots=True)
class RuleView:
    name: str
    kind: str
    enabled: bool
    last_run: str
    ok: bool | None
    series: int | None
    error: str


@dataclass(frozen=True, slots=True)
class Page:
    incidents: Sequence[IncidentView] = ()
    anomalies: Sequence[AnomalyView] = ()
    scaling: Sequence[ScalingView] = ()
    rules: Sequence[RuleView] = ()
    notice: str = ""
    reload_errors: Sequence[str] = ()
    generated: str = ""
    refresh_s: int = REFRESH_S
    sign_in: bool = False  # feedback needs a token this browser has not given yet
    extra: Mapping[str, Any] = field(default_factory=dict)


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None (a `javascript:` or `data:` URL
    from an annotation is shown as text, never linked)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def silence_url(alertmanager: str, labels: Mapping[str, str]) -> str:
    """Alertmanager's new-silence form, pre-filled with matchers for every label."""
    matchers = ", ".join(f'{k}="{_quote_value(v)}"' for k, v in sorted(labels.items()))
    return f"{alertmanager.rstrip('/')}/#/silences/new?filter={quote('{' + matchers + '}')}"


def _quote_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _prometheus_graph(prometheus: str, expr: str) -> str:
    return f"{prometheus.rstrip('/')}/graph?" + urlencode({"g0.expr": expr, "g0.tab": "0"})


def _selector(name: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{_quote_value(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _shown_labels(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The labels worth showing, the ones that locate the alert first."""
    first = [(k, labels[k]) for k in _FIRST_LABELS if k in labels]
    rest = sorted((k, v) for k, v in labels.items() if k not in _FIRST_LABELS)
    return tuple((k, v) for k, v in first + rest if k not in _HIDDEN_LABELS)[:SHOWN_LABELS]


def alert_view(
    alert: Mapping[str, Any], now: float, prometheus: str, alertmanager: str | None
) -> AlertView:
    """One ranked alert (`GET /alerts/ranked`'s shape) as the page shows it."""
    labels: dict[str, str] = dict(alert.get("labels", {}))
    annotations: dict[str, str] = dict(alert.get("annotations", {}))
    links = []
    source = safe_url(alert.get("generatorURL"))
    if source:
        links.append(Link("source graph", source))
    runbook = safe_url(annotations.get("runbook_url"))
    if runbook:
        links.append(Link("runbook", runbook))
    if alertmanager:
        links.append(Link("silence", silence_url(alertmanager, labels)))
    links.append(
        Link("history in Prometheus", _prometheus_graph(prometheus, _selector("ALERTS", labels)))
    )
    summary = annotations.get("summary") or annotations.get("description") or ""
    return AlertView(
        fingerprint=str(alert["fingerprint"]),
        alertname=str(alert.get("alertname", "")),
        severity=labels.get("severity", "unset"),
        salience=float(alert["salience"]),
        reasons=tuple(alert.get("reasons", ())),
        labels=_shown_labels(labels),
        age=age_text(max(0.0, now - float(alert.get("startsAt", now)))),
        fired_before=alert.get("firedBefore"),
        summary=summary,
        links=tuple(links),
    )


def incidents(
    ranked: Iterable[Mapping[str, Any]], now: float, prometheus: str, alertmanager: str | None
) -> list[IncidentView]:
    """Ranked alerts grouped into incidents (alerts that started together and share a
    relation label, so may share a cause), most salient incident first; within one, as
    ranked."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for a in ranked:
        groups.setdefault(str(a.get("incident") or a["fingerprint"]), []).append(a)
    out = []
    for members in groups.values():
        views = tuple(alert_view(a, now, prometheus, alertmanager) for a in members)
        names = sorted({v.alertname for v in views})
        title = names[0] if len(names) == 1 else f"{views[0].alertname} and {len(views) - 1} more"
        started = min(float(a.get("startsAt", now)) for a in members)
        out.append(
            IncidentView(title, max(v.salience for v in views), age_text(now - started), views)
        )
    out.sort(key=lambda i: -i.salience)
    return out


def _labels_text(labels: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels) or "(no labels)"


def anomaly_views(
    recent: Iterable[tuple[AnomalyPoint, float]],
    charts: Mapping[tuple[str, tuple[tuple[str, str], ...]], BandChart],
    now: float,
    grafana: str | None,
    prometheus: str,
) -> list[AnomalyView]:
    """Series anomalous now or lately, each with its chart when one was fetched."""
    out = []
    for p, last in recent:
        labels = dict(p.labels)
        chart = charts.get((p.rule, p.labels))
        title = f"{p.rule} {_labels_text(p.labels)}"
        svg = Markup(band_chart(chart, title)) if chart is not None else Markup("")
        links = [
            Link(
                "score in Prometheus",
                _prometheus_graph(
                    prometheus, _selector("sidecar_anomaly_score", {"rule": p.rule, **labels})
                ),
            )
        ]
        if grafana:
            query = urlencode({"var-rule": p.rule})
            links.append(Link("rule dashboard", f"{grafana.rstrip('/')}/d/sidecar-rule?{query}"))
        out.append(
            AnomalyView(
                rule=p.rule,
                labels=_labels_text(p.labels),
                metric=p.metric,
                score=p.score,
                peak=p.peak,
                observed=p.observed
                if p.observed is not None and math.isfinite(p.observed)
                else None,
                lower=p.lower,
                upper=p.upper,
                anomalous=p.anomalous,
                last_anomalous="now" if p.anomalous else f"{age_text(now - last)} ago",
                chart=svg,
                links=tuple(links),
            )
        )
    return out


def scaling_views(
    replicas: Iterable[ReplicaPoint], forecasts: Iterable[ForecastPoint]
) -> list[ScalingView]:
    """Each scaling series' current and recommended replicas with its forecast."""
    by_series = {(f.rule, f.labels): f for f in forecasts}
    return [
        ScalingView(
            rule=r.rule,
            labels=_labels_text(r.labels),
            current=r.current,
            recommended=r.replicas,
            dry_run=r.dry_run,
            forecast=by_series.get((r.rule, r.labels)),
        )
        for r in sorted(replicas, key=lambda r: (r.rule, r.labels))
    ]


def rule_views(report: Iterable[Mapping[str, Any]], now: float) -> list[RuleView]:
    """`GET /rules`' rules as the page lists them."""
    out = []
    for r in report:
        last = r.get("last_success")
        out.append(
            RuleView(
                name=str(r["name"]),
                kind=str(r["kind"]),
                enabled=bool(r["enabled"]),
                last_run="never" if last is None else f"{age_text(max(0.0, now - last))} ago",
                ok=r.get("last_run_success"),
                series=r.get("series"),
                error=str(r.get("last_error") or ""),
            )
        )
    return out


def feedback_notice(
    ranked: Iterable[Mapping[str, Any]],
    fingerprint: str | None,
    label: str | None,
    was: float | None,
) -> str:
    """What the page says after a feedback button: that it was taken and what it changed."""
    if not fingerprint or label not in ("actionable", "noise"):
        return ""
    now = next((a for a in ranked if a.get("fingerprint") == fingerprint), None)
    if now is None:
        return f"Feedback taken: marked {label}. The alert is no longer firing."
    name = now.get("alertname") or fingerprint
    moved = "" if was is None else f": salience {was:.2f} -> {float(now['salience']):.2f}"
    return f"Feedback taken: {name} marked {label}{moved}; its reasons now say so."


def render_page(page: Page) -> str:
    return _ENV.get_template("oncall.html").render(page=page)


def render_login(message: str = "") -> str:
    return _ENV.get_template("login.html").render(message=message)
