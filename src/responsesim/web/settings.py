"""Settings of the web server (``responsesim serve``): address, files and the request limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["LOOPBACK_NAMES", "WebSettings", "is_loopback"]

MIB = 1024 * 1024
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1 or "localhost")."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Everything the app needs; frozen so a running server's limits cannot drift.

    ``store``: the DuckDB results file (runs listed and reopened from it). ``data_dir``: the only folder
    the server writes uploaded files and review charts to (default: ``<store's folder>/responsesim-web``).
    Limits: ``max_upload_bytes`` per request body, ``max_replications`` per run, ``max_concurrent_jobs``
    simulations running at once, ``max_queued_jobs`` jobs waiting (more are refused with 429).
    ``chunk_size``: replications per engine chunk (progress and cancel act between chunks).
    ``max_replay_frames``: replay ticks are thinned evenly to at most this many frames.
    ``max_review_reports``: reviews kept in the data folder (oldest deleted). ``max_concurrent_replays``:
    replay simulations at once (more wait up to 20 s, then 503); ``max_cached_replays``: replay files
    kept in the data folder (oldest deleted). ``max_connections``: open connections
    uvicorn accepts before answering 503. ``sse_poll_s``: how often an event stream checks its job (s).
    ``allowed_hosts``: host names the server answers to besides the one it listens on and the loopback
    names (``web/security.py``: other ``Host`` headers get 421).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    store: Path = field(default_factory=lambda: Path("results.duckdb"))
    data_dir: Path | None = None
    max_replications: int = 20000
    max_upload_bytes: int = MIB
    max_concurrent_jobs: int = 1
    max_queued_jobs: int = 8
    allow_remote: bool = False
    chunk_size: int = 250
    backend: str = "numba"
    max_replay_frames: int = 2000
    max_review_reports: int = 32
    max_concurrent_replays: int = 2
    max_cached_replays: int = 200
    max_connections: int = 200
    sse_poll_s: float = 0.1
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("max_replications", "max_upload_bytes", "max_concurrent_jobs", "chunk_size",
                     "max_concurrent_replays", "max_connections", "max_review_reports",
                     "max_cached_replays"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.max_queued_jobs < 0:
            raise ValueError(f"max_queued_jobs must be 0 or more (got {self.max_queued_jobs})")
        if self.max_replay_frames < 2:
            raise ValueError(f"max_replay_frames must be at least 2 (got {self.max_replay_frames})")
        if not 0 < self.port < 65536 and self.port != 0:
            raise ValueError(f"port must be 0-65535 (got {self.port})")

    @property
    def resolved_data_dir(self) -> Path:
        """The data folder as an absolute path (``data_dir``, or a folder beside the store)."""
        base = self.data_dir if self.data_dir is not None else Path(self.store).parent / "responsesim-web"
        return Path(base).resolve()

    def with_changes(self, **changes: object) -> WebSettings:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]
