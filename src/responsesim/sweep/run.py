"""Run a sweep: tasks are (point, chunk of replications); results go to a DuckDB file chunk by chunk.

Executors: in-process (``workers=1``), a local ``ProcessPoolExecutor`` (default), or a dask
``distributed`` cluster (``scheduler="tcp://host:port"`` or a ``distributed.Client``). Only the calling
process writes to the store, one transaction per finished chunk; results depend only on (seed,
replication index), so every executor and every interruption/resume gives the same numbers.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.engine.run import run_chunk
from responsesim.engine.version import model_version
from responsesim.scenario.compile import Params
from responsesim.store import StoreError
from responsesim.sweep.spec import Sweep
from responsesim.sweep.store import SweepStore


def _code_version() -> str:
    from responsesim.api import code_version

    return code_version()


def provenance(sweep: Sweep, backend: str) -> dict[str, Any]:
    """What ran the sweep (``SweepStore.PROVENANCE_COLUMNS``): git commit, backend, versions, and the
    calibration and base scenario texts (the sweep file names its base scenario only by path)."""
    import json

    from responsesim.api import calibration_text, environment, git_revision, input_files

    commit, dirty = git_revision()
    base = sweep.points[0].scenario
    files = input_files(base)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "backend": backend,
        **environment(),
        "calibration_version": base.calibration.version,
        "calibration_hash": base.calibration.sha256,
        "calibration_toml": calibration_text(base.calibration)[0],
        "base_scenario_source": base.source,
        "base_scenario_toml": base.text,
        "input_files_json": json.dumps(files, sort_keys=True) if files else None,
        "replications_per_point": sweep.replications_per_point,
        "chunk_size": sweep.chunk_size,
    }


def run_task(
    params: Params, first_rep: int, n: int, backend: str = "numba", draws_json: str | None = None
) -> pd.DataFrame:
    """One task: replications ``first_rep .. first_rep + n - 1`` of one point (runs on a worker).

    ``draws_json``: the posterior draws of the sweep (``api.ParameterDraws.stored``); replication ``r`` runs
    at draw ``r % draws``, the same at every point, so points stay paired. Column ``draw`` (-1: none)."""
    from responsesim.api import ParameterDraws

    reps = np.arange(first_rep, first_rep + n, dtype=np.int64)
    draws = ParameterDraws.from_stored(draws_json, reps) if draws_json else ParameterDraws("point")
    df = run_chunk(params, reps, theta=draws.theta, backend=backend)
    df.insert(1, "draw", draws.draw if draws.draw is not None else np.full(n, -1, dtype=np.int64))
    return df


class SchedulerError(Exception):
    """The dask scheduler cannot be used (distributed not installed, bad address, unreachable)."""


def connect(scheduler: str, timeout_s: float = 10.0) -> Any:
    """A ``distributed.Client`` connected to ``scheduler`` (e.g. ``tcp://host:8786``)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise SchedulerError("--scheduler needs dask distributed: pip install 'dask[distributed]'") from exc
    try:
        return Client(scheduler, timeout=timeout_s)
    except (OSError, ValueError, TypeError) as exc:
        raise SchedulerError(f"cannot connect to scheduler {scheduler!r}: {exc}") from exc


@dataclass(frozen=True)
class Task:
    point_id: int
    chunk_index: int
    first_rep: int
    n: int


@dataclass(frozen=True)
class SweepRun:
    """What a call of ``run_sweep`` did."""

    sweep_id: str
    out: Path
    resumed: bool
    total_chunks: int
    already_done: int
    ran: int
    complete: bool


def pending_tasks(sweep: Sweep, done: set[tuple[int, int]]) -> list[Task]:
    return [
        Task(p.point_id, k, first, n)
        for p in sweep.points
        for k, first, n in sweep.chunk_ranges()
        if (p.point_id, k) not in done
    ]


def _results_local(
    sweep: Sweep, tasks: list[Task], workers: int, backend: str = "numba", draws_json: str | None = None
) -> Iterator[tuple[Task, pd.DataFrame]]:
    params = {p.point_id: p.scenario.params for p in sweep.points}
    if workers <= 1:
        for t in tasks:
            yield t, run_task(params[t.point_id], t.first_rep, t.n, backend, draws_json)
        return
    ex = cf.ProcessPoolExecutor(max_workers=workers)
    try:
        futs = {
            ex.submit(run_task, params[t.point_id], t.first_rep, t.n, backend, draws_json): t for t in tasks
        }
        for f in cf.as_completed(futs):
            yield futs[f], f.result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _results_distributed(
    sweep: Sweep, tasks: list[Task], client: Any, backend: str = "numba", draws_json: str | None = None
) -> Iterator[tuple[Task, pd.DataFrame]]:
    from distributed import as_completed

    params = {p.point_id: p.scenario.params for p in sweep.points}
    futs = {}
    for t in tasks:
        f = client.submit(run_task, params[t.point_id], t.first_rep, t.n, backend, draws_json, pure=False)
        futs[f] = t
    try:
        for f in as_completed(list(futs)):
            yield futs[f], f.result()
    finally:
        client.cancel(list(futs))


class StaleResultsError(StoreError):
    """A stored sweep was computed (in part) under another calibration or model version."""


def stale_message(
    out: Path, sweep: Sweep, stale: list[tuple[int, int, str | None, str | None]], cal_key: str, model: str
) -> str:
    """Plain words: which chunks are stale and why, and what to do."""
    cals = sorted({c or "not recorded" for _, _, c, _ in stale if c != cal_key})
    models = sorted({m or "not recorded" for _, _, _, m in stale if m != model})
    why = []
    if cals:
        why.append(f"calibration {', '.join(cals)} (now {cal_key})")
    if models:
        why.append(f"model version {', '.join(models)} (now {model})")
    return (
        f"results store {out}: {len(stale)} of the {sweep.n_chunks} chunks of sweep {sweep.sweep_id} "
        f"({sweep.name}) were computed under {' and '.join(why)}; resuming would mix their numbers with "
        "new ones. Run again with --recompute-stale to recompute those chunks, or use another --out file."
    )


def run_sweep(
    sweep: Sweep,
    out: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    max_chunks: int | None = None,
    on_chunk: Callable[[Task, int, int], None] | None = None,
    backend: str = "numba",
    recompute_stale: bool = False,
) -> SweepRun:
    """Run the chunks of ``sweep`` not yet stored in ``out``; each finished chunk is committed at once.

    ``workers``: local processes (None/0 = all cores, 1 = in this process). ``scheduler``: address of a
    dask ``distributed`` scheduler (or pass ``client``). ``max_chunks``: stop after storing that many
    (for tests and partial runs). ``on_chunk(task, done, total)`` is called after each stored chunk.
    ``backend``: engine backend (every backend gives the same numbers); recorded with the sweep's
    provenance when the sweep is first registered.

    Every chunk is stored with the calibration key and model version that produced it. Resuming a sweep
    whose stored chunks were made under another calibration or model version raises ``StaleResultsError``
    naming them, unless ``recompute_stale``: then those chunks are deleted and computed again.
    """
    from responsesim.api import parameter_draws

    # posterior draws of the model parameters, shared by every point (paired); the chunks record them
    draws = parameter_draws(sweep.points[0].scenario, sweep.replications_per_point)
    draws_json = draws.stored()
    cal_key = f"{sweep.points[0].scenario.calibration.key}|{draws.mode}:{draws.n_draws}"
    model = model_version()
    with SweepStore(out) as store:
        resumed = store.register(
            sweep.sweep_id,
            sweep.name,
            sweep.text,
            sweep.spec_hash,
            _code_version(),
            sweep.seed,
            [(p.point_id, p.params_json, p.scenario_hash) for p in sweep.points],
            provenance(sweep, backend),
        )
        stale = store.stale_chunks(sweep.sweep_id, cal_key, model)
        if stale and not recompute_stale:
            raise StaleResultsError(stale_message(out, sweep, stale, cal_key, model))
        if stale:
            ranges = {k: (first, n) for k, first, n in sweep.chunk_ranges()}
            store.drop_chunks(sweep.sweep_id, [(p, k) for p, k, _, _ in stale], ranges)
        done = store.done_chunks(sweep.sweep_id)
        already = len(done)
        tasks = pending_tasks(sweep, done)
        if max_chunks is not None:
            tasks = tasks[: max(0, max_chunks)]
        ran = 0
        own_client = None
        if tasks:
            if client is None and scheduler is not None:
                own_client = client = connect(scheduler)
            try:
                if client is not None:
                    results = _results_distributed(sweep, tasks, client, backend, draws_json)
                else:
                    n_workers = workers if workers else os.cpu_count() or 1
                    results = _results_local(sweep, tasks, min(n_workers, len(tasks)), backend, draws_json)
                try:
                    for task, df in results:
                        sid = sweep.sweep_id
                        if store.write_chunk(
                            sid, task.point_id, task.chunk_index, task.first_rep, df, cal_key, model
                        ):
                            ran += 1
                        if on_chunk is not None:
                            on_chunk(task, already + ran, sweep.n_chunks)
                finally:
                    close = getattr(results, "close", None)
                    if close is not None:
                        close()
            finally:
                if own_client is not None:
                    own_client.close()
        complete = len(store.done_chunks(sweep.sweep_id)) == sweep.n_chunks
    return SweepRun(
        sweep_id=sweep.sweep_id,
        out=Path(out),
        resumed=resumed,
        total_chunks=sweep.n_chunks,
        already_done=already,
        ran=ran,
        complete=complete,
    )
