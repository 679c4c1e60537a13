"""The engine's loop: the rules of ``engine/rules.py`` in the order of docs/model.md.

``advance`` runs one replication some ticks, or to its end. ``run_batch`` runs a batch to its end, one
replication at a time in a small working state (it releases the GIL, so batches run in parallel
threads), and writes one outcome row each. ``step_all`` advances every replication of a full state by one
tick, so the same rules can be observed tick by tick (web replay, invariant tests, counterfactual
checks). ``wk`` is the working arrays of ``engine.types.Scratch``.

These four functions are the engine's entry points: Numba compiles them on first call (``engine/jit.py``)
or ahead of time into an extension module (``engine/native_build.py``); the same rules either way.
"""

from __future__ import annotations

import numpy as np

from responsesim.engine import rules
from responsesim.engine.jit import njit


@njit(_nrt=False)
def advance(st, th, bl, sc, un, fo, wk, i: int, ticks: int) -> None:  # type: ignore[no-untyped-def]
    """``ticks`` ticks of replication ``i`` (docs/model.md, steps 1-12), or, with ``ticks`` < 0, ticks
    until its attack ends. The tick loop and its body are one function: a call per tick would pass every
    field of every container (about 870 values) each tick."""
    n = 0
    while ticks < 0 or n < ticks:
        n += 1
        if not st.a_active[i]:  # 1. an ended replication changes nothing but the clock
            if ticks < 0:
                return
            st.tick[i] += 1
            continue
        t = st.tick[i] * sc.dt
        rules.arrivals(st, fo, sc, un, i, t)  # 2
        rules.withdrawals(st, fo, un, i, t)  # 3a (replay only)
        rules.entry(st, bl, fo, sc, un, i, t, wk.go)  # 3
        heard = st.last_gf_t[i] >= 0
        rules.alerting(st, bl, sc, i, t, heard, wk.ring_src, wk.ring, wk.queue)  # 4
        rules.locking(st, bl, sc, i, t)  # 5
        rules.group_movement(st, bl, sc, i, t, heard)  # 6
        # 9, on the positions before moving
        any_eng = rules.engagement(st, bl, i, t, wk.engaged, wk.near_src, wk.near)
        if fo.wp_t.shape[0] > 0:
            rules.forced_attacker(st, fo, sc, i, t, any_eng)  # 7a (replay only)
        if not st.a_barricaded[i] and not any_eng:
            rules.attacker_movement(st, bl, sc, i, t, wk.weights)  # 7
        rules.officer_movement(
            st, th, bl, sc, i, t, heard, wk.engaged, wk.weights, wk.two_src, wk.two, wk.two_members
        )  # 8
        rules.standoff(st, bl, sc, un, th, i, t, wk.near_src, wk.near)  # 8b
        if t >= st.a_reload_until[i]:  # 10
            if any_eng:
                rules.fire_at_officers(st, th, sc, i, wk.engaged, False)
                rules.mark_gunfire(st, i, t)
            else:
                fired = rules.fire_at_people(st, th, sc, i, t, rules.targets(st, bl, i, wk.near_src, wk.near))
                if st.a_barricaded[i] and st.a_breach_at[i] < np.inf:
                    rules.fire_at_officers(st, th, sc, i, wk.engaged, True)
                    fired = True
                if fired:
                    rules.mark_gunfire(st, i, t)
        rules.endings(st, th, bl, sc, un, fo, i, t, wk.engaged, wk.hz, wk.two_src, wk.two, wk.two_members)
        rules.clock(st, fo, sc, i)  # 12


@njit(nogil=True, _nrt=False)
def run_batch(reps, keys, th, bl, sc, un, fo, group_space, group_size, st, wk, out) -> None:  # type: ignore[no-untyped-def]
    """Run replications ``reps`` (keys ``keys``, parameters ``th`` [R]) to their end; outcome row r of
    ``out`` for ``reps[r]``. ``st`` is a one-replication working state."""
    for r in range(reps.shape[0]):
        th_r = th[r : r + 1]
        rules.start(st, th_r, bl, sc, un, 0, reps[r], keys[r], group_space, group_size)
        advance(st, th_r, bl, sc, un, fo, wk, 0, -1)
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
        advance(st, th, bl, sc, un, fo, wk, i, 1)
        going = going or st.a_active[i]
    return going


@njit(_nrt=False)
def outcomes_all(st, fo, sc, un, wk, out) -> None:  # type: ignore[no-untyped-def]
    """Outcome rows of every replication of a full state."""
    for i in range(st.rep.shape[0]):
        rules.outcome(st, fo, sc, un, out, i, i, wk.delays)
