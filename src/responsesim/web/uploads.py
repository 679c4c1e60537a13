"""Uploaded text and file names: sanitising, size-capped reading, multipart parsing kept in memory.

Nothing here writes a file: callers store uploads only under the data folder with names they generate.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from responsesim.web.errors import ApiError

__all__ = ["read_json", "read_multipart", "safe_filename", "upload_text"]

_MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_filename(name: Any, default: str, field: str = "filename") -> str:
    """A client's file name if it is a plain base name, else 400; ``default`` when it is missing.

    Refused: path separators (``/``, ``\\``), ``..`` or ``.``, NUL and other control characters, a
    drive prefix (``C:``), names over 255 characters. The name is only ever used in messages, never as a
    path.
    """
    if name is None or name == "":
        return default
    if not isinstance(name, str):
        raise ApiError(400, f"{field} must be a string", field=field)
    why = None
    if "/" in name or "\\" in name:
        why = "contains a path separator"
    elif name in (".", "..") or name.startswith(".."):
        why = "is a relative path"
    elif _CONTROL.search(name):
        why = "contains a control character (e.g. NUL)"
    elif re.match(r"^[A-Za-z]:", name):
        why = "has a drive prefix"
    elif len(name) > _MAX_NAME:
        why = f"is longer than {_MAX_NAME} characters"
    if why is not None:
        raise ApiError(
            400, f"{field} {name[:80]!r} {why}: give a plain file name such as {default}", field=field
        )
    return name


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (the size cap is enforced by ``BodySizeLimit``); 400 otherwise."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        got = ctype or "no content type"
        raise ApiError(415, f"send the body as application/json (got {got})", field="body")
    raw = await request.body()
    if not raw:
        raise ApiError(400, "the request body is empty: send a JSON object", field="body")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", field="body")
    return data


class _InMemoryMultiPartParser(MultiPartParser):
    """Starlette's parser with files kept in memory (never spooled to the system temp folder); the body
    is already capped at ``max_upload_bytes`` so memory stays bounded."""

    spool_max_size = 1 << 62


async def read_multipart(request: Request, max_bytes: int, max_files: int) -> FormData:
    """Parse a ``multipart/form-data`` body (files kept in memory); 400 if it is not one or malformed."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(400, "expected a multipart/form-data upload", field="body")
    parser = _InMemoryMultiPartParser(
        request.headers, request.stream(), max_files=max_files, max_fields=8, max_part_size=max_bytes
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise ApiError(400, f"malformed upload: {exc.message}", field="body") from exc


async def upload_text(form: FormData, name: str, default_filename: str) -> tuple[str, str]:
    """(client file name, UTF-8 text) of the uploaded file field ``name``; 400 when missing or not text."""
    item = form.get(name)
    if not isinstance(item, UploadFile):
        raise ApiError(400, f"missing file {name!r} in the upload", field=name)
    filename = safe_filename(item.filename, default_filename, field=f"{name}.filename")
    data = await item.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        why = f"{filename}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise ApiError(400, why, field=name) from exc
    return filename, text
