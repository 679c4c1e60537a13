"""API errors: every 4xx/5xx body is ``{"error": message, "field": str|null, "line": int|null}``."""

from __future__ import annotations

from typing import Any

from responsesim.errors import InputError

__all__ = ["ApiError", "error_body", "from_input_error"]


class ApiError(Exception):
    """An error answered with ``status`` and a clear message (optionally naming a field and a line)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        line: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.line = line
        self.headers = headers or {}


def error_body(message: str, field: str | None = None, line: int | None = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": message, "field": field, "line": line}


def from_input_error(exc: InputError, status: int = 400) -> ApiError:
    """A scenario/review input error (``file:line: field: message``) as an API error."""
    return ApiError(status, str(exc), field=exc.field, line=exc.line)
