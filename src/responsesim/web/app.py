"""The FastAPI app behind ``responsesim serve``: JSON API (contract in the module docs) and the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from responsesim.api import code_version
from responsesim.web.errors import ApiError, error_body
from responsesim.web.limits import BodySizeLimit
from responsesim.web.settings import WebSettings

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The app for ``settings`` (defaults: loopback, ``results.duckdb``, the documented limits)."""
    settings = settings or WebSettings()
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(title="responsesim", version=code_version(), docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.field, exc.line), exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        return JSONResponse(error_body(f"{field or 'request'}: {first.get('msg', 'invalid')}", field), 422)

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": code_version()}

    @app.get("/api/limits")
    def limits() -> dict[str, int]:
        return {
            "max_replications": settings.max_replications,
            "max_upload_bytes": settings.max_upload_bytes,
            "max_concurrent_jobs": settings.max_concurrent_jobs,
            "max_queued_jobs": settings.max_queued_jobs,
        }

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app
