"""Shared web fixtures: a real uvicorn server on a free loopback port, with a temp store and data folder.

* ``live_server`` (module scope): one server per test module with the default limits.
* ``start_live_server(**settings)`` (function scope): start a server with other settings, e.g.
  ``start_live_server(max_queued_jobs=0)``; stopped at the end of the test.

Each server is a ``LiveServer`` with ``url`` (``http://127.0.0.1:PORT``), ``settings`` and ``app``.
The server runs in a thread of the test process (``uvicorn.Server`` on a socket bound before start,
so there is no port race).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from responsesim.web.serve import uvicorn_config
from responsesim.web.settings import WebSettings


@dataclass
class LiveServer:
    """A running server: ``url`` without a trailing slash."""

    url: str
    settings: WebSettings
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread (jobs are cancelled by the app's shutdown)."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(settings: WebSettings) -> LiveServer:
    """Start ``create_app(settings)`` on a fresh loopback socket in a daemon thread; wait until it serves."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = settings.with_changes(host="127.0.0.1", port=port)
    config = uvicorn_config(settings, log_level="warning")
    server = uvicorn.Server(config)
    app = config.app
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test web server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", settings, app, server, thread)


def temp_settings(root: Path, **changes: Any) -> WebSettings:
    """Settings with the store and data folder under ``root``."""
    return WebSettings(**{"store": root / "results.duckdb", "data_dir": root / "data", **changes})


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with default limits, shared by the tests of one module."""
    srv = start_server(temp_settings(tmp_path_factory.mktemp("web")))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def start_live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``start_live_server(**settings_changes)`` -> a server stopped after the test."""
    started: list[LiveServer] = []

    def _start(**changes: Any) -> LiveServer:
        root = tmp_path / f"server{len(started)}"
        root.mkdir()
        srv = start_server(temp_settings(root, **changes))
        started.append(srv)
        return srv

    try:
        yield _start
    finally:
        for srv in started:
            srv.stop()
