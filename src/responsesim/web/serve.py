"""Run the web app with uvicorn (``responsesim serve``); loopback only unless explicitly allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from responsesim.engine.backend import check_backend
from responsesim.web.settings import MIB, WebSettings, is_loopback

__all__ = ["RemoteRefusedError", "serve"]


class RemoteRefusedError(ValueError):
    """A non-loopback host was asked for without ``allow_remote``."""


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a host that other machines can reach unless ``allow_remote`` is set (clear message)."""
    if not allow_remote and not is_loopback(host):
        raise RemoteRefusedError(
            f"refusing to listen on {host!r}: the server has no authentication, so by default it only "
            "listens on loopback (127.0.0.1, ::1, localhost). Pass --allow-remote to listen on other "
            "addresses anyway."
        )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    store: Path = Path("results.duckdb"),
    data_dir: Path | None = None,
    *,
    max_replications: int = 20000,
    max_upload_bytes: int = MIB,
    max_concurrent_jobs: int = 1,
    max_queued_jobs: int = 8,
    allow_remote: bool = False,
    log_level: str = "info",
    backend: str = "numba",
    allowed_hosts: tuple[str, ...] = (),
) -> None:
    """Serve the page and API on ``host:port`` until interrupted (blocks).

    ``store``: DuckDB results file (created if needed); ``data_dir``: folder for uploads and review
    charts (default beside the store). Raises ``RemoteRefusedError`` for a non-loopback host without
    ``allow_remote`` and ``ValueError`` for an invalid limit.
    """
    import uvicorn

    check_host(host, allow_remote)
    settings = WebSettings(
        host=host,
        port=port,
        store=Path(store),
        data_dir=Path(data_dir) if data_dir is not None else None,
        max_replications=max_replications,
        max_upload_bytes=max_upload_bytes,
        max_concurrent_jobs=max_concurrent_jobs,
        max_queued_jobs=max_queued_jobs,
        allow_remote=allow_remote,
        backend=check_backend(backend),
        allowed_hosts=allowed_hosts,
    )
    uvicorn.Server(uvicorn_config(settings, log_level=log_level)).run()


def uvicorn_config(settings: WebSettings, log_level: str = "info") -> Any:
    """The uvicorn ``Config`` for ``settings``: the app, address, and a cap on open connections
    (``max_connections``; uvicorn answers 503 beyond it)."""
    import uvicorn

    from responsesim.web.app import create_app

    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        lifespan="on",
        # the app answers over max_connections with a JSON 503 (web/security.py); uvicorn's plain-text limit
        # is only a backstop
        limit_concurrency=settings.max_connections + 50,
        timeout_graceful_shutdown=5,
    )
