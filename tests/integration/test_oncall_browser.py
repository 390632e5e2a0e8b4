"""The on-call page in a real browser (Debian's headless Chromium, driven by Selenium with
Debian's chromedriver) against `sidecar run` between a real Prometheus and a local Ray.

A storm of alerts is fired at the webhook (with the write token the sidecar asks for), one
of them with hostile labels and annotations; a scrape target's series jumps so that the
detector rule flags it. The page must rank as the API does, take feedback and show what it
changed, chart the anomalous series, keep the hostile text inert, work with JavaScript off,
and refuse cross-site and unauthenticated writes. With SIDECAR_SCREENSHOTS=DIR set, the
views are saved there as PNG (docs/ui/ holds the committed ones).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.integration.test_app_e2e import Stack, scraped_stack
from tests.rig import wait_until

TOKEN = "on-call-s3cret"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
HOSTILE = {
    "alertname": "<script>alert('label')</script>",
    "instance": '"><img src=x onerror=alert(2)>',
    "severity": "critical",
}
HOSTILE_ANNOTATIONS = {
    "summary": "<img src=x onerror=alert(3)><script>alert(4)</script>",
    "runbook_url": "javascript:alert(5)",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    extra = f"  webhook_token: {TOKEN}\n  alertmanager_url: http://127.0.0.1:9093\n"
    with scraped_stack(tmp_path_factory.mktemp("oncall"), extra_settings=extra) as s:
        yield s


def _browser(tmp: Path, javascript: bool = True) -> WebDriver:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp}",
        "--window-size=1280,1800",
    ):
        opts.add_argument(arg)
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    driver = _browser(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def _iso(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def _alert(name: str, fp: str, ago: float, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels}"},
        "startsAt": _iso(ago),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://127.0.0.1:9090/graph?g0.expr={name}",
        "fingerprint": fp,
    }


def _fire(url: str, *alerts: dict[str, Any]) -> None:
    body = {"version": "4", "status": "firing", "receiver": "sidecar", "alerts": list(alerts)}
    r = requests.post(
        f"{url}/alerts", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    r.raise_for_status()


def _storm(url: str) -> None:
    hostile = _alert("x", "hostile", 50)
    hostile["labels"] = dict(HOSTILE)
    hostile["annotations"] = dict(HOSTILE_ANNOTATIONS)
    hostile["generatorURL"] = "javascript:alert(6)"
    _fire(
        url,
        _alert("NodeNotReady", "node", 120, severity="warning", node="worker-3"),
        _alert("PodCrashLooping", "crash", 100, severity="critical", node="worker-3", pod="api-0"),
        _alert("HighErrorRate", "errors", 90, severity="critical", service="api", node="worker-3"),
        _alert("QueueBacklog", "orders", 3600, severity="warning", queue="orders"),
        _alert("QueueBacklog", "billing", 3600, severity="warning", queue="billing"),
        hostile,
    )


def _sign_in(browser: WebDriver, url: str) -> None:
    browser.get(f"{url}/ui")  # open to read; feedback asks for the write token
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form[action='/ui/login'] button").click()
    wait_until(lambda: browser.find_elements(By.ID, "now-h"), 20, "the page after signing in")


def _page_order(browser: WebDriver) -> list[str]:
    return [
        str(li.get_attribute("data-fingerprint"))
        for li in browser.find_elements(By.CSS_SELECTOR, "li.alert")
    ]


def _api(url: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = requests.get(f"{url}/alerts/ranked", timeout=10).json()["alerts"]
    return alerts


def _grouped(alerts: list[dict[str, Any]]) -> list[str]:
    """The API's ranking grouped into incidents, as the page shows it."""
    order: dict[str, list[str]] = {}
    for a in alerts:
        order.setdefault(str(a["incident"]), []).append(str(a["fingerprint"]))
    return [fp for fps in order.values() for fp in fps]


def _shot(browser: WebDriver, name: str) -> None:
    folder = os.environ.get("SIDECAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_the_page_ranks_the_storm_as_the_api_does(site: Stack, browser: WebDriver) -> None:
    _storm(site.url)
    _sign_in(browser, site.url)
    assert _page_order(browser) == _grouped(_api(site.url))
    incident = browser.find_element(By.XPATH, "//li[@id='alert-node']/ancestor::article")
    members = incident.find_elements(By.CSS_SELECTOR, "li.alert")
    assert {m.get_attribute("data-fingerprint") for m in members} == {"node", "crash", "errors"}
    root = browser.find_element(By.ID, "alert-node")
    assert "likely root cause of 2 alert(s) on node worker-3" in root.text
    links = {a.text: a.get_attribute("href") or "" for a in root.find_elements(By.TAG_NAME, "a")}
    assert links["source graph"].startswith("http://127.0.0.1:9090/graph")
    assert links["silence"].startswith("http://127.0.0.1:9093/#/silences/new?filter=")
    _shot(browser, "now")


def test_hostile_alert_text_stays_inert(site: Stack, browser: WebDriver) -> None:
    _storm(site.url)
    _sign_in(browser, site.url)
    time.sleep(0.5)  # anything the hostile text could start would have run by now
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.find_elements(By.TAG_NAME, "script") == []
    for a in browser.find_elements(By.TAG_NAME, "a"):
        assert not (a.get_attribute("href") or "").lower().startswith("javascript:")
    hostile = browser.find_element(By.ID, "alert-hostile")
    assert HOSTILE["alertname"] in hostile.text  # shown as the text it is
    assert HOSTILE_ANNOTATIONS["summary"] in hostile.text
    assert "runbook" not in [a.text for a in hostile.find_elements(By.TAG_NAME, "a")]


def test_feedback_round_trips_and_moves_the_alert_down(site: Stack, browser: WebDriver) -> None:
    _storm(site.url)
    _sign_in(browser, site.url)
    before = _page_order(browser)
    first, second = sorted(("orders", "billing"), key=before.index)
    card = browser.find_element(By.ID, f"alert-{first}")
    card.find_element(By.CSS_SELECTOR, "button[value='noise']").click()
    wait_until(lambda: browser.find_elements(By.ID, "notice"), 20, "the feedback notice")
    notice = browser.find_element(By.ID, "notice").text
    assert notice.startswith("Feedback taken: QueueBacklog marked noise: salience ")
    after = _page_order(browser)
    assert after.index(first) > after.index(second)  # below its twin now
    reasons = browser.find_element(By.ID, f"alert-{first}").text
    assert "operators marked this alert as noise" in reasons
    assert _page_order(browser) == _grouped(_api(site.url))  # the API agrees
    _shot(browser, "feedback")


def test_the_page_works_with_javascript_off(site: Stack, tmp_path: Path) -> None:
    _storm(site.url)
    driver = _browser(tmp_path / "nojs", javascript=False)
    try:
        _sign_in(driver, site.url)
        assert _page_order(driver) == _grouped(_api(site.url))
        card = driver.find_element(By.ID, "alert-errors")
        card.find_element(By.CSS_SELECTOR, "button[value='actionable']").click()
        wait_until(lambda: driver.find_elements(By.ID, "notice"), 20, "the feedback notice")
        assert "marked actionable" in driver.find_element(By.ID, "notice").text
    finally:
        driver.quit()


def test_an_anomalous_series_is_charted_against_its_range(site: Stack, browser: WebDriver) -> None:
    wait_until(
        lambda: site.prometheus.instant('sidecar_anomaly_expected_upper{rule="e2e",series="b"}'),
        120,
        "a warm detector for series b, scraped",
    )
    time.sleep(3)
    site.jump.set()
    _sign_in(browser, site.url)

    def charted() -> bool:
        browser.get(f"{site.url}/ui")
        cards = browser.find_elements(By.CSS_SELECTOR, "#anomalies li.card")
        return any(
            "series=b" in c.text and c.find_elements(By.CSS_SELECTOR, "svg polyline") for c in cards
        )

    wait_until(charted, 120, "series b charted on the page")
    card = next(
        c
        for c in browser.find_elements(By.CSS_SELECTOR, "#anomalies li.card")
        if "series=b" in c.text
    )
    assert "anomalous now" in card.text or "was anomalous" in card.text
    line = card.find_element(By.CSS_SELECTOR, "svg polyline").get_attribute("points") or ""
    assert len(line.split()) >= 5  # minutes of values from Prometheus, not one point
    assert card.find_elements(By.CSS_SELECTOR, "svg polygon")  # the expected range
    browser.get(f"{site.url}/ui#anomalies")
    _shot(browser, "anomalies")


def test_writes_need_the_token_and_same_site(site: Stack) -> None:
    _storm(site.url)
    form = {"fingerprint": "orders", "label": "noise", "was": "0.5"}
    anonymous = requests.post(f"{site.url}/ui/feedback", data=form, timeout=10)
    assert anonymous.status_code == 401 and "Sign in" in anonymous.text
    cookie = {"sidecar_token": TOKEN}
    evil = requests.post(
        f"{site.url}/ui/feedback",
        data=form,
        cookies=cookie,
        headers={"Origin": "http://evil.example"},
        timeout=10,
        allow_redirects=False,
    )
    assert evil.status_code == 403
    wrong = requests.post(f"{site.url}/ui/login", data={"token": "nope"}, timeout=10)
    assert wrong.status_code == 401
    ok = requests.post(
        f"{site.url}/ui/feedback",
        data=form,
        cookies=cookie,
        headers={"Origin": site.url},
        timeout=10,
        allow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/ui?feedback=orders")
    page = requests.get(f"{site.url}/ui", timeout=10)
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all
    assert "default-src 'none'" in page.headers["content-security-policy"]
    index = requests.get(f"{site.url}/", timeout=10)
    assert 'href="/ui"' in index.text
