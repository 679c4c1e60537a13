"""The vectorised kernel: one tick of every replication at once, following docs/model.md step by step.

``step(state, params, draws) -> (state, events)`` is pure: it never mutates its input, and every random
number is a counter-based draw keyed by (replication key, tick, stream, slot) (``engine/rng.py``).
``events`` lists the critical casualties of this tick, which casualty care needs after the attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from responsesim.engine import rng
from responsesim.engine.state import (
    CITIZENS,
    DOWN,
    EVACUATING,
    FIRE_EVAC,
    FLED,
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
    SUICIDE_BEFORE_POLICE,
    SUICIDE_POLICE_ON_SCENE,
    UNAWARE,
    Draws,
    State,
)
from responsesim.scenario.building import EXIT_CODE
from responsesim.scenario.compile import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_PERIMETER,
    D_SOLO,
    D_TACTICAL,
    D_WAIT_N,
    ROLE_SRO,
    ROLE_TACTICAL,
    Params,
)


@dataclass(frozen=True)
class CriticalEvents:
    """Critical casualties of one tick: replication position in the batch, index, wound time, survival."""

    pos: np.ndarray
    index: np.ndarray
    wound_t: np.ndarray
    survival_s: np.ndarray


@dataclass(frozen=True)
class Tables:
    """Per-building lookups derived once from Params (not state)."""

    nearest_exit: np.ndarray  # [S] nearest exit space by dist
    interior: np.ndarray  # [S] not an exit
    leg_time_group: np.ndarray  # [S, S] edge_len / evac_speed
    leg_time_attacker: np.ndarray
    leg_time_officer: np.ndarray
    move_mask: np.ndarray  # [S, S] adj & interior target
    tactical: np.ndarray  # [U] bool
    sro_patrol_armed: np.ndarray  # [U] bool


def tables(params: Params) -> Tables:
    b = params.building
    exits = b.exits
    nearest = exits[np.argmin(b.dist[:, exits], axis=1)]
    interior = b.kind != EXIT_CODE
    with np.errstate(invalid="ignore"):
        return Tables(
            nearest_exit=nearest.astype(np.int32),
            interior=interior,
            leg_time_group=b.edge_len / params.evac_speed,
            leg_time_attacker=b.edge_len / params.attacker_speed,
            leg_time_officer=b.edge_len / params.officer_speed,
            move_mask=b.adj & interior[None, :],
            tactical=params.unit_role == ROLE_TACTICAL,
            sro_patrol_armed=(params.unit_role != ROLE_TACTICAL) & params.unit_armed,
        )


def _hazard_p(h: np.ndarray | float, dt: float) -> np.ndarray:
    return np.asarray(-np.expm1(-np.asarray(h) * dt))


def _choose(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn per row with probability proportional to ``weights`` [R, K]; -1 where all are 0."""
    c = np.cumsum(weights, axis=1)
    total = c[:, -1]
    idx = (c <= (u * total)[:, None]).sum(axis=1)
    idx = np.minimum(idx, weights.shape[1] - 1)
    return np.where(total > 0, idx, -1)


def step(
    state: State, params: Params, draws: Draws, tab: Tables | None = None
) -> tuple[State, CriticalEvents]:
    """Advance every replication by one tick (docs/model.md, steps 1-12)."""
    tab = tab or tables(params)
    s = state.copy()
    b = params.building
    dt = params.dt
    t = s.tick * dt
    k = s.tick
    r = s.rep.shape[0]
    rows = np.arange(r)
    act = s.a_active.copy()  # step 1: ended replications change nothing but the clock

    # 2. arrivals (fixed arrival times of a replayed incident override the drawn ones)
    arrival = s.t_first_shot[:, None] + draws.u_offset
    if params.unit_arrival_t.size:
        arrival = np.where(np.isnan(params.unit_arrival_t)[None, :], arrival, params.unit_arrival_t[None, :])
    arrive = act[:, None] & (s.u_status == NOT_ARRIVED) & (arrival <= t)
    s.u_status[arrive] = ON_SCENE
    armed_arrived = (arrive & params.unit_armed[None, :]).any(axis=1)
    s.first_police_t[armed_arrived & np.isinf(s.first_police_t)] = t
    if params.sro_calls_lockdown:
        sro = np.flatnonzero(params.unit_role == ROLE_SRO)
        if sro.size:
            j = int(sro[0])
            new = arrive[:, j]
            s.lockdown_t[new] = np.minimum(s.lockdown_t[new], arrival[new, j] + params.sro_lockdown_delay_s)

    # 3. entry decisions
    on_scene = (s.u_status == ON_SCENE) & params.unit_armed[None, :] & act[:, None]
    if on_scene.any():
        code = draws.u_doctrine
        par = draws.u_doctrine_param
        present = ((s.u_status == ON_SCENE) | (s.u_status == INSIDE)) & tab.sro_patrol_armed[None, :]
        n_present = present.sum(axis=1)
        pending = np.where(
            (s.u_status == NOT_ARRIVED) & tab.sro_patrol_armed[None, :] & (arrival > t), arrival, np.inf
        )
        next_backup = pending.min(axis=1) if pending.shape[1] else np.full(r, np.inf)
        tac_arrival = (
            np.where(tab.tactical[None, :], arrival, np.inf).min(axis=1)
            if tab.tactical.any()
            else np.full(r, np.inf)
        )
        enter = on_scene & (
            (code == D_SOLO)
            | (code == D_TACTICAL)
            | ((code == D_HESITATE) & (t >= arrival + par))
            | ((code == D_WAIT_N) & (n_present[:, None] >= par))
            | ((code == D_BACKUP_ETA) & ((next_backup[:, None] - t) > par))
            | ((code == D_PERIMETER) & (t >= tac_arrival[:, None]))
        )
        if params.unit_entry_t.size:
            fixed = ~np.isnan(params.unit_entry_t)
            enter = np.where(fixed[None, :], on_scene & (t >= params.unit_entry_t[None, :]), enter)
        if enter.any():
            gf = s.last_gf_space
            entry_space = np.where(gf >= 0, tab.nearest_exit[np.maximum(gf, 0)], params.attacker_entry)
            if params.officer_entry >= 0:
                entry_space = np.full(r, params.officer_entry)
            s.u_status[enter] = INSIDE
            s.u_space[enter] = np.broadcast_to(entry_space[:, None], enter.shape)[enter]
            s.u_next[enter] = -1
            s.u_eta[enter] = 0.0
            first = enter.any(axis=1) & np.isinf(s.first_entry_t)
            s.first_entry_t[first] = t

    # 4. alerting
    heard = s.last_gf_t >= 0
    gfs = np.maximum(s.last_gf_space, 0)
    hears = heard[:, None] & (b.hops[s.g_space, gfs[:, None]] <= params.hear_hops)
    lockdown = t >= s.lockdown_t
    live = (s.g_count > 0) & act[:, None]
    undecided = live & ((s.g_state == UNAWARE) | (s.g_state == FIRE_EVAC))
    newly = undecided & np.isinf(s.g_alert_t) & (hears | lockdown[:, None])
    s.g_alert_t[newly] = t
    fire = undecided & (s.g_state == UNAWARE) & np.isinf(s.g_alert_t) & (t >= params.fire_alarm_t)
    s.g_state[fire] = FIRE_EVAC
    acts = undecided & (t >= s.g_alert_t + draws.g_react)
    if acts.any():
        transit = s.g_next >= 0
        lockable_here = b.lockable[s.g_space]
        to_evac_transit = acts & transit
        decide = acts & ~transit
        lock = decide & lockable_here & (draws.g_udecide < params.p_lockdown)
        evac = decide & (
            (lockable_here & ~(draws.g_udecide < params.p_lockdown))
            | (~lockable_here & (draws.g_udecide < params.p_evacuate_open))
        )
        hide = decide & ~lockable_here & ~(draws.g_udecide < params.p_evacuate_open)
        s.g_state[lock] = LOCKING
        s.g_lock_done[lock] = t + draws.g_lock_time[lock]
        s.g_state[evac | to_evac_transit] = EVACUATING
        s.g_state[hide] = HIDING

    # 5. locking
    locking = live & (s.g_state == LOCKING) & (t >= s.g_lock_done) & (s.g_space != s.a_space[:, None])
    if locking.any():
        works = draws.g_ulock < params.lock_works_prob
        hc = b.hard_corner[s.g_space] & (draws.g_uhc < params.use_hard_corner_prob)
        s.g_state[locking & works & hc] = LOCKED_HC
        s.g_state[locking & works & ~hc] = LOCKED
        s.g_state[locking & ~works] = HIDING

    # 6. group movement
    moving = live & ((s.g_state == EVACUATING) | (s.g_state == FIRE_EVAC))
    if moving.any():
        arrived = _walk(s.g_space, s.g_next, s.g_eta, moving, dt)
        at_exit = arrived & (b.kind[s.g_space] == EXIT_CODE)
        if at_exit.any():
            s.evacuated[...] += np.where(at_exit, s.g_count, 0).sum(axis=1).astype(np.int32)
            s.g_count[at_exit] = 0
            s.g_state[at_exit] = OUT
        pick = moving & ~at_exit & (s.g_next < 0)
        if pick.any():
            pr, pg = np.nonzero(pick)
            sp = s.g_space[pr, pg]
            exits = b.exits
            d_ge = b.dist[sp][:, exits]  # [n, E]
            d_te = b.dist[gfs[pr]][:, exits]
            score = d_ge + params.avoid_penalty_m * (d_te <= d_ge)
            away = exits[np.argmin(score, axis=1)]
            use_away = (s.g_state[pr, pg] == EVACUATING) & heard[pr]
            target = np.where(use_away, away, tab.nearest_exit[sp])
            nxt = b.next_hop[sp, target]
            s.g_next[pr, pg] = nxt
            s.g_eta[pr, pg] = tab.leg_time_group[sp, nxt]

    # 9 (positions at the start of movement). engagement
    inside = s.u_status == INSIDE
    engaged = (
        inside
        & act[:, None]
        & ((s.u_space == s.a_space[:, None]) | b.adj[np.maximum(s.u_space, 0), s.a_space[:, None]])
    )
    any_engaged = engaged.any(axis=1)
    s.first_contact_t[any_engaged & np.isinf(s.first_contact_t)] = t

    # 7. attacker movement; a replayed attacker is put where the timeline places it at each waypoint
    if params.script_t.size:
        due = np.flatnonzero((params.script_t > t - dt) & (params.script_t <= t))
        if due.size:
            waypoint = int(params.script_space[due[-1]])
            pin = act & ~any_engaged & ~s.a_barricaded
            s.a_space[pin] = waypoint
            s.a_next[pin] = -1
            s.a_eta[pin] = 0.0
            s.a_arrived_at[pin] = t
            s.a_visited[pin, waypoint] = True
            if params.script_shot[due].any():
                # observed gunfire at the waypoint: heard by occupants and officers like simulated fire
                s.last_gf_t[pin] = t
                s.last_gf_space[pin] = waypoint
                s.t_first_shot[pin & np.isinf(s.t_first_shot)] = t
    amove = act & ~s.a_barricaded & ~any_engaged
    if amove.any():
        transit = amove & (s.a_next >= 0)
        s.a_eta[transit] -= dt
        arr = transit & (s.a_eta <= 0)
        if arr.any():
            # a room locked while the attacker walked to it stays shut: it turns back and chooses again
            ia = np.flatnonzero(arr)
            blocked = ia[_locked_rooms(s, params.n_spaces, ia)[np.arange(ia.size), s.a_next[ia]]]
            s.a_next[blocked] = -1
            s.a_eta[blocked] = 0.0
            arr[blocked] = False
        s.a_space[arr] = s.a_next[arr]
        s.a_next[arr] = -1
        s.a_arrived_at[arr] = t
        s.a_visited[rows[arr], s.a_space[arr]] = True
        still = amove & (s.a_next < 0)
        open_here = _open_here(s)
        leave = still & (
            ((t >= s.a_arrived_at + params.dwell_min_s) & (open_here == 0))
            | (t >= s.a_arrived_at + params.dwell_max_s)
        )
        if leave.any():
            il = np.flatnonzero(leave)
            w = tab.move_mask[s.a_space[il]] & ~_locked_rooms(s, params.n_spaces, il)
            w = w * np.where(s.a_visited[il], 1.0, params.w_unvisited)
            u = rng.uniform(s.keys[il], k, rng.S_ATTACKER_MOVE, 1)[:, 0]
            choice = _choose(w, u)
            go = choice >= 0
            ig = il[go]
            s.a_next[ig] = choice[go]
            s.a_eta[ig] = tab.leg_time_attacker[s.a_space[ig], choice[go]]

    # 8. officer movement
    omove = inside & ~engaged & act[:, None]
    if omove.any():
        _walk(s.u_space, s.u_next, s.u_eta, omove, dt)
        still = omove & (s.u_next < 0)
        if still.any():
            usp = np.maximum(s.u_space, 0)
            near = b.hops[usp, s.a_space[:, None]] <= 2
            target = np.where(near, s.a_space[:, None], s.last_gf_space[:, None])
            has_target = still & heard[:, None]
            head = has_target & (s.u_space != target)
            nxt = b.next_hop[usp, np.maximum(target, 0)]
            s.u_next[head] = nxt[head]
            s.u_eta[head] = tab.leg_time_officer[usp, nxt][head]
            search = has_target & (s.u_space == target)
            if search.any():
                sr, sj = np.nonzero(search)
                u = rng.uniform(s.keys[sr], k, rng.S_OFFICER_SEARCH, params.n_units)[np.arange(sr.size), sj]
                here = usp[sr, sj]
                choice = _choose(tab.move_mask[here].astype(np.float64), u)
                ok = choice >= 0
                s.u_next[sr[ok], sj[ok]] = choice[ok]
                s.u_eta[sr[ok], sj[ok]] = tab.leg_time_officer[here[ok], choice[ok]]

    # 10. fire
    ready = act & (t >= s.a_reload_until)
    fired = np.zeros(r, dtype=bool)
    crit_pos: list[np.ndarray] = []
    crit_idx: list[np.ndarray] = []
    crit_surv: list[np.ndarray] = []
    at_officers = ready & any_engaged
    io = np.flatnonzero(at_officers)
    if io.size:
        uh = rng.uniform(s.keys[io], k, rng.S_OFFICER_HIT, params.n_units)
        uk = rng.uniform(s.keys[io], k, rng.S_OFFICER_KILLED, params.n_units)
        th = draws.theta
        p_off = _hazard_p(th.officer_hit_h[io] * th.officer_hit_factor[io], dt)
        hit = engaged[io] & (uh < p_off[:, None])
        st = s.u_status[io]
        st[hit] = DOWN
        s.u_status[io] = st
        s.officers_shot[io] += hit.sum(axis=1).astype(np.int32)
        s.officers_killed[io] += (hit & (uk < th.p_officer_killed[io][:, None])).sum(axis=1).astype(np.int32)
        fired[io] = True
    at_people = ready & ~any_engaged
    if at_people.any():
        open_t, window_t = _targets(s, params)
        has_open = np.asarray(open_t.any(axis=1))
        has_any = (has_open | window_t.any(axis=1)) & at_people
        ix = np.flatnonzero(has_any)
        if ix.size:
            keys = s.keys[ix]
            th = draws.theta.take(ix)
            lam = th.fire_rate * dt * np.where(has_open[ix], 1.0, th.window_fire_factor)
            u = rng.uniform(keys, k, rng.S_SHOTS, 1)[:, 0]
            n = np.minimum(rng.poisson(u, lam, params.max_shots_per_tick), s.a_rounds[ix])
            cap = params.max_shots_per_tick
            ut = rng.uniform(keys, k, rng.S_SHOT_TARGET, cap)
            uhit = rng.uniform(keys, k, rng.S_SHOT_HIT, cap)
            uo = rng.uniform(keys, k, rng.S_SHOT_OUTCOME, cap)
            us = rng.uniform(keys, k, rng.S_SHOT_SURVIVAL, 2 * cap)
            factor = np.where(open_t[ix], 1.0, th.window_hit_factor[:, None])
            targets = open_t[ix] | window_t[ix]
            count = s.g_count[ix]
            sub = np.arange(ix.size)
            p_crit = th.p_kill + (1 - th.p_kill) * th.p_critical
            for j in range(int(n.max(initial=0))):
                w = np.where(targets, count, 0).astype(np.float64)
                gsel = _choose(w, ut[:, j])
                gi = np.maximum(gsel, 0)
                hit = (n > j) & (gsel >= 0) & (uhit[:, j] < th.p_hit * factor[sub, gi])
                if not hit.any():
                    continue
                count[sub[hit], gi[hit]] -= 1
                dead = hit & (uo[:, j] < th.p_kill)
                crit = hit & ~dead & (uo[:, j] < p_crit)
                s.killed[ix] += dead.astype(np.int32)
                s.wounded_light[ix] += (hit & ~dead & ~crit).astype(np.int32)
                if crit.any():
                    surv = rng.lognormal(
                        us[crit, 2 * j],
                        us[crit, 2 * j + 1],
                        th.critical_survival_median_s[crit],
                        th.critical_survival_sigma[crit],
                    )
                    pos = ix[crit]
                    crit_pos.append(pos)
                    crit_idx.append(s.n_critical[pos].copy())
                    crit_surv.append(surv)
                    s.n_critical[pos] += 1
            s.g_count[ix] = count
            s.shots[ix] += n.astype(np.int32)
            s.a_rounds[ix] -= n.astype(np.int32)
            empty = ix[s.a_rounds[ix] <= 0]
            s.a_reload_until[empty] = t + draws.theta.reload_s[empty]
            s.a_rounds[empty] = draws.theta.magazine[empty].astype(np.int32)
            fired[ix[n > 0]] = True
    if fired.any():
        s.last_gf_t[fired] = t
        s.last_gf_space[fired] = s.a_space[fired]
        first = fired & np.isinf(s.t_first_shot)
        s.t_first_shot[first] = t

    # 11. endings
    if act.any():
        alive_eng = engaged & (s.u_status == INSIDE)
        any_eng = alive_eng.any(axis=1)
        usp = np.maximum(s.u_space, 0)
        near = ((s.u_status == INSIDE) & (b.hops[usp, s.a_space[:, None]] <= 2)).any(axis=1)
        scene = (((s.u_status == ON_SCENE) | (s.u_status == INSIDE)) & params.unit_armed[None, :]).any(axis=1)
        th = draws.theta
        mult = np.where(near, th.police_near_mult, np.where(scene, th.police_scene_mult, 1.0))
        h_st = th.self_term_h * mult
        h_flee = np.where(any_eng | s.a_barricaded, 0.0, th.flee_h)
        reloading = t < s.a_reload_until
        open_here = _open_here(s)
        h_cit = np.where(
            (open_here > 0) & ~any_eng, th.citizen_h * np.where(reloading, th.reload_mult, 1.0), 0.0
        )
        h_pol = (alive_eng * params.unit_weapon_factor[None, :]).sum(axis=1) * th.officer_stop_h
        h_bar = np.where(b.lockable[s.a_space] & ~s.a_barricaded, th.barricade_h, 0.0)
        if params.script_t.size and t < params.script_end_t:
            # the replayed attacker went on until the observed end: only police can stop it earlier
            h_st = h_flee = h_cit = h_bar = np.zeros(r)
        hz = np.stack([h_st, h_flee, h_cit, h_pol, h_bar], axis=1) * act[:, None]
        total = hz.sum(axis=1)
        u = rng.uniform(s.keys, k, rng.S_END, 3)
        event = act & (u[:, 0] < _hazard_p(total, dt))
        if event.any():
            kind = _choose(hz, u[:, 1])
            bar = event & (kind == 4)
            s.a_barricaded[bar] = True
            s.a_next[bar] = -1
            ends = event & (kind >= 0) & (kind < 4)
            arrived_police = np.isfinite(s.first_police_t)
            reason = np.select(
                [kind == 0, kind == 1, kind == 2, u[:, 2] < th.p_police_shot],
                [
                    np.where(arrived_police, SUICIDE_POLICE_ON_SCENE, SUICIDE_BEFORE_POLICE),
                    np.full(r, FLED),
                    np.full(r, CITIZENS),
                    np.full(r, POLICE_SHOT),
                ],
                default=POLICE_ARRESTED,
            )
            s.end_reason[ends] = reason[ends].astype(np.int8)
            s.end_t[ends] = t + dt
            s.a_active[ends] = False
            pol = ends & (kind == 3)
            if pol.any():
                weight = np.where(alive_eng, params.unit_weapon_factor[None, :], -1.0)
                best = np.argmax(weight, axis=1)
                s.stopped_by[pol] = params.unit_role[best[pol]]

    # 12. clock and horizon
    s = _advance(s, params)
    events = CriticalEvents(
        pos=np.concatenate(crit_pos) if crit_pos else np.zeros(0, dtype=np.int64),
        index=np.concatenate(crit_idx) if crit_idx else np.zeros(0, dtype=np.int32),
        wound_t=np.full(sum(len(p) for p in crit_pos), t),
        survival_s=np.concatenate(crit_surv) if crit_surv else np.zeros(0),
    )
    return s, events


def _advance(s: State, params: Params) -> State:
    tick = s.tick + 1
    left = s.a_active & (tick * params.dt >= params.script_end_t)
    s.end_reason[left] = FLED
    s.end_t[left] = params.script_end_t
    s.a_active[left] = False
    over = s.a_active & (tick * params.dt >= params.horizon_s)
    s.end_reason[over] = ONGOING
    s.end_t[over] = params.horizon_s
    s.a_active[over] = False
    return State(**{**s.__dict__, "tick": tick})


def _walk(space: np.ndarray, nxt: np.ndarray, eta: np.ndarray, moving: np.ndarray, dt: float) -> np.ndarray:
    """Advance the ``moving`` agents in transit by ``dt`` (in place); those whose ``eta`` runs out arrive
    (``space = nxt``, ``nxt = -1``). Returns the arrivals."""
    transit = moving & (nxt >= 0)
    eta[transit] -= dt
    arrived = transit & (eta <= 0)
    space[arrived] = nxt[arrived]
    nxt[arrived] = -1
    return arrived


def _open_here(s: State) -> np.ndarray:
    """Unhurt people in open states in the attacker's space, per replication."""
    st = s.g_state
    is_open = (st == UNAWARE) | (st == LOCKING) | (st == HIDING) | (st == EVACUATING) | (st == FIRE_EVAC)
    here = is_open & (s.g_space == s.a_space[:, None]) & (s.g_count > 0)
    return np.where(here, s.g_count, 0).sum(axis=1)


def _targets(s: State, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Open targets (same space) and window targets (locked, visible, adjacent room) [R, G]."""
    b = params.building
    st = s.g_state
    live = s.g_count > 0
    is_open = (st == UNAWARE) | (st == LOCKING) | (st == HIDING) | (st == EVACUATING) | (st == FIRE_EVAC)
    open_t = live & is_open & (s.g_space == s.a_space[:, None])
    window_t = live & (st == LOCKED) & b.door_window[s.g_space] & b.adj[s.a_space[:, None], s.g_space]
    return open_t, window_t


def _locked_rooms(s: State, n_spaces: int, rows: np.ndarray) -> np.ndarray:
    """[len(rows), S] whether each space holds a locked group, for the replications at ``rows``."""
    st = s.g_state[rows]
    locked = (st == LOCKED) | (st == LOCKED_HC)
    out = np.zeros((rows.shape[0], n_spaces), dtype=bool)
    rr, gg = np.nonzero(locked)
    out[rr, s.g_space[rows][rr, gg]] = True
    return out


__all__ = ["CriticalEvents", "Tables", "step", "tables"]
