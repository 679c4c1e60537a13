"""The engine's loop: the rules of ``engine/rules.py`` in the order of docs/model.md.

``step`` advances one replication by one tick. ``run_batch`` runs a batch to its end, one replication at
a time in a small working state (it releases the GIL, so batches run in parallel threads), and writes
one outcome row each. ``step_all`` advances every replication of a full state by one tick, so the same
rules can be observed tick by tick (web replay, invariant tests, counterfactual checks).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from responsesim.engine import rules
from responsesim.engine.jit import njit


class Scratch(NamedTuple):
    """Working arrays reused from tick to tick (no allocation in the loop)."""

    engaged: np.ndarray  # bool [U] engaged this tick (step 9)
    go: np.ndarray  # bool [U] decided to enter this tick (step 3)
    weights: np.ndarray  # float64 [S] choice weights (attacker and officer moves; the first degree entries)
    ring_src: np.ndarray  # int64 [1] the space ``ring`` counts from, -1 none yet (rules.hops_from)
    ring: np.ndarray  # int64 [S] edges from ``ring_src`` to each space (hearing, step 4)
    queue: np.ndarray  # int64 [S] breadth-first queue of rules.hops_from
    cand: np.ndarray  # int64 [G] target groups of this tick
    cand_open: np.ndarray  # bool [G] the target is open (not behind a door window)
    hz: np.ndarray  # float64 [5] competing hazards of step 11
    delays: np.ndarray  # float64 [C] time to care of each critical casualty


def scratch(n_units: int, n_spaces: int, n_groups: int, n_casualties: int) -> Scratch:
    return Scratch(
        engaged=np.zeros(n_units, dtype=np.bool_),
        go=np.zeros(n_units, dtype=np.bool_),
        weights=np.zeros(n_spaces),
        ring_src=np.full(1, -1, dtype=np.int64),
        ring=np.zeros(n_spaces, dtype=np.int64),
        queue=np.zeros(n_spaces, dtype=np.int64),
        cand=np.zeros(max(n_groups, 1), dtype=np.int64),
        cand_open=np.zeros(max(n_groups, 1), dtype=np.bool_),
        hz=np.zeros(5),
        delays=np.zeros(max(n_casualties, 1)),
    )


@njit(_nrt=False)
def step(st, th, bl, sc, un, fo, wk, i: int) -> None:  # type: ignore[no-untyped-def]
    """One tick of replication ``i`` (docs/model.md, steps 1-12)."""
    if not st.a_active[i]:  # 1. an ended replication changes nothing but the clock
        st.tick[i] += 1
        return
    t = st.tick[i] * sc.dt
    rules.arrivals(st, fo, sc, un, i, t)  # 2
    rules.withdrawals(st, fo, un, i, t)  # 3a (replay only)
    rules.entry(st, bl, fo, sc, un, i, t, wk.go)  # 3
    heard = st.last_gf_t[i] >= 0
    rules.alerting(st, bl, sc, i, t, heard, wk.ring_src, wk.ring, wk.queue)  # 4
    rules.locking(st, bl, sc, i, t)  # 5
    rules.group_movement(st, bl, sc, i, t, heard)  # 6
    any_eng = rules.engagement(st, bl, i, t, wk.engaged)  # 9, on the positions before moving
    if fo.wp_t.shape[0] > 0:
        rules.forced_attacker(st, fo, sc, i, t, any_eng)  # 7a (replay only)
    if not st.a_barricaded[i] and not any_eng:
        rules.attacker_movement(st, bl, sc, i, t, wk.weights)  # 7
    rules.officer_movement(st, th, bl, sc, i, t, heard, wk.engaged, wk.weights)  # 8
    if t >= st.a_reload_until[i]:  # 10
        if any_eng:
            rules.fire_at_officers(st, th, sc, i, wk.engaged)
            rules.mark_gunfire(st, i, t)
        elif rules.fire_at_people(st, th, bl, sc, i, t, wk.cand, wk.cand_open):
            rules.mark_gunfire(st, i, t)
    rules.endings(st, th, bl, sc, un, fo, i, t, wk.engaged, wk.hz)  # 11
    rules.clock(st, fo, sc, i)  # 12


@njit(nogil=True, _nrt=False)
def run_batch(reps, keys, th, bl, sc, un, fo, group_space, group_size, st, wk, out) -> None:  # type: ignore[no-untyped-def]
    """Run replications ``reps`` (keys ``keys``, parameters ``th`` [R]) to their end; outcome row r of
    ``out`` for ``reps[r]``. ``st`` is a one-replication working state."""
    for r in range(reps.shape[0]):
        th_r = th[r : r + 1]
        rules.start(st, th_r, bl, sc, un, 0, reps[r], keys[r], group_space, group_size)
        while st.a_active[0]:
            step(st, th_r, bl, sc, un, fo, wk, 0)
        rules.outcome(st, fo, sc, un, out, 0, r, wk.delays)


@njit(_nrt=False)
def start_all(reps, keys, th, bl, sc, un, group_space, group_size, st) -> None:  # type: ignore[no-untyped-def]
    """Fill a full state [R] at t = 0 (for observation tick by tick)."""
    for i in range(reps.shape[0]):
        rules.start(st, th, bl, sc, un, i, reps[i], keys[i], group_space, group_size)


@njit(_nrt=False)
def step_all(st, th, bl, sc, un, fo, wk) -> bool:  # type: ignore[no-untyped-def]
    """One tick of every replication of a full state; whether any attack is still going."""
    going = False
    for i in range(st.rep.shape[0]):
        step(st, th, bl, sc, un, fo, wk, i)
        going = going or st.a_active[i]
    return going


@njit(_nrt=False)
def outcomes_all(st, fo, sc, un, wk, out) -> None:  # type: ignore[no-untyped-def]
    """Outcome rows of every replication of a full state."""
    for i in range(st.rep.shape[0]):
        rules.outcome(st, fo, sc, un, out, i, i, wk.delays)
