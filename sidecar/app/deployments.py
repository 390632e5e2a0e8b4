"""The Ray Serve deployments: Scheduler shards own the rules; the alert book has one owner
(`AlertOwner`: inside the ingress when it has one replica, else the `AlertDesk` deployment).

`build_app(args)` composes them with `.bind()` the documented way; `sidecar run` and
`serve run sidecar.app.build:build_app` (which re-exports it) both use it. Blocking work (Prometheus
queries, model fits, SQLite) stays off the event loop (`asyncio.to_thread`).
"""

# No `from __future__ import annotations` here: FastAPI reads the route annotations at
# runtime, and Serve's class-based ingress cannot resolve postponed (string) annotations.
import asyncio
import hmac
import json
import logging
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import numpy as np
import ray
from fastapi import HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from ray import serve
from ray.serve.handle import DeploymentHandle

from sidecar.app import oncall
from sidecar.app.alertdesk import AlertDeskCore
from sidecar.app.api import (
    AnomalyRequest,
    FeedbackRequest,
    RightsizingRequest,
    SalienceRequest,
    ScalingRequest,
    UsagePoint,
    anomaly_response,
    api,
    rightsizing_response,
    salience_response,
    scaling_response,
)
from sidecar.app.auth import COOKIE, Tokens
from sidecar.app.chart import BandChart
from sidecar.app.logs import forward_to_driver
from sidecar.app.scheduler import SchedulerCore, rules_for_shard
from sidecar.app.settings import AppArgs
from sidecar.clock import SystemClock
from sidecar.config.loader import Rules
from sidecar.export import render
from sidecar.forecast.usage import advise
from sidecar.rightsize.container import ContainerUsage, recommend_container
from sidecar.salience.alertmanager import WebhookPayload
from sidecar.salience.events import score_event
from sidecar.salience.scorer import SalienceScorer
from sidecar.snapshot import AnomalyPoint, Snapshot

__all__ = ["AlertDesk", "AlertOwner", "Ingress", "RemoteAlertOwner", "Scheduler", "build_app"]

log = logging.getLogger("sidecar.app")
ANOMALY_REFRESH_S = 15.0
UI_ALERTS = 500
"""Firing alerts at most on the on-call page (the most salient)."""
UI_CHARTS = 12
"""Anomalous series charted on the on-call page (each costs a Prometheus range query)."""
UI_CHART_S = 6 * 3600.0
STYLESHEET = (resources.files("sidecar.app") / "static" / "oncall.css").read_bytes()
PAGE_HEADERS = {
    "Content-Security-Policy": oncall.CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes a form post's Origin "null"
}
INDEX_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SeedCore sidecar</title><link rel="stylesheet" href="/ui/static/oncall.css"></head>
<body><main><h1>SeedCore sidecar</h1><ul>
<li><a href="/ui">On-call page</a>: incidents by salience, anomalies, scaling, rules</li>
<li><a href="/docs">API documentation</a> (<a href="/redoc">ReDoc</a>)</li>
<li><a href="/metrics">Prometheus metrics</a></li>
<li><a href="/readyz">Readiness</a></li></ul></main></body></html>"""
FORM_LIMIT = 16_384
"""Bytes at most in a form body of the page (a fingerprint, a label, a token)."""


def _writes_allowed(request: Request, tokens: Tokens) -> bool:
    """Whether this browser's cookie (or header) carries the write token, if one is set."""
    cookie = request.cookies.get(COOKIE)
    header = request.headers.get("authorization") or (
        None if cookie is None else f"Bearer {cookie}"
    )
    return tokens.allows("POST", "/ui/feedback", header)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body's fields (the first value of each), bounded in size."""
    body = await request.body()
    if len(body) > FORM_LIMIT:
        raise HTTPException(status_code=413, detail="form too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


# Logical CPUs only decide placement: the defaults (1 each) would not fit three deployments
# on a 2-core machine. Ingress and AlertDesk mostly wait on I/O.
SHARD_ANSWER_S = 8.0
"""How long `/metrics` and `/readyz` wait for a shard: one whose node died is left out of
`/metrics` (and shown not ready) while Serve restarts it, instead of holding every scrape."""


async def _answer(response: Any) -> Any:
    """A shard's answer, or None if it fails or does not come within SHARD_ANSWER_S."""
    try:
        return await asyncio.wait_for(response, SHARD_ANSWER_S)
    except Exception as exc:  # noqa: BLE001 (a dead replica raises Ray's errors)
        log.warning("a scheduler shard did not answer: %s", type(exc).__name__)
        return None


@serve.deployment(
    num_replicas=1,
    health_check_period_s=10,
    max_ongoing_requests=100,
    ray_actor_options={"num_cpus": 0.25},
)
class Scheduler:
    """One shard of rules: tick loop, engine, Prometheus source."""

    # Serve supports async constructors; mypy does not know that.
    async def __init__(  # type: ignore[misc]
        self, args: dict[str, Any], rules: Rules, shard: int = 0, shards: int = 1
    ) -> None:
        forward_to_driver()
        self.core = SchedulerCore(AppArgs.model_validate(args), shard, shards, rules=rules)
        self.core.start()

    async def snapshot(self) -> Snapshot:
        return self.core.snapshot()

    async def tick(self) -> Snapshot:
        return await self.core.tick()

    async def reload(self) -> dict[str, Any]:
        ok = await asyncio.to_thread(self.core.reload)
        return {"shard": self.core.shard, "reloaded": ok, "errors": self.core.reload_errors}

    async def status(self) -> dict[str, Any]:
        """The core's status and the Ray node the shard runs on (it moves when a node dies)."""
        return {**self.core.status(), "node": ray.get_runtime_context().get_node_id()}

    async def rules(self) -> dict[str, Any]:
        return self.core.rules_report()

    async def history(
        self, rule: str, labels: dict[str, str], metric: str, seconds: float
    ) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.core.series_history, rule, labels, metric, seconds)

    async def __del__(self) -> None:
        """Serve calls this when the replica stops: save the learned state one last time."""
        await self.core.save_checkpoint()

    def check_health(self) -> None:
        if not self.core.alive():
            raise RuntimeError("the tick loop is dead or stuck")


class AlertOwner:
    """The single owner of the alert book: its lock, and the loop that follows the shards'
    anomalies. It lives in the ingress replica when there is only one (no actor hop per
    webhook), else in the `AlertDesk` deployment that every ingress replica calls."""

    def __init__(self, rules: Rules, schedulers: list[DeploymentHandle[Any]]) -> None:
        forward_to_driver()
        self.core = AlertDeskCore(rules.salience, rules.settings.data_dir)
        self.schedulers = schedulers
        self._lock = asyncio.Lock()
        self._task = asyncio.get_running_loop().create_task(self._follow_anomalies())

    async def _follow_anomalies(self) -> None:
        while True:
            try:
                snaps = await asyncio.gather(*(h.snapshot.remote() for h in self.schedulers))
                points = [p for s in snaps for p in s.anomalies]
                async with self._lock:
                    self.core.set_anomalies(points)
            except Exception:
                log.exception("could not read anomaly snapshots")
            await asyncio.sleep(ANOMALY_REFRESH_S)

    async def ingest_many(self, payloads: list[WebhookPayload]) -> list[int]:
        # On the loop, not in a thread: a body takes ~0.2 ms of SQLite, less than a hop.
        async with self._lock:
            return self.core.ingest_many(payloads)

    async def feedback(self, fingerprint: str, label: str) -> bool:
        async with self._lock:
            return await asyncio.to_thread(self.core.feedback, fingerprint, label)  # type: ignore[arg-type]

    async def ranked(self, limit: int | None = None) -> list[dict[str, Any]]:
        async with self._lock:
            now, order = await asyncio.to_thread(self.core.order, limit)
        # the reasons and the JSON need no book state: webhooks go on meanwhile
        return await asyncio.to_thread(self.core.present, order, now)

    async def snapshot(self) -> Snapshot:
        async with self._lock:
            return await asyncio.to_thread(self.core.snapshot)

    async def recent_anomalies(self) -> list[tuple[AnomalyPoint, float]]:
        async with self._lock:
            return self.core.recent_anomalies()


class RemoteAlertOwner:
    """The `AlertDesk` deployment behind the same methods as `AlertOwner`, for ingress
    replicas that share it."""

    def __init__(self, desk: DeploymentHandle[Any]) -> None:
        # bound once: `handle.method` builds a new handle (options copy) on every access
        self._ingest_many = desk.options(method_name="ingest_many")
        self._feedback = desk.options(method_name="feedback")
        self._ranked = desk.options(method_name="ranked")
        self._snapshot = desk.options(method_name="snapshot")
        self._recent_anomalies = desk.options(method_name="recent_anomalies")

    async def ingest_many(self, payloads: list[WebhookPayload]) -> list[int]:
        result: list[int] = await self._ingest_many.remote(payloads)
        return result

    async def feedback(self, fingerprint: str, label: str) -> bool:
        return bool(await self._feedback.remote(fingerprint, label))

    async def ranked(self, limit: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ranked.remote(limit)
        return result

    async def snapshot(self) -> Snapshot:
        result: Snapshot = await self._snapshot.remote()
        return result

    async def recent_anomalies(self) -> list[tuple[AnomalyPoint, float]]:
        result: list[tuple[AnomalyPoint, float]] = await self._recent_anomalies.remote()
        return result


@serve.deployment(num_replicas=1, max_ongoing_requests=100, ray_actor_options={"num_cpus": 0})
class AlertDesk(AlertOwner):
    """The alert owner as its own deployment, for apps with several ingress replicas."""

    # Serve supports async constructors (the owner needs the replica's running loop).
    async def __init__(  # type: ignore[misc]
        self, rules: Rules, schedulers: list[DeploymentHandle[Any]]
    ) -> None:
        super().__init__(rules, schedulers)


@serve.deployment(max_ongoing_requests=200, ray_actor_options={"num_cpus": 0})
@serve.ingress(api)
class Ingress:
    """Stateless HTTP front: validates, calls the owners or the pure core functions."""

    async def __init__(  # type: ignore[misc]
        self,
        rules: Rules,
        schedulers: list[DeploymentHandle[Any]],
        alerts: DeploymentHandle[Any] | None,
    ) -> None:
        forward_to_driver()
        self.settings = rules.settings
        # checked by the `Authorize` middleware before any body is read
        self.tokens = Tokens(write=self.settings.webhook_token, read=self.settings.read_token)
        api.state.tokens = self.tokens
        self.scorer = SalienceScorer(rules.salience)
        self.schedulers = schedulers
        # `alerts` is None when this is the only ingress replica: it owns the book itself
        self.owner: AlertOwner | RemoteAlertOwner = (
            AlertOwner(rules, schedulers) if alerts is None else RemoteAlertOwner(alerts)
        )
        self.clock = SystemClock()

    @api.post("/anomaly")
    async def anomaly(self, req: AnomalyRequest) -> dict[str, Any]:
        """Score observations of one target (history, batch or prior basis; see the result)."""
        return anomaly_response(req, self.clock.now())

    @api.post("/scaling")
    async def scaling(self, req: ScalingRequest) -> dict[str, Any]:
        """Recommend replicas from a usage snapshot (and history, when given)."""
        usage = req.usage_patterns.model_dump(exclude_none=True)
        extra = sorted(set(usage) - {"cpu_avg", "memory_avg", "request_rate", "response_time"})
        numeric = {k: float(v) for k, v in usage.items() if isinstance(v, int | float)}
        history = None
        if req.history:
            history = (
                np.array([p.timestamp for p in req.history], dtype=np.float64),
                np.array([p.value for p in req.history], dtype=np.float64),
            )
        advice = await asyncio.to_thread(
            advise,
            numeric,
            self.clock.now(),
            current=req.current_replicas,
            capacity_per_replica=req.capacity_per_replica,
            target_utilization=req.target_utilization,
            min_replicas=req.min_replicas,
            max_replicas=req.max_replicas,
            lead_time=req.lead_time_seconds,
            horizon=req.horizon_seconds,
            history=history,
        )
        return scaling_response(advice, extra)

    @api.post("/rightsizing")
    async def rightsizing(self, req: RightsizingRequest) -> dict[str, Any]:
        """CPU/memory requests and memory limit for a container's usage history."""

        def column(points: list[UsagePoint] | None) -> tuple[Any, Any]:
            if not points:
                return None, None
            t = np.array([p.timestamp for p in points], dtype=np.float64)
            return t, np.array([p.value for p in points], dtype=np.float64)

        cpu_t, cpu = column(req.cpu)
        mem_t, mem = column(req.memory)
        usage = ContainerUsage(cpu_t, cpu, mem_t, mem, tuple(req.oom_kills), req.throttled)
        sized = await asyncio.to_thread(recommend_container, usage, req.policy)
        return rightsizing_response(sized, req.workload)

    @api.post("/salience")
    async def salience(self, req: SalienceRequest) -> dict[str, Any]:
        """Salience of free-form events, in input order, with reasons."""
        return salience_response([score_event(e, self.scorer) for e in req.features])

    @api.post("/alerts")
    async def alerts_webhook(self, payload: WebhookPayload) -> dict[str, Any]:
        """Alertmanager webhook_config receiver (version 4)."""
        if isinstance(self.owner, AlertOwner):
            [n] = await self.owner.ingest_many([payload])
        else:  # webhooks arriving together share one hop to the AlertDesk
            n = await self._ingest(payload)
        return {
            "accepted": n,
            "unknown_fields": list(payload.unknown_fields),
            "replaced_characters": payload.replaced_characters,
        }

    # No waiting for a batch to fill; two batches in flight measured best at 8 and 32 clients
    # (one serialises on the round trip, four sends batches of one).
    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.0, max_concurrent_batches=2)
    async def _ingest(self, payloads: list[WebhookPayload]) -> list[int]:
        """Webhook bodies arriving together reach the alert desk in one call (one actor hop)."""
        return await self.owner.ingest_many(payloads)

    @api.get("/alerts/ranked")
    async def alerts_ranked(
        self, limit: int | None = Query(default=None, ge=1, le=100_000)
    ) -> dict[str, Any]:
        """Firing alerts, most salient first, with reasons (the `limit` most salient)."""
        ranked = await self.owner.ranked(limit)
        return {"alerts": ranked}

    @api.post("/alerts/feedback")
    async def alerts_feedback(self, req: FeedbackRequest) -> dict[str, Any]:
        """Mark an alert actionable or noise; spreads cautiously to its template and workload."""
        ok = await self.owner.feedback(req.fingerprint, req.label)
        if not ok:
            raise HTTPException(status_code=404, detail=f"unknown fingerprint {req.fingerprint!r}")
        return {"recorded": True}

    @api.get("/metrics")
    async def metrics(self, request: Request) -> Response:
        """Prometheus exposition of every shard's and the alert desk's snapshot."""
        shards, desk = await asyncio.gather(
            asyncio.gather(*(_answer(h.snapshot.remote()) for h in self.schedulers)),
            self.owner.snapshot(),
        )
        snaps = [snap for snap in shards if snap is not None] + [desk]
        body, content_type = render(snaps, request.headers.get("accept", ""), process=True)
        return Response(content=body, media_type=content_type)

    @api.get("/healthz")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz(self) -> Response:
        """Ready (200) once every shard has ticked with Prometheus answering; else 503."""
        answers = await asyncio.gather(*(_answer(h.status.remote()) for h in self.schedulers))
        statuses = [
            answer
            or {
                "shard": i,
                "ready": False,
                "error": f"no answer within {SHARD_ANSWER_S:g} s (its replica is restarting, "
                "or its node is gone)",
            }
            for i, answer in enumerate(answers)
        ]
        ready = all(s["ready"] for s in statuses)
        return Response(
            json.dumps({"ready": ready, "shards": statuses}),
            status_code=200 if ready else 503,
            media_type="application/json",
        )

    @api.get("/rules")
    async def rules(self) -> dict[str, Any]:
        """The loaded rules of every shard with their last run, series count and last error,
        and whether each shard's last reload worked (with its errors)."""
        shards = await asyncio.gather(*(h.rules.remote() for h in self.schedulers))
        rules = sorted((r for s in shards for r in s["rules"]), key=lambda r: r["name"])
        return {
            "rules": rules,
            "reload_success": all(s["reload_success"] for s in shards),
            "reload_errors": sorted({e for s in shards for e in s["reload_errors"]}),
        }

    @api.get("/", include_in_schema=False)
    async def index(self) -> HTMLResponse:
        """Where to go: the on-call page, the API docs, the metrics."""
        return HTMLResponse(INDEX_HTML, headers=PAGE_HEADERS)

    @api.get("/ui/static/oncall.css", include_in_schema=False)
    async def ui_stylesheet(self) -> Response:
        return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    @api.get("/ui", include_in_schema=False)
    async def ui(
        self,
        request: Request,
        feedback: str | None = Query(default=None, max_length=1000),
        label: str | None = Query(default=None, max_length=20),
        was: float | None = Query(default=None, ge=0.0, le=1.0),
    ) -> HTMLResponse:
        """The on-call page: incidents, anomalies, scaling and rules (see oncall.py)."""
        now = self.clock.now()
        ranked, recent, snaps, shards = await asyncio.gather(
            self.owner.ranked(UI_ALERTS),
            self.owner.recent_anomalies(),
            asyncio.gather(*(h.snapshot.remote() for h in self.schedulers)),
            asyncio.gather(*(h.rules.remote() for h in self.schedulers)),
        )
        charts = await self._charts(recent[:UI_CHARTS])
        s = self.settings
        prometheus = str(s.prometheus_url)
        alertmanager = None if s.alertmanager_url is None else str(s.alertmanager_url)
        grafana = None if s.grafana_url is None else str(s.grafana_url)
        page = oncall.Page(
            incidents=oncall.incidents(ranked, now, prometheus, alertmanager),
            anomalies=oncall.anomaly_views(recent, charts, now, grafana, prometheus),
            scaling=oncall.scaling_views(
                [r for snap in snaps for r in snap.replicas],
                [f for snap in snaps for f in snap.forecasts],
            ),
            rules=oncall.rule_views(
                sorted((r for sh in shards for r in sh["rules"]), key=lambda r: r["name"]), now
            ),
            notice=oncall.feedback_notice(ranked, feedback, label, was),
            reload_errors=sorted({e for sh in shards for e in sh["reload_errors"]}),
            generated=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            sign_in=not _writes_allowed(request, self.tokens),
        )
        return HTMLResponse(oncall.render_page(page), headers=PAGE_HEADERS)

    async def _charts(
        self, recent: list[tuple[AnomalyPoint, float]]
    ) -> dict[tuple[str, tuple[tuple[str, str], ...]], BandChart]:
        """The last UI_CHART_S of each series, from the shard that owns its rule."""

        async def one(p: AnomalyPoint) -> BandChart | None:
            answers = await asyncio.gather(
                *(
                    h.history.remote(p.rule, dict(p.labels), p.metric, UI_CHART_S)
                    for h in self.schedulers
                )
            )
            found = next((a for a in answers if a is not None), None)
            if found is None:
                return None
            lower, upper = found["lower"] or [[], []], found["upper"] or [[], []]
            n = min(len(lower[0]), len(upper[0]))
            return BandChart(
                found["t"],
                found["value"],
                lower[0][:n],
                lower[1][:n],
                upper[1][:n],
                p.lower,
                p.upper,
            )

        charts = await asyncio.gather(*(one(p) for p, _ in recent))
        return {(p.rule, p.labels): c for (p, _), c in zip(recent, charts, strict=True) if c}

    @api.post("/ui/feedback", include_in_schema=False)
    async def ui_feedback(self, request: Request) -> Response:
        """The page's feedback buttons (a form post): records it, then shows the page again
        with what it changed."""
        form = await _form(request)
        fingerprint, label, was = (
            form.get("fingerprint", ""),
            form.get("label", ""),
            form.get("was"),
        )
        if not fingerprint or label not in ("actionable", "noise"):
            raise HTTPException(status_code=422, detail="fingerprint and label (actionable|noise)")
        if not await self.owner.feedback(fingerprint, label):
            raise HTTPException(status_code=404, detail=f"unknown fingerprint {fingerprint!r}")
        query = urlencode({"feedback": fingerprint, "label": label, "was": was or ""})
        return RedirectResponse(f"/ui?{query}#alert-{quote(fingerprint)}", status_code=303)

    @api.post("/ui/login", include_in_schema=False)
    async def ui_login(self, request: Request) -> Response:
        """The page's sign-in: a token that reads or writes becomes an HttpOnly,
        SameSite=Strict cookie for /ui."""
        token = (await _form(request)).get("token", "")
        known = [t for t in (self.tokens.read, self.tokens.write) if t is not None]
        if known and not any(hmac.compare_digest(token.encode(), t.encode()) for t in known):
            return HTMLResponse(oncall.render_login("That token is not right."), 401)
        response = RedirectResponse("/ui", status_code=303)
        if known:
            response.set_cookie(
                COOKIE, token, max_age=12 * 3600, path="/ui", httponly=True, samesite="strict"
            )
        return response

    @api.post("/-/reload")
    async def reload(self) -> dict[str, Any]:
        """Re-read the rule files on every shard now (SIGHUP calls this); a failed reload
        keeps the old rules and lists its errors per shard."""
        results = await asyncio.gather(*(h.reload.remote() for h in self.schedulers))
        return {"reloaded": all(r["reloaded"] for r in results), "shards": list(results)}


def build_app(args: dict[str, Any] | None = None) -> Any:
    """The Serve application for `args` (AppArgs fields; `serve run ... config=rules`)."""
    parsed = AppArgs.model_validate(dict(args or {}))
    rules = parsed.load()
    shards = rules.settings.shards
    raw = parsed.model_dump()
    s = rules.settings
    # Per deployment: Serve's start-up logging config does not reach the replicas.
    logs = {"enable_access_log": s.access_log}
    # (the Serve decorator adds .options/.bind; Ray ships no type information for them)
    schedulers = [
        Scheduler.options(  # type: ignore[attr-defined]
            name=f"Scheduler{i}",
            logging_config=logs,
            ray_actor_options={"num_cpus": s.scheduler_cpus},
        ).bind(raw, rules_for_shard(rules, i, shards), i, shards)
        for i in range(shards)
    ]
    replicas = max(s.ingress_min_replicas, parsed.ingress_replicas)
    one_ingress = s.ingress_max_replicas <= s.ingress_min_replicas and replicas == 1
    # One ingress replica owns the alert book itself; several share an AlertDesk deployment.
    desk = (
        None if one_ingress else AlertDesk.options(logging_config=logs).bind(rules, schedulers)  # type: ignore[attr-defined]
    )
    placed = {"num_cpus": 0, "resources": dict(s.ingress_resources)}
    if s.ingress_max_replicas > s.ingress_min_replicas:
        ingress = Ingress.options(  # type: ignore[attr-defined]
            logging_config=logs,
            ray_actor_options=placed,
            autoscaling_config={
                "min_replicas": s.ingress_min_replicas,
                "max_replicas": s.ingress_max_replicas,
                "target_ongoing_requests": s.ingress_target_ongoing_requests,
            },
            max_ongoing_requests=s.ingress_max_ongoing_requests,
        )
    else:
        ingress = Ingress.options(  # type: ignore[attr-defined]
            logging_config=logs,
            ray_actor_options=placed,
            num_replicas=replicas,
            max_ongoing_requests=s.ingress_max_ongoing_requests,
        )
    # the rule files are read once, here, and handed on (replicas on other nodes need not
    # see the files; a Scheduler re-reads them only to reload)
    return ingress.bind(rules, schedulers, desk)
