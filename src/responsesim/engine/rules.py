"""The model's rules (docs/model.md), each written once as a compiled function of one replication.

Every rule takes the replication's position ``i`` in the typed containers of ``engine/types.py`` and the
time ``t`` (s) of the tick, reads what it needs and updates ``st`` in place. ``engine/kernel.py`` calls
them in the order of docs/model.md for batches, for tick-by-tick observation (web replay, invariant
tests) and for the counterfactual; nothing else in the package implements a rule.
"""

from __future__ import annotations

import math

import numpy as np

from responsesim.codes import (
    CITIZENS,
    D_BACKUP_ETA,
    D_HESITATE,
    D_NO_ENTRY,
    D_PERIMETER,
    D_SOLO,
    D_TACTICAL,
    D_WAIT_N,
    DOWN,
    EVACUATING,
    EXIT,
    FIRE_EVAC,
    FLED,
    H_BARRICADE,
    H_CITIZENS,
    H_FLEE,
    H_MOVE_AWAY,
    H_POLICE,
    H_SELF,
    H_SURRENDER,
    HIDING,
    INSIDE,
    LOCKED,
    LOCKED_HC,
    LOCKING,
    NOT_ARRIVED,
    ON_SCENE,
    ONGOING,
    OUT,
    POLICE_ARRESTED,
    POLICE_SHOT,
    ROLE_TACTICAL,
    SUICIDE_BEFORE_POLICE,
    SUICIDE_POLICE_ON_SCENE,
    UNAWARE,
)
from responsesim.engine import rng
from responsesim.engine.jit import njit

# ------------------------------------------------------------------------------------------ predicates


@njit(inline="always")
def is_open(state: int) -> bool:
    """A group in this state can be shot in the attacker's space (not locked in, not out)."""
    return (
        state == UNAWARE or state == LOCKING or state == HIDING or state == EVACUATING or state == FIRE_EVAC
    )


@njit(inline="always")
def hazard_p(h: float, dt: float) -> float:
    """Per-tick probability of an event with hazard ``h`` per second."""
    return -math.expm1(-h * dt)


@njit(inline="always")
def room_locked(st, i: int, space: int) -> bool:  # type: ignore[no-untyped-def]
    """The space holds a group that has locked its door (``LOCKED`` or ``LOCKED_HC``: a lock stays, so
    ``locking`` records it in ``s_locked`` once)."""
    return st.s_locked[i, space]


@njit(inline="always")
def open_people_in(st, i: int, space: int) -> int:  # type: ignore[no-untyped-def]
    """Unhurt people in open states in ``space``."""
    n = 0
    for g in range(st.g_state.shape[1]):
        if st.g_space[i, g] == space and st.g_count[i, g] > 0 and is_open(st.g_state[i, g]):
            n += st.g_count[i, g]
    return n


@njit(inline="always")
def arrival_t(st, fo, i: int, j: int) -> float:  # type: ignore[no-untyped-def]
    """When unit ``j`` arrives (s): observed when replayed, else the drawn offset after the first shot."""
    if not math.isnan(fo.arrival_t[j]):
        return fo.arrival_t[j]
    return st.t_first_shot[i] + st.u_offset[i, j]


@njit(inline="always")
def weapon_factor(th, un, i: int, j: int) -> float:  # type: ignore[no-untyped-def]
    """Stopping power of unit ``j`` relative to a handgun."""
    return th[i].rifle_factor_officer if un.rifle[j] else 1.0


# ------------------------------------------------------------------------------------------- building


@njit
def edge(bl, a: int, b: int) -> int:  # type: ignore[no-untyped-def]
    """Position of the edge from ``a`` to its neighbour ``b`` in the neighbour lists, so its leg time is
    ``bl.leg_officer[edge(bl, a, b)]``; -1 when ``b`` is not a neighbour (rules ask only for edges they
    walk: a next hop or a first hop)."""
    for e in range(bl.nbr_ptr[a], bl.nbr_ptr[a + 1]):
        if bl.nbr[e] == b:
            return e
    return -1


@njit
def hops_from(bl, src: int, ring_src, ring, queue) -> None:  # type: ignore[no-untyped-def]
    """``ring[s]``: edges on the fewest-edge path from ``src`` to ``s`` (breadth-first search). Scratch
    arrays [S] ``ring``/``queue`` and [1] ``ring_src``: kept while the source is the same, so the search
    runs once per new gunfire space, not per group or tick."""
    if ring_src[0] == src:
        return
    for s in range(ring.shape[0]):
        ring[s] = -1
    ring[src] = 0
    queue[0] = src
    head = 0
    tail = 1
    while head < tail:
        a = queue[head]
        head += 1
        for e in range(bl.nbr_ptr[a], bl.nbr_ptr[a + 1]):
            n = bl.nbr[e]
            if ring[n] < 0:
                ring[n] = ring[a] + 1
                queue[tail] = n
                tail += 1
    ring_src[0] = src


@njit
def mark_near(bl, a: int, near_src, near) -> None:  # type: ignore[no-untyped-def]
    """``near[s]``: ``s`` is a neighbour of ``a`` (the graph is undirected). Scratch arrays [S] ``near`` and
    [1] ``near_src``: kept while ``a`` is the same, so a move costs two neighbour lists, not a search per
    group."""
    old = near_src[0]
    if old == a:
        return
    if old >= 0:
        for e in range(bl.nbr_ptr[old], bl.nbr_ptr[old + 1]):
            near[bl.nbr[e]] = False
    for e in range(bl.nbr_ptr[a], bl.nbr_ptr[a + 1]):
        near[bl.nbr[e]] = True
    near_src[0] = a


@njit(inline="always")
def _add_mark(s: int, mark, members) -> None:  # type: ignore[no-untyped-def]
    """Mark space ``s`` once and list it in ``members`` (count in ``members[0]``)."""
    if not mark[s]:
        mark[s] = True
        members[0] += 1
        members[members[0]] = s


@njit
def mark_two_hops(bl, a: int, src, mark, members) -> None:  # type: ignore[no-untyped-def]
    """``mark[s]``: at most two edges lie between ``s`` and ``a`` (the same space, neighbours, or a common
    neighbour; the graph is undirected). Scratch arrays [1] ``src`` (the space marked from, -1 none),
    [S] ``mark`` and [S + 1] ``members`` (how many marked, then which): kept while ``a`` is the same."""
    if src[0] == a:
        return
    for k in range(members[0]):
        mark[members[k + 1]] = False
    members[0] = 0
    _add_mark(a, mark, members)
    for e in range(bl.nbr_ptr[a], bl.nbr_ptr[a + 1]):
        b = bl.nbr[e]
        _add_mark(b, mark, members)
        for f in range(bl.nbr_ptr[b], bl.nbr_ptr[b + 1]):
            _add_mark(bl.nbr[f], mark, members)
    src[0] = a


# ---------------------------------------------------------------------------------------------- start


@njit(_nrt=False)
def start(st, th, bl, sc, un, i: int, rep: int, key: np.uint64, group_space, group_size) -> None:  # type: ignore[no-untyped-def]
    """State at t = 0 and the draws made once at the start (tick -1 streams) for replication ``i``."""
    st.rep[i] = rep
    st.key[i] = key
    st.tick[i] = 0
    ng = group_space.shape[0]
    for g in range(ng):
        u0 = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g)
        u1 = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g + 1)
        st.g_react[i, g] = rng.lognormal(u0, u1, sc.reaction_median_s, sc.reaction_sigma)
        st.g_udecide[i, g] = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g + 2)
        u3 = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g + 3)
        st.g_lock_time[i, g] = sc.lock_time_min_s + (sc.lock_time_max_s - sc.lock_time_min_s) * u3
        st.g_ulock[i, g] = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g + 4)
        st.g_uhc[i, g] = rng.uniform(key, rng.TICK_START, rng.S_INIT_GROUP, 6 * g + 5)
        st.g_space[i, g] = group_space[g]
        st.g_next[i, g] = -1
        st.g_eta[i, g] = 0.0
        st.g_count[i, g] = group_size[g]
        st.g_state[i, g] = UNAWARE
        st.g_alert_t[i, g] = np.inf
        st.g_lock_done[i, g] = np.inf
    # arrivals: the call, the SRO, patrol officers one after another, the tactical team together
    m0 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 0)
    m1 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 1)
    m2 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 2)
    m3 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 3)
    call = rng.lognormal(m0, m1, sc.call_delay_median_s, th[i].call_delay_sigma)
    # attackers differ in how long they go on (docs/model.md, *Attacker*): median 1, log-sd quit_sigma
    m4 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 4)
    m5 = rng.uniform(key, rng.TICK_START, rng.S_INIT_MISC, 5)
    st.a_quit[i] = rng.lognormal(m4, m5, 1.0, th[i].quit_sigma)
    tactical = call + rng.lognormal(m2, m3, sc.tactical_median_s, sc.tactical_sigma)
    t_patrol = call
    first_patrol = True
    rep_doctrine = int(th[i].doctrine_code)
    for j in range(un.role.shape[0]):
        v0 = rng.uniform(key, rng.TICK_START, rng.S_INIT_UNIT, 2 * j)
        v1 = rng.uniform(key, rng.TICK_START, rng.S_INIT_UNIT, 2 * j + 1)
        if un.sro_present[j]:
            off = rng.lognormal(v0, v1, sc.sro_response_median_s, sc.sro_response_sigma)
            st.u_offset[i, j] = off if th[i].sro_present > 0 else np.inf
        elif un.role[j] == ROLE_TACTICAL:
            st.u_offset[i, j] = tactical
        else:
            if first_patrol:
                t_patrol = t_patrol + rng.lognormal(v0, v1, sc.patrol_first_median_s, sc.patrol_first_sigma)
                first_patrol = False
            else:
                t_patrol = t_patrol + rng.exponential(v0, sc.patrol_gap_mean_s)
            st.u_offset[i, j] = t_patrol
        if un.follows_scenario[j]:
            st.u_doctrine[i, j] = rep_doctrine
            st.u_doctrine_param[i, j] = th[i].doctrine_param
        elif un.role[j] == ROLE_TACTICAL:
            st.u_doctrine[i, j] = D_NO_ENTRY if rep_doctrine == D_NO_ENTRY else D_TACTICAL
            st.u_doctrine_param[i, j] = 0.0
        else:
            st.u_doctrine[i, j] = un.doctrine[j]
            st.u_doctrine_param[i, j] = un.doctrine_param[j]
        st.u_status[i, j] = NOT_ARRIVED
        st.u_space[i, j] = -1
        st.u_next[i, j] = -1
        st.u_eta[i, j] = 0.0
        st.u_withdrawn[i, j] = False
        st.u_hold[i, j] = -np.inf
        st.u_breaching[i, j] = False
    # the attacker enters at an exit and walks to its first interior neighbour
    for s in range(st.a_visited.shape[1]):
        st.a_visited[i, s] = False
        st.s_locked[i, s] = False
        st.s_cleared[i, s] = False
    st.a_visited[i, sc.attacker_entry] = True
    st.a_space[i] = sc.attacker_entry
    st.a_next[i] = sc.attacker_first_hop
    st.a_eta[i] = bl.leg_attacker[edge(bl, sc.attacker_entry, sc.attacker_first_hop)]
    st.a_active[i] = True
    st.a_barricaded[i] = False
    st.a_barricade_t[i] = np.inf
    st.a_breach_at[i] = np.inf
    st.a_move_away[i] = False
    st.a_rounds[i] = int(th[i].magazine_rifle if th[i].rifle > 0 else th[i].magazine_handgun)
    st.a_reload_until[i] = -np.inf
    st.a_arrived_at[i] = 0.0
    st.t_first_shot[i] = np.inf
    st.last_gf_t[i] = -np.inf
    st.last_gf_space[i] = -1
    st.lockdown_t[i] = th[i].lockdown_t
    st.first_police_t[i] = np.inf
    st.first_entry_t[i] = np.inf
    st.first_contact_t[i] = np.inf
    st.end_reason[i] = ONGOING
    st.end_t[i] = np.inf
    st.stopped_by[i] = -1
    st.evacuated[i] = 0
    st.killed[i] = 0
    st.wounded_light[i] = 0
    st.n_critical[i] = 0
    st.shots[i] = 0
    st.alert_src[i] = -1
    st.n_unalerted[i] = ng
    st.next_react_t[i] = np.inf
    st.n_locking[i] = 0
    st.next_lock_t[i] = np.inf
    st.n_moving[i] = 0
    st.next_arrival_t[i] = -np.inf
    st.arrival_first_shot[i] = st.t_first_shot[i]
    st.n_waiting[i] = 0
    st.groups_ver[i] = 0
    st.targets_space[i] = -1
    st.officers_shot[i] = 0
    st.officers_killed[i] = 0


# ---------------------------------------------------------------------------------- 2. arrivals


@njit(inline="always")
def arrivals(st, fo, sc, un, i: int, t: float) -> None:  # type: ignore[no-untyped-def]
    """Units whose arrival time has come are on scene; the SRO may call the lockdown. Skipped before the
    next arrival (``next_arrival_t``, recomputed on every pass; arrival times only move when the first
    shot is fired, so a new first shot forces a pass)."""
    if t < st.next_arrival_t[i] and st.t_first_shot[i] == st.arrival_first_shot[i]:
        return
    any_armed = False
    nxt = np.inf
    for j in range(un.role.shape[0]):
        if st.u_status[i, j] != NOT_ARRIVED:
            continue
        a = arrival_t(st, fo, i, j)
        if a <= t:
            st.u_status[i, j] = ON_SCENE
            if un.armed[j]:
                any_armed = True
                st.n_waiting[i] += 1
            if sc.sro_calls_lockdown and j == un.sro_index:
                st.lockdown_t[i] = min(st.lockdown_t[i], a + sc.sro_lockdown_delay_s)
        else:
            nxt = min(nxt, a)
    if any_armed and math.isinf(st.first_police_t[i]):
        st.first_police_t[i] = t
    st.next_arrival_t[i] = nxt
    st.arrival_first_shot[i] = st.t_first_shot[i]


# ------------------------------------------------------------------------------ 3. entry decision


@njit(inline="always")
def wants_to_enter(st, fo, un, i: int, j: int, t: float) -> bool:  # type: ignore[no-untyped-def]
    """Whether armed unit ``j``, on scene, enters now under its doctrine (or as the record says)."""
    if not math.isnan(fo.entry_t[j]):
        return t >= fo.entry_t[j] and not st.u_withdrawn[i, j]
    code = st.u_doctrine[i, j]
    par = st.u_doctrine_param[i, j]
    if code == D_SOLO or code == D_TACTICAL:
        return True
    if code == D_HESITATE:
        return t >= arrival_t(st, fo, i, j) + par
    n_present = 0
    next_backup = np.inf
    tac_arrival = np.inf
    for q in range(un.role.shape[0]):
        sro_patrol_armed = un.armed[q] and un.role[q] != ROLE_TACTICAL
        s_q = st.u_status[i, q]
        if sro_patrol_armed and (s_q == ON_SCENE or s_q == INSIDE):
            n_present += 1
        a_q = arrival_t(st, fo, i, q)
        if sro_patrol_armed and s_q == NOT_ARRIVED and a_q > t:
            next_backup = min(next_backup, a_q)
        if un.role[q] == ROLE_TACTICAL:
            tac_arrival = min(tac_arrival, a_q)
    if code == D_WAIT_N:
        return n_present >= par
    if code == D_BACKUP_ETA:
        return (next_backup - t) > par
    if code == D_PERIMETER:
        return t >= tac_arrival
    return False  # no_entry


@njit(inline="always")
def entry(st, bl, fo, sc, un, i: int, t: float, go) -> None:  # type: ignore[no-untyped-def]
    """Armed units on scene that decide to enter are inside at the entry space, not moving
    (``go`` is a scratch array [U]). Skipped while no armed unit waits outside (``n_waiting``, recounted
    on every pass, raised when one arrives or withdraws)."""
    if st.n_waiting[i] == 0:
        return
    gf = st.last_gf_space[i]
    space = bl.nearest_exit[gf] if gf >= 0 else sc.attacker_entry
    if sc.officer_entry >= 0:
        space = sc.officer_entry
    entered = False
    # decisions first (a unit entering now does not change another's decision in the same tick)
    nu = un.role.shape[0]
    for j in range(nu):
        go[j] = st.u_status[i, j] == ON_SCENE and un.armed[j] and wants_to_enter(st, fo, un, i, j, t)
    n_waiting = 0
    for j in range(nu):
        if go[j]:
            st.u_status[i, j] = INSIDE
            st.u_space[i, j] = space
            st.u_next[i, j] = -1
            st.u_eta[i, j] = 0.0
            entered = True
        elif st.u_status[i, j] == ON_SCENE and un.armed[j]:
            n_waiting += 1
    st.n_waiting[i] = n_waiting
    if entered and math.isinf(st.first_entry_t[i]):
        st.first_entry_t[i] = t


@njit(inline="always")
def withdrawals(st, fo, un, i: int, t: float) -> None:  # type: ignore[no-untyped-def]
    """A unit the record shows leaving the building goes back outside (on scene) and stays out."""
    for j in range(un.role.shape[0]):
        if st.u_status[i, j] == INSIDE and not math.isnan(fo.withdraw_t[j]) and t >= fo.withdraw_t[j]:
            st.u_status[i, j] = ON_SCENE
            st.u_space[i, j] = -1
            st.u_next[i, j] = -1
            st.u_eta[i, j] = 0.0
            st.u_withdrawn[i, j] = True
            st.n_waiting[i] += 1


# ------------------------------------------------------------------------------------ 4. alerting


@njit(inline="always")
def alerting(st, bl, sc, i: int, t: float, heard: bool, ring_src, ring, queue) -> None:  # type: ignore[no-untyped-def]
    """Groups hear gunfire (within ``hear_hops`` edges) or the lockdown, react after their delay: lock
    down, evacuate or hide. ``ring_src``/``ring``/``queue``: scratch of ``hops_from``.

    A tick on which no group can change is skipped (the same state as going through them all): an
    unalerted group can only be alerted by the lockdown, the fire alarm, or gunfire heard from a new
    space (it does not move before it is alerted, except when evacuating on the fire alarm, which is
    checked every tick), and an alerted one only reacts at ``alert_t + react`` (``next_react_t``).
    ``n_unalerted`` and ``next_react_t`` are recounted on every tick that goes through the groups; in
    between they can only overstate what is pending (a group shot to nobody), which costs a pass, not a
    difference."""
    gfs = max(st.last_gf_space[i], 0)
    lockdown = t >= st.lockdown_t[i]
    src = gfs if heard else -1
    new_sound = lockdown or t >= sc.fire_alarm_t or src != st.alert_src[i]
    if t < st.next_react_t[i] and (st.n_unalerted[i] == 0 or not new_sound):
        return
    if heard:
        hops_from(bl, gfs, ring_src, ring, queue)
    st.alert_src[i] = src
    n_unalerted = 0
    next_react = np.inf
    for g in range(st.g_state.shape[1]):
        s0 = st.g_state[i, g]
        if st.g_count[i, g] <= 0 or not (s0 == UNAWARE or s0 == FIRE_EVAC):
            continue
        hears = heard and ring[st.g_space[i, g]] <= sc.hear_hops
        if math.isinf(st.g_alert_t[i, g]) and (hears or lockdown):
            st.g_alert_t[i, g] = t
        if s0 == UNAWARE and math.isinf(st.g_alert_t[i, g]) and t >= sc.fire_alarm_t:
            st.g_state[i, g] = FIRE_EVAC
            st.g_moving[i, st.n_moving[i]] = g
            st.n_moving[i] += 1
            st.groups_ver[i] += 1
        if t >= st.g_alert_t[i, g] + st.g_react[i, g]:
            st.groups_ver[i] += 1  # its state changes below
            sp = st.g_space[i, g]
            ud = st.g_udecide[i, g]
            if st.g_next[i, g] >= 0:
                st.g_state[i, g] = EVACUATING  # caught in transit by a fire alarm: keeps walking, now away
            elif bl.lockable[sp]:
                if ud < sc.p_lockdown:
                    st.g_state[i, g] = LOCKING
                    st.g_lock_done[i, g] = t + st.g_lock_time[i, g]
                    st.n_locking[i] += 1
                    st.next_lock_t[i] = min(st.next_lock_t[i], st.g_lock_done[i, g])
                else:
                    st.g_state[i, g] = EVACUATING
                    if s0 == UNAWARE:  # a group walking on the fire alarm is on the list already
                        st.g_moving[i, st.n_moving[i]] = g
                        st.n_moving[i] += 1
            elif ud < sc.p_evacuate_open:
                st.g_state[i, g] = EVACUATING
                if s0 == UNAWARE:
                    st.g_moving[i, st.n_moving[i]] = g
                    st.n_moving[i] += 1
            else:
                st.g_state[i, g] = HIDING
        elif math.isinf(st.g_alert_t[i, g]):
            n_unalerted += 1
        else:
            next_react = min(next_react, st.g_alert_t[i, g] + st.g_react[i, g])
    st.n_unalerted[i] = n_unalerted
    st.next_react_t[i] = next_react


# ------------------------------------------------------------------------------------- 5. locking


@njit(inline="always")
def locking(st, bl, sc, i: int, t: float) -> None:  # type: ignore[no-untyped-def]
    """A locking group whose door is done (and the attacker not in the room) locks, maybe in the hard
    corner; a lock that fails leaves it hiding. Skipped while no door is done (``next_lock_t``, recounted
    with ``n_locking`` on every tick that goes through the groups)."""
    if st.n_locking[i] == 0 or t < st.next_lock_t[i]:
        return
    n_locking = 0
    next_lock = np.inf
    for g in range(st.g_state.shape[1]):
        if st.g_count[i, g] <= 0 or st.g_state[i, g] != LOCKING:
            continue
        sp = st.g_space[i, g]
        if t >= st.g_lock_done[i, g] and sp != st.a_space[i]:
            st.groups_ver[i] += 1  # its state changes below
            if st.g_ulock[i, g] < sc.lock_works_prob:
                hc = bl.hard_corner[sp] and st.g_uhc[i, g] < sc.use_hard_corner_prob
                st.g_state[i, g] = LOCKED_HC if hc else LOCKED
                st.s_locked[i, sp] = True
            else:
                st.g_state[i, g] = HIDING
        else:
            n_locking += 1
            next_lock = min(next_lock, st.g_lock_done[i, g])
    st.n_locking[i] = n_locking
    st.next_lock_t[i] = next_lock


# ----------------------------------------------------------------------------- 6. group movement


@njit(inline="always")
def target_exit(st, bl, sc, i: int, g: int, heard: bool) -> int:  # type: ignore[no-untyped-def]
    """The exit a moving group heads for: away from the last gunfire once it has been heard."""
    sp = st.g_space[i, g]
    if not (st.g_state[i, g] == EVACUATING and heard):
        return bl.nearest_exit[sp]
    threat = max(st.last_gf_space[i], 0)
    best = -1
    best_score = np.inf
    for k in range(bl.exits.shape[0]):
        d = bl.exit_dist[sp, k]
        score = d + (sc.avoid_penalty_m if bl.exit_dist[threat, k] <= d else 0.0)
        if score < best_score:
            best_score = score
            best = bl.exits[k]
    return best


@njit(inline="always")
def group_movement(st, bl, sc, i: int, t: float, heard: bool) -> None:  # type: ignore[no-untyped-def]
    """Evacuating groups walk hop by hop to an exit; at an exit they are out. The walking groups are the
    list ``g_moving`` (a group joins it when it starts to walk, leaves it when out or no one is left
    unhurt); each walks on its own, so their order does not matter."""
    n_moving = 0
    for k in range(st.n_moving[i]):
        g = st.g_moving[i, k]
        s0 = st.g_state[i, g]
        if st.g_count[i, g] <= 0 or not (s0 == EVACUATING or s0 == FIRE_EVAC):
            continue
        arrived = False
        if st.g_next[i, g] >= 0:
            st.g_eta[i, g] -= sc.dt
            if st.g_eta[i, g] <= 0:
                st.g_space[i, g] = st.g_next[i, g]
                st.g_next[i, g] = -1
                arrived = True
                st.groups_ver[i] += 1
        if arrived and bl.kind[st.g_space[i, g]] == EXIT:
            st.evacuated[i] += st.g_count[i, g]
            st.g_count[i, g] = 0
            st.g_state[i, g] = OUT
            continue
        if st.g_next[i, g] < 0:
            sp = st.g_space[i, g]
            nxt = bl.next_hop[sp, target_exit(st, bl, sc, i, g, heard)]
            st.g_next[i, g] = nxt
            st.g_eta[i, g] = bl.leg_group[edge(bl, sp, nxt)]
        st.g_moving[i, n_moving] = g
        n_moving += 1
    st.n_moving[i] = n_moving


# --------------------------------------------------------------------------------- 9. engagement


@njit(inline="always")
def engagement(st, bl, i: int, t: float, engaged, near_src, near) -> bool:  # type: ignore[no-untyped-def]
    """Units inside in the attacker's space or next to it are engaged (``engaged[j]``); any? A barricaded
    attacker's door is shut: only units in its own room are engaged (those at the door force it, see
    ``standoff``). ``near_src``/``near``: scratch of ``mark_near``."""
    a = st.a_space[i]
    mark_near(bl, a, near_src, near)
    shut = st.a_barricaded[i]
    any_eng = False
    for j in range(engaged.shape[0]):
        sp = st.u_space[i, j]
        engaged[j] = st.u_status[i, j] == INSIDE and (sp == a or (not shut and near[max(sp, 0)]))
        if engaged[j]:
            any_eng = True
    if any_eng and math.isinf(st.first_contact_t[i]):
        st.first_contact_t[i] = t
    return any_eng


# ------------------------------------------------------------------------- 7. attacker movement


@njit(inline="always")
def forced_attacker(st, fo, sc, i: int, t: float, any_eng: bool) -> None:  # type: ignore[no-untyped-def]
    """Replay: at a waypoint's time the attacker is where the record puts it (unless engaged or
    barricaded); observed gunfire there is heard like simulated fire."""
    last = -1
    shot = False
    for k in range(fo.wp_t.shape[0]):
        if fo.wp_t[k] > t - sc.dt and fo.wp_t[k] <= t:
            last = k
            if fo.wp_shot[k]:
                shot = True
    if last < 0 or any_eng or st.a_barricaded[i]:
        return
    wp = fo.wp_space[last]
    st.a_space[i] = wp
    st.a_next[i] = -1
    st.a_eta[i] = 0.0
    st.a_arrived_at[i] = t
    st.a_visited[i, wp] = True
    if shot:
        st.last_gf_t[i] = t
        st.last_gf_space[i] = wp
        if math.isinf(st.t_first_shot[i]):
            st.t_first_shot[i] = t


@njit(inline="always")
def attacker_movement(st, bl, sc, i: int, t: float, w) -> None:  # type: ignore[no-untyped-def]
    """The attacker walks to a neighbour; it leaves a space after a dwell, preferring unvisited
    neighbours, never into an exit or a locked room. ``w`` is a scratch array [S]."""
    if st.a_next[i] >= 0:
        st.a_eta[i] -= sc.dt
        if st.a_eta[i] <= 0:
            if room_locked(st, i, st.a_next[i]):
                # a room locked while the attacker walked to it stays shut: it chooses again
                st.a_next[i] = -1
                st.a_eta[i] = 0.0
            else:
                st.a_space[i] = st.a_next[i]
                st.a_next[i] = -1
                st.a_arrived_at[i] = t
                st.a_visited[i, st.a_space[i]] = True
    if st.a_next[i] >= 0:
        return
    sp = st.a_space[i]
    away = st.a_move_away[i]
    stay_min = t >= st.a_arrived_at[i] + sc.dwell_min_s
    due = (stay_min and not open_people_here(st, i, sp)) or t >= st.a_arrived_at[i] + sc.dwell_max_s
    if not (due or away):
        return
    st.a_move_away[i] = False
    lo = bl.nbr_ptr[sp]
    deg = bl.nbr_ptr[sp + 1] - lo
    # weights of the neighbours, ascending (zero for exits and locked rooms, and, moving away from officers,
    # for spaces holding one): the same draw as over all spaces with zeros for the others, since a zero
    # weight adds nothing to rng.choose's partial sums
    for k in range(deg):
        q = bl.nbr[lo + k]
        w[k] = 0.0
        if bl.nbr_interior[lo + k] and not room_locked(st, i, q):
            w[k] = 1.0 if st.a_visited[i, q] else sc.w_unvisited
            if away:
                for j in range(st.u_space.shape[1]):
                    if st.u_status[i, j] == INSIDE and st.u_space[i, j] == q:
                        w[k] = 0.0
    choice = rng.choose(w[:deg], rng.uniform(st.key[i], st.tick[i], rng.S_ATTACKER_MOVE, 0))
    if choice >= 0:
        st.a_next[i] = bl.nbr[lo + choice]
        st.a_eta[i] = bl.leg_attacker[lo + choice]


# --------------------------------------------------------------------------- 8. officer movement


@njit(inline="always")
def officer_movement(  # type: ignore[no-untyped-def]
    st, th, bl, sc, i: int, t: float, heard: bool, engaged, w, two_src, two, two_members
) -> None:
    """Officers inside and not engaged walk toward the attacker when they hear or see it (within two hops)
    or have been told its room (``location_info_s`` after it got there), else toward the last gunfire, at
    the replication's pace (``officer_pace``, 1 = the scenario's speed). A barricaded attacker's door is
    shut: they stop at it. At the target with no contact they search: a neighbour not yet cleared (any
    neighbour when all are), and an officer who reaches a room nobody has cleared clears it
    (``clear_room_s``) before moving on."""
    a = st.a_space[i]
    shut = st.a_barricaded[i]
    told = t >= st.a_arrived_at[i] + sc.location_info_s
    for j in range(engaged.shape[0]):
        if st.u_status[i, j] != INSIDE or engaged[j] or t < st.u_hold[i, j]:
            continue
        if st.u_next[i, j] >= 0:
            st.u_eta[i, j] -= sc.dt
            if st.u_eta[i, j] <= 0:
                sp = st.u_next[i, j]
                st.u_space[i, j] = sp
                st.u_next[i, j] = -1
                mark_two_hops(bl, a, two_src, two, two_members)
                if not st.s_cleared[i, sp]:
                    st.s_cleared[i, sp] = True
                    if bl.lockable[sp] and sp != a and not two[sp]:
                        st.u_hold[i, j] = t + sc.clear_room_s
                        continue
        if st.u_next[i, j] >= 0 or not (heard or told):
            continue
        sp = st.u_space[i, j]
        mark_two_hops(bl, a, two_src, two, two_members)
        target = a if (two[sp] or told) else st.last_gf_space[i]
        if sp != target:
            nxt = bl.next_hop[sp, target]
            if shut and nxt == a:
                continue  # at the barricaded door: hold (or force it, ``standoff``)
            st.u_next[i, j] = nxt
            st.u_eta[i, j] = bl.leg_officer[edge(bl, sp, nxt)] / th[i].officer_pace
        else:
            lo = bl.nbr_ptr[sp]
            deg = bl.nbr_ptr[sp + 1] - lo
            total = 0.0
            for k in range(deg):
                w[k] = 1.0 if (bl.nbr_interior[lo + k] and not st.s_cleared[i, bl.nbr[lo + k]]) else 0.0
                total += w[k]
            if total == 0.0:
                for k in range(deg):
                    w[k] = 1.0 if bl.nbr_interior[lo + k] else 0.0
            choice = rng.choose(w[:deg], rng.uniform(st.key[i], st.tick[i], rng.S_OFFICER_SEARCH, j))
            if choice >= 0:
                st.u_next[i, j] = bl.nbr[lo + choice]
                st.u_eta[i, j] = bl.leg_officer[lo + choice] / th[i].officer_pace


# --------------------------------------------------------------------------------- 8b. standoff


@njit(inline="always")
def standoff(st, bl, sc, un, th, i: int, t: float, near_src, near) -> None:  # type: ignore[no-untyped-def]
    """At a barricaded attacker's door: under ``breach`` every officer there forces it, under ``contain``
    only the tactical team does (the others hold the door). The door gives way ``breach_median_s`` of its
    lock after the first officer started (lognormal, log-sd ``breach_sigma``); the breach stops if nobody
    is left forcing it. Once forced, the attacker is no longer barricaded and officers engage it."""
    if not st.a_barricaded[i]:
        return
    a = st.a_space[i]
    mark_near(bl, a, near_src, near)
    breach = th[i].breach > 0
    anyone = False
    for j in range(st.u_status.shape[1]):
        sp = st.u_space[i, j]
        at_door = st.u_status[i, j] == INSIDE and st.u_next[i, j] < 0 and sp >= 0 and near[sp]
        st.u_breaching[i, j] = at_door and (breach or un.role[j] == ROLE_TACTICAL)
        if st.u_breaching[i, j]:
            anyone = True
    if not anyone:
        st.a_breach_at[i] = np.inf
        return
    if math.isinf(st.a_breach_at[i]):
        u0 = rng.uniform(st.key[i], st.tick[i], rng.S_BREACH, 0)
        u1 = rng.uniform(st.key[i], st.tick[i], rng.S_BREACH, 1)
        st.a_breach_at[i] = t + rng.lognormal(u0, u1, bl.breach_median_s[a], sc.breach_sigma)
    if t >= st.a_breach_at[i]:
        st.a_barricaded[i] = False
        st.a_breach_at[i] = np.inf
        for j in range(st.u_status.shape[1]):
            st.u_breaching[i, j] = False


# ------------------------------------------------------------------------------------------ 10. fire


@njit(inline="always")
def fire_at_officers(st, th, sc, i: int, engaged, at_door: bool) -> None:  # type: ignore[no-untyped-def]
    """The attacker fires at the engaged officers (``at_door``: at those forcing its door, through it, at
    ``breach_exposure`` of the hazard): each is hit with the per-tick probability."""
    factor = th[i].officer_hit_factor_rifle if th[i].rifle > 0 else 1.0
    if at_door:
        factor *= th[i].breach_exposure
    p_hit = hazard_p(th[i].officer_hit_h * factor, sc.dt)
    for j in range(engaged.shape[0]):
        if not (st.u_breaching[i, j] if at_door else engaged[j]):  # both only ever mark units inside
            continue
        if rng.uniform(st.key[i], st.tick[i], rng.S_OFFICER_HIT, j) < p_hit:
            st.u_status[i, j] = DOWN
            st.u_breaching[i, j] = False
            st.officers_shot[i] += 1
            if rng.uniform(st.key[i], st.tick[i], rng.S_OFFICER_KILLED, j) < th[i].p_officer_killed:
                st.officers_killed[i] += 1


@njit(inline="always")
def targets(st, bl, i: int, near_src, near) -> int:  # type: ignore[no-untyped-def]
    """The groups the attacker can fire at, in group order, into ``g_target``/``g_target_open``: open
    people in its space (``g_target_open``), and people locked behind the door windows of adjacent
    rooms; their number. The list is kept while the attacker stays in its space and no group changes
    state or space or loses its last unhurt person (``groups_ver``): then it is the same list.
    ``near_src``/``near``: scratch of ``mark_near``."""
    a = st.a_space[i]
    if st.targets_space[i] == a and st.targets_ver[i] == st.groups_ver[i]:
        return st.n_targets[i]
    mark_near(bl, a, near_src, near)
    nc = 0
    for g in range(st.g_state.shape[1]):
        if st.g_count[i, g] <= 0:
            continue
        sg = st.g_state[i, g]
        sp = st.g_space[i, g]
        if sg == LOCKED:
            if bl.door_window[sp] and near[sp]:
                st.g_target[i, nc] = g
                st.g_target_open[i, nc] = False
                nc += 1
        elif sp == a and is_open(sg):
            st.g_target[i, nc] = g
            st.g_target_open[i, nc] = True
            nc += 1
    st.n_targets[i] = nc
    st.targets_space[i] = a
    st.targets_ver[i] = st.groups_ver[i]
    return nc


@njit(inline="always")
def open_people_here(st, i: int, space: int) -> bool:  # type: ignore[no-untyped-def]
    """Someone unhurt is in an open state in ``space``: from the kept target list when it is the list of
    that space and still holds (``targets``), else by going through the groups."""
    if st.targets_space[i] == space and st.targets_ver[i] == st.groups_ver[i]:
        for b in range(st.n_targets[i]):
            if st.g_target_open[i, b] and st.g_count[i, st.g_target[i, b]] > 0:
                return True
        return False
    return open_people_in(st, i, space) > 0


@njit(inline="always")
def fire_at_people(st, th, sc, i: int, t: float, nc: int) -> bool:  # type: ignore[no-untyped-def]
    """The attacker fires at its ``nc`` targets (``targets``): open people in its space, else through
    door windows of adjacent locked rooms; returns whether a shot was fired."""
    if nc == 0:
        return False
    has_open = False
    for b in range(nc):
        if st.g_target_open[i, b]:
            has_open = True
            break
    rifle = th[i].rifle > 0
    fire_rate = th[i].fire_rate_rifle if rifle else th[i].fire_rate_handgun
    p_kill = th[i].p_kill_rifle if rifle else th[i].p_kill_handgun
    p_crit = p_kill + (1 - p_kill) * th[i].p_critical
    lam = fire_rate * sc.dt * (1.0 if has_open else th[i].window_fire_factor)
    if st.a_barricaded[i]:
        lam *= th[i].barricade_fire_factor
    key = st.key[i]
    k = st.tick[i]
    n = rng.poisson(rng.uniform(key, k, rng.S_SHOTS, 0), lam, sc.max_shots_per_tick)
    n = min(n, st.a_rounds[i])
    for q in range(n):
        # a target group with probability proportional to its people left
        total = 0.0
        for b in range(nc):
            total += float(st.g_count[i, st.g_target[i, b]])
        if not total > 0:
            continue
        x = rng.uniform(key, k, rng.S_SHOT_TARGET, q) * total
        c = 0.0
        sel = nc - 1
        for b in range(nc):
            c += float(st.g_count[i, st.g_target[i, b]])
            if c > x:
                sel = b
                break
        factor = 1.0 if st.g_target_open[i, sel] else th[i].window_hit_factor
        if not rng.uniform(key, k, rng.S_SHOT_HIT, q) < th[i].p_hit * factor:
            continue
        g = st.g_target[i, sel]
        st.g_count[i, g] -= 1
        if st.g_count[i, g] == 0:
            st.groups_ver[i] += 1
        uo = rng.uniform(key, k, rng.S_SHOT_OUTCOME, q)
        if uo < p_kill:
            st.killed[i] += 1
        elif uo < p_crit:
            c_i = st.n_critical[i]
            st.c_wound_t[i, c_i] = t
            st.c_survival_s[i, c_i] = rng.lognormal(
                rng.uniform(key, k, rng.S_SHOT_SURVIVAL, 2 * q),
                rng.uniform(key, k, rng.S_SHOT_SURVIVAL, 2 * q + 1),
                th[i].critical_survival_median_s,
                th[i].critical_survival_sigma,
            )
            st.n_critical[i] += 1
        else:
            st.wounded_light[i] += 1
    st.shots[i] += n
    st.a_rounds[i] -= n
    if st.a_rounds[i] <= 0:
        st.a_reload_until[i] = t + th[i].reload_s
        st.a_rounds[i] = int(th[i].magazine_rifle if rifle else th[i].magazine_handgun)
    return n > 0


@njit(inline="always")
def mark_gunfire(st, i: int, t: float) -> None:  # type: ignore[no-untyped-def]
    """Gunfire now, in the attacker's space: heard by occupants and officers; the incident's clock."""
    st.last_gf_t[i] = t
    st.last_gf_space[i] = st.a_space[i]
    if math.isinf(st.t_first_shot[i]):
        st.t_first_shot[i] = t


# -------------------------------------------------------------------------------------- 11. endings


@njit(inline="always")
def endings(st, th, bl, sc, un, fo, i: int, t: float, engaged, hz, two_src, two, two_members) -> None:  # type: ignore[no-untyped-def]
    """Competing hazards: self-termination, fleeing, citizens, police, barricading, surrender, moving away
    from officers (``hz`` scratch [7], codes.HAZARD_NAMES; ``two_src``/``two``/``two_members``: scratch of
    ``mark_two_hops``)."""
    a = st.a_space[i]
    any_eng = False
    near = False
    near_j = -1
    scene = False
    h_pol_sum = 0.0
    best = -1
    best_w = -np.inf
    for j in range(engaged.shape[0]):
        s_j = st.u_status[i, j]
        if engaged[j] and s_j == INSIDE:  # engaged and not shot down this tick
            any_eng = True
            wf = weapon_factor(th, un, i, j)
            h_pol_sum += wf
            if wf > best_w:
                best_w = wf
                best = j
        if s_j == INSIDE:
            mark_two_hops(bl, a, two_src, two, two_members)
        if s_j == INSIDE and two[max(st.u_space[i, j], 0)]:
            near = True
            if near_j < 0:
                near_j = j
        if (s_j == ON_SCENE or s_j == INSIDE) and un.armed[j]:
            scene = True
    shut = st.a_barricaded[i]
    # shut in a room, the attacker no longer sees the officers: the police-on-scene factor, not the near one
    mult = th[i].police_near_mult if (near and not shut) else (th[i].police_scene_mult if scene else 1.0)
    reloading = t < st.a_reload_until[i]
    hz[H_SELF] = th[i].self_term_h * mult * st.a_quit[i]
    hz[H_FLEE] = 0.0 if (any_eng or shut) else th[i].flee_h * st.a_quit[i]
    hz[H_CITIZENS] = 0.0
    if not any_eng and open_people_here(st, i, a):
        hz[H_CITIZENS] = th[i].citizen_h * (th[i].reload_mult if reloading else 1.0)
    hz[H_POLICE] = h_pol_sum * th[i].officer_stop_h
    hz[H_BARRICADE] = 0.0
    if bl.lockable[a] and not shut and not any_eng:
        hz[H_BARRICADE] = th[i].barricade_h * (th[i].barricade_near_mult if near else 1.0)
    hz[H_SURRENDER] = th[i].surrender_h if (any_eng or (shut and near)) else 0.0
    hz[H_MOVE_AWAY] = th[i].move_away_h if (near and not any_eng and not shut) else 0.0
    if fo.wp_t.shape[0] > 0 and t < fo.end_t:
        # a replayed attacker went on until the observed end, where the record puts it: only police can
        # stop it earlier (by force or by its surrender)
        hz[H_SELF] = 0.0
        hz[H_FLEE] = 0.0
        hz[H_CITIZENS] = 0.0
        hz[H_BARRICADE] = 0.0
        hz[H_MOVE_AWAY] = 0.0
    total = 0.0
    for q in range(7):
        total += hz[q]
    key = st.key[i]
    k = st.tick[i]
    if not rng.uniform(key, k, rng.S_END, 0) < hazard_p(total, sc.dt):
        return
    kind = rng.choose(hz, rng.uniform(key, k, rng.S_END, 1))
    if kind == H_BARRICADE:
        st.a_barricaded[i] = True
        st.a_next[i] = -1
        st.a_barricade_t[i] = min(st.a_barricade_t[i], t)
        return
    if kind == H_MOVE_AWAY:
        st.a_move_away[i] = True
        return
    if kind < 0:
        return
    # the end reason is written in each branch (a variable holding different constants does not type
    # once the rules are inlined into the loop)
    if kind == H_SELF:
        if math.isfinite(st.first_police_t[i]):
            st.end_reason[i] = SUICIDE_POLICE_ON_SCENE
        else:
            st.end_reason[i] = SUICIDE_BEFORE_POLICE
    elif kind == H_FLEE:
        st.end_reason[i] = FLED
    elif kind == H_CITIZENS:
        st.end_reason[i] = CITIZENS
    elif kind == H_SURRENDER:
        st.end_reason[i] = POLICE_ARRESTED
    elif rng.uniform(key, k, rng.S_END, 2) < th[i].p_police_shot:
        st.end_reason[i] = POLICE_SHOT
    else:
        st.end_reason[i] = POLICE_ARRESTED
    st.end_t[i] = t + sc.dt
    st.a_active[i] = False
    if kind == H_POLICE or (kind == H_SURRENDER and best >= 0):
        st.stopped_by[i] = un.role[best]
    elif kind == H_SURRENDER:
        st.stopped_by[i] = un.role[near_j]


# ------------------------------------------------------------------------------------------ 12. clock


@njit(inline="always")
def clock(st, fo, sc, i: int) -> None:  # type: ignore[no-untyped-def]
    """Advance the tick; a replayed attack ends when the attacker left (or, for the review's protocol arm,
    as soon as every unit is down: the rest cannot change the police outcome), any attack at the horizon."""
    st.tick[i] += 1
    now = st.tick[i] * sc.dt
    if st.a_active[i] and fo.units_out_ends and st.u_status.shape[1] > 0:
        out = True
        for j in range(st.u_status.shape[1]):
            if st.u_status[i, j] != DOWN:
                out = False
                break
        if out:
            now = max(now, fo.end_t)
    if st.a_active[i] and now >= fo.end_t:
        st.end_reason[i] = FLED
        st.end_t[i] = fo.end_t
        st.a_active[i] = False
    if st.a_active[i] and now >= sc.horizon_s:
        st.end_reason[i] = ONGOING
        st.end_t[i] = sc.horizon_s
        st.a_active[i] = False


# ------------------------------------------------------------------------------------ casualty care


@njit(inline="always")
def care_t(st, sc, i: int, c: int) -> float:  # type: ignore[no-untyped-def]
    """When care reaches critical casualty ``c`` (s; inf = never within the model).

    Care starts when the threat is stopped (an attack still going at the horizon never stopped it), or
    earlier with a rescue task force formed ``rtf_ready_s`` after the first entry, plus an access delay.
    """
    key = st.key[i]
    u1 = rng.uniform(key, rng.TICK_CARE, rng.S_CARE, 2 * c)
    u2 = rng.uniform(key, rng.TICK_CARE, rng.S_CARE, 2 * c + 1)
    stop = st.end_t[i] if st.end_reason[i] != ONGOING else np.inf
    if sc.rescue_task_force:
        access = rng.lognormal(u1, u2, sc.rtf_access_median_s, sc.ems_access_sigma)
        begin = min(stop, st.first_entry_t[i] + sc.rtf_ready_s)
    else:
        access = rng.lognormal(u1, u2, sc.ems_access_median_s, sc.ems_access_sigma)
        begin = stop
    return max(st.c_wound_t[i, c], begin) + access


# ------------------------------------------------------------------------------------------ outcome


@njit(_nrt=False)
def outcome(st, fo, sc, un, out, i: int, row: int, delays) -> None:  # type: ignore[no-untyped-def]
    """Write replication ``i``'s outcome row ``row`` (``delays`` is a scratch array [C])."""
    nc = st.n_critical[i]
    died = 0
    m = 0
    for c in range(nc):
        ct = care_t(st, sc, i, c)
        if st.c_wound_t[i, c] + st.c_survival_s[i, c] < ct:
            died += 1
        d = ct - st.c_wound_t[i, c]
        if math.isfinite(d):
            delays[m] = d
            m += 1
    med = median_in_place(delays, m)
    police = np.inf
    for j in range(un.role.shape[0]):
        if un.armed[j]:
            police = min(police, arrival_t(st, fo, i, j))
    fs = st.t_first_shot[i]
    shot = math.isfinite(fs)
    ended = st.end_reason[i] != ONGOING
    sheltered = 0
    for g in range(st.g_count.shape[1]):
        sheltered += st.g_count[i, g]
    out.killed[row] = st.killed[i]
    out.died_awaiting_care[row] = died
    out.wounded_light[row] = st.wounded_light[i]
    out.critical[row] = nc
    out.evacuated[row] = st.evacuated[i]
    out.sheltered[row] = sheltered
    out.shots_fired[row] = st.shots[i]
    out.attack_duration_s[row] = st.end_t[i] - fs if shot else st.end_t[i]
    out.end_reason[row] = st.end_reason[i]
    out.stopped_by[row] = st.stopped_by[i]
    out.first_shot_s[row] = fs if shot else np.nan
    out.first_police_s[row] = _since(police, fs)
    out.first_entry_s[row] = _since(st.first_entry_t[i], fs)
    out.first_contact_s[row] = _since(st.first_contact_t[i], fs)
    out.barricade_s[row] = _since(st.a_barricade_t[i], fs)
    out.officers_shot[row] = st.officers_shot[i]
    out.officers_killed[row] = st.officers_killed[i]
    out.ended_before_police[row] = ended and st.end_t[i] < police
    out.median_time_to_care_s[row] = med


@njit(inline="always")
def median_in_place(v, m: int) -> float:  # type: ignore[no-untyped-def]
    """Median of ``v[:m]`` (NaN when m = 0), as ``np.median`` gives it; sorts ``v[:m]`` in place without
    allocating (insertion sort: critical casualties per incident are few)."""
    for a in range(1, m):
        x = v[a]
        b = a - 1
        while b >= 0 and v[b] > x:
            v[b + 1] = v[b]
            b -= 1
        v[b + 1] = x
    if m == 0:
        return np.nan
    return v[(m - 1) // 2] if m % 2 == 1 else (v[m // 2 - 1] + v[m // 2]) / 2.0


@njit(inline="always")
def _since(t: float, origin: float) -> float:
    d = t - origin
    return d if math.isfinite(d) else np.nan
