"""Typed containers of the engine: what the compiled rules read and write, with units and shapes.

Shapes use R replications, G occupant groups, U responder units, S spaces, K replay waypoints and
C casualty slots (C = occupants at the start, the most who can be hurt). Times are seconds from the
start of the attack (t = 0 when the attacker enters) unless a field says otherwise; ``inf`` means
"not yet / never". Every container is a ``NamedTuple`` of NumPy arrays and scalars, which Numba compiles
as a typed struct: the rules (``engine/rules.py``) take them by attribute, never by position.

- ``Building``: the space graph and per-building travel tables (read-only).
- ``Scenario``: scenario scalars the same for every replication (read-only).
- ``Units``: the responder roster [U] (read-only).
- ``THETA_DTYPE``: per-replication model parameters, a structured array [R] (the registry of
  ``responsesim.parameters`` plus the scenario levers in ``LEVERS``), so one batch can hold many
  parameter points.
- ``Forcing``: what a replayed incident imposes (attacker waypoints, observed arrivals, entries,
  withdrawals); empty when nothing is replayed.
- ``State``: everything that changes, [R, ...], including the draws made once at the start.
- ``Scratch``: the kernel's working arrays (no allocation in the loop).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from responsesim.parameters import PER_REPLICATION


class Building(NamedTuple):
    """The building as the rules need it. Lengths in m; ``leg_*`` in s.

    Edges are neighbour lists (CSR): the neighbours of space ``a`` are ``nbr[nbr_ptr[a]:nbr_ptr[a + 1]]``,
    ascending, and ``nbr_interior``/``leg_*`` at the same positions describe the edge to each (N = 2 x
    edges). Only ``exit_dist`` [S, E] and ``next_hop`` [S, S] (int16) are tables over pairs of spaces
    (docs/engine.md, *Memory*). Rules read edges through ``rules.edge``, and neighbourhoods of a space
    through ``rules.mark_near``, ``rules.mark_two_hops`` and ``rules.hops_from``.
    """

    kind: np.ndarray  # int64 [S] space kind (codes.SPACE_KIND_NAMES)
    lockable: np.ndarray  # bool [S] the door can be locked from inside
    hard_corner: np.ndarray  # bool [S] a place out of sight of the door window
    door_window: np.ndarray  # bool [S] the door has a window
    nbr_ptr: np.ndarray  # int64 [S + 1] where each space's neighbours start in ``nbr``
    nbr: np.ndarray  # int64 [N] neighbours, ascending within a space
    nbr_interior: np.ndarray  # bool [N] the neighbour is not an exit (attacker moves, searches)
    leg_group: np.ndarray  # float64 [N] edge length / evac_speed (s)
    leg_attacker: np.ndarray  # float64 [N] edge length / attacker_speed (s)
    leg_officer: np.ndarray  # float64 [N] edge length / officer_speed (s)
    exits: np.ndarray  # int64 [E] exit spaces, ascending
    exit_dist: np.ndarray  # float64 [S, E] shortest path length to each exit (m)
    nearest_exit: np.ndarray  # int64 [S] exit nearest by exit_dist (lowest index on ties)
    next_hop: np.ndarray  # int16 [S, S] neighbour of a on the shortest path to b
    breach_median_s: np.ndarray  # float64 [S] median time to force the space's door (s), by its lock


class Scenario(NamedTuple):
    """Scenario scalars (the same for every replication of a batch)."""

    dt: float  # tick length (s)
    horizon_s: float  # the run stops here (s)
    n_occupants: int  # people at the start
    # occupants
    reaction_median_s: float
    reaction_sigma: float
    p_lockdown: float
    p_evacuate_open: float
    lock_time_min_s: float
    lock_time_max_s: float
    lock_works_prob: float
    use_hard_corner_prob: float
    avoid_penalty_m: float
    # alerting
    fire_alarm_t: float  # s, inf = never
    hear_hops: int
    # attacker
    attacker_entry: int  # space index (an exit)
    attacker_first_hop: int  # the interior neighbour it walks to first
    dwell_min_s: float
    dwell_max_s: float
    w_unvisited: float
    max_shots_per_tick: int
    # responders
    officer_entry: int  # space index, -1: the exit nearest the last gunfire
    sro_calls_lockdown: bool
    sro_lockdown_delay_s: float
    call_delay_median_s: float
    sro_response_median_s: float
    sro_response_sigma: float
    patrol_first_median_s: float
    patrol_first_sigma: float
    patrol_gap_mean_s: float
    tactical_median_s: float
    tactical_sigma: float
    breach_sigma: float  # log-sd of the time to force a door
    clear_room_s: float  # an officer clears a room in this time (s)
    location_info_s: float  # officers learn the attacker's room this long after it gets there (s), inf never
    # care
    rescue_task_force: bool
    ems_access_median_s: float
    ems_access_sigma: float
    rtf_ready_s: float
    rtf_access_median_s: float


class Units(NamedTuple):
    """The responder roster in unit order: the SRO (if any), patrol officers, tactical officers."""

    role: np.ndarray  # int64 [U] codes.ROLE_*
    armed: np.ndarray  # bool [U]
    rifle: np.ndarray  # bool [U] carries a rifle (weapon factor ``rifle_factor_officer``)
    doctrine: np.ndarray  # int64 [U] the unit's own doctrine (codes.D_*)
    doctrine_param: np.ndarray  # float64 [U] its threshold (s), n, or delay (s)
    follows_scenario: np.ndarray  # bool [U] takes the replication's doctrine lever (SRO/patrol units)
    sro_present: np.ndarray  # bool [U] the unit is the SRO (present only when the lever says so)
    sro_index: int  # index of the SRO unit, -1 when none


#: per-replication scenario levers besides the model parameters: weapon (1 = rifle), lockdown time
#: (s, inf = never), SRO present (0/1), doctrine of SRO and patrol units (codes.D_*) and its parameter
#: and the barricade doctrine (1 = breach, 0 = contain)
LEVERS: tuple[str, ...] = ("rifle", "lockdown_t", "sro_present", "doctrine_code", "doctrine_param", "breach")
THETA_FIELDS: tuple[str, ...] = PER_REPLICATION + LEVERS

#: per-replication parameters: a structured array [R] with one float64 field per name of
#: ``THETA_FIELDS`` (derived from the parameter registry, so a new parameter appears without an edit).
#: Rules read ``th[i].fire_rate_handgun``; a batch hands one replication's row on as ``th[r:r + 1]``.
THETA_DTYPE = np.dtype([(name, np.float64) for name in THETA_FIELDS])


class Forcing(NamedTuple):
    """What a replayed incident imposes on every replication (docs/model.md, *Replay*).

    Waypoints put the attacker in a space at a time (and mark observed gunfire there); per-unit times
    replace drawn arrivals and the doctrine's entry decision. NaN means "not forced".
    """

    wp_t: np.ndarray  # float64 [K] waypoint times (s), ascending
    wp_space: np.ndarray  # int64 [K]
    wp_shot: np.ndarray  # bool [K] observed gunfire at the waypoint
    end_t: float  # the observed attack ended (attacker left) at this time (s); inf when not replayed
    arrival_t: np.ndarray  # float64 [U] observed arrival (s) or NaN
    entry_t: np.ndarray  # float64 [U] observed entry (s), inf = never entered, NaN = doctrine decides
    withdraw_t: np.ndarray  # float64 [U] observed withdrawal from inside (s) or NaN
    # the review's protocol arm only needs the police outcome: once every unit is down nothing the engine
    # simulates can change it, so the replication jumps to the observed end (``end_t``) at once
    units_out_ends: bool = False


class State(NamedTuple):
    """Everything that changes in a replication, [R, ...]. Dead, evacuated or stopped agents are masked
    by their state codes, never removed, so every array keeps its shape for the whole run."""

    rep: np.ndarray  # int64 [R] replication index
    key: np.ndarray  # uint64 [R] random-number key
    tick: np.ndarray  # int64 [R] ticks done; the state describes t = tick * dt
    # draws made once at the start (tick -1 streams)
    g_react: np.ndarray  # float64 [R, G] reaction delay after being alerted (s)
    g_udecide: np.ndarray  # float64 [R, G] uniform deciding lock down / evacuate / hide
    g_lock_time: np.ndarray  # float64 [R, G] time to lock the door (s)
    g_ulock: np.ndarray  # float64 [R, G] uniform: does the lock work
    g_uhc: np.ndarray  # float64 [R, G] uniform: is the hard corner used
    u_offset: np.ndarray  # float64 [R, U] arrival after the first shot (s), inf for none
    u_doctrine: np.ndarray  # int64 [R, U] doctrine code in force for the unit
    u_doctrine_param: np.ndarray  # float64 [R, U]
    # occupant groups
    g_space: np.ndarray  # int64 [R, G]
    g_next: np.ndarray  # int64 [R, G] space walked to, -1 when not in transit
    g_eta: np.ndarray  # float64 [R, G] s to reach g_next
    g_count: np.ndarray  # int64 [R, G] unhurt people still in the building
    g_state: np.ndarray  # int64 [R, G] codes.UNAWARE ... codes.OUT
    g_alert_t: np.ndarray  # float64 [R, G] first alerted (s)
    g_lock_done: np.ndarray  # float64 [R, G] the door is locked at (s)
    s_locked: np.ndarray  # bool [R, S] a group has locked the space's door (it stays locked)
    # what steps 4-6 have pending, so a tick on which no group can change skips them (rules.alerting)
    alert_src: np.ndarray  # int64 [R] gunfire space at the last pass through the groups, -1 none heard
    n_unalerted: np.ndarray  # int64 [R] groups not yet alerted (at most)
    next_react_t: np.ndarray  # float64 [R] earliest reaction of an alerted group (s)
    n_locking: np.ndarray  # int64 [R] groups locking their door (at most)
    next_lock_t: np.ndarray  # float64 [R] earliest door done (s)
    g_moving: np.ndarray  # int64 [R, G] first n_moving: the groups walking out
    n_moving: np.ndarray  # int64 [R]
    # and what steps 2-3 have pending (rules.arrivals, rules.entry)
    next_arrival_t: np.ndarray  # float64 [R] the next unit arrives at (s)
    arrival_first_shot: np.ndarray  # float64 [R] the first shot's time next_arrival_t was computed with
    n_waiting: np.ndarray  # int64 [R] armed units on scene, outside (at most)
    # the attacker's targets (rules.targets), kept while they hold
    g_target: np.ndarray  # int64 [R, G] first n_targets: target groups, ascending
    g_target_open: np.ndarray  # bool [R, G] that target is in the open (else behind a door window)
    n_targets: np.ndarray  # int64 [R]
    targets_space: np.ndarray  # int64 [R] the attacker's space the list is for, -1 none
    targets_ver: np.ndarray  # int64 [R] groups_ver when the list was made
    groups_ver: np.ndarray  # int64 [R] counts changes of a group's state or space, or its last person hurt
    # attacker
    a_space: np.ndarray  # int64 [R]
    a_next: np.ndarray  # int64 [R] -1 when not in transit
    a_eta: np.ndarray  # float64 [R]
    a_active: np.ndarray  # bool [R] the attack goes on
    a_barricaded: (
        np.ndarray
    )  # bool [R] shut in a room: officers at its door are not engaged until it is forced
    a_barricade_t: np.ndarray  # float64 [R] it first barricaded at (s), inf never
    a_breach_at: (
        np.ndarray
    )  # float64 [R] the officers at its door will have forced it at (s), inf none under way
    a_move_away: np.ndarray  # bool [R] it heard officers close and leaves its space now, away from them
    a_quit: np.ndarray  # float64 [R] the attacker's factor on its self-termination and flight hazards
    a_rounds: np.ndarray  # int64 [R] rounds left in the magazine
    a_reload_until: np.ndarray  # float64 [R]
    a_arrived_at: np.ndarray  # float64 [R] arrived in a_space at (s)
    a_visited: np.ndarray  # bool [R, S]
    # units
    u_status: np.ndarray  # int64 [R, U] codes.NOT_ARRIVED ... codes.DOWN
    u_space: np.ndarray  # int64 [R, U] -1 when not inside
    u_next: np.ndarray  # int64 [R, U]
    u_eta: np.ndarray  # float64 [R, U]
    u_withdrawn: np.ndarray  # bool [R, U] left the building (forced), does not re-enter
    u_hold: np.ndarray  # float64 [R, U] busy clearing a room until (s), -inf none
    u_breaching: np.ndarray  # bool [R, U] at the barricaded attacker's door, forcing it (exposed to fire)
    s_cleared: np.ndarray  # bool [R, S] officers have been through the space (search)
    # incident clock and events (s; inf = not yet)
    t_first_shot: np.ndarray  # float64 [R]
    last_gf_t: np.ndarray  # float64 [R] -inf before any gunfire
    last_gf_space: np.ndarray  # int64 [R] -1 before any gunfire
    lockdown_t: np.ndarray  # float64 [R]
    first_police_t: np.ndarray  # float64 [R] first armed arrival
    first_entry_t: np.ndarray  # float64 [R]
    first_contact_t: np.ndarray  # float64 [R]
    end_reason: np.ndarray  # int64 [R] codes.END_REASON_NAMES
    end_t: np.ndarray  # float64 [R]
    stopped_by: np.ndarray  # int64 [R] role of the unit that stopped it, -1 none
    # tallies
    evacuated: np.ndarray  # int64 [R]
    killed: np.ndarray  # int64 [R] killed at once
    wounded_light: np.ndarray  # int64 [R]
    n_critical: np.ndarray  # int64 [R] critical casualties so far
    shots: np.ndarray  # int64 [R] rounds fired at people
    officers_shot: np.ndarray  # int64 [R]
    officers_killed: np.ndarray  # int64 [R]
    # critical casualties, in the order they were shot
    c_wound_t: np.ndarray  # float64 [R, C] time of the wound (s)
    c_survival_s: np.ndarray  # float64 [R, C] survival time without care (s)

    def in_building(self) -> np.ndarray:
        """Unhurt people still inside, per replication."""
        return np.asarray(self.g_count.sum(axis=1))

    def copy(self) -> State:
        """A deep copy of every array."""
        return State(*(np.array(x, copy=True) for x in self))


class Outcomes(NamedTuple):
    """One outcome row per replication [R] (docs/model.md, *Outcomes*); times in s after the first shot."""

    killed: np.ndarray  # int64
    died_awaiting_care: np.ndarray  # int64
    wounded_light: np.ndarray  # int64
    critical: np.ndarray  # int64
    evacuated: np.ndarray  # int64
    sheltered: np.ndarray  # int64
    shots_fired: np.ndarray  # int64
    attack_duration_s: np.ndarray  # float64
    end_reason: np.ndarray  # int64 code
    stopped_by: np.ndarray  # int64 role code or -1
    first_shot_s: np.ndarray  # float64 (s after the attacker entered), NaN when no shot
    first_police_s: np.ndarray  # float64
    first_entry_s: np.ndarray  # float64
    first_contact_s: np.ndarray  # float64
    barricade_s: np.ndarray  # float64 the attacker first shut itself in a room, NaN never
    officers_shot: np.ndarray  # int64
    officers_killed: np.ndarray  # int64
    ended_before_police: np.ndarray  # bool
    median_time_to_care_s: np.ndarray  # float64, NaN when no critical casualty


def empty_outcomes(r: int) -> Outcomes:
    """Outcome arrays for ``r`` replications, to be filled by the engine."""
    ints = {"killed", "died_awaiting_care", "wounded_light", "critical", "evacuated", "sheltered",
            "shots_fired", "end_reason", "stopped_by", "officers_shot", "officers_killed"}  # fmt: skip
    return Outcomes(
        *(
            np.zeros(r, dtype=np.int64)
            if f in ints
            else np.zeros(r, dtype=np.bool_)
            if f == "ended_before_police"
            else np.full(r, np.nan)
            for f in Outcomes._fields
        )
    )


def empty_state(r: int, g: int, u: int, s: int, c: int) -> State:
    """A state of the right shapes and dtypes; ``rules.start`` fills each replication."""
    shapes = {"G": (r, g), "U": (r, u), "S": (r, s), "C": (r, max(c, 1)), "R": (r,)}
    out = {}
    for name in State._fields:
        dim = (
            "G"
            if name.startswith("g_")
            else "U"
            if name.startswith("u_")
            else "S"
            if name in ("a_visited", "s_locked", "s_cleared")
            else "C"
            if name.startswith("c_")
            else "R"
        )
        out[name] = np.zeros(shapes[dim], dtype=_STATE_DTYPES.get(name, np.float64))
    return State(**out)


_INT = np.int64
_STATE_DTYPES: dict[str, Any] = {
    "rep": _INT, "key": np.uint64, "tick": _INT, "u_doctrine": _INT, "g_space": _INT, "g_next": _INT,
    "g_count": _INT, "g_state": _INT, "a_space": _INT, "a_next": _INT, "a_active": np.bool_,
    "a_barricaded": np.bool_, "a_rounds": _INT, "a_visited": np.bool_, "u_status": _INT, "u_space": _INT,
    "u_next": _INT, "u_withdrawn": np.bool_, "last_gf_space": _INT, "end_reason": _INT,
    "stopped_by": _INT, "evacuated": _INT, "killed": _INT, "wounded_light": _INT, "n_critical": _INT,
    "shots": _INT, "officers_shot": _INT, "officers_killed": _INT, "s_locked": np.bool_,
    "alert_src": _INT, "n_unalerted": _INT, "n_locking": _INT, "n_moving": _INT, "g_moving": _INT,
    "n_waiting": _INT, "a_move_away": np.bool_, "u_breaching": np.bool_, "s_cleared": np.bool_,
    "g_target": _INT, "g_target_open": np.bool_, "n_targets": _INT, "targets_space": _INT,
    "targets_ver": _INT, "groups_ver": _INT,
}  # fmt: skip


class Scratch(NamedTuple):
    """Working arrays of ``engine/kernel.py``, reused from tick to tick (no allocation in the loop)."""

    engaged: np.ndarray  # bool [U] engaged this tick (step 9)
    go: np.ndarray  # bool [U] decided to enter this tick (step 3)
    weights: np.ndarray  # float64 [S] choice weights (attacker and officer moves; the first degree entries)
    ring_src: np.ndarray  # int64 [1] the space ``ring`` counts from, -1 none yet (rules.hops_from)
    ring: np.ndarray  # int64 [S] edges from ``ring_src`` to each space (hearing, step 4)
    queue: np.ndarray  # int64 [S] breadth-first queue of rules.hops_from
    near_src: np.ndarray  # int64 [1] the space ``near`` marks the neighbours of, -1 none yet
    near: np.ndarray  # bool [S] neighbour of ``near_src`` (rules.mark_near)
    two_src: np.ndarray  # int64 [1] the space ``two`` marks from, -1 none yet
    two: np.ndarray  # bool [S] at most two edges from ``two_src`` (rules.mark_two_hops)
    two_members: np.ndarray  # int64 [S + 1] how many spaces ``two`` marks, then which
    hz: np.ndarray  # float64 [7] competing hazards of step 11 (codes.HAZARD_NAMES)
    delays: np.ndarray  # float64 [C] time to care of each critical casualty


def scratch(n_units: int, n_spaces: int, n_groups: int, n_casualties: int) -> Scratch:
    """Working arrays for a building of these sizes."""
    return Scratch(
        engaged=np.zeros(n_units, dtype=np.bool_),
        go=np.zeros(n_units, dtype=np.bool_),
        weights=np.zeros(n_spaces),
        ring_src=np.full(1, -1, dtype=np.int64),
        ring=np.zeros(n_spaces, dtype=np.int64),
        queue=np.zeros(n_spaces, dtype=np.int64),
        near_src=np.full(1, -1, dtype=np.int64),
        near=np.zeros(n_spaces, dtype=np.bool_),
        two_src=np.full(1, -1, dtype=np.int64),
        two=np.zeros(n_spaces, dtype=np.bool_),
        two_members=np.zeros(n_spaces + 1, dtype=np.int64),
        hz=np.zeros(7),
        delays=np.zeros(max(n_casualties, 1)),
    )


def no_forcing(n_units: int) -> Forcing:
    """A ``Forcing`` that imposes nothing."""
    nan = np.full(n_units, np.nan)
    return Forcing(
        wp_t=np.zeros(0),
        wp_space=np.zeros(0, dtype=np.int64),
        wp_shot=np.zeros(0, dtype=np.bool_),
        end_t=math.inf,
        arrival_t=nan.copy(),
        entry_t=nan.copy(),
        withdraw_t=nan.copy(),
    )


def make_theta(base: Mapping[str, float], r: int, overrides: Mapping[str, Any] | None = None) -> np.ndarray:
    """Per-replication parameters (``THETA_DTYPE`` [r]): ``base`` broadcast, then ``overrides``.

    ``base`` must give every name of ``THETA_FIELDS``; an override names one of them and gives ``r``
    values (or one value). Unknown names raise ``KeyError`` listing the known ones.
    """
    th = np.zeros(r, dtype=THETA_DTYPE)
    for k in THETA_FIELDS:
        th[k] = float(base[k])
    for k, v in (overrides or {}).items():
        if k not in THETA_FIELDS:
            raise KeyError(f"unknown engine parameter {k!r} (known: {', '.join(THETA_FIELDS)})")
        arr = np.asarray(v, dtype=np.float64)
        if arr.ndim and arr.shape != (r,):
            raise ValueError(f"{k}: expected {r} values, got shape {arr.shape}")
        th[k] = arr
    return th


__all__ = [
    "LEVERS",
    "THETA_DTYPE",
    "THETA_FIELDS",
    "Building",
    "Forcing",
    "Outcomes",
    "Scenario",
    "Scratch",
    "State",
    "Units",
    "empty_outcomes",
    "empty_state",
    "make_theta",
    "no_forcing",
    "scratch",
]
