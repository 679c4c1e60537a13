"""Slow, obvious, per-agent reference implementation of docs/model.md.

One Python object per agent (occupant group, officer, attacker) and one ``Incident`` per replication,
whose ``tick()`` performs steps 1-12 of docs/model.md in order with plain loops and if-statements. It is
written from the spec, not from the compiled engine (``engine/rules.py``), and exists only to check
that engine statistically: both must agree *in distribution* (not draw for draw; this module uses its own
``numpy.random.Generator`` per replication, seeded from ``SeedSequence([seed, replication])``).

Choices where docs/model.md is silent (each is the natural per-agent reading):

- a group whose people have all been shot (``count == 0``) is inert: nobody is left to react, lock a
  door or walk, so steps 4-6 skip it (a door it had already locked stays locked);
- a group that arrives in a space during step 6 picks its next hop in the same step ("a group not in
  transit picks"); likewise an officer in step 8 and the attacker in step 7;
- the attacker leaves its entry exit toward the lowest-index non-exit neighbour of that exit;
- "engaged" units in step 11 are those engaged in step 9 that are still ``INSIDE`` after step 10 (a unit
  shot down in step 10 no longer acts);
- firing at officers (step 10, first case) does not use up ``rounds`` and is not counted in
  ``shots_fired`` (the spec only decrements ``rounds`` for shots at people);
- care starts from the threat being stopped only if the attack ended by an event
  (``end_reason != "ongoing"``); an attack still going at the horizon never stops the threat, so care
  then comes only from a rescue task force (``stop_t`` = inf in docs/model.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from responsesim.codes import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_NO_ENTRY,
    D_PERIMETER,
    D_SOLO,
    D_TACTICAL,
    D_WAIT_N,
    DOOR_LOCK_NAMES,
    DOWN,
    END_REASON_NAMES,
    EVACUATING,
    EXIT,
    FIRE_EVAC,
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
    OUT,
    ROLE_NAMES,
    ROLE_PATROL,
    ROLE_SRO,
    ROLE_TACTICAL,
    UNAWARE,
)
from responsesim.codes import OPEN_STATES as _OPEN
from responsesim.scenario.compile import Params

T = TypeVar("T")
INF = math.inf
OPEN_STATES = frozenset(_OPEN)

# end reasons by name, as in the outcome table (codes.END_REASON_NAMES)
(
    ONGOING,
    SUICIDE_BEFORE_POLICE,
    SUICIDE_POLICE_ON_SCENE,
    FLED,
    CITIZENS,
    POLICE_SHOT,
    POLICE_ARRESTED,
) = END_REASON_NAMES

# outcome columns holding counts
INT_COLUMNS = (
    "rep",
    "killed",
    "died_awaiting_care",
    "deaths",
    "wounded",
    "critical",
    "evacuated",
    "sheltered",
    "shots_fired",
    "officers_shot",
    "officers_killed",
)


def hazard_probability(h: float, dt: float) -> float:
    """Per-tick probability of an event with hazard ``h`` per second."""
    return 1.0 - math.exp(-h * dt)


def lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    """A lognormal draw with the given median and log standard deviation."""
    return median * math.exp(sigma * rng.standard_normal())


def pick_weighted(rng: np.random.Generator, items: list[T], weights: list[float]) -> T | None:
    """One of ``items`` with probability proportional to ``weights``; None if every weight is 0."""
    total = sum(weights)
    if total <= 0:
        return None
    x = rng.random() * total
    acc = 0.0
    for item, w in zip(items, weights, strict=True):
        acc += w
        if w > 0 and x < acc:
            return item
    for item, w in zip(reversed(items), reversed(weights), strict=True):  # rounding at the top end
        if w > 0:
            return item
    return None  # pragma: no cover


class Building:
    """The building tables of ``params.building`` as plain Python lists (fast scalar look-ups)."""

    def __init__(self, params: Params) -> None:
        b = params.building
        n = len(b.space_ids)
        self.n = n
        self.ids = b.space_ids
        self.dist = b.dist.tolist()
        self.next_hop = b.next_hop.tolist()
        self.hops = b.hops.tolist()
        self.edge_len = b.edge_len.tolist()
        self.is_exit = [int(k) == EXIT for k in b.kind]
        self.lockable = [bool(x) for x in b.lockable]
        self.hard_corner = [bool(x) for x in b.hard_corner]
        self.door_window = [bool(x) for x in b.door_window]
        self.neighbours = [[j for j in range(n) if b.adj[i, j] and j != i] for i in range(n)]
        self.adjacent = [set(nb) for nb in self.neighbours]
        self.exits = [s for s in range(n) if self.is_exit[s]]  # ascending index
        # median time to force each space's door (s), by its lock (docs/model.md, *Barricade and standoff*)
        locks = [int(x) for x in b.door_lock] if len(b.door_lock) == n else [1] * n
        by_lock = {"none": params.breach_none_s, "standard": params.breach_standard_s,
                   "reinforced": params.breach_reinforced_s}  # fmt: skip
        self.breach_median_s = [by_lock[DOOR_LOCK_NAMES[k]] for k in locks]

    def nearest_exit(self, space: int) -> int:
        """The exit nearest to ``space`` by ``dist`` (ties: lowest exit index)."""
        best, best_d = -1, INF
        for e in self.exits:
            if self.dist[space][e] < best_d:
                best, best_d = e, self.dist[space][e]
        return best


class Casualty:
    """One person hit by a shot."""

    def __init__(self, index: int, group: int, wound_t: float, outcome: str, survival_s: float = INF) -> None:
        self.index = index  # order of the casualty within the replication
        self.group = group
        self.wound_t = wound_t
        self.outcome = outcome  # "killed", "critical" or "light"
        self.survival_s = survival_s  # critical only: time from wound to death without care
        self.care_t = INF  # critical only, set after the attack


class OccupantGroup:
    """A group of occupants who take protective action together."""

    def __init__(self, index: int, space: int, size: int, rng: np.random.Generator, p: Params) -> None:
        self.index = index
        self.space = space
        self.count = size  # unhurt people still in the building
        self.state = UNAWARE
        self.next_space: int | None = None
        self.eta = 0.0
        self.alert_t = INF
        self.lock_done_at = INF
        # drawn once at the start
        self.reaction_s = lognormal(rng, p.reaction_median_s, p.reaction_sigma)
        self.u_decide = rng.random()
        self.lock_time_s = rng.uniform(p.lock_time_min_s, p.lock_time_max_s)
        self.u_lock_works = rng.random()
        self.u_hard_corner = rng.random()

    @property
    def in_transit(self) -> bool:
        return self.next_space is not None

    def is_open_target(self) -> bool:
        return self.count > 0 and self.state in OPEN_STATES


class Officer:
    """One responding unit."""

    def __init__(
        self, index: int, role: int, armed: bool, weapon_factor: float, doctrine: int, param: float
    ) -> None:
        self.index = index
        self.role = role
        self.armed = armed
        self.weapon_factor = weapon_factor
        self.doctrine = doctrine
        self.doctrine_param = param
        self.arrival_offset_s = INF  # after the first shot
        self.status = NOT_ARRIVED
        self.space: int | None = None
        self.next_space: int | None = None
        self.eta = 0.0
        # replay (docs/model.md, "Replay"): observed times, None when not forced
        self.forced_arrival: float | None = None
        self.forced_entry: float | None = None
        self.forced_withdrawal: float | None = None
        self.withdrawn = False
        self.busy_until = -INF  # clearing a room until (s)
        self.breaching = False  # forcing the barricaded attacker's door

    @property
    def in_transit(self) -> bool:
        return self.next_space is not None


class Attacker:
    def __init__(self, params: Params, building: Building) -> None:
        entry = params.attacker_entry
        first = min(s for s in building.neighbours[entry] if not building.is_exit[s])
        self.space = entry
        self.next_space: int | None = first
        self.eta = building.edge_len[entry][first] / params.attacker_speed
        self.active = True
        self.barricaded = False
        self.breach_at = INF  # its door will be forced at (s), INF: no breach under way
        self.moving_away = False  # heard officers close: leaves its space now, away from them
        self.quit = 1.0  # factor on its self-termination and flight hazards (drawn by the incident)
        self.rounds = params.magazine
        self.reload_until = -INF
        self.arrived_at = 0.0
        self.visited = {entry}

    @property
    def in_transit(self) -> bool:
        return self.next_space is not None


class Incident:
    """One replication. ``tick()`` advances it by ``dt`` following docs/model.md steps 1-12."""

    def __init__(self, params: Params, rep: int, building: Building | None = None) -> None:
        p = params
        self.params = p
        self.rep = rep
        self.b = building or Building(p)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([p.seed, rep])))
        rng = self.rng
        self.tick_index = 0
        self.t = 0.0
        # agents
        self.groups = [
            OccupantGroup(g, int(p.group_space[g]), int(p.group_size[g]), rng, p) for g in range(p.n_groups)
        ]
        self.officers = [
            Officer(
                u,
                int(p.unit_role[u]),
                bool(p.unit_armed[u]),
                float(p.unit_weapon_factor[u]),
                int(p.unit_doctrine[u]),
                float(p.unit_doctrine_param[u]),
            )
            for u in range(p.n_units)
        ]
        self._draw_arrival_offsets()
        self._read_forcing()
        self.attacker = Attacker(p, self.b)
        self.attacker.quit = self.quit
        # incident clock and events
        self.t_first_shot = INF
        self.last_gunfire_t = -INF
        self.last_gunfire_space: int | None = None
        self.lockdown_t = p.lockdown_t
        self.first_police_t = INF
        self.first_entry_t = INF
        self.first_contact_t = INF
        self.barricade_t = INF  # the attacker first shut itself in a room
        self.end_reason = ONGOING
        self.end_t = INF
        self.stopped_by = ""
        self.cleared: set[int] = set()  # spaces officers have been through (search)
        # tallies
        self.n_occupants = sum(g.count for g in self.groups)
        self.evacuated = 0
        self.casualties: list[Casualty] = []
        self.shots_fired = 0
        self.officers_shot = 0
        self.officers_killed = 0
        # probabilities per tick
        self.p_officer_hit = hazard_probability(p.officer_hit_h * p.officer_hit_factor, p.dt)

    # ------------------------------------------------------------------------------------- set-up

    def _draw_arrival_offsets(self) -> None:
        """Arrival offsets after the first shot (docs/model.md, "Responders: units")."""
        p, rng = self.params, self.rng
        call_delay = lognormal(rng, p.call_delay_median_s, p.model["call_delay_sigma"])
        quit_sigma = p.model["quit_sigma"]
        self.quit = lognormal(rng, 1.0, quit_sigma) if quit_sigma > 0 else 1.0
        tactical = call_delay + lognormal(rng, p.tactical_median_s, p.tactical_sigma)
        previous_patrol: float | None = None
        for o in self.officers:
            if o.role == ROLE_SRO:
                o.arrival_offset_s = lognormal(rng, p.sro_response_median_s, p.sro_response_sigma)
            elif o.role == ROLE_PATROL:
                if previous_patrol is None:
                    o.arrival_offset_s = call_delay + lognormal(
                        rng, p.patrol_first_median_s, p.patrol_first_sigma
                    )
                else:
                    o.arrival_offset_s = previous_patrol + rng.exponential(p.patrol_gap_mean_s)
                previous_patrol = o.arrival_offset_s
            elif o.role == ROLE_TACTICAL:
                o.arrival_offset_s = tactical

    def _read_forcing(self) -> None:
        """What a replayed incident imposes: waypoints of the attacker, officers' observed times."""
        f = self.params.forcing
        self.waypoints: list[tuple[float, int, bool]] = []
        self.replay_end_t = INF
        if f is None:
            return
        self.waypoints = [
            (float(t), int(sp), bool(sh)) for t, sp, sh in zip(f.wp_t, f.wp_space, f.wp_shot, strict=True)
        ]
        self.replay_end_t = float(f.end_t)
        for o in self.officers:
            a, e, w = (float(x[o.index]) for x in (f.arrival_t, f.entry_t, f.withdraw_t))
            o.forced_arrival = None if math.isnan(a) else a
            o.forced_entry = None if math.isnan(e) else e
            o.forced_withdrawal = None if math.isnan(w) else w

    # ------------------------------------------------------------------------------------- helpers

    def arrival_t(self, o: Officer) -> float:
        if o.forced_arrival is not None:
            return o.forced_arrival
        return self.t_first_shot + o.arrival_offset_s  # inf before the first shot

    @property
    def killed(self) -> int:
        return sum(1 for c in self.casualties if c.outcome == "killed")

    @property
    def wounded_light(self) -> int:
        return sum(1 for c in self.casualties if c.outcome == "light")

    @property
    def critical(self) -> int:
        return sum(1 for c in self.casualties if c.outcome == "critical")

    @property
    def in_building(self) -> int:
        return sum(g.count for g in self.groups)

    def room_is_locked(self, space: int) -> bool:
        return any(g.space == space and g.state in (LOCKED, LOCKED_HC) for g in self.groups)

    def open_people_in(self, space: int) -> int:
        return sum(g.count for g in self.groups if g.space == space and g.is_open_target())

    def armed_unit_arrived(self) -> bool:
        return any(o.armed and o.status != NOT_ARRIVED for o in self.officers)

    def mark_gunfire(self) -> None:
        self.last_gunfire_t = self.t
        self.last_gunfire_space = self.attacker.space
        if self.t_first_shot == INF:
            self.t_first_shot = self.t

    def end_attack(self, reason: str, end_t: float) -> None:
        self.attacker.active = False
        self.end_reason = reason
        self.end_t = end_t

    # ------------------------------------------------------------------------------------- one tick

    def tick(self) -> None:
        """Advance the incident by one tick (docs/model.md, "One step, in order")."""
        if self.attacker.active:  # 1. an ended replication changes nothing but the clock
            self.step_arrivals()
            self.step_withdrawals()
            self.step_entry()
            self.step_alerting()
            self.step_locking()
            self.step_group_movement()
            engaged = self.step_engagement()
            self.step_replayed_attacker(engaged)
            self.step_attacker_movement(engaged)
            self.step_officer_movement(engaged)
            self.step_standoff(engaged)
            self.step_fire(engaged)
            self.step_endings(engaged)
        self.step_clock()

    def step_arrivals(self) -> None:  # 2
        p, t = self.params, self.t
        for o in self.officers:
            if o.status == NOT_ARRIVED and self.arrival_t(o) <= t:
                o.status = ON_SCENE
                if o.armed and self.first_police_t == INF:
                    self.first_police_t = t
                if o.role == ROLE_SRO and p.sro_calls_lockdown:
                    self.lockdown_t = min(self.lockdown_t, self.arrival_t(o) + p.sro_lockdown_delay_s)

    def step_withdrawals(self) -> None:  # 3a, replay only
        for o in self.officers:
            if o.status == INSIDE and o.forced_withdrawal is not None and self.t >= o.forced_withdrawal:
                o.status = ON_SCENE  # back outside, and stays out
                o.space = None
                o.next_space = None
                o.eta = 0.0
                o.withdrawn = True

    def wants_to_enter(self, o: Officer) -> bool:  # 3, one unit's doctrine
        t = self.t
        if o.forced_entry is not None:  # replay: the officer entered when the record says
            return t >= o.forced_entry and not o.withdrawn
        if o.doctrine == D_NO_ENTRY:
            return False
        if o.doctrine in (D_SOLO, D_TACTICAL):
            return True
        if o.doctrine == D_HESITATE:
            return t >= self.arrival_t(o) + o.doctrine_param
        sro_patrol = [x for x in self.officers if x.armed and x.role in (ROLE_SRO, ROLE_PATROL)]
        if o.doctrine == D_WAIT_N:
            present = sum(1 for x in sro_patrol if x.status in (ON_SCENE, INSIDE))
            return present >= o.doctrine_param
        if o.doctrine == D_BACKUP_ETA:
            for x in sro_patrol:
                if x.status == NOT_ARRIVED and t < self.arrival_t(x) <= t + o.doctrine_param:
                    return False
            return True
        if o.doctrine == D_PERIMETER:
            tactical = [self.arrival_t(x) for x in self.officers if x.role == ROLE_TACTICAL]
            return bool(tactical) and t >= min(tactical)
        raise ValueError(f"unknown doctrine code {o.doctrine}")

    def step_entry(self) -> None:  # 3
        candidates = [o for o in self.officers if o.status == ON_SCENE and o.armed]
        deciding = [o for o in candidates if self.wants_to_enter(o)]  # all decide on the same state
        if not deciding:
            return
        if self.params.officer_entry >= 0:
            entry = self.params.officer_entry
        elif self.last_gunfire_space is not None:
            entry = self.b.nearest_exit(self.last_gunfire_space)
        else:
            entry = self.params.attacker_entry
        for o in deciding:
            o.status = INSIDE
            o.space = entry
            o.next_space = None
            o.eta = 0.0
        if self.first_entry_t == INF:
            self.first_entry_t = self.t

    def hears_gunfire(self, g: OccupantGroup) -> bool:
        if self.last_gunfire_t < 0 or self.last_gunfire_space is None:
            return False
        return self.b.hops[g.space][self.last_gunfire_space] <= self.params.hear_hops

    def decide_in_place(self, g: OccupantGroup) -> None:
        """The protective action of an alerted group that has not left its space."""
        p = self.params
        if self.b.lockable[g.space]:
            if g.u_decide < p.p_lockdown:
                g.state = LOCKING
                g.lock_done_at = self.t + g.lock_time_s
            else:
                g.state = EVACUATING
        elif g.u_decide < p.p_evacuate_open:
            g.state = EVACUATING
        else:
            g.state = HIDING

    def step_alerting(self) -> None:  # 4
        p, t = self.params, self.t
        for g in self.groups:
            if g.count == 0 or g.state not in (UNAWARE, FIRE_EVAC):
                continue
            if g.alert_t == INF and (self.hears_gunfire(g) or t >= self.lockdown_t):
                g.alert_t = t
            if g.state == UNAWARE and g.alert_t == INF and t >= p.fire_alarm_t:
                g.state = FIRE_EVAC  # walks to the nearest exit; next hop in step 6
            if g.alert_t < INF and t >= g.alert_t + g.reaction_s:
                if g.state == FIRE_EVAC and g.in_transit:
                    g.state = EVACUATING
                else:
                    self.decide_in_place(g)

    def step_locking(self) -> None:  # 5
        p, t = self.params, self.t
        for g in self.groups:
            if g.count == 0 or g.state != LOCKING or t < g.lock_done_at or g.space == self.attacker.space:
                continue
            if g.u_lock_works < p.lock_works_prob:
                if self.b.hard_corner[g.space] and g.u_hard_corner < p.use_hard_corner_prob:
                    g.state = LOCKED_HC
                else:
                    g.state = LOCKED
            else:
                g.state = HIDING

    def target_exit(self, g: OccupantGroup) -> int:
        b = self.b
        if g.state == FIRE_EVAC or self.last_gunfire_space is None:
            return b.nearest_exit(g.space)
        threat = self.last_gunfire_space
        best, best_score = -1, INF
        for e in b.exits:
            d = b.dist[g.space][e]
            score = d + (self.params.avoid_penalty_m if b.dist[threat][e] <= d else 0.0)
            if score < best_score:
                best, best_score = e, score
        return best

    def step_group_movement(self) -> None:  # 6
        p, b = self.params, self.b
        for g in self.groups:
            if g.count == 0 or g.state not in (EVACUATING, FIRE_EVAC):
                continue
            if g.in_transit:
                g.eta -= p.dt
                if g.eta <= 0:
                    assert g.next_space is not None
                    g.space = g.next_space
                    g.next_space = None
                    if b.is_exit[g.space]:
                        self.evacuated += g.count
                        g.count = 0
                        g.state = OUT
                        continue
            if not g.in_transit:
                nxt = b.next_hop[g.space][self.target_exit(g)]
                g.next_space = nxt
                g.eta = b.edge_len[g.space][nxt] / p.evac_speed

    def step_engagement(self) -> list[Officer]:  # 9 (evaluated between steps 6 and 7)
        a = self.attacker
        # a barricaded attacker's door is shut: only officers in its own room are engaged
        engaged = [
            o
            for o in self.officers
            if o.status == INSIDE
            and (o.space == a.space or (not a.barricaded and o.space in self.b.adjacent[a.space]))
        ]
        if engaged and self.first_contact_t == INF:
            self.first_contact_t = self.t
        return engaged

    def step_replayed_attacker(self, engaged: list[Officer]) -> None:  # 7a, replay only
        """At a waypoint's time the attacker is where the record puts it, unless engaged or barricaded."""
        a, t, dt = self.attacker, self.t, self.params.dt
        due = [w for w in self.waypoints if t - dt < w[0] <= t]
        if not due or engaged or a.barricaded:
            return
        a.space = due[-1][1]
        a.next_space = None
        a.eta = 0.0
        a.arrived_at = t
        a.visited.add(a.space)
        if any(w[2] for w in due):
            self.mark_gunfire()

    def step_attacker_movement(self, engaged: list[Officer]) -> None:  # 7
        p, b, a, t = self.params, self.b, self.attacker, self.t
        if a.barricaded or engaged:
            return
        if a.in_transit:
            a.eta -= p.dt
            if a.eta <= 0:
                assert a.next_space is not None
                if self.room_is_locked(a.next_space):
                    a.next_space = None  # the door was locked while it walked there: it stays
                    a.eta = 0.0
                else:
                    a.space = a.next_space
                    a.next_space = None
                    a.eta = 0.0
                    a.arrived_at = t
                    a.visited.add(a.space)
        if a.in_transit:
            return
        no_target = self.open_people_in(a.space) == 0
        due = (t >= a.arrived_at + p.dwell_min_s and no_target) or t >= a.arrived_at + p.dwell_max_s
        if due or a.moving_away:
            away = a.moving_away
            a.moving_away = False
            officer_spaces = {o.space for o in self.officers if o.status == INSIDE}
            options = b.neighbours[a.space]
            weights = []
            for s in options:
                if b.is_exit[s] or self.room_is_locked(s) or (away and s in officer_spaces):
                    weights.append(0.0)
                else:
                    weights.append(1.0 if s in a.visited else p.w_unvisited)
            choice = pick_weighted(self.rng, options, weights)
            if choice is not None:
                a.next_space = choice
                a.eta = b.edge_len[a.space][choice] / p.attacker_speed

    def step_officer_movement(self, engaged: list[Officer]) -> None:  # 8
        p, b, a, t = self.params, self.b, self.attacker, self.t
        told = t >= a.arrived_at + p.location_info_s  # a witness, a camera or the radio placed it
        for o in self.officers:
            if o.status != INSIDE or o in engaged or t < o.busy_until:
                continue
            assert o.space is not None
            if o.in_transit:
                o.eta -= p.dt
                if o.eta <= 0:
                    o.space = o.next_space
                    o.next_space = None
                    o.eta = 0.0
                    assert o.space is not None
                    if o.space not in self.cleared:  # the first officer here clears it
                        self.cleared.add(o.space)
                        if b.lockable[o.space] and o.space != a.space and b.hops[o.space][a.space] > 2:
                            o.busy_until = t + p.clear_room_s
                            continue
            if o.in_transit or (self.last_gunfire_space is None and not told):
                continue
            assert o.space is not None
            target = a.space if (b.hops[o.space][a.space] <= 2 or told) else self.last_gunfire_space
            assert target is not None
            if o.space != target:
                nxt = b.next_hop[o.space][target]
                if a.barricaded and nxt == a.space:
                    continue  # at the barricaded door: hold it (or force it, step 8b)
            else:  # search: a neighbour nobody has cleared yet (any, when all are), not an exit
                options = [s for s in b.neighbours[o.space] if not b.is_exit[s]]
                fresh = [s for s in options if s not in self.cleared]
                options = fresh or options
                if not options:
                    continue
                nxt = options[int(self.rng.integers(len(options)))]
            o.next_space = nxt
            o.eta = b.edge_len[o.space][nxt] / (p.officer_speed * p.model["officer_pace"])

    def step_standoff(self, engaged: list[Officer]) -> None:  # 8b
        """Officers at a barricaded attacker's door force it (all under breach, the tactical team under
        contain); it gives way a lognormal time after the first started, unless nobody is left forcing it."""
        p, b, a, t = self.params, self.b, self.attacker, self.t
        for o in self.officers:
            o.breaching = False
        if not a.barricaded:
            return
        breach = p.barricade_breach
        forcing = [
            o
            for o in self.officers
            if o.status == INSIDE
            and not o.in_transit
            and o.space in b.adjacent[a.space]
            and (breach or o.role == ROLE_TACTICAL)
        ]
        if not forcing:
            a.breach_at = INF
            return
        for o in forcing:
            o.breaching = True
        if a.breach_at == INF:
            a.breach_at = t + lognormal(self.rng, b.breach_median_s[a.space], p.breach_sigma)
        if t >= a.breach_at:
            a.barricaded = False
            a.breach_at = INF
            for o in forcing:
                o.breaching = False

    def step_fire(self, engaged: list[Officer]) -> None:  # 10
        p, b, a, t, rng = self.params, self.b, self.attacker, self.t, self.rng
        if t < a.reload_until:
            return
        if engaged:
            self.shoot_officers(engaged, self.p_officer_hit)
            self.mark_gunfire()
            return
        targets: list[OccupantGroup] = []
        factors: list[float] = []
        any_open = False
        for g in self.groups:
            if g.count == 0:
                continue
            if g.space == a.space and g.state in OPEN_STATES:
                targets.append(g)
                factors.append(1.0)
                any_open = True
            elif g.state == LOCKED and b.door_window[g.space] and g.space in b.adjacent[a.space]:
                targets.append(g)
                factors.append(p.window_hit_factor)
        at_door = [o for o in self.officers if o.breaching and o.status == INSIDE]
        if a.barricaded and at_door:  # through the door, at the officers forcing it
            self.shoot_officers(
                at_door, hazard_probability(p.officer_hit_h * p.officer_hit_factor * p.breach_exposure, p.dt)
            )
            if not targets:
                self.mark_gunfire()
                return
        if not targets:
            return
        rate = p.fire_rate * p.dt * (1.0 if any_open else p.window_fire_factor)
        if a.barricaded:  # shut in, it fires less
            rate *= p.barricade_fire_factor
        n = min(int(rng.poisson(rate)), p.max_shots_per_tick, a.rounds)
        for _ in range(n):
            k = pick_weighted(rng, list(range(len(targets))), [float(g.count) for g in targets])
            if k is None:
                continue  # everyone in reach is already down: the shot hits nobody
            g = targets[k]
            if rng.random() >= p.p_hit * factors[k]:
                continue
            g.count -= 1
            index = len(self.casualties)
            if rng.random() < p.p_kill:
                self.casualties.append(Casualty(index, g.index, t, "killed"))
            elif rng.random() < p.p_critical:
                survival = lognormal(rng, p.critical_survival_median_s, p.critical_survival_sigma)
                self.casualties.append(Casualty(index, g.index, t, "critical", survival))
            else:
                self.casualties.append(Casualty(index, g.index, t, "light"))
        self.shots_fired += n
        a.rounds -= n
        if a.rounds == 0:
            a.reload_until = t + p.reload_s
            a.rounds = p.magazine
        if n > 0 or (a.barricaded and at_door):
            self.mark_gunfire()

    def shoot_officers(self, officers: list[Officer], p_hit: float) -> None:
        """Each of ``officers`` is hit with probability ``p_hit`` (then down, killed or wounded)."""
        for o in officers:
            if self.rng.random() < p_hit:
                o.status = DOWN
                o.breaching = False
                self.officers_shot += 1
                if self.rng.random() < self.params.p_officer_killed:
                    self.officers_killed += 1

    def step_endings(self, engaged: list[Officer]) -> None:  # 11
        p, b, a, t, rng = self.params, self.b, self.attacker, self.t, self.rng
        engaged = [o for o in engaged if o.status == INSIDE]
        near = any(
            o.status == INSIDE and o.space is not None and b.hops[o.space][a.space] <= 2
            for o in self.officers
        )
        on_scene = any(o.armed and o.status in (ON_SCENE, INSIDE) for o in self.officers)
        # shut in its room it no longer sees them: the on-scene factor, not the near one
        close = near and not a.barricaded
        mult = p.police_near_mult if close else (p.police_scene_mult if on_scene else 1.0)
        hazards = [0.0] * 7
        hazards[H_SELF] = p.self_term_h * mult * a.quit
        hazards[H_FLEE] = 0.0 if (engaged or a.barricaded) else p.flee_h * a.quit
        if self.open_people_in(a.space) > 0 and not engaged:
            hazards[H_CITIZENS] = p.citizen_h * (p.reload_mult if t < a.reload_until else 1.0)
        hazards[H_POLICE] = sum(p.officer_stop_h * o.weapon_factor for o in engaged)
        if b.lockable[a.space] and not a.barricaded and not engaged:
            hazards[H_BARRICADE] = p.barricade_h * (p.barricade_near_mult if near else 1.0)
        if engaged or (a.barricaded and near):
            hazards[H_SURRENDER] = p.surrender_h
        if near and not engaged and not a.barricaded:
            hazards[H_MOVE_AWAY] = p.move_away_h
        if self.waypoints and t < self.replay_end_t:  # replay: it went on until the observed end
            hazards = [0.0, 0.0, 0.0, hazards[H_POLICE], 0.0, hazards[H_SURRENDER], 0.0]
        total = sum(hazards)
        if total <= 0 or rng.random() >= hazard_probability(total, p.dt):
            return
        kind = pick_weighted(rng, list(range(7)), hazards)
        if kind == H_BARRICADE:
            self.barricade_t = min(self.barricade_t, t)
            a.barricaded = True
            a.next_space = None
            a.eta = 0.0
        elif kind == H_MOVE_AWAY:
            a.moving_away = True
        elif kind == H_SURRENDER:
            self.end_attack(POLICE_ARRESTED, t + p.dt)
            closest = [o for o in self.officers if o.status == INSIDE and o.space is not None
                       and b.hops[o.space][a.space] <= 2]  # fmt: skip
            by = engaged or closest
            best = by[0]
            for o in by[1:]:
                if o.weapon_factor > best.weapon_factor and by is engaged:
                    best = o
            self.stopped_by = ROLE_NAMES[best.role]
        elif kind == H_SELF:
            reason = SUICIDE_POLICE_ON_SCENE if self.armed_unit_arrived() else SUICIDE_BEFORE_POLICE
            self.end_attack(reason, t + p.dt)
        elif kind == H_FLEE:
            self.end_attack(FLED, t + p.dt)
        elif kind == H_CITIZENS:
            self.end_attack(CITIZENS, t + p.dt)
        elif kind == H_POLICE:
            self.end_attack(POLICE_SHOT if rng.random() < p.p_police_shot else POLICE_ARRESTED, t + p.dt)
            best = engaged[0]
            for o in engaged[1:]:  # the largest weight; the earlier unit (SRO first) on ties
                if o.weapon_factor > best.weapon_factor:
                    best = o
            self.stopped_by = ROLE_NAMES[best.role]

    def step_clock(self) -> None:  # 12
        p = self.params
        self.tick_index += 1
        self.t = self.tick_index * p.dt
        if self.attacker.active and self.t >= self.replay_end_t:  # replay: the attacker left then
            self.end_attack(FLED, self.replay_end_t)
        if self.attacker.active and self.t >= p.horizon_s:
            self.end_attack(ONGOING, p.horizon_s)

    # ------------------------------------------------------------------------------------- after the attack

    def run(self, observer: Callable[[Incident], None] | None = None) -> None:
        """Tick until the attack has ended (at the latest at the horizon)."""
        if observer is not None:
            observer(self)
        while self.attacker.active:
            self.tick()
            if observer is not None:
                observer(self)

    def care_for_casualties(self) -> None:
        """Closed-form casualty care (docs/model.md, "Casualty care")."""
        p = self.params
        ended = self.end_reason != ONGOING
        for c in self.casualties:
            if c.outcome != "critical":
                continue
            if p.rescue_task_force:
                access = lognormal(self.rng, p.rtf_access_median_s, p.ems_access_sigma)
                stop_t = self.end_t if ended else INF
                start = min(stop_t, self.first_entry_t + p.rtf_ready_s)
                c.care_t = max(c.wound_t, start) + access
            else:
                access = lognormal(self.rng, p.ems_access_median_s, p.ems_access_sigma)
                c.care_t = max(c.wound_t, self.end_t) + access if ended else INF

    def outcome(self) -> dict[str, object]:
        """One row of the outcome table (``responsesim.engine.run.OUTCOME_COLUMNS``)."""
        self.care_for_casualties()
        shot = self.t_first_shot < INF
        critical = [c for c in self.casualties if c.outcome == "critical"]
        died = sum(1 for c in critical if c.wound_t + c.survival_s < c.care_t)
        to_care = [c.care_t - c.wound_t for c in critical if c.care_t < INF]
        police_t = min((self.arrival_t(o) for o in self.officers if o.armed), default=INF)

        def since_first_shot(x: float) -> float:
            return x - self.t_first_shot if (shot and x < INF) else math.nan

        killed = self.killed
        return {
            "rep": self.rep,
            "killed": killed,
            "died_awaiting_care": died,
            "deaths": killed + died,
            "wounded": self.wounded_light + len(critical) - died,
            "critical": len(critical),
            "evacuated": self.evacuated,
            "sheltered": self.in_building,
            "shots_fired": self.shots_fired,
            "attack_duration_s": self.end_t - self.t_first_shot if shot else self.end_t,
            "end_reason": self.end_reason,
            "stopped_by": self.stopped_by,
            "first_shot_s": self.t_first_shot if shot else math.nan,
            "first_police_s": since_first_shot(police_t),
            "first_entry_s": since_first_shot(self.first_entry_t),
            "first_contact_s": since_first_shot(self.first_contact_t),
            "barricade_s": since_first_shot(self.barricade_t),
            "officers_shot": self.officers_shot,
            "officers_killed": self.officers_killed,
            "ended_before_police": self.end_reason != ONGOING and self.end_t < police_t,
            "median_time_to_care_s": float(np.median(to_care)) if to_care else math.nan,
        }


def simulate_reference(
    params: Params,
    replications: int,
    first_rep: int = 0,
    observer: Callable[[Incident], None] | None = None,
) -> pd.DataFrame:
    """Run replications ``first_rep .. first_rep + replications - 1`` with the per-agent reference.

    Returns one row per replication with the columns of ``responsesim.engine.run.OUTCOME_COLUMNS``.
    ``observer(incident)`` is called at the start and after every tick.
    """
    from responsesim.engine.run import OUTCOME_COLUMNS

    building = Building(params)
    rows = []
    for rep in range(first_rep, first_rep + replications):
        incident = Incident(params, rep, building)
        incident.run(observer)
        rows.append(incident.outcome())
    df = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    for col in INT_COLUMNS:
        df[col] = df[col].astype(np.int64)
    df["ended_before_police"] = df["ended_before_police"].astype(bool)
    return df
