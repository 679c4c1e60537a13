"""Bounded load test of the web server on loopback (issue 8, item 5).

A real server process (``python -m responsesim.web``) gets 40 concurrent clients, each sending a mix of
small runs (20 replications), bad requests (malformed TOML, a 2 MiB upload, absurd replication counts, a
path as file name, unknown runs) and reads. Every response must be 2xx, 4xx, 429 or 503 -- never a 500,
never a hang (every request has a client timeout) -- the server's resident memory must stay bounded, and
every accepted run must finish and be in the store (zero lost). The counts are printed (``-s``).
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from responsesim.store import ResultStore

CLIENTS = 40
REPLICATIONS = 20
MAX_QUEUED = 3  # with one job running at a time: at most 4 runs accepted at once, the rest get 429
TIMEOUT_S = 60.0
MIB = 1 << 20
# RSS may grow by at most this much over the warmed-up server: a run's outcomes are a few kB, a queued job
# holds one compiled scenario (~0.1 MiB), bodies are capped at 1 MiB and at most 200 connections are open.
RSS_GROWTH_LIMIT = 200 * MIB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss(pid: int) -> int:
    """Resident set size of a process (bytes), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RssSampler(threading.Thread):
    """Samples a process's RSS every 50 ms; ``peak`` is the largest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.peak = max(self.peak, _rss(self.pid))
                self.samples += 1
            except (OSError, RuntimeError):
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    port = _free_port()
    store = tmp_path / "results.duckdb"
    cmd = [sys.executable, "-m", "responsesim.web", "--port", str(port), "--store", str(store),
           "--data-dir", str(tmp_path / "data"), "--max-concurrent-jobs", "1",
           "--max-queued-jobs", str(MAX_QUEUED)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    try:
        yield url, proc, store
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _client(k: int, url: str, out: dict[str, Any]) -> None:
    """One user: a small run, then bad requests and reads, in an order that depends on ``k``."""
    statuses: collections.Counter[int] = out["statuses"]

    async def call(c: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response | None:
        t0 = time.monotonic()
        try:
            r = await c.request(method, path, **kw)
            out["latency"][f"{method} {path.split('/')[2]}"].append(time.monotonic() - t0)
        except httpx.TimeoutException:
            out["timeouts"] += 1
            return None
        except httpx.TransportError as exc:  # e.g. the server closed a refused upload
            out["transport_errors"].append(f"{method} {path}: {type(exc).__name__}")
            return None
        statuses[r.status_code] += 1
        if r.status_code >= 500 and r.status_code != 503:
            out["server_errors"].append(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r

    huge = b"{" + b" " * (2 * MIB) + b"}"
    run = {"scenario_id": "default", "form": {"replications": REPLICATIONS, "seed": k}, "label": f"load {k}"}
    bad = [
        ("POST", "/api/validate", {"json": {"toml": "name = = 1\n", "filename": "bad.toml"}}, 400),
        ("POST", "/api/runs", {"json": {"form": {"replications": 10**9}}}, 422),
        ("POST", "/api/runs", {"json": {"toml": "name = 'x'\n", "filename": "../../etc/x.toml"}}, 400),
        ("GET", "/api/runs/20200101-000000-deadbeef", {}, 404),
        ("POST", "/api/validate", {"content": huge, "headers": {"content-type": "application/json"}}, 413),
    ]
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S) as c:
        order = bad[k % len(bad) :] + bad[: k % len(bad)]
        r = await call(c, "POST", "/api/runs", json=run)
        if r is not None and r.status_code == 202:
            out["accepted"].append(r.json()["job_id"])
        elif r is not None:
            assert r.status_code in (429, 503), r.text
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) > 0
            out["refused"] += 1
        for method, path, kw, expected in order:
            got = await call(c, method, path, **kw)
            if got is not None and got.status_code not in (expected, 503):
                out["unexpected"].append(f"{method} {path}: {got.status_code}, expected {expected}")
        await call(c, "GET", "/api/runs")
        await call(c, "GET", "/api/health")


async def _load(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "statuses": collections.Counter(),
        "accepted": [],
        "refused": 0,
        "timeouts": 0,
        "transport_errors": [],
        "server_errors": [],
        "unexpected": [],
        "latency": collections.defaultdict(list),
    }
    await asyncio.gather(*(_client(k, url, out) for k in range(CLIENTS)))
    return out


def test_server_under_load_keeps_answering_and_loses_nothing(server: Any) -> None:
    url, proc, store = server
    # warm up: one run end to end (imports, first simulation, first store write), then measure the base RSS
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as c:
        warm = {"scenario_id": "default", "form": {"replications": 2}}
        job = c.post("/api/runs", json=warm).json()["job_id"]
        while c.get(f"/api/jobs/{job}").json()["status"] not in ("done", "error", "cancelled"):
            time.sleep(0.05)
        c.get("/api/runs").raise_for_status()
    base = _rss(proc.pid)
    sampler = RssSampler(proc.pid)
    sampler.start()
    started = time.monotonic()
    out = asyncio.run(_load(url))
    burst_s = time.monotonic() - started
    # every accepted job finishes and its run is listed
    finished: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as c:
        deadline = time.monotonic() + 120
        while len(finished) < len(out["accepted"]):
            assert time.monotonic() < deadline, "accepted jobs did not finish"
            for jid in out["accepted"]:
                if jid not in finished:
                    st = c.get(f"/api/jobs/{jid}").json()
                    if st["status"] in ("done", "error", "cancelled"):
                        finished[jid] = st
            time.sleep(0.1)
        listed = {r["run_id"]: r for r in c.get("/api/runs").json()}
    total_s = time.monotonic() - started
    sampler.stop()
    statuses = dict(sorted(out["statuses"].items()))
    print(
        f"\nload: {CLIENTS} clients, {sum(statuses.values())} responses by status {statuses}; "
        f"runs accepted {len(out['accepted'])}, refused {out['refused']} (429/503); "
        f"timeouts {out['timeouts']}; transport errors {len(out['transport_errors'])}; "
        f"burst {burst_s:.1f} s, all runs finished after {total_s:.1f} s; "
        f"server RSS {base / MIB:.0f} MiB warm, peak {sampler.peak / MIB:.0f} MiB ({sampler.samples} samples)"
    )
    for what, lat in sorted(out["latency"].items()):
        print(f"  {what:<14} n={len(lat):3d} median {np.median(lat):.2f} s, max {max(lat):.2f} s")
    assert not out["server_errors"], out["server_errors"]
    assert out["timeouts"] == 0
    assert not out["transport_errors"], out["transport_errors"]
    assert not out["unexpected"], out["unexpected"]
    assert all(s < 500 or s == 503 for s in statuses)
    assert out["accepted"] and out["refused"], "the burst should both fill the queue and be refused"
    assert {st["status"] for st in finished.values()} == {"done"}
    run_ids = {st["run_id"] for st in finished.values()}
    assert run_ids <= set(listed)
    assert sampler.peak - base < RSS_GROWTH_LIMIT
    # the store itself holds every accepted run with all its replications (read after the server stops)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    with ResultStore(store, read_only=True) as rs:
        for run_id in run_ids:
            assert len(rs.load_outcomes(run_id)) == REPLICATIONS
    assert os.path.getsize(store) > 0
