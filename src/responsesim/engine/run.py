"""Run replications: chunking, compaction of finished replications, outcome table.

A chunk of replications is stepped together until every attack in it has ended; replications whose
attack ended are taken out of the batch (their final state kept) so the long tail of slow replications
does not cost the whole chunk. Results depend only on (seed, replication index): chunk size, worker
count and order never change a number.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from responsesim.casualty import care_times
from responsesim.engine.backend import check_backend
from responsesim.engine.state import (
    END_REASON_NAMES,
    ONGOING,
    Draws,
    State,
    draw_initial,
    initial_state,
    make_theta,
)
from responsesim.engine.step import CriticalEvents, step, tables
from responsesim.scenario.compile import ROLE_NAMES, Params

Observer = Callable[[State, Params], None]

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
    "officers_shot",
    "officers_killed",
    "ended_before_police",
    "median_time_to_care_s",
)


@dataclass(frozen=True)
class _Finished:
    state: State
    draws: Draws


def _rel(t: np.ndarray, origin: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = t - origin
    return np.where(np.isfinite(out), out, np.nan)


def _median_by(pos: np.ndarray, values: np.ndarray, r: int) -> np.ndarray:
    """Median of the finite ``values`` of each position 0..r-1 (NaN where none), as ``np.median`` gives it.

    Sorted by (position, value), the finite values of a position come first in its run; the median is the
    middle one, or the mean ``(a + b) / 2`` of the two middle ones, as ``np.median`` computes it.
    """
    finite = np.isfinite(values)
    p, v = pos[finite], values[finite]
    order = np.lexsort((v, p))
    p, v = p[order], v[order]
    n = np.bincount(p, minlength=r)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    out = np.full(r, np.nan)
    has = n > 0
    lo = start[has] + (n[has] - 1) // 2
    hi = start[has] + n[has] // 2
    out[has] = np.where(lo == hi, v[lo], (v[lo] + v[hi]) / 2.0)
    return out


def _outcomes(params: Params, fin: _Finished, crit: dict[str, np.ndarray]) -> pd.DataFrame:
    s, d = fin.state, fin.draws
    r = s.rep.shape[0]
    ended = s.end_reason != ONGOING
    arrival = s.t_first_shot[:, None] + d.u_offset
    if params.unit_arrival_t.size:
        arrival = np.where(np.isnan(params.unit_arrival_t)[None, :], arrival, params.unit_arrival_t[None, :])
    armed_arrival = np.where(params.unit_armed[None, :], arrival, np.inf)
    police_t = armed_arrival.min(axis=1) if armed_arrival.shape[1] else np.full(r, np.inf)
    # critical casualties: care time and death awaiting care
    died = np.zeros(r, dtype=np.int64)
    med_care = np.full(r, np.nan)
    if crit["pos"].size:
        pos = crit["pos"]
        care = care_times(
            params,
            s.keys[pos],
            crit["index"],
            crit["wound_t"],
            s.end_t[pos],
            ended[pos],
            s.first_entry_t[pos],
        )
        dies = crit["wound_t"] + crit["survival_s"] < care
        died = np.bincount(pos, weights=dies, minlength=r).astype(np.int64)
        med_care = _median_by(pos, care - crit["wound_t"], r)
    critical = s.n_critical.astype(np.int64)
    stopped = np.array([ROLE_NAMES[x] if x >= 0 else "" for x in s.stopped_by], dtype=object)
    with np.errstate(invalid="ignore"):
        duration = np.where(np.isfinite(s.t_first_shot), s.end_t - s.t_first_shot, s.end_t)
    return pd.DataFrame(
        {
            "rep": s.rep.astype(np.int64),
            "killed": s.killed.astype(np.int64),
            "died_awaiting_care": died,
            "deaths": s.killed.astype(np.int64) + died,
            "wounded": s.wounded_light.astype(np.int64) + critical - died,
            "critical": critical,
            "evacuated": s.evacuated.astype(np.int64),
            "sheltered": s.in_building().astype(np.int64),
            "shots_fired": s.shots.astype(np.int64),
            "attack_duration_s": duration,
            "end_reason": np.array([END_REASON_NAMES[x] for x in s.end_reason], dtype=object),
            "stopped_by": stopped,
            "first_shot_s": np.where(np.isfinite(s.t_first_shot), s.t_first_shot, np.nan),
            "first_police_s": _rel(police_t, s.t_first_shot),
            "first_entry_s": _rel(s.first_entry_t, s.t_first_shot),
            "first_contact_s": _rel(s.first_contact_t, s.t_first_shot),
            "officers_shot": s.officers_shot.astype(np.int64),
            "officers_killed": s.officers_killed.astype(np.int64),
            "ended_before_police": ended & (s.end_t < police_t),
            "median_time_to_care_s": med_care,
        },
        columns=list(OUTCOME_COLUMNS),
    )


def run_chunk(
    params: Params,
    reps: np.ndarray,
    observer: Observer | None = None,
    compact_every: int = 16,
    theta: Mapping[str, np.ndarray] | None = None,
    backend: str = "numpy",
) -> pd.DataFrame:
    """Simulate the replications ``reps`` together; one outcome row per replication, in ``reps`` order.

    ``theta`` optionally gives per-replication values (aligned with ``reps``) of engine parameters
    (``scenario.compile.THETA_FIELDS``), e.g. a different calibration point for each replication.
    ``backend`` names the engine backend (``engine.backend.BACKENDS``); all give the same table.
    """
    check_backend(backend)
    reps = np.asarray(reps, dtype=np.int64)
    if backend == "numba":
        if observer is not None:
            raise ValueError("an observer sees the batch tick by tick: it needs backend='numpy'")
        fast = _numba_module()
        st, dr, crit_n = fast.run_numba(params, reps, theta)
        df = _outcomes(params, _Finished(st, dr), crit_n)
        return df.set_index("rep").loc[reps].reset_index()
    tab = tables(params)
    th = make_theta(params, reps.shape[0], theta)
    state = initial_state(params, reps, th)
    draws = draw_initial(params, state.keys, th)
    finished: list[_Finished] = []
    ev: dict[str, list[np.ndarray]] = {"rep": [], "index": [], "wound_t": [], "survival_s": []}

    def record(e: CriticalEvents, st: State) -> None:
        if e.pos.size:
            ev["rep"].append(st.rep[e.pos])
            ev["index"].append(e.index)
            ev["wound_t"].append(e.wound_t)
            ev["survival_s"].append(e.survival_s)

    if observer is not None:
        observer(state, params)
    while state.rep.size:
        state, e = step(state, params, draws, tab)
        record(e, state)
        if observer is not None:
            observer(state, params)
        if state.tick % compact_every == 0 or not state.a_active.any():
            done = ~state.a_active
            if done.any():
                finished.append(_Finished(state.take(done), draws.take(done)))
                keep = ~done
                state, draws = state.take(keep), draws.take(keep)

    fin = _Finished(
        state=_concat_states([f.state for f in finished]),
        draws=Draws.concat([f.draws for f in finished]),
    )
    # map critical events to positions in ``fin``
    pos_of = {int(rp): i for i, rp in enumerate(fin.state.rep)}
    rep_ev = np.concatenate(ev["rep"]) if ev["rep"] else np.zeros(0, dtype=np.int64)
    crit = {
        "pos": np.array([pos_of[int(x)] for x in rep_ev], dtype=np.int64),
        "index": np.concatenate(ev["index"]).astype(np.int64) if ev["index"] else np.zeros(0, dtype=np.int64),
        "wound_t": np.concatenate(ev["wound_t"]) if ev["wound_t"] else np.zeros(0),
        "survival_s": np.concatenate(ev["survival_s"]) if ev["survival_s"] else np.zeros(0),
    }
    df = _outcomes(params, fin, crit)
    return df.set_index("rep").loc[reps].reset_index()


def _numba_module() -> Any:
    """``engine.fast`` (imported on first use, so a missing Numba only affects the numba backend)."""
    try:
        from responsesim.engine import fast
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"the numba backend needs the 'numba' package ({exc}); install it or use backend='numpy'"
        ) from exc
    return fast


def _concat_states(states: list[State]) -> State:
    first = states[0]
    fields: dict[str, Any] = {}
    for name in State.__dataclass_fields__:
        v = getattr(first, name)
        fields[name] = np.concatenate([getattr(x, name) for x in states]) if isinstance(v, np.ndarray) else v
    return State(**fields)


def chunks(n: int, size: int, start: int = 0) -> Iterator[np.ndarray]:
    """Replication indices in chunks of at most ``size``."""
    for a in range(start, start + n, size):
        yield np.arange(a, min(a + size, start + n), dtype=np.int64)


def _run_chunk_task(args: tuple[Params, np.ndarray, str]) -> pd.DataFrame:
    params, reps, backend = args
    return run_chunk(params, reps, backend=backend)


def simulate(
    params: Params,
    replications: int,
    *,
    first_rep: int = 0,
    chunk_size: int = 2500,
    workers: int | None = 1,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    backend: str = "numpy",
) -> pd.DataFrame:
    """Run ``replications`` replications (indices ``first_rep`` onwards); one row each, in order.

    ``workers`` > 1 (or 0/None = all cores) uses a local process pool (for the ``numba`` backend, whose
    compiled kernel releases the GIL, a thread pool: no process start-up or result pickling); any
    ``concurrent.futures`` executor may be given instead. ``progress`` is called with the number of
    replications just finished.
    ``backend`` names the engine backend (``engine.backend.BACKENDS``: numpy, numba); every backend gives
    the same table for the same seed.
    """
    check_backend(backend)
    parts = list(chunks(replications, chunk_size, first_rep))
    results: list[pd.DataFrame] = []
    n_workers = workers if workers else os.cpu_count() or 1
    own: Executor | None = None
    if executor is None and n_workers > 1 and len(parts) > 1:
        pool = ThreadPoolExecutor if backend == "numba" else ProcessPoolExecutor
        own = executor = pool(max_workers=min(n_workers, len(parts)))
    try:
        if executor is None:
            for reps in parts:
                results.append(run_chunk(params, reps, backend=backend))
                if progress:
                    progress(len(reps))
        else:
            futures = [executor.submit(_run_chunk_task, (params, reps, backend)) for reps in parts]
            for fut, reps in zip(futures, parts, strict=True):
                results.append(fut.result())
                if progress:
                    progress(len(reps))
    finally:
        if own is not None:
            own.shutdown(cancel_futures=True)
    return pd.concat(results, ignore_index=True)
