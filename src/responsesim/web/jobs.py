"""Bounded job manager: simulations run in a small pool of worker threads, in chunks of replications.

* At most ``max_concurrent_jobs`` jobs run at once; at most ``max_queued_jobs`` more wait. A submission
  beyond that (counting every job not yet finished) raises ``QueueFullError`` (the API answers 429 with
  Retry-After), so memory stays bounded whatever the number of clients.
* Progress is counted per chunk (``api.run``'s progress callback); cancelling sets a flag that the next
  chunk boundary turns into ``JobCancelledError``, so a cancelled job stops within one chunk.
* A finished run is written to the store (one transaction, under the store lock) BEFORE the job is
  marked done: a client that sees ``done`` can always reopen the run.
* Finished jobs are kept (for status and event streams) up to ``keep_finished``; the oldest are dropped.
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from responsesim import api
from responsesim.scenario.load import Scenario
from responsesim.web.runs import RunStore

__all__ = ["Job", "JobCancelledError", "JobManager", "QueueFullError"]

log = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "error", "cancelled"]
FINAL: frozenset[str] = frozenset({"done", "error", "cancelled"})


class QueueFullError(Exception):
    """Too many jobs waiting; ``retry_after_s`` is a hint for the client (seconds)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class JobCancelledError(Exception):
    """Raised at a chunk boundary of a cancelled job (stops the simulation)."""


@dataclass
class Job:
    """One simulation request. ``done``/``total`` count replications; times are ``time.monotonic()``."""

    job_id: str
    scenario: Scenario | None
    label: str | None
    total: int
    about: dict[str, Any] = field(default_factory=dict)  # stored in the run's summary (levers, base scenario)
    status: Status = "queued"
    done: int = 0
    run_id: str | None = None
    error: str | None = None
    created: float = field(default_factory=time.monotonic)
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    version: int = 0  # bumped on every change (event streams poll it)

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "run_id": self.run_id,
            "error": self.error,
        }


Runner = Callable[[Scenario, Callable[[int], None]], "api.RunResult"]


class JobManager:
    """Queue and run jobs; thread-safe. ``start()`` launches the workers, ``shutdown()`` stops them."""

    def __init__(
        self,
        store: RunStore,
        *,
        max_concurrent_jobs: int,
        max_queued_jobs: int,
        chunk_size: int,
        backend: str = "numba",
        keep_finished: int = 1000,
        runner: Runner | None = None,
    ) -> None:
        self.store = store
        self.max_concurrent_jobs = max_concurrent_jobs
        self.max_queued_jobs = max_queued_jobs
        self.chunk_size = chunk_size
        self.backend = backend
        self.keep_finished = keep_finished
        self._runner = runner or self._run_scenario
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._finished_order: collections.deque[str] = collections.deque()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._unfinished = 0  # queued or running
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._counter = itertools.count()
        self.accepted = 0
        self.refused = 0

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the worker threads (idempotent)."""
        with self._lock:
            if self._threads:
                return
            for k in range(self.max_concurrent_jobs):
                t = threading.Thread(target=self._worker, name=f"responsesim-job-{k}", daemon=True)
                t.start()
                self._threads.append(t)

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Cancel every unfinished job and stop the workers (waits up to ``timeout_s`` per worker)."""
        with self._lock:
            self._stopping = True
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.status not in FINAL:
                job.cancel_requested.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=timeout_s)
        self._threads.clear()

    # ------------------------------------------------------------------------------------------ requests
    def submit(self, scenario: Scenario, label: str | None, about: dict[str, Any] | None = None) -> Job:
        """Queue a run of ``scenario``; ``QueueFullError`` when ``max_queued_jobs`` are waiting."""
        with self._lock:
            if self._stopping:
                raise QueueFullError("the server is shutting down", retry_after_s=5)
            if self._unfinished >= self.max_concurrent_jobs + self.max_queued_jobs:
                self.refused += 1
                raise QueueFullError(
                    f"too many runs: {self._unfinished} running or waiting (this server runs "
                    f"max_concurrent_jobs = {self.max_concurrent_jobs} at a time and queues "
                    f"max_queued_jobs = {self.max_queued_jobs}); try again when a run has finished",
                    retry_after_s=self._retry_after(),
                )
            job = Job(
                job_id=f"{next(self._counter):06d}-{secrets.token_hex(6)}",
                scenario=scenario,
                label=label,
                about=dict(about or {}),
                total=int(scenario.spec.replications),
            )
            self._jobs[job.job_id] = job
            self._unfinished += 1
            self.accepted += 1
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop; a queued job is cancelled at once, a running one at its next chunk."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status in FINAL:
                return job
            job.cancel_requested.set()
            if job.status == "queued":
                self._finish(job, "cancelled")
        return job

    def ahead(self, job: Job) -> int:
        """Runs a queued ``job`` waits for: those running and those queued before it (0 once it runs)."""
        with self._lock:
            if job.status != "queued":
                return 0
            return sum(
                1
                for j in self._jobs.values()
                if j.status == "running" or (j.status == "queued" and j.job_id < job.job_id)
            )

    def counts(self) -> dict[str, int]:
        """Jobs by status, plus ``accepted``/``refused`` submissions since start."""
        with self._lock:
            out = collections.Counter(j.status for j in self._jobs.values())
            return {**{s: out.get(s, 0) for s in ("queued", "running", "done", "error", "cancelled")},
                    "accepted": self.accepted, "refused": self.refused}  # fmt: skip

    # ------------------------------------------------------------------------------------------ internals
    def _retry_after(self) -> int:
        """Seconds a refused client should wait before trying again (a fixed hint)."""
        return 5

    def _finish(self, job: Job, status: Status, *, error: str | None = None) -> None:
        """Mark ``job`` final (caller holds the lock) and forget the oldest finished jobs."""
        self._unfinished -= 1
        job.status = status
        job.error = error
        job.version += 1
        job.scenario = None  # not needed any more: finished jobs keep only their status
        job.finished.set()
        self._finished_order.append(job.job_id)
        while len(self._finished_order) > self.keep_finished:
            self._jobs.pop(self._finished_order.popleft(), None)

    def _run_scenario(self, scenario: Scenario, progress: Callable[[int], None]) -> api.RunResult:
        return api.run(
            scenario, workers=1, chunk_size=self.chunk_size, progress=progress, backend=self.backend
        )

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":  # cancelled while waiting
                    continue
                job.status = "running"
                job.version += 1
            self._execute(job)

    def _execute(self, job: Job) -> None:
        def progress(n: int) -> None:
            if job.cancel_requested.is_set():
                raise JobCancelledError
            with self._lock:
                job.done = min(job.total, job.done + n)
                job.version += 1
            if job.cancel_requested.is_set():
                raise JobCancelledError

        try:
            if job.cancel_requested.is_set():
                raise JobCancelledError
            assert job.scenario is not None
            result = self._runner(job.scenario, progress)
            summary = result.to_json()
            summary["label"] = job.label
            summary.update(job.about)  # levers changed on the page, the scenario as written
            run_id = self.store.write_run(result, summary)
        except JobCancelledError:
            with self._lock:
                self._finish(job, "cancelled")
            return
        except Exception as exc:  # a failed run must not take the worker down; the client sees why
            log.exception("job %s failed", job.job_id)
            with self._lock:
                self._finish(job, "error", error=f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            job.run_id = run_id
            job.done = job.total
            self._finish(job, "done")
