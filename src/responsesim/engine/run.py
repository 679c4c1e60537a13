"""Run replications on the compiled engine: batching, threads, the outcome table, observation.

Results depend only on (seed, replication index): chunk size, worker count and order never change a
number. ``run_chunk`` runs one batch; ``simulate`` splits a run into chunks over a thread pool (the
compiled loop releases the GIL); ``observe`` advances a batch tick by tick through the same rules and
calls an observer after every tick (web replay, invariant tests).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from responsesim.codes import END_REASON_NAMES, ROLE_NAMES
from responsesim.engine.arrays import engine_input
from responsesim.engine.backend import check_backend
from responsesim.engine.types import Outcomes, State, empty_outcomes, empty_state, make_theta, scratch
from responsesim.scenario.compile import Params

if TYPE_CHECKING:  # pandas is imported when a table is built, so runs can start before it is loaded
    import pandas as pd

#: called with the state of every replication after each tick (and once at t = 0)
Observer = Callable[[State, Params], None]

#: with several workers, a run is cut into at least this many chunks per worker (attacks vary in length:
#: smaller chunks keep every worker busy to the end) ...
CHUNKS_PER_WORKER = 4
#: ... of at least this many replications (each chunk costs about 0.3 ms to set up)
MIN_CHUNK = 50

OUTCOME_COLUMNS: tuple[str, ...] = (
    "rep",
    "killed",
    "died_awaiting_care",
    "deaths",
    "wounded",
    "critical",
    "evacuated",
    "sheltered",
    "shots_fired",
    "attack_duration_s",
    "end_reason",
    "stopped_by",
    "first_shot_s",
    "first_police_s",
    "first_entry_s",
    "first_contact_s",
    "barricade_s",
    "officers_shot",
    "officers_killed",
    "ended_before_police",
    "median_time_to_care_s",
)


@functools.cache
def _kernel() -> SimpleNamespace:
    """The engine's entry points (``native.ENTRY_POINTS``): from the native module when it is built (or
    can be), else compiled by Numba's JIT; loaded on first use (importing Numba costs about a second)."""
    from responsesim.engine import native

    def jit(name: str) -> Callable[[], Callable[..., Any]]:
        def get() -> Callable[..., Any]:
            from responsesim.engine import kernel, rng

            return getattr(kernel, name, None) or getattr(rng, name)

        return get

    mod = native.load()
    if mod is None:
        return SimpleNamespace(engine="jit", **{n: jit(n)() for n in native.ENTRY_POINTS})
    return SimpleNamespace(engine="native", **{n: mod.function(n, jit(n)) for n in native.ENTRY_POINTS})


def _indices(reps: Any) -> np.ndarray:
    """Replication indices as the engine takes them: int64, contiguous, writeable (a copy if needed)."""
    return np.require(reps, dtype=np.int64, requirements=["C", "W"])


def _keys(seed: int, reps: np.ndarray) -> np.ndarray:
    return np.asarray(_kernel().replication_keys(int(seed), _indices(reps)))


def outcome_table(reps: np.ndarray, out: Outcomes) -> pd.DataFrame:
    """The outcome table (``OUTCOME_COLUMNS``) from the engine's outcome arrays, rows in ``reps`` order."""
    import pandas as pd

    return pd.DataFrame(outcome_columns(reps, out), columns=list(OUTCOME_COLUMNS))


def outcome_columns(reps: np.ndarray, out: Outcomes) -> dict[str, np.ndarray]:
    """The columns of ``outcome_table`` as NumPy arrays, in ``OUTCOME_COLUMNS`` order (no pandas)."""
    died = out.died_awaiting_care
    stopped = np.array([ROLE_NAMES[x] if x >= 0 else "" for x in out.stopped_by], dtype=object)
    return {
        "rep": reps.astype(np.int64),
        "killed": out.killed,
        "died_awaiting_care": died,
        "deaths": out.killed + died,
        "wounded": out.wounded_light + out.critical - died,
        "critical": out.critical,
        "evacuated": out.evacuated,
        "sheltered": out.sheltered,
        "shots_fired": out.shots_fired,
        "attack_duration_s": out.attack_duration_s,
        "end_reason": np.array([END_REASON_NAMES[x] for x in out.end_reason], dtype=object),
        "stopped_by": stopped,
        "first_shot_s": out.first_shot_s,
        "first_police_s": out.first_police_s,
        "first_entry_s": out.first_entry_s,
        "first_contact_s": out.first_contact_s,
        "barricade_s": out.barricade_s,
        "officers_shot": out.officers_shot,
        "officers_killed": out.officers_killed,
        "ended_before_police": out.ended_before_police,
        "median_time_to_care_s": out.median_time_to_care_s,
    }


def _state_for(params: Params, r: int) -> State:
    return empty_state(r, params.n_groups, params.n_units, params.n_spaces, params.n_occupants)


def run_chunk(
    params: Params,
    reps: np.ndarray,
    observer: Observer | None = None,
    theta: Mapping[str, np.ndarray] | None = None,
    backend: str = "numba",
) -> pd.DataFrame:
    """Simulate the replications ``reps``; one outcome row per replication, in ``reps`` order.

    ``theta`` optionally gives per-replication values (aligned with ``reps``) of any name of
    ``engine.types.THETA_FIELDS`` (model parameters and scenario levers), e.g. a different calibration
    point for each replication. With an ``observer`` the batch is advanced tick by tick through the same
    rules and the observer sees every replication's state after each tick.
    """
    check_backend(backend)
    reps = _indices(reps)
    if observer is not None:
        ei = engine_input(params)
        return observe(params, reps, observer, th=make_theta(ei.base_theta, reps.shape[0], theta))
    return outcome_table(reps, run_outcomes(params, reps, theta))


def run_outcomes(params: Params, reps: np.ndarray, theta: Mapping[str, np.ndarray] | None = None) -> Outcomes:
    """The engine's outcome arrays for replications ``reps`` (the batch loop; no pandas)."""
    reps = _indices(reps)
    ei = engine_input(params)
    th = make_theta(ei.base_theta, reps.shape[0], theta)
    k = _kernel()
    keys = _keys(params.seed, reps)
    out = empty_outcomes(reps.shape[0])
    st = _state_for(params, 1)
    wk = scratch(params.n_units, params.n_spaces, params.n_groups, params.n_occupants)
    k.run_batch(reps, keys, th, ei.building, ei.scenario, ei.units, ei.forcing, ei.group_space,
                ei.group_size, st, wk, out)  # fmt: skip
    return out


def initial_state(params: Params, reps: np.ndarray, theta: Mapping[str, np.ndarray] | None = None) -> State:
    """The state of replications ``reps`` at t = 0, with the draws made at the start (arrival offsets,
    reaction delays, ...)."""
    reps = _indices(reps)
    ei = engine_input(params)
    th = make_theta(ei.base_theta, reps.shape[0], theta)
    st = _state_for(params, reps.shape[0])
    _kernel().start_all(reps, _keys(params.seed, reps), th, ei.building, ei.scenario, ei.units,
                        ei.group_space, ei.group_size, st)  # fmt: skip
    return st


def observe(
    params: Params,
    reps: np.ndarray,
    observer: Observer,
    th: np.ndarray | None = None,
    max_ticks: int | None = None,
) -> pd.DataFrame:
    """Advance replications ``reps`` together tick by tick, calling ``observer(state, params)`` at t = 0
    and after every tick until every attack has ended; returns their outcome table."""
    reps = _indices(reps)
    ei = engine_input(params)
    th = make_theta(ei.base_theta, reps.shape[0]) if th is None else th
    k = _kernel()
    st = _state_for(params, reps.shape[0])
    wk = scratch(params.n_units, params.n_spaces, params.n_groups, params.n_occupants)
    k.start_all(reps, _keys(params.seed, reps), th, ei.building, ei.scenario, ei.units, ei.group_space,
                ei.group_size, st)  # fmt: skip
    observer(st, params)
    going = bool(st.a_active.any())
    n = 0
    while going and (max_ticks is None or n < max_ticks):
        going = k.step_all(st, th, ei.building, ei.scenario, ei.units, ei.forcing, wk)
        observer(st, params)
        n += 1
    out = empty_outcomes(reps.shape[0])
    k.outcomes_all(st, ei.forcing, ei.scenario, ei.units, wk, out)
    return outcome_table(reps, out)


def chunks(n: int, size: int, start: int = 0) -> Iterator[np.ndarray]:
    """Replication indices in chunks of at most ``size``."""
    for a in range(start, start + n, size):
        yield np.arange(a, min(a + size, start + n), dtype=np.int64)


@dataclass
class Running:
    """A run in progress: chunks computing on worker threads (``start``); ``result`` collects them."""

    parts: list[np.ndarray]
    futures: list[Future[Outcomes]] = field(default_factory=list)
    executor: Executor | None = None
    own_executor: bool = False
    params: Params | None = None
    thetas: list[dict[str, np.ndarray] | None] | None = None  # per chunk, when run in ``result``

    def result(self, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        """The outcome table, one row per replication in order; ``progress(k)`` as chunks finish."""
        return outcome_table(*self.arrays(progress))

    def arrays(self, progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, Outcomes]:
        """(replication indices, the engine's outcome arrays), in order, without pandas; as ``result``."""
        outs: list[Outcomes] = []
        try:
            if self.executor is None:
                assert self.params is not None
                thetas = self.thetas or [None] * len(self.parts)
                for reps, th in zip(self.parts, thetas, strict=True):
                    outs.append(run_outcomes(self.params, reps, th))
                    if progress:
                        progress(len(reps))
            else:
                for fut, reps in zip(self.futures, self.parts, strict=True):
                    outs.append(fut.result())
                    if progress:
                        progress(len(reps))
        finally:
            if self.own_executor and self.executor is not None:
                self.executor.shutdown(cancel_futures=True)
        reps_all = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
        merged = Outcomes(*(np.concatenate(cols) for cols in zip(*outs, strict=True))) if outs else None
        return reps_all, merged if merged is not None else empty_outcomes(0)


def chunk_for(replications: int, chunk_size: int, workers: int) -> int:
    """The chunk ``start`` cuts a run into: ``chunk_size`` at most and, with several workers, small enough
    for ``CHUNKS_PER_WORKER`` chunks a worker, but not below ``MIN_CHUNK``."""
    if workers <= 1:
        return chunk_size
    return min(chunk_size, max(MIN_CHUNK, math.ceil(replications / (CHUNKS_PER_WORKER * workers))))


def start(
    params: Params,
    replications: int,
    *,
    first_rep: int = 0,
    chunk_size: int = 1000,
    workers: int | None = 1,
    executor: Executor | None = None,
    theta: Mapping[str, np.ndarray] | None = None,
) -> Running:
    """Start ``replications`` replications (indices ``first_rep`` onwards) on worker threads and return
    at once: the compiled loop releases the GIL, so the caller can go on (load pandas, read files) while
    they run. With one worker and no executor, the chunks run in ``Running.result``. ``theta``: per-
    replication parameter values (arrays of ``replications`` values, in replication order).

    ``chunk_size`` is the largest chunk; with several workers a run is cut into ``CHUNKS_PER_WORKER``
    chunks a worker or more (of at least ``MIN_CHUNK``), so that 1,000 replications do not run on one
    thread and no worker idles long at the end."""
    n_workers = workers if workers else os.cpu_count() or 1
    parts = list(chunks(replications, chunk_for(replications, chunk_size, n_workers), first_rep))
    if theta is not None:
        for k, v in theta.items():
            if np.shape(v) != (replications,):
                raise ValueError(f"theta[{k!r}]: expected {replications} values, got shape {np.shape(v)}")

    def part_theta(reps: np.ndarray) -> dict[str, np.ndarray] | None:
        if theta is None:
            return None
        return {k: np.asarray(v)[reps - first_rep] for k, v in theta.items()}

    if executor is None and (n_workers <= 1 or len(parts) <= 1):
        return Running(parts, params=params, thetas=[part_theta(r) for r in parts])
    _kernel()  # import the engine here, so the workers compute at once (import needs the GIL)
    own = executor is None
    if executor is None:
        executor = ThreadPoolExecutor(max_workers=min(n_workers, len(parts)))
    futures = [executor.submit(run_outcomes, params, reps, part_theta(reps)) for reps in parts]
    return Running(parts, futures, executor, own, params)


def simulate(
    params: Params,
    replications: int,
    *,
    first_rep: int = 0,
    chunk_size: int = 1000,
    workers: int | None = 1,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    backend: str = "numba",
) -> pd.DataFrame:
    """Run ``replications`` replications (indices ``first_rep`` onwards); one row each, in order.

    ``workers`` > 1 (or 0/None = all cores) runs chunks in a thread pool (the compiled loop releases the
    GIL); any ``concurrent.futures`` executor may be given instead. ``progress`` is called with the
    number of replications just finished.
    """
    check_backend(backend)
    running = start(
        params, replications, first_rep=first_rep, chunk_size=chunk_size, workers=workers, executor=executor
    )
    return running.result(progress)
