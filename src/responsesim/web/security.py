"""Request checks and response headers that keep other web sites out (pure ASGI middleware).

- **Host** (DNS rebinding): a request whose ``Host`` is not a name the server was started for gets 421.
- **Cross-site writes**: a state-changing request (not GET/HEAD/OPTIONS) from another origin gets 403:
  ``Sec-Fetch-Site`` other than ``same-origin``/``none``, or an ``Origin`` whose host and port differ from
  the request's ``Host``. Requests without either header (command-line clients) pass.
- **Connections**: more than ``max_connections`` requests in flight get 503 with ``Retry-After``, as JSON
  (uvicorn's own limit, set higher as a backstop, answers in plain text).
- **Headers** on every response: a Content-Security-Policy without inline script, ``nosniff``,
  ``frame-ancestors 'none'``, no referrer.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from responsesim.web.errors import error_body
from responsesim.web.settings import LOOPBACK_NAMES, WebSettings, is_loopback

__all__ = ["SECURITY_HEADERS", "SecurityMiddleware", "allowed_hosts", "split_host"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK = frozenset({*LOOPBACK_NAMES, "127.0.0.1", "::1"})


def split_host(value: str) -> str:
    """The host name of a ``Host`` header or netloc (port and IPv6 brackets removed, lower case)."""
    v = value.strip().lower()
    if v.startswith("["):
        return v[1 : v.index("]")] if "]" in v else v
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


def allowed_hosts(settings: WebSettings) -> frozenset[str] | None:
    """Host names the server answers to; None = any (listening on all addresses with --allow-remote and
    no --allowed-host given)."""
    extra = frozenset(split_host(h) for h in settings.allowed_hosts)
    host = split_host(settings.host)
    if is_loopback(host):
        return _LOOPBACK | extra
    if host in ("0.0.0.0", "::", ""):
        return (_LOOPBACK | extra) if extra else None
    return _LOOPBACK | {host} | extra


class SecurityMiddleware:
    """The checks and headers of the module docstring."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None, max_connections: int) -> None:
        self.app = app
        self.hosts = hosts
        self.max_connections = max_connections
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        problem = self._refuse(scope["method"], host, headers)
        if problem is not None:
            await _json(send, *problem)
            return
        if self.in_flight >= self.max_connections:
            await _json(send, 503, "the server is busy (too many open requests); try again shortly",
                        ((b"retry-after", b"5"),))  # fmt: skip
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.in_flight -= 1

    def _refuse(self, method: str, host: str, headers: dict[str, str]) -> tuple[int, str] | None:
        name = split_host(host)
        if self.hosts is not None and name not in self.hosts:
            return (
                421,
                f"this server does not answer to the host name {name!r} (protection against DNS rebinding); "
                "open it by the address it was started on, e.g. http://127.0.0.1:PORT, or start it with "
                "--allowed-host NAME",
            )
        if method.upper() in SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return 403, f"cross-site request refused ({site}): only this page may change the server's data"
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if origin == "null" or parts.netloc.lower() != host.strip().lower():
                return 403, f"cross-site request refused (origin {origin}): only this page may change data"
        return None


async def _json(send: Send, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps(error_body(message)).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *extra, *SECURITY_HEADERS],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
