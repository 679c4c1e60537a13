"""Request-body size cap as a pure ASGI middleware: 413 before the body is used past the limit.

A declared ``Content-Length`` over the limit is refused before the app sees the request; a body without
one (chunked) is counted while it streams and refused as soon as it passes the limit. Either way the
excess is never stored: it is read and dropped (up to ``drain_limit`` bytes, so the client, which is
still sending, receives the 413 instead of a connection reset), or, for a body larger than that, the
connection is closed at once.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from responsesim.web.errors import error_body

__all__ = ["BodySizeLimit", "BodyTooLargeError"]

MIB = 1024 * 1024


class BodyTooLargeError(Exception):
    """The request body passed the limit while streaming."""


def _message(limit: int) -> str:
    return f"request body too large: the limit is {limit} bytes (max_upload_bytes)"


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413 and the JSON error body."""

    def __init__(self, app: ASGIApp, limit: int, drain_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.drain_limit = drain_limit if drain_limit is not None else max(16 * MIB, 4 * limit)

    async def _drain(self, receive: Receive, seen: int) -> bool:
        """Read and drop the rest of the body; False if it passes ``drain_limit`` (then close)."""
        while seen <= self.drain_limit:
            message = await receive()
            if message["type"] != "http.request":
                return False
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return seen <= self.drain_limit
        return False

    async def _refuse(self, send: Send, close: bool) -> None:
        body = json.dumps(error_body(_message(self.limit), field="body")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > self.limit:
            drained = declared <= self.drain_limit and await self._drain(receive, 0)
            await self._refuse(send, close=not drained)
            return
        seen = 0
        started = False
        more = True  # whether the client has more body to send

        async def counting_receive() -> Message:
            nonlocal seen, more
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                more = bool(message.get("more_body", False))
                if seen > self.limit:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                drained = not more or await self._drain(receive, seen)
                await self._refuse(send, close=not drained)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"BodySizeLimit(limit={self.limit})"
