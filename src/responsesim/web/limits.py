"""Request-body size cap as a pure ASGI middleware: 413 before the body is read past the limit.

A declared ``Content-Length`` over the limit is refused at once; a body without one (chunked) is counted
while it streams and refused as soon as it passes the limit, so a huge upload never sits in memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from responsesim.web.errors import error_body

__all__ = ["BodySizeLimit", "BodyTooLargeError"]


class BodyTooLargeError(Exception):
    """The request body passed the limit while streaming."""


def _message(limit: int) -> str:
    return f"request body too large: the limit is {limit} bytes (max_upload_bytes)"


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413 and the JSON error body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_body(_message(self.limit), field="body")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
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
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
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
                await self._refuse(send)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"BodySizeLimit(limit={self.limit})"
