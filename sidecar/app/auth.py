"""Bearer tokens for the routes that change state or show alert contents, and the refusal
of cross-site writes.

Writes (`POST /alerts`, `/alerts/feedback`, `/-/reload`, `/ui/feedback`) need the write
token (settings' `webhook_token`); `GET /alerts/ranked`, `/rules` and `/ui` need the read
token when one is set (the write token reads too). The on-call page's browser sends the
token as the `sidecar_token` cookie its sign-in form sets (HttpOnly, SameSite=Strict);
the API takes it as `Authorization: Bearer`. The check runs before the body is read, so an
unauthenticated request learns nothing about the schema, and tokens are compared in
constant time. Any write whose `Origin` is another site, or that a browser marks
`Sec-Fetch-Site: cross-site` / `same-site`, is refused (403) whatever its token: a page
elsewhere cannot make an operator's browser post feedback.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sidecar.app.oncall import render_login

__all__ = ["COOKIE", "OPEN", "READS", "WRITES", "Authorize", "Tokens", "cross_site"]

WRITES = frozenset(
    {
        ("POST", "/alerts"),
        ("POST", "/alerts/feedback"),
        ("POST", "/-/reload"),
        ("POST", "/ui/feedback"),
    }
)
READS = frozenset({("GET", "/alerts/ranked"), ("GET", "/rules"), ("GET", "/ui")})
COOKIE = "sidecar_token"
"""The cookie the on-call page's sign-in sets; it stands for `Authorization: Bearer`."""
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def cross_site(headers: dict[bytes, bytes]) -> bool:
    """Whether a browser says this request comes from another site: an `Origin` whose host
    is not the request's `Host`, or `Sec-Fetch-Site` other than same-origin or none."""
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False  # not a browser's cross-origin request (browsers send Origin on those)
    text = origin.decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1").lower()
    return text == "null" or urlsplit(text).netloc.lower() != host


def _cookie_token(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


class Authorize:
    """ASGI middleware: 403 for a cross-site write, 401 for a protected route without its
    token (the on-call page's sign-in form for `/ui`), before the body is read. The tokens
    are the app's `state.tokens` (open until the ingress sets them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = self._refusal(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        tokens: Tokens = getattr(scope["app"].state, "tokens", OPEN)
        headers = dict(scope["headers"])
        method, path = scope["method"].upper(), scope["path"]
        if method not in _SAFE_METHODS and cross_site(headers):
            return JSONResponse({"detail": "cross-site request refused"}, status_code=403)
        header = headers.get(b"authorization")
        authorization = header.decode("latin-1") if header is not None else None
        if authorization is None and path.startswith("/ui"):
            cookie = _cookie_token(headers)
            authorization = None if cookie is None else f"Bearer {cookie}"
        if tokens.allows(method, path, authorization):
            return None
        if path.startswith("/ui"):
            return HTMLResponse(render_login("Sign in to see and act on alerts."), 401)
        return JSONResponse(
            {"detail": "missing or wrong bearer token"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )


OPEN = Tokens()
