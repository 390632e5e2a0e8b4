"""Bearer tokens for the routes that change state or show alert contents.

Writes (`POST /alerts`, `/alerts/feedback`, `/-/reload`) need the write token (settings'
`webhook_token`); `GET /alerts/ranked` needs the read token when one is set (the write token
reads too). The check runs before the body is read, so an unauthenticated request learns
nothing about the schema, and tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OPEN", "READS", "WRITES", "Authorize", "Tokens"]

WRITES = frozenset({("POST", "/alerts"), ("POST", "/alerts/feedback"), ("POST", "/-/reload")})
READS = frozenset({("GET", "/alerts/ranked"), ("GET", "/rules")})


@dataclass(frozen=True, slots=True)
class Tokens:
    """The configured tokens; None = that scope is open."""

    write: str | None = None
    read: str | None = None

    def allows(self, method: str, path: str, authorization: str | None) -> bool:
        """Whether a request with this Authorization header may call `method path`."""
        route = (method.upper(), path.rstrip("/") or "/")
        if route in WRITES:
            return self.write is None or _matches(authorization, self.write)
        if route in READS:
            if self.read is None:
                return True
            return _matches(authorization, self.read) or (
                self.write is not None and _matches(authorization, self.write)
            )
        return True


def _matches(authorization: str | None, token: str) -> bool:
    given = (authorization or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, f"Bearer {token}".encode())


class Authorize:
    """ASGI middleware: 401 for a protected route without its token, before the body is read.
    The tokens are the app's `state.tokens` (open until the ingress sets them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            tokens: Tokens = getattr(scope["app"].state, "tokens", OPEN)
            header = dict(scope["headers"]).get(b"authorization")
            authorization = header.decode("latin-1") if header is not None else None
            if not tokens.allows(scope["method"], scope["path"], authorization):
                response = JSONResponse(
                    {"detail": "missing or wrong bearer token"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


OPEN = Tokens()
