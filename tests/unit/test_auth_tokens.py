"""Which token opens which route (the middleware's decision, without a server)."""

from __future__ import annotations

import pytest

from sidecar.app.auth import OPEN, Tokens

BOTH = Tokens(write="w", read="r")


@pytest.mark.parametrize(
    ("tokens", "method", "path", "header", "allowed"),
    [
        (OPEN, "POST", "/alerts", None, True),
        (BOTH, "POST", "/alerts", None, False),
        (BOTH, "POST", "/alerts", "Bearer w", True),
        (BOTH, "POST", "/alerts/", "Bearer w", True),
        (BOTH, "POST", "/alerts/", None, False),  # a trailing slash is the same route
        (BOTH, "post", "/-/reload", "Bearer r", False),
        (BOTH, "POST", "/alerts/feedback", "bearer w", False),
        (BOTH, "GET", "/alerts/ranked", "Bearer r", True),
        (BOTH, "GET", "/alerts/ranked", "Bearer w", True),
        (BOTH, "GET", "/alerts/ranked", "Bearer x", False),
        (Tokens(write="w"), "GET", "/alerts/ranked", None, True),  # no read token: open
        (BOTH, "POST", "/anomaly", None, True),
        (BOTH, "GET", "/metrics", None, True),
    ],
)
def test_scopes(tokens: Tokens, method: str, path: str, header: str | None, allowed: bool) -> None:
    assert tokens.allows(method, path, header) is allowed
