"""The ``numba`` backend: one compiled loop per replication, over the same arrays as the NumPy kernel.

``step.step`` advances a whole batch one tick with ~300 small NumPy operations; the profile
(docs/profile.md) shows the time is interpreter and per-call overhead spread over all of them, not one hot
helper. Here each replication runs tick by tick to its end inside one compiled function
(``_run_reps``), following ``step.step`` phase by phase on scalars. Results are the same numbers:

* the initial state and draws are the NumPy ones (``initial_state``, ``draw_initial``);
* random numbers are the same counter-based SplitMix64 values (integer arithmetic, exact);
* float arithmetic is done in the same order (IEEE double, no fast-math, no fused multiply-add);
  sums follow NumPy's order (sequential cumsum; pairwise sum for ``sum(axis=1)``);
* every transcendental value that reaches the outcome table or a comparison is computed by NumPy
  (per-replication constants before the loop; survival times of critical casualties after it from the
  recorded uniforms), except the end-of-attack probability ``-expm1(-h dt)``, whose hazard ``h``
  changes tick by tick. It is computed with the C library's ``expm1``, which is also what NumPy uses on
  CPUs without AVX-512 (NumPy's AVX-512 SVML ``expm1`` may differ by 1 ulp; the comparison with a
  uniform on the 2**-52 grid can then flip only if the uniform falls exactly between the two values,
  probability about 2**-52 per draw). tests/engine/test_backend.py compares whole tables exactly.

Replications are independent and an ended replication never changes, so running each to its end
(instead of compacting a batch every 16 ticks) gives the same final state.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numba import njit

from responsesim.engine import rng
from responsesim.engine.state import (
    EVACUATING,
    LOCKED,
    LOCKED_HC,
    Draws,
    State,
    draw_initial,
    initial_state,
    make_theta,
)
from responsesim.engine.step import tables
from responsesim.scenario.building import EXIT_CODE
from responsesim.scenario.compile import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_PERIMETER,
    D_SOLO,
    D_TACTICAL,
    D_WAIT_N,
    ROLE_SRO,
    Params,
)

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, each process compiles
    fcntl = None

# columns of the per-replication float table ``th`` passed to the kernel
_TH_COLUMNS = (
    "p_off",  # probability an engaged officer is hit per tick
    "p_officer_killed",
    "lam_open",  # expected shots per tick at open targets
    "exp_lam_open",
    "lam_window",
    "exp_lam_window",
    "window_hit_factor",
    "p_hit",
    "p_kill",
    "p_crit",
    "reload_s",
    "magazine",
    "police_near_mult",
    "police_scene_mult",
    "self_term_h",
    "flee_h",
    "citizen_h",
    "reload_mult",
    "officer_stop_h",
    "barricade_h",
    "p_police_shot",
)
(
    _P_OFF,
    _P_OFFICER_KILLED,
    _LAM_OPEN,
    _EXP_LAM_OPEN,
    _LAM_WINDOW,
    _EXP_LAM_WINDOW,
    _WINDOW_HIT_FACTOR,
    _P_HIT,
    _P_KILL,
    _P_CRIT,
    _RELOAD_S,
    _MAGAZINE,
    _POLICE_NEAR_MULT,
    _POLICE_SCENE_MULT,
    _SELF_TERM_H,
    _FLEE_H,
    _CITIZEN_H,
    _RELOAD_MULT,
    _OFFICER_STOP_H,
    _BARRICADE_H,
    _P_POLICE_SHOT,
) = range(len(_TH_COLUMNS))

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO52 = float(2**52)


@njit("uint64(uint64)", cache=True)
def _mix64(z: np.uint64) -> np.uint64:
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


@njit("float64(uint64, int64, int64, int64)", cache=True)
def _uniform(key: np.uint64, tick: int, stream: int, slot: int) -> float:
    """``rng.uniform(keys, tick, stream, width)[i, slot]`` for one key (same integer hashing)."""
    base = (np.uint64((tick + 1) & 0xFFFFFFFF) << np.uint64(32)) | (np.uint64(stream & 0xFF) << np.uint64(24))
    z = _mix64(key + _mix64(base | np.uint64(slot)))
    return (float(z >> np.uint64(12)) + 0.5) / _TWO52


@njit("uint64(int64, int64, int64)", cache=True)
def _slot_hash(tick: int, stream: int, slot: int) -> np.uint64:
    """The key-independent half of ``_uniform``: ``_mix64`` of (tick, stream, slot)."""
    base = (np.uint64((tick + 1) & 0xFFFFFFFF) << np.uint64(32)) | (np.uint64(stream & 0xFF) << np.uint64(24))
    return _mix64(base | np.uint64(slot))


@njit("float64(uint64, uint64)", cache=True)
def _uniform_h(key: np.uint64, h: np.uint64) -> float:
    """``_uniform`` from a precomputed ``_slot_hash`` (same value)."""
    z = _mix64(key + h)
    return (float(z >> np.uint64(12)) + 0.5) / _TWO52


@njit(cache=True)
def _choose(w: np.ndarray, u: float) -> int:
    """``step._choose`` for one row: sequential cumulative sum, count of partial sums <= u * total."""
    k = w.shape[0]
    total = 0.0
    for j in range(k):
        total += w[j]
    if not total > 0:
        return -1
    x = u * total
    c = 0.0
    idx = 0
    for j in range(k):
        c += w[j]
        if c <= x:
            idx += 1
    return min(idx, k - 1)


@njit(cache=True)
def _choose_sparse(pos: np.ndarray, w: np.ndarray, m: int, k: int, u: float) -> int:
    """``_choose`` of a length-``k`` row that is zero except at the increasing positions ``pos[:m]`` (weights
    ``w[:m]``). Adding a zero leaves a partial sum unchanged, so the total and the partial sums are the
    same numbers; the positions between two nonzero ones share a partial sum and are counted together."""
    total = 0.0
    for a in range(m):
        total += w[a]
    if not total > 0:
        return -1
    x = u * total
    c = 0.0
    idx = 0
    prev = 0
    for a in range(m):
        if c <= x:
            idx += pos[a] - prev
        c += w[a]
        prev = pos[a]
    if c <= x:
        idx += k - prev
    return min(idx, k - 1)


@njit(cache=True)
def _unit_counts(ust: np.ndarray, unit_armed: np.ndarray) -> tuple[int, int, int, int]:
    """Units not arrived; on scene (outside) and armed; inside; on scene or inside."""
    n0 = 0
    n1a = 0
    n2 = 0
    n12 = 0
    for j in range(ust.shape[0]):
        s = ust[j]
        if s == 0:
            n0 += 1
        if s == 1 and unit_armed[j]:
            n1a += 1
        if s == 2:
            n2 += 1
        if s == 1 or s == 2:
            n12 += 1
    return n0, n1a, n2, n12


@njit(cache=True)
def _pairwise_sum(v: np.ndarray) -> float:
    """NumPy's ``add.reduce`` of a short contiguous float64 row (pairwise blocks of 8, from 0.0)."""
    n = v.shape[0]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += v[i]
        return res
    if n > 128:
        # NumPy splits longer rows recursively
        m = n // 2
        m -= m % 8
        return _pairwise_sum(v[:m]) + _pairwise_sum(v[m:])
    r0, r1, r2, r3 = v[0], v[1], v[2], v[3]
    r4, r5, r6, r7 = v[4], v[5], v[6], v[7]
    i = 8
    while i < n - (n % 8):
        r0 += v[i]
        r1 += v[i + 1]
        r2 += v[i + 2]
        r3 += v[i + 3]
        r4 += v[i + 4]
        r5 += v[i + 5]
        r6 += v[i + 6]
        r7 += v[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += v[i]
        i += 1
    return res


@njit(cache=True)
def _open_in(sp_n: np.ndarray, sp_g: np.ndarray, gs: np.ndarray, gc: np.ndarray, space: int) -> int:
    """Unhurt people in open states (unaware, locking, hiding, evacuating, fire_evac) in ``space``, from the
    per-space group lists (``step._open_here`` for one replication)."""
    n = 0
    for a in range(sp_n[space]):
        g = sp_g[space, a]
        st = gs[g]
        if (st == 0 or st == 1 or st == 4 or st == 5 or st == 6) and gc[g] > 0:
            n += gc[g]
    return n


@njit(cache=True)
def _sp_move(sp_n: np.ndarray, sp_g: np.ndarray, g: int, old: int, new: int) -> None:
    """Move group ``g`` from the list of space ``old`` to that of ``new`` (lists kept in group order)."""
    m = sp_n[old]
    a = 0
    while sp_g[old, a] != g:
        a += 1
    while a < m - 1:
        sp_g[old, a] = sp_g[old, a + 1]
        a += 1
    sp_n[old] = m - 1
    m = sp_n[new]
    a = m
    while a > 0 and sp_g[new, a - 1] > g:
        sp_g[new, a] = sp_g[new, a - 1]
        a -= 1
    sp_g[new, a] = g
    sp_n[new] = m + 1


@njit(cache=True)
def _alert(
    g: int,
    st: int,
    t: float,
    heard: bool,
    gfs: int,
    lockdown: bool,
    gs: np.ndarray,
    gsp: np.ndarray,
    gnext: np.ndarray,
    galert: np.ndarray,
    greact: np.ndarray,
    gud: np.ndarray,
    glock_done: np.ndarray,
    glock_time: np.ndarray,
    hops: np.ndarray,
    hear_hops: int,
    fire_alarm_t: float,
    lockable: np.ndarray,
    p_lockdown: float,
    p_evacuate_open: float,
) -> None:
    """Step 4 (alerting and decision) for one undecided group ``g`` in state ``st``."""
    hears = heard and hops[gsp[g], gfs] <= hear_hops
    if math.isinf(galert[g]) and (hears or lockdown):
        galert[g] = t
    if st == 0 and math.isinf(galert[g]) and t >= fire_alarm_t:
        gs[g] = 6
    if t >= galert[g] + greact[g]:
        sp = gsp[g]
        ud = gud[g]
        if gnext[g] >= 0:
            gs[g] = 5
        elif lockable[sp]:
            if ud < p_lockdown:
                gs[g] = 1
                glock_done[g] = t + glock_time[g]
            else:
                gs[g] = 5
        elif ud < p_evacuate_open:
            gs[g] = 5
        else:
            gs[g] = 4


@njit(cache=True, nogil=True)  # nogil: chunks run in parallel threads (engine.run.simulate)
def _run_reps(
    # state (updated in place) ------------------------------------------------------------------------
    keys: np.ndarray,
    g_space: np.ndarray,
    g_next: np.ndarray,
    g_eta: np.ndarray,
    g_count: np.ndarray,
    g_state: np.ndarray,
    g_alert_t: np.ndarray,
    g_lock_done: np.ndarray,
    a_space: np.ndarray,
    a_next: np.ndarray,
    a_eta: np.ndarray,
    a_active: np.ndarray,
    a_barricaded: np.ndarray,
    a_rounds: np.ndarray,
    a_reload_until: np.ndarray,
    a_arrived_at: np.ndarray,
    a_visited: np.ndarray,
    u_status: np.ndarray,
    u_space: np.ndarray,
    u_next: np.ndarray,
    u_eta: np.ndarray,
    t_first_shot: np.ndarray,
    last_gf_t: np.ndarray,
    last_gf_space: np.ndarray,
    lockdown_t: np.ndarray,
    first_police_t: np.ndarray,
    first_entry_t: np.ndarray,
    first_contact_t: np.ndarray,
    end_reason: np.ndarray,
    end_t: np.ndarray,
    stopped_by: np.ndarray,
    evacuated: np.ndarray,
    killed: np.ndarray,
    wounded_light: np.ndarray,
    n_critical: np.ndarray,
    shots: np.ndarray,
    officers_shot: np.ndarray,
    officers_killed: np.ndarray,
    # draws ---------------------------------------------------------------------------------------------
    g_react: np.ndarray,
    g_udecide: np.ndarray,
    g_lock_time: np.ndarray,
    g_ulock: np.ndarray,
    g_uhc: np.ndarray,
    u_offset: np.ndarray,
    u_doctrine: np.ndarray,
    u_doctrine_param: np.ndarray,
    th: np.ndarray,
    # building and tables -------------------------------------------------------------------------------
    kind: np.ndarray,
    lockable: np.ndarray,
    hard_corner: np.ndarray,
    door_window: np.ndarray,
    adj: np.ndarray,
    dist: np.ndarray,
    hops: np.ndarray,
    next_hop: np.ndarray,
    exits: np.ndarray,
    nearest_exit: np.ndarray,
    leg_time_group: np.ndarray,
    leg_time_attacker: np.ndarray,
    leg_time_officer: np.ndarray,
    move_mask: np.ndarray,
    tactical: np.ndarray,
    sro_patrol_armed: np.ndarray,
    # scenario ------------------------------------------------------------------------------------------
    unit_role: np.ndarray,
    unit_armed: np.ndarray,
    unit_weapon_factor: np.ndarray,
    unit_arrival_t: np.ndarray,
    unit_entry_t: np.ndarray,
    script_t: np.ndarray,
    script_space: np.ndarray,
    script_shot: np.ndarray,
    fscal: np.ndarray,
    iscal: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Run every replication to the end of its attack (docs/model.md steps 1-12 each tick).

    Returns the critical casualties (replication position, index, wound time in s, the two survival
    uniforms) and their number.
    """
    dt = fscal[0]
    horizon_s = fscal[1]
    script_end_t = fscal[2]
    p_lockdown = fscal[3]
    p_evacuate_open = fscal[4]
    lock_works_prob = fscal[5]
    use_hard_corner_prob = fscal[6]
    avoid_penalty_m = fscal[7]
    fire_alarm_t = fscal[8]
    dwell_min_s = fscal[9]
    dwell_max_s = fscal[10]
    w_unvisited = fscal[11]
    sro_lockdown_delay_s = fscal[12]
    hear_hops = iscal[0]
    attacker_entry = iscal[1]
    officer_entry = iscal[2]
    max_shots = iscal[3]
    sro_calls_lockdown = iscal[4] != 0
    j_sro = iscal[5]
    exit_code = iscal[6]

    r = keys.shape[0]
    ng = g_space.shape[1]
    nu = u_status.shape[1]
    ns = kind.shape[0]
    ne = exits.shape[0]
    has_arrival_t = unit_arrival_t.shape[0] > 0
    has_entry_t = unit_entry_t.shape[0] > 0
    has_script = script_t.shape[0] > 0
    any_tactical = False
    for j in range(nu):
        if tactical[j]:
            any_tactical = True

    cap = 64
    ev_pos = np.empty(cap, dtype=np.int64)
    ev_index = np.empty(cap, dtype=np.int64)
    ev_t = np.empty(cap, dtype=np.float64)
    ev_u1 = np.empty(cap, dtype=np.float64)
    ev_u2 = np.empty(cap, dtype=np.float64)
    n_ev = 0

    arrival = np.empty(nu)
    arrive = np.zeros(nu, dtype=np.bool_)
    enter = np.zeros(nu, dtype=np.bool_)
    inside = np.zeros(nu, dtype=np.bool_)
    engaged = np.zeros(nu, dtype=np.bool_)
    omove = np.zeros(nu, dtype=np.bool_)
    alive_eng = np.zeros(nu, dtype=np.bool_)
    wsum = np.zeros(nu)
    ws = np.zeros(ns)
    hz = np.zeros(5)
    # Groups that can still change in steps 4-6 (state unaware / locking / evacuating / fire_evac, people
    # left): ``alist``; unaware groups not yet alerted (``dlist``) change only when gunfire is heard at a
    # new place, at the lockdown or at the fire alarm, so they are looked at only then. Groups in other
    # states, or with no one left, never change again in steps 4-6 (states locked, locked_hc, hiding and
    # out are final; counts never grow). Each step treats every group on its own, so the order does not
    # matter there.
    alist = np.empty(ng, dtype=np.int64)
    dlist = np.empty(ng, dtype=np.int64)
    # groups in each space, in group order (targets and ``_open_here`` look only at the relevant spaces)
    sp_n = np.zeros(ns, dtype=np.int64)
    sp_g = np.empty((ns, ng), dtype=np.int64)
    # spaces holding a locked group (locked groups never move or change state: ``_room_locked``)
    locked_room = np.zeros(ns, dtype=np.bool_)
    # targets of one tick, in group order, and whether each is an open (not a window) target
    cand = np.empty(ng, dtype=np.int64)
    cand_open = np.zeros(ng, dtype=np.bool_)
    # for each space s, the spaces q with adj[s, q] and door_window[q] (window targets from s)
    dw_n = np.zeros(ns, dtype=np.int64)
    dw_q = np.empty((ns, ns), dtype=np.int64)
    for s_ in range(ns):
        for q in range(ns):
            if adj[s_, q] and door_window[q]:
                dw_q[s_, dw_n[s_]] = q
                dw_n[s_] += 1

    # for each space s, the spaces q with move_mask[s, q] (attacker moves); with a finite weight of
    # unvisited spaces every other weight is an exact zero (0 * w), so the choice needs only these
    mm_n = np.zeros(ns, dtype=np.int64)
    mm_q = np.empty((ns, ns), dtype=np.int64)
    for s_ in range(ns):
        for q in range(ns):
            if move_mask[s_, q]:
                mm_q[s_, mm_n[s_]] = q
                mm_n[s_] += 1
    sparse_moves = math.isfinite(w_unvisited)
    wq = np.zeros(ns)
    # the shot Poisson's cumulative probabilities (step 10), per replication, open and window targets
    cdf_open = np.zeros(max(max_shots, 1))
    cdf_window = np.zeros(max(max_shots, 1))

    end_total = np.nan
    # slot hashes of the draws made (nearly) every tick, per tick: (30, 0) end of attack, (11, 0) shots
    n_tab = 0
    if math.isfinite(horizon_s) and dt > 0 and horizon_s / dt < 1e6:
        n_tab = int(horizon_s / dt) + 2
    h30 = np.empty(n_tab, dtype=np.uint64)
    h11 = np.empty(n_tab, dtype=np.uint64)
    for q in range(n_tab):
        h30[q] = _slot_hash(q, 30, 0)
        h11[q] = _slot_hash(q, 11, 0)
    end_p = 0.0
    for i in range(r):
        key = keys[i]
        tick = 0
        lam = th[i, _LAM_OPEN]
        p = th[i, _EXP_LAM_OPEN]
        cdf = p
        for q in range(1, max_shots + 1):
            cdf_open[q - 1] = cdf
            p = p * lam / q
            cdf = cdf + p
        lam = th[i, _LAM_WINDOW]
        p = th[i, _EXP_LAM_WINDOW]
        cdf = p
        for q in range(1, max_shots + 1):
            cdf_window[q - 1] = cdf
            p = p * lam / q
            cdf = cdf + p
        ust = u_status[i]
        n0, n1a, n2, n12 = _unit_counts(ust, unit_armed)
        # earliest arrival of a unit not arrived yet, for the value of t_first_shot it was computed with
        tfs_seen = np.nan
        next_arr = np.inf
        eng_clear = False
        gs = g_state[i]
        gsp = g_space[i]
        gc = g_count[i]
        gnext = g_next[i]
        geta = g_eta[i]
        galert = g_alert_t[i]
        glock_done = g_lock_done[i]
        greact = g_react[i]
        gud = g_udecide[i]
        glock_time = g_lock_time[i]
        for s_ in range(ns):
            sp_n[s_] = 0
            locked_room[s_] = False
        na = 0
        nd = 0
        for g in range(ng):
            sp = gsp[g]
            sp_g[sp, sp_n[sp]] = g
            sp_n[sp] += 1
            st = gs[g]
            if LOCKED <= st <= LOCKED_HC:
                locked_room[sp] = True
            if gc[g] > 0:
                if st == 0 and galert[g] == np.inf:
                    dlist[nd] = g
                    nd += 1
                elif st == 0 or st == 1 or st == 5 or st == 6:
                    alist[na] = g
                    na += 1
        dorm_gfs = -1
        th_self_term_h = th[i, _SELF_TERM_H]
        th_flee_h = th[i, _FLEE_H]
        th_citizen_h = th[i, _CITIZEN_H]
        th_reload_mult = th[i, _RELOAD_MULT]
        th_officer_stop_h = th[i, _OFFICER_STOP_H]
        th_barricade_h = th[i, _BARRICADE_H]
        th_police_near_mult = th[i, _POLICE_NEAR_MULT]
        th_police_scene_mult = th[i, _POLICE_SCENE_MULT]
        th_p_hit = th[i, _P_HIT]
        th_p_kill = th[i, _P_KILL]
        th_p_crit = th[i, _P_CRIT]
        th_window_hit_factor = th[i, _WINDOW_HIT_FACTOR]
        # per-replication scalars as locals (written back when the replication ends)
        a_space_i = a_space[i]
        a_next_i = a_next[i]
        a_eta_i = a_eta[i]
        a_active_i = a_active[i]
        a_barricaded_i = a_barricaded[i]
        a_rounds_i = a_rounds[i]
        a_reload_until_i = a_reload_until[i]
        a_arrived_at_i = a_arrived_at[i]
        t_first_shot_i = t_first_shot[i]
        last_gf_t_i = last_gf_t[i]
        last_gf_space_i = last_gf_space[i]
        lockdown_t_i = lockdown_t[i]
        first_police_t_i = first_police_t[i]
        first_entry_t_i = first_entry_t[i]
        first_contact_t_i = first_contact_t[i]
        while a_active_i:
            t = tick * dt
            k = tick
            act = True

            # 2. arrivals (only when a unit not arrived yet is due: no change otherwise)
            if n0 > 0:
                tfs = t_first_shot_i
                if tfs != tfs_seen:  # (always when NaN)
                    tfs_seen = tfs
                    next_arr = np.inf
                    for j in range(nu):
                        if ust[j] == 0:
                            aj = tfs + u_offset[i, j]
                            if has_arrival_t and not math.isnan(unit_arrival_t[j]):
                                aj = unit_arrival_t[j]
                            if aj < next_arr:
                                next_arr = aj
                if t >= next_arr:
                    any_armed_arrived = False
                    for j in range(nu):
                        arrival[j] = t_first_shot_i + u_offset[i, j]
                        if has_arrival_t and not math.isnan(unit_arrival_t[j]):
                            arrival[j] = unit_arrival_t[j]
                        arrive[j] = act and u_status[i, j] == 0 and arrival[j] <= t
                        if arrive[j]:
                            u_status[i, j] = 1
                            if unit_armed[j]:
                                any_armed_arrived = True
                    if any_armed_arrived and math.isinf(first_police_t_i):
                        first_police_t_i = t
                    if sro_calls_lockdown and j_sro >= 0 and arrive[j_sro]:
                        lockdown_t_i = min(lockdown_t_i, arrival[j_sro] + sro_lockdown_delay_s)
                    n0, n1a, n2, n12 = _unit_counts(ust, unit_armed)
                    tfs_seen = np.nan

            # 3. entry decisions
            if n1a > 0:
                for j in range(nu):
                    arrival[j] = t_first_shot_i + u_offset[i, j]
                    if has_arrival_t and not math.isnan(unit_arrival_t[j]):
                        arrival[j] = unit_arrival_t[j]
                n_present = 0
                next_backup = np.inf
                tac_arrival = np.inf
                for j in range(nu):
                    stj = u_status[i, j]
                    if (stj == 1 or stj == 2) and sro_patrol_armed[j]:
                        n_present += 1
                    if stj == 0 and sro_patrol_armed[j] and arrival[j] > t:
                        next_backup = min(next_backup, arrival[j])
                    if any_tactical and tactical[j]:
                        tac_arrival = min(tac_arrival, arrival[j])
                any_enter = False
                for j in range(nu):
                    on_scene = u_status[i, j] == 1 and unit_armed[j]
                    code = u_doctrine[i, j]
                    par = u_doctrine_param[i, j]
                    if code == D_HESITATE:
                        rule = t >= arrival[j] + par
                    elif code == D_WAIT_N:
                        rule = n_present >= par
                    elif code == D_BACKUP_ETA:
                        rule = (next_backup - t) > par
                    elif code == D_PERIMETER:
                        rule = t >= tac_arrival
                    elif code == D_SOLO:
                        rule = True
                    else:
                        rule = code == D_TACTICAL
                    e = on_scene and rule
                    if has_entry_t and not math.isnan(unit_entry_t[j]):
                        e = on_scene and t >= unit_entry_t[j]
                    enter[j] = e
                    if e:
                        any_enter = True
                if any_enter:
                    gf = last_gf_space_i
                    entry_space = nearest_exit[max(gf, 0)] if gf >= 0 else attacker_entry
                    if officer_entry >= 0:
                        entry_space = officer_entry
                    for j in range(nu):
                        if enter[j]:
                            u_status[i, j] = 2
                            u_space[i, j] = entry_space
                            u_next[i, j] = -1
                            u_eta[i, j] = 0.0
                    if math.isinf(first_entry_t_i):
                        first_entry_t_i = t
                    n0, n1a, n2, n12 = _unit_counts(ust, unit_armed)

            # 4. alerting
            heard = last_gf_t_i >= 0
            gfs = max(last_gf_space_i, 0)
            lockdown = t >= lockdown_t_i
            na0 = na
            na = 0
            for a in range(na0):
                g = alist[a]
                st = gs[g]
                if gc[g] <= 0 or not (st == 0 or st == 1 or st == 5 or st == 6):
                    continue
                alist[na] = g
                na += 1
                if st == 0 or st == 6:
                    _alert(
                        g,
                        st,
                        t,
                        heard,
                        gfs,
                        lockdown,
                        gs,
                        gsp,
                        gnext,
                        galert,
                        greact,
                        gud,
                        glock_done,
                        glock_time,
                        hops,
                        hear_hops,
                        fire_alarm_t,
                        lockable,
                        p_lockdown,
                        p_evacuate_open,
                    )
            if nd > 0 and (lockdown or t >= fire_alarm_t or (heard and gfs != dorm_gfs)):
                if heard:
                    dorm_gfs = gfs
                nd0 = nd
                nd = 0
                for a in range(nd0):
                    g = dlist[a]
                    if gc[g] <= 0:
                        continue
                    _alert(
                        g,
                        0,
                        t,
                        heard,
                        gfs,
                        lockdown,
                        gs,
                        gsp,
                        gnext,
                        galert,
                        greact,
                        gud,
                        glock_done,
                        glock_time,
                        hops,
                        hear_hops,
                        fire_alarm_t,
                        lockable,
                        p_lockdown,
                        p_evacuate_open,
                    )
                    st = gs[g]
                    if st == 0 and galert[g] == np.inf:
                        dlist[nd] = g
                        nd += 1
                    elif st == 0 or st == 1 or st == 5 or st == 6:
                        alist[na] = g
                        na += 1

            # 5. locking
            for a in range(na):
                g = alist[a]
                if gs[g] == 1 and t >= glock_done[g] and gsp[g] != a_space_i:
                    works = g_ulock[i, g] < lock_works_prob
                    hc = hard_corner[gsp[g]] and g_uhc[i, g] < use_hard_corner_prob
                    if works:
                        gs[g] = 3 if hc else 2
                        locked_room[gsp[g]] = True
                    else:
                        gs[g] = 4

            # 6. group movement
            for a in range(na):
                g = alist[a]
                st = gs[g]
                if not (st == 5 or st == 6):
                    continue
                arrived = False
                if gnext[g] >= 0:
                    geta[g] -= dt
                    if geta[g] <= 0:
                        _sp_move(sp_n, sp_g, g, gsp[g], gnext[g])
                        gsp[g] = gnext[g]
                        gnext[g] = -1
                        arrived = True
                at_exit = arrived and kind[gsp[g]] == exit_code
                if at_exit:
                    evacuated[i] += gc[g]
                    gc[g] = 0
                    gs[g] = 7
                elif gnext[g] < 0:
                    sp = gsp[g]
                    # argmin of the scores: first minimum (first NaN if any, as np.argmin)
                    best = 0
                    best_score = 0.0
                    for e in range(ne):
                        d_ge = dist[sp, exits[e]]
                        d_te = dist[gfs, exits[e]]
                        score = d_ge + avoid_penalty_m * (1.0 if d_te <= d_ge else 0.0)
                        if e == 0:
                            best_score = score
                        elif math.isnan(best_score):
                            break
                        elif math.isnan(score) or score < best_score:
                            best = e
                            best_score = score
                    target = exits[best] if (gs[g] == EVACUATING and heard) else nearest_exit[sp]
                    nxt = next_hop[sp, target]
                    gnext[g] = nxt
                    geta[g] = leg_time_group[sp, nxt]

            # 9 (positions at the start of movement). engagement
            any_engaged = False
            asp = a_space_i
            any_inside = n2 > 0
            if any_inside:
                eng_clear = False
                for j in range(nu):
                    inside[j] = u_status[i, j] == 2
                    usp = max(u_space[i, j], 0)
                    engaged[j] = inside[j] and act and (u_space[i, j] == asp or adj[usp, asp])
                    if engaged[j]:
                        any_engaged = True
            elif not eng_clear:
                # no unit inside: inside and engaged are all false
                for j in range(nu):
                    inside[j] = False
                    engaged[j] = False
                eng_clear = True
            if any_engaged and math.isinf(first_contact_t_i):
                first_contact_t_i = t

            # 7. attacker movement
            if has_script:
                last_due = -1
                any_shot = False
                for q in range(script_t.shape[0]):
                    if script_t[q] > t - dt and script_t[q] <= t:
                        last_due = q
                        if script_shot[q]:
                            any_shot = True
                if last_due >= 0:
                    waypoint = script_space[last_due]
                    if act and not any_engaged and not a_barricaded_i:
                        a_space_i = waypoint
                        a_next_i = -1
                        a_eta_i = 0.0
                        a_arrived_at_i = t
                        a_visited[i, waypoint] = True
                        if any_shot:
                            last_gf_t_i = t
                            last_gf_space_i = waypoint
                            if math.isinf(t_first_shot_i):
                                t_first_shot_i = t
            if act and not a_barricaded_i and not any_engaged:
                if a_next_i >= 0:
                    a_eta_i -= dt
                    if a_eta_i <= 0:
                        if locked_room[a_next_i]:
                            a_next_i = -1
                            a_eta_i = 0.0
                        else:
                            a_space_i = a_next_i
                            a_next_i = -1
                            a_arrived_at_i = t
                            a_visited[i, a_space_i] = True
                if a_next_i < 0:
                    oh = _open_in(sp_n, sp_g, gs, gc, a_space_i)
                    if (t >= a_arrived_at_i + dwell_min_s and oh == 0) or t >= a_arrived_at_i + dwell_max_s:
                        asp = a_space_i
                        u = _uniform(key, k, 10, 0)
                        if sparse_moves:
                            m = mm_n[asp]
                            for a in range(m):
                                q = mm_q[asp, a]
                                ok = not locked_room[q]
                                wq[a] = (1.0 if ok else 0.0) * (1.0 if a_visited[i, q] else w_unvisited)
                            choice = _choose_sparse(mm_q[asp], wq, m, ns, u)
                        else:
                            for q in range(ns):
                                ok = move_mask[asp, q] and not locked_room[q]
                                ws[q] = (1.0 if ok else 0.0) * (1.0 if a_visited[i, q] else w_unvisited)
                            choice = _choose(ws, u)
                        if choice >= 0:
                            a_next_i = choice
                            a_eta_i = leg_time_attacker[asp, choice]

            # 8. officer movement
            any_omove = False
            if any_inside:
                for j in range(nu):
                    omove[j] = inside[j] and not engaged[j] and act
                    if omove[j]:
                        any_omove = True
            if any_omove:
                for j in range(nu):
                    if omove[j] and u_next[i, j] >= 0:
                        u_eta[i, j] -= dt
                        if u_eta[i, j] <= 0:
                            u_space[i, j] = u_next[i, j]
                            u_next[i, j] = -1
                for j in range(nu):
                    if not (omove[j] and u_next[i, j] < 0 and heard):
                        continue
                    usp = max(u_space[i, j], 0)
                    target = a_space_i if hops[usp, a_space_i] <= 2 else last_gf_space_i
                    if u_space[i, j] != target:
                        nxt = next_hop[usp, max(target, 0)]
                        u_next[i, j] = nxt
                        u_eta[i, j] = leg_time_officer[usp, nxt]
                    else:
                        u = _uniform(key, k, 22, j)
                        for q in range(ns):
                            ws[q] = 1.0 if move_mask[usp, q] else 0.0
                        choice = _choose(ws, u)
                        if choice >= 0:
                            u_next[i, j] = choice
                            u_eta[i, j] = leg_time_officer[usp, choice]

            # 10. fire
            ready = act and t >= a_reload_until_i
            fired = False
            if ready and any_engaged:
                p_off = th[i, _P_OFF]
                n_hit = 0
                n_killed = 0
                for j in range(nu):
                    if engaged[j] and _uniform(key, k, 20, j) < p_off:
                        u_status[i, j] = 3
                        n_hit += 1
                        if _uniform(key, k, 21, j) < th[i, _P_OFFICER_KILLED]:
                            n_killed += 1
                officers_shot[i] += n_hit
                n0, n1a, n2, n12 = _unit_counts(ust, unit_armed)
                officers_killed[i] += n_killed
                fired = True
            if ready and not any_engaged:
                asp = a_space_i
                # targets (step._targets): open groups in the attacker's space, locked groups behind a
                # door window in an adjacent space; gathered from the per-space lists, then put in group
                # order (the weighted choice below counts cumulative sums in group order)
                nc = 0
                for a in range(sp_n[asp]):
                    g = sp_g[asp, a]
                    st = gs[g]
                    if gc[g] > 0 and (st == 0 or st == 1 or st == 4 or st == 5 or st == 6):
                        cand[nc] = g
                        cand_open[nc] = True
                        nc += 1
                has_open = nc > 0
                n_open = nc
                for b in range(dw_n[asp]):
                    q = dw_q[asp, b]
                    for a in range(sp_n[q]):
                        g = sp_g[q, a]
                        if gc[g] > 0 and gs[g] == 2:
                            cand[nc] = g
                            cand_open[nc] = False
                            nc += 1
                has_window = nc > n_open
                if has_open or has_window:
                    for a in range(1, nc):
                        cg = cand[a]
                        co = cand_open[a]
                        b = a
                        while b > 0 and cand[b - 1] > cg:
                            cand[b] = cand[b - 1]
                            cand_open[b] = cand_open[b - 1]
                            b -= 1
                        cand[b] = cg
                        cand_open[b] = co
                    cdfs = cdf_open if has_open else cdf_window
                    u = _uniform_h(key, h11[k]) if k < n_tab else _uniform(key, k, 11, 0)
                    n = 0
                    for q in range(max_shots):
                        if u > cdfs[q]:
                            n += 1
                    n = min(n, a_rounds_i)
                    p_hit = th_p_hit
                    p_kill = th_p_kill
                    p_crit = th_p_crit
                    whf = th_window_hit_factor
                    for q in range(n):
                        # _choose over the weights count[g] of targets (0 elsewhere): the zeros add
                        # nothing to the sequential sums, so the first partial sum above u * total falls
                        # on the same target
                        total = 0.0
                        for a in range(nc):
                            total += float(gc[cand[a]])
                        if not total > 0:
                            continue
                        x = _uniform(key, k, 12, q) * total
                        c = 0.0
                        gsel = ng - 1
                        sel_open = False
                        found = False
                        for a in range(nc):
                            c += float(gc[cand[a]])
                            if c > x:
                                gsel = cand[a]
                                sel_open = cand_open[a]
                                found = True
                                break
                        if not found:
                            # (unreachable: x < total) the last group, as _choose returns
                            for a in range(nc):
                                if cand[a] == gsel:
                                    sel_open = cand_open[a]
                        factor = 1.0 if sel_open else whf
                        if not _uniform(key, k, 13, q) < p_hit * factor:
                            continue
                        gc[gsel] -= 1
                        uo = _uniform(key, k, 14, q)
                        if uo < p_kill:
                            killed[i] += 1
                        elif uo < p_crit:
                            if n_ev == cap:
                                cap *= 2
                                ev_pos = _grow_i(ev_pos, cap)
                                ev_index = _grow_i(ev_index, cap)
                                ev_t = _grow_f(ev_t, cap)
                                ev_u1 = _grow_f(ev_u1, cap)
                                ev_u2 = _grow_f(ev_u2, cap)
                            ev_pos[n_ev] = i
                            ev_index[n_ev] = n_critical[i]
                            ev_t[n_ev] = t
                            ev_u1[n_ev] = _uniform(key, k, 15, 2 * q)
                            ev_u2[n_ev] = _uniform(key, k, 15, 2 * q + 1)
                            n_ev += 1
                            n_critical[i] += 1
                        else:
                            wounded_light[i] += 1
                    shots[i] += n
                    a_rounds_i -= n
                    if a_rounds_i <= 0:
                        a_reload_until_i = t + th[i, _RELOAD_S]
                        a_rounds_i = np.int32(th[i, _MAGAZINE])
                    if n > 0:
                        fired = True
            if fired:
                last_gf_t_i = t
                last_gf_space_i = a_space_i
                if math.isinf(t_first_shot_i):
                    t_first_shot_i = t

            # 11. endings
            any_eng = False
            near = False
            scene = False
            asp = a_space_i
            if n12 > 0:
                for j in range(nu):
                    stj = u_status[i, j]
                    alive_eng[j] = engaged[j] and stj == 2
                    wsum[j] = unit_weapon_factor[j] if alive_eng[j] else 0.0
                    if alive_eng[j]:
                        any_eng = True
                    if stj == 2 and hops[max(u_space[i, j], 0), asp] <= 2:
                        near = True
                    if (stj == 1 or stj == 2) and unit_armed[j]:
                        scene = True
                h_pol_sum = _pairwise_sum(wsum)
            else:
                # no unit on scene or inside: no unit engaged, the weights are all 0.0
                h_pol_sum = 0.0
            if near:
                mult = th_police_near_mult
            elif scene:
                mult = th_police_scene_mult
            else:
                mult = 1.0
            h_st = th_self_term_h * mult
            h_flee = 0.0 if (any_eng or a_barricaded_i) else th_flee_h
            reloading = t < a_reload_until_i
            oh = _open_in(sp_n, sp_g, gs, gc, asp)
            h_cit = th_citizen_h * (th_reload_mult if reloading else 1.0) if (oh > 0 and not any_eng) else 0.0
            h_pol = h_pol_sum * th_officer_stop_h
            h_bar = th_barricade_h if (lockable[asp] and not a_barricaded_i) else 0.0
            if has_script and t < script_end_t:
                h_st = 0.0
                h_flee = 0.0
                h_cit = 0.0
                h_bar = 0.0
            hz[0] = h_st
            hz[1] = h_flee
            hz[2] = h_cit
            hz[3] = h_pol
            hz[4] = h_bar
            total = 0.0
            for q in range(5):
                total += hz[q]
            u0 = _uniform_h(key, h30[k]) if k < n_tab else _uniform(key, k, 30, 0)
            # the hazard total often stays the same from tick to tick: its expm1 is computed once per value
            if total != end_total:
                end_total = total
                end_p = -math.expm1(-total * dt)
            if u0 < end_p:
                kd = _choose(hz, _uniform(key, k, 30, 1))
                if kd == 4:
                    a_barricaded_i = True
                    a_next_i = -1
                elif kd >= 0:
                    if kd == 0:
                        reason = 2 if math.isfinite(first_police_t_i) else 1
                    elif kd == 1:
                        reason = 3
                    elif kd == 2:
                        reason = 4
                    elif _uniform(key, k, 30, 2) < th[i, _P_POLICE_SHOT]:
                        reason = 5
                    else:
                        reason = 6
                    end_reason[i] = reason
                    end_t[i] = t + dt
                    a_active_i = False
                    if kd == 3:
                        best = 0
                        best_w = -np.inf
                        for j in range(nu if n12 > 0 else 0):
                            wj = unit_weapon_factor[j] if alive_eng[j] else -1.0
                            if wj > best_w:
                                best_w = wj
                                best = j
                        stopped_by[i] = unit_role[best]

            # 12. clock and horizon
            tick += 1
            if a_active_i and tick * dt >= script_end_t:
                end_reason[i] = 3
                end_t[i] = script_end_t
                a_active_i = False
            if a_active_i and tick * dt >= horizon_s:
                end_reason[i] = 0
                end_t[i] = horizon_s
                a_active_i = False
        a_space[i] = a_space_i
        a_next[i] = a_next_i
        a_eta[i] = a_eta_i
        a_active[i] = a_active_i
        a_barricaded[i] = a_barricaded_i
        a_rounds[i] = a_rounds_i
        a_reload_until[i] = a_reload_until_i
        a_arrived_at[i] = a_arrived_at_i
        t_first_shot[i] = t_first_shot_i
        last_gf_t[i] = last_gf_t_i
        last_gf_space[i] = last_gf_space_i
        lockdown_t[i] = lockdown_t_i
        first_police_t[i] = first_police_t_i
        first_entry_t[i] = first_entry_t_i
        first_contact_t[i] = first_contact_t_i
    return ev_pos, ev_index, ev_t, ev_u1, ev_u2, n_ev


@njit(cache=True)
def _grow_i(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _grow_f(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@contextlib.contextmanager
def _first_compile() -> Iterator[None]:
    """Serialise the first (compiling) call across processes on this machine.

    Process-pool workers and test workers would otherwise all compile the kernel at once; holding an
    exclusive file lock, the first compiles and writes Numba's on-disk cache and the others then load it.
    Later calls in a process (kernel already compiled) take no lock.
    """
    if _run_reps.signatures or fcntl is None:
        yield
        return
    path = Path(tempfile.gettempdir()) / "responsesim-numba-compile.lock"
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _theta_table(draws: Draws, dt: float) -> np.ndarray:
    """Per-replication constants [R, len(_TH_COLUMNS)], transcendental ones computed by NumPy exactly as
    ``step.step`` computes them."""
    th = draws.theta
    lam_open = th.fire_rate * dt * np.where(True, 1.0, th.window_fire_factor)
    lam_window = th.fire_rate * dt * np.where(False, 1.0, th.window_fire_factor)
    cols = {
        "p_off": -np.expm1(-np.asarray(th.officer_hit_h * th.officer_hit_factor) * dt),
        "p_officer_killed": th.p_officer_killed,
        "lam_open": lam_open,
        "exp_lam_open": np.exp(-lam_open),
        "lam_window": lam_window,
        "exp_lam_window": np.exp(-lam_window),
        "window_hit_factor": th.window_hit_factor,
        "p_hit": th.p_hit,
        "p_kill": th.p_kill,
        "p_crit": th.p_kill + (1 - th.p_kill) * th.p_critical,
        "reload_s": th.reload_s,
        "magazine": th.magazine,
        "police_near_mult": th.police_near_mult,
        "police_scene_mult": th.police_scene_mult,
        "self_term_h": th.self_term_h,
        "flee_h": th.flee_h,
        "citizen_h": th.citizen_h,
        "reload_mult": th.reload_mult,
        "officer_stop_h": th.officer_stop_h,
        "barricade_h": th.barricade_h,
        "p_police_shot": th.p_police_shot,
    }
    table = np.stack([np.asarray(cols[c], dtype=np.float64) for c in _TH_COLUMNS], axis=1)
    return np.ascontiguousarray(table)


def run_numba(
    params: Params, reps: np.ndarray, theta: Mapping[str, np.ndarray] | None = None
) -> tuple[State, Draws, dict[str, np.ndarray]]:
    """Run replications ``reps`` to their end with the compiled kernel.

    Returns the final state and draws (rows in ``reps`` order) and the critical casualties as
    ``run.run_chunk`` collects them (``pos``, ``index``, ``wound_t``, ``survival_s``).
    """
    reps = np.asarray(reps, dtype=np.int64)
    tab = tables(params)
    th = make_theta(params, reps.shape[0], theta)
    s = initial_state(params, reps, th)
    d = draw_initial(params, s.keys, th)
    s = s.copy()  # own, writable, contiguous arrays (the kernel updates them in place)
    b = params.building
    sro = np.flatnonzero(params.unit_role == ROLE_SRO)
    fscal = np.array(
        [
            params.dt,
            params.horizon_s,
            params.script_end_t,
            params.p_lockdown,
            params.p_evacuate_open,
            params.lock_works_prob,
            params.use_hard_corner_prob,
            params.avoid_penalty_m,
            params.fire_alarm_t,
            params.dwell_min_s,
            params.dwell_max_s,
            params.w_unvisited,
            params.sro_lockdown_delay_s,
        ],
        dtype=np.float64,
    )
    iscal = np.array(
        [
            params.hear_hops,
            params.attacker_entry,
            params.officer_entry,
            params.max_shots_per_tick,
            int(bool(params.sro_calls_lockdown)),
            int(sro[0]) if sro.size else -1,
            EXIT_CODE,
        ],
        dtype=np.int64,
    )

    def c(a: np.ndarray, dtype: Any = None) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=dtype)

    with _first_compile():
        out = _run_reps(
            s.keys,
            s.g_space,
            s.g_next,
            s.g_eta,
            s.g_count,
            s.g_state,
            s.g_alert_t,
            s.g_lock_done,
            s.a_space,
            s.a_next,
            s.a_eta,
            s.a_active,
            s.a_barricaded,
            s.a_rounds,
            s.a_reload_until,
            s.a_arrived_at,
            s.a_visited,
            s.u_status,
            s.u_space,
            s.u_next,
            s.u_eta,
            s.t_first_shot,
            s.last_gf_t,
            s.last_gf_space,
            s.lockdown_t,
            s.first_police_t,
            s.first_entry_t,
            s.first_contact_t,
            s.end_reason,
            s.end_t,
            s.stopped_by,
            s.evacuated,
            s.killed,
            s.wounded_light,
            s.n_critical,
            s.shots,
            s.officers_shot,
            s.officers_killed,
            c(d.g_react, np.float64),
            c(d.g_udecide, np.float64),
            c(d.g_lock_time, np.float64),
            c(d.g_ulock, np.float64),
            c(d.g_uhc, np.float64),
            c(d.u_offset, np.float64),
            c(d.u_doctrine, np.int64),
            c(d.u_doctrine_param, np.float64),
            _theta_table(d, params.dt),
            c(b.kind, np.int64),
            c(b.lockable),
            c(b.hard_corner),
            c(b.door_window),
            c(b.adj),
            c(b.dist, np.float64),
            c(b.hops, np.int64),
            c(b.next_hop, np.int64),
            c(b.exits, np.int64),
            c(tab.nearest_exit, np.int64),
            c(tab.leg_time_group, np.float64),
            c(tab.leg_time_attacker, np.float64),
            c(tab.leg_time_officer, np.float64),
            c(tab.move_mask),
            c(tab.tactical),
            c(tab.sro_patrol_armed),
            c(params.unit_role, np.int64),
            c(params.unit_armed, np.bool_),
            c(params.unit_weapon_factor, np.float64),
            c(params.unit_arrival_t, np.float64),
            c(params.unit_entry_t, np.float64),
            c(params.script_t, np.float64),
            c(params.script_space, np.int64),
            c(params.script_shot, np.bool_),
            fscal,
            iscal,
        )
    ev_pos, ev_index, ev_t, ev_u1, ev_u2, n_ev = out
    pos = ev_pos[:n_ev].copy()
    th_t = d.theta
    survival = rng.lognormal(
        ev_u1[:n_ev], ev_u2[:n_ev], th_t.critical_survival_median_s[pos], th_t.critical_survival_sigma[pos]
    )
    crit = {
        "pos": pos,
        "index": ev_index[:n_ev].copy(),
        "wound_t": ev_t[:n_ev].copy(),
        "survival_s": survival,
    }
    return s, d, crit


__all__ = ["run_numba"]
