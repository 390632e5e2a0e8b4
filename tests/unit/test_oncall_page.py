"""The on-call page's rendering: incidents grouped and ranked, links, escaping, charts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from sidecar.app.auth import cross_site
from sidecar.app.chart import BandChart, band_chart
from sidecar.app.oncall import (
    Page,
    anomaly_views,
    feedback_notice,
    incidents,
    render_page,
    safe_url,
    silence_url,
)
from sidecar.snapshot import AnomalyPoint

NOW = 1_800_000_000.0
PROM = "http://127.0.0.1:9090"
AM = "http://127.0.0.1:9093"
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "attr": '"><img src=x onerror=alert(2)>',
    "url": "javascript:alert(3)",
}


def ranked(fp: str, name: str, salience: float, episode: int, **extra: Any) -> dict[str, Any]:
    return {
        "fingerprint": fp,
        "alertname": name,
        "salience": salience,
        "reasons": [f"reason of {fp}"],
        "labels": {"alertname": name, "severity": "critical", "instance": "db-1"},
        "annotations": {},
        "generatorURL": "",
        "startsAt": NOW - 300,
        "episode": episode,
        "firedBefore": 2,
    } | extra


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


def test_incidents_group_an_episode_and_rank_by_their_most_salient_alert() -> None:
    found = incidents(
        [
            ranked("a", "DiskFull", 0.9, 1),
            ranked("b", "HighLatency", 0.7, 2, incident="b"),
            ranked("c", "PodCrashLooping", 0.6, 2, incident="b"),
            ranked("d", "Watchdog", 0.2, 3),
        ],
        NOW,
        PROM,
        AM,
    )
    assert [i.title for i in found] == ["DiskFull", "HighLatency and 1 more", "Watchdog"]
    assert [a.fingerprint for a in found[1].alerts] == ["b", "c"]
    assert found[0].alerts[0].age == "5m" and found[0].alerts[0].fired_before == 2


def test_links_are_only_http_urls_and_the_silence_is_prefilled() -> None:
    alert = ranked(
        "a",
        "DiskFull",
        0.9,
        1,
        generatorURL="http://prometheus:9090/graph?g0.expr=up",
        annotations={"runbook_url": "javascript:alert(1)"},
    )
    [incident] = incidents([alert], NOW, PROM, AM)
    links = {link.text: link.href for link in incident.alerts[0].links}
    assert links["source graph"] == "http://prometheus:9090/graph?g0.expr=up"
    assert "runbook" not in links  # a javascript: URL is never a link
    assert links["silence"] == silence_url(AM, alert["labels"])
    assert links["silence"].startswith(f"{AM}/#/silences/new?filter=%7B")
    assert "alertname%3D%22DiskFull%22" in links["silence"]
    assert links["history in Prometheus"].startswith(f"{PROM}/graph?g0.expr=ALERTS%7B")
    assert safe_url("https://runbooks.example/x") == "https://runbooks.example/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "", None, "ftp://x"):
        assert safe_url(bad) is None


def test_hostile_labels_and_annotations_are_shown_as_text_never_as_markup() -> None:
    alert = ranked(
        "fp-" + HOSTILE["attr"],
        HOSTILE["script"],
        0.9,
        1,
        labels={"alertname": HOSTILE["script"], "instance": HOSTILE["attr"], "x": HOSTILE["url"]},
        annotations={"summary": HOSTILE["script"], "runbook_url": HOSTILE["url"]},
        generatorURL=HOSTILE["url"],
        reasons=[HOSTILE["attr"]],
    )
    html = render_page(Page(incidents=incidents([alert], NOW, PROM, AM)))
    tags = elements(html)
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")]
    for _, attrs in tags:
        assert not any(k.startswith("on") for k in attrs)  # no event handler attribute
        for key in ("href", "src", "action", "formaction"):
            value = attrs.get(key) or ""
            assert not value.strip().lower().startswith(("javascript:", "data:")), value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert html.count("javascript:alert(3)") >= 1  # the label value is shown as text


def test_feedback_notice_says_what_changed() -> None:
    now = [ranked("a", "DiskFull", 0.412, 1)]
    assert feedback_notice(now, "a", "noise", 0.88) == (
        "Feedback taken: DiskFull marked noise: salience 0.88 -> 0.41; its reasons now say so."
    )
    assert "no longer firing" in feedback_notice(now, "gone", "actionable", 0.5)
    assert feedback_notice(now, "a", "bogus", 0.5) == ""


def test_an_anomaly_chart_draws_the_band_and_marks_values_outside_it() -> None:
    t = [NOW - 60 * i for i in range(30, 0, -1)]
    value = [10.0] * 29 + [60.0]
    chart = BandChart(t, value, t, [8.0] * 30, [12.0] * 30)
    svg = band_chart(chart, "rule <b>")
    assert svg.count("<polygon") == 1 and svg.count("<polyline") == 1
    assert svg.count('class="outside"') == 1  # the jump, marked by a shape
    assert "<title>rule &lt;b&gt;</title>" in svg
    latest_only = band_chart(BandChart(t, value, latest_lower=8.0, latest_upper=12.0), "r")
    assert latest_only.count("<polygon") == 1  # the latest range drawn across
    assert "no data" in band_chart(BandChart([], []), "r")
    point = AnomalyPoint("r", (("series", "b"),), "value", 0.97, 8.0, 12.0, True, NOW, 60.0)
    [view] = anomaly_views([(point, NOW)], {("r", point.labels): chart}, NOW, None, PROM)
    assert view.last_anomalous == "now" and view.chart.count("<svg") == 1
    html = render_page(Page(anomalies=[view]))
    assert re.search(r"expected 8 to 12", html)


def test_cross_site_writes_are_recognised() -> None:
    same = {b"host": b"127.0.0.1:8000", b"origin": b"http://127.0.0.1:8000"}
    assert not cross_site(same)
    assert not cross_site({b"host": b"127.0.0.1:8000"})  # no Origin: not a browser's cross-site
    assert cross_site({b"host": b"127.0.0.1:8000", b"origin": b"http://evil.example"})
    assert cross_site({b"host": b"127.0.0.1:8000", b"origin": b"null"})
    assert cross_site({b"host": b"127.0.0.1:8000", b"sec-fetch-site": b"cross-site"})
    assert not cross_site({**same, b"sec-fetch-site": b"same-origin"})
