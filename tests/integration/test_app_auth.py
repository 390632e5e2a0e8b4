"""Tokens against `sidecar run`: writes need the write token, the ranking the read token,
and an unauthenticated request is refused (401) before its body is looked at."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.integration.test_app_e2e import running_sidecar
from tests.rig import free_port, wait_until

TOKENS = "  webhook_token: w-secret\n  read_token: r-secret\n"
WRITE = {"Authorization": "Bearer w-secret"}
READ = {"Authorization": "Bearer r-secret"}
WRONG = {"Authorization": "Bearer w-secreT"}


def test_scopes_and_order_of_checks(tmp_path: Path) -> None:
    port = free_port()
    with running_sidecar(
        tmp_path, f"http://127.0.0.1:{free_port()}", port, wait_ready=False, extra_settings=TOKENS
    ) as (url, _, _proc):
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, "sidecar /healthz")

        def post(path: str, headers: dict[str, str], body: bytes = b"{") -> int:
            h = {"Content-Type": "application/json", **headers}
            return requests.post(url + path, data=body, headers=h, timeout=10).status_code

        for path in ("/alerts", "/alerts/feedback", "/-/reload"):
            # a malformed body without the token: 401, not a 422 describing the schema
            assert post(path, {}) == 401, path
            assert post(path, WRONG) == 401, path
            assert post(path, READ) == 401, path  # the read token does not write
        assert post("/alerts", WRITE) == 422  # authenticated: now the body is checked
        feedback = b'{"fingerprint": "nope", "label": "noise"}'
        assert post("/alerts/feedback", WRITE, feedback) == 404
        ranked = f"{url}/alerts/ranked"
        assert requests.get(ranked, timeout=10).status_code == 401
        assert requests.get(ranked, headers=WRONG, timeout=10).status_code == 401
        assert requests.get(ranked, headers=READ, timeout=10).status_code == 200
        assert requests.get(ranked, headers=WRITE, timeout=10).status_code == 200
        # what changes nothing and shows no alert stays open
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 200
        assert post("/anomaly", {}, b'{"metrics": [{"x": 1.0}]}') == 200
