"""The agents of the Mesa peer: occupant groups, responding officers and the attacker (docs/model.md).

Each agent keeps its own state and carries the rules of docs/model.md that concern only itself; the model
(``model.IncidentModel``) holds the incident clock and the shared facts (last gunfire, lockdown time,
tallies) and calls the agents' methods through AgentSets in the order of steps 1-12.

Random numbers: uniforms and weighted choices come from the model's seeded ``random.Random``
(``self.random``), Poisson draws from its ``numpy.random.Generator`` (``self.rng``); both are derived from
``SeedSequence([seed, replication])``, so a replication depends only on (seed, replication index).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
from mesa.agent import AgentSet

from responsesim.codes import (
    DOWN,
    EVACUATING,
    FIRE_EVAC,
    HIDING,
    INSIDE,
    LOCKED,
    LOCKED_HC,
    LOCKING,
    NOT_ARRIVED,
    ON_SCENE,
    OUT,
    ROLE_SRO,
    ROLE_TACTICAL,
    UNAWARE,
)
from responsesim.codes import OPEN_STATES as _OPEN

if TYPE_CHECKING:
    from .model import IncidentModel

INF = math.inf

OPEN_STATES = frozenset(_OPEN)
LOCKED_STATES = frozenset({LOCKED, LOCKED_HC})


def lognormal(model: IncidentModel, median: float, sigma: float) -> float:
    """A lognormal draw with the given median and log standard deviation (same unit as ``median``)."""
    return median * math.exp(sigma * model.random.gauss(0.0, 1.0))


class OccupantGroup(mesa.Agent):
    """People who take protective action together (a class with its teacher); casualties are individuals."""

    model: IncidentModel

    def __init__(self, model: IncidentModel, index: int, space: int, size: int) -> None:
        super().__init__(model)
        p = model.p
        self.index = index
        self.space = space
        self.count = size  # unhurt people still in the building
        self.state = UNAWARE
        self.next_space = -1  # -1: not in transit
        self.eta = 0.0  # s until ``next_space`` is reached
        self.alert_t = INF
        self.lock_done_at = INF
        # drawn once at the start
        self.reaction_s = lognormal(model, p.reaction_median_s, p.reaction_sigma)
        self.u_decide = self.random.random()
        self.lock_time_s = self.random.uniform(p.lock_time_min_s, p.lock_time_max_s)
        self.u_lock_works = self.random.random()
        self.u_hard_corner = self.random.random()

    def is_open_target(self) -> bool:
        """Visible and reachable by a shot in the attacker's own space."""
        return self.count > 0 and self.state in OPEN_STATES

    def is_locked_in(self) -> bool:
        return self.state in LOCKED_STATES

    def step(self) -> None:
        """Steps 4-6 for this group: alerting, locking, movement.

        They read only this group's state and the incident's shared facts (gunfire, lockdown, the
        attacker's space), never another group's, so doing all three for one group before the next gives
        the same result as three passes over all groups, in any group order.
        """
        self.alert()
        self.lock()
        self.move()

    # ---------------------------------------------------------------------------------- step 4: alerting

    def alert(self) -> None:
        """Hear gunfire or the lockdown, or the fire alarm; act after the reaction time."""
        m, p = self.model, self.model.p
        if self.count == 0 or self.state not in (UNAWARE, FIRE_EVAC):
            return
        t = m.t
        if self.alert_t == INF:
            hears = m.last_gunfire_space >= 0 and m.b.hops[self.space][m.last_gunfire_space] <= p.hear_hops
            if hears or t >= m.lockdown_t:
                self.alert_t = t
        if self.state == UNAWARE and self.alert_t == INF and t >= p.fire_alarm_t:
            self.state = FIRE_EVAC  # walks to the nearest exit; next hop in step 6
        if self.alert_t < INF and t >= self.alert_t + self.reaction_s:
            if self.state == FIRE_EVAC and self.next_space >= 0:
                self.state = EVACUATING  # keeps walking, now away from the threat
            else:
                self.decide_in_place()

    def decide_in_place(self) -> None:
        """Lock down or evacuate (lockable room), evacuate or hide (any other space)."""
        m, p = self.model, self.model.p
        if m.b.lockable[self.space]:
            if self.u_decide < p.p_lockdown:
                self.state = LOCKING
                self.lock_done_at = m.t + self.lock_time_s
            else:
                self.state = EVACUATING
        elif self.u_decide < p.p_evacuate_open:
            self.state = EVACUATING
        else:
            self.state = HIDING

    # ---------------------------------------------------------------------------------- step 5: locking

    def lock(self) -> None:
        """Lock the door once the lock time has passed, unless the attacker is in the room."""
        m, p = self.model, self.model.p
        if self.count == 0 or self.state != LOCKING or m.t < self.lock_done_at:
            return
        if self.space == m.attacker.space:
            return
        if self.u_lock_works < p.lock_works_prob:
            if m.b.hard_corner[self.space] and self.u_hard_corner < p.use_hard_corner_prob:
                self.state = LOCKED_HC
            else:
                self.state = LOCKED
        else:
            self.state = HIDING

    # ---------------------------------------------------------------------------------- step 6: movement

    def target_exit(self) -> int:
        """Nearest exit, or after gunfire (when fleeing it) the nearest exit away from the threat."""
        m = self.model
        b = m.b
        if self.state == FIRE_EVAC or m.last_gunfire_space < 0:
            return b.nearest_exit[self.space]
        threat = m.last_gunfire_space
        penalty = m.p.avoid_penalty_m
        best, best_score = -1, INF
        for e in b.exits:  # ascending index: ties go to the lowest exit
            d = b.dist[self.space][e]
            score = d + (penalty if b.dist[threat][e] <= d else 0.0)
            if score < best_score:
                best, best_score = e, score
        return best

    def move(self) -> None:
        """Walk one tick toward the target exit (evacuating or fire-evacuating groups only)."""
        m = self.model
        if self.count == 0 or self.state not in (EVACUATING, FIRE_EVAC):
            return
        b, p = m.b, m.p
        if self.next_space >= 0:
            self.eta -= p.dt
            if self.eta <= 0:
                self.space = self.next_space
                self.next_space = -1
                if b.is_exit[self.space]:
                    m.evacuated += self.count
                    self.count = 0
                    self.state = OUT
                    return
        if self.next_space < 0:  # arrived (or standing): pick the next hop in the same step
            nxt = b.next_hop[self.space][self.target_exit()]
            self.next_space = nxt
            self.eta = b.edge_len[self.space][nxt] / p.evac_speed


class Officer(mesa.Agent):
    """One responding unit (SRO, patrol or tactical officer)."""

    model: IncidentModel

    def __init__(
        self,
        model: IncidentModel,
        index: int,
        role: int,
        armed: bool,
        weapon_factor: float,
        doctrine: int,
        doctrine_param: float,
    ) -> None:
        super().__init__(model)
        self.index = index  # unit order: SRO, patrol, tactical (breaks stopped_by ties)
        self.role = role
        self.armed = armed
        self.weapon_factor = weapon_factor  # 1 for a handgun
        self.doctrine = doctrine
        self.doctrine_param = doctrine_param  # s (hesitate, backup ETA) or officers (wait for n)
        self.arrival_offset_s = INF  # after the first shot, drawn by the model
        self.status = NOT_ARRIVED
        self.space = -1
        self.next_space = -1  # -1: not in transit
        self.eta = 0.0
        self.busy_until = -INF  # clearing a room until (s)
        self.breaching = False  # forcing the barricaded attacker's door (step 8b)

    @property
    def arrival_t(self) -> float:
        """Arrival time in s from the start (inf before the first shot)."""
        return self.model.t_first_shot + self.arrival_offset_s

    # ---------------------------------------------------------------------------------- step 2: arrivals

    def arrive(self) -> None:
        m = self.model
        if self.status != NOT_ARRIVED or self.arrival_t > m.t:
            return
        self.status = ON_SCENE
        if self.armed and m.first_police_t == INF:
            m.first_police_t = m.t
        if self.role == ROLE_SRO and m.p.sro_calls_lockdown:
            m.lockdown_t = min(m.lockdown_t, self.arrival_t + m.p.sro_lockdown_delay_s)

    # ---------------------------------------------------------------------------------- step 3: entry

    def wants_to_enter(self) -> bool:
        """This unit's doctrine, evaluated on the state at the start of the step."""
        m = self.model
        if not (self.armed and self.status == ON_SCENE):
            return False
        return m.doctrine_allows_entry(self)

    def enter(self, entry: int) -> None:
        self.status = INSIDE
        self.space = entry
        self.next_space = -1
        self.eta = 0.0

    # ---------------------------------------------------------------------------------- step 9: engagement

    def engages(self) -> bool:
        """Inside, in the attacker's space or next to it (only in it while it is barricaded: the door is
        shut)."""
        a = self.model.attacker
        return self.status == INSIDE and (
            self.space == a.space or (not a.barricaded and self.space in self.model.b.adjacent[a.space])
        )

    # ---------------------------------------------------------------------------------- step 8: movement

    def move(self) -> None:
        """Walk toward the attacker when within 2 hops or told its room, else toward the last gunfire;
        clear the rooms nobody has cleared on the way; stop at a barricaded door; search at the target."""
        m = self.model
        b, p, a, t = m.b, m.p, m.attacker, m.t
        if t < self.busy_until:
            return  # still clearing a room
        if self.next_space >= 0:
            self.eta -= p.dt
            if self.eta <= 0:
                self.space = self.next_space
                self.next_space = -1
                self.eta = 0.0
                if self.space not in m.cleared:  # the first officer here clears it
                    m.cleared.add(self.space)
                    if b.lockable[self.space] and self.space != a.space and b.hops[self.space][a.space] > 2:
                        self.busy_until = t + p.clear_room_s
                        return
        told = t >= a.arrived_at + p.location_info_s  # a witness, a camera or the radio placed it
        if self.next_space >= 0 or (m.last_gunfire_space < 0 and not told):
            return
        target = a.space if (b.hops[self.space][a.space] <= 2 or told) else m.last_gunfire_space
        if self.space != target:
            nxt = b.next_hop[self.space][target]
            if a.barricaded and nxt == a.space:
                return  # at the barricaded door: hold it (or force it, step 8b)
        else:  # search: a neighbour nobody has cleared yet (any, when all are), not an exit
            options = b.inner_neighbours[self.space]
            fresh = [s for s in options if s not in m.cleared]
            options = fresh or options
            if not options:
                return
            nxt = self.random.choice(options)
        self.next_space = nxt
        self.eta = b.edge_len[self.space][nxt] / p.officer_speed

    # ---------------------------------------------------------------------------------- step 8b: standoff

    def at_door(self) -> bool:
        """Inside, standing (not in transit) next to the barricaded attacker's room."""
        m = self.model
        return self.status == INSIDE and self.next_space < 0 and self.space in m.b.adjacent[m.attacker.space]

    def forces_door(self) -> bool:
        """At the door and allowed to force it: every officer under ``breach``, the tactical team under
        ``contain`` (the others hold the door)."""
        return self.at_door() and (self.model.p.barricade_breach or self.role == ROLE_TACTICAL)

    # ---------------------------------------------------------------------------------- step 10: return fire

    def take_fire(self, p_hit: float) -> None:
        """The attacker fires at this unit (engaged, or forcing its door): hit with probability ``p_hit``."""
        m = self.model
        if self.random.random() < p_hit:
            self.status = DOWN
            self.breaching = False
            m.officers_shot += 1
            if self.random.random() < m.p.p_officer_killed:
                m.officers_killed += 1


class Attacker(mesa.Agent):
    """The abstract attacker: a weighted random walk through the building that fires at published rates."""

    model: IncidentModel

    def __init__(self, model: IncidentModel) -> None:
        super().__init__(model)
        p, b = model.p, model.b
        entry = p.attacker_entry
        first = min(s for s in b.neighbours[entry] if not b.is_exit[s])
        self.space = entry
        self.next_space = first  # leaves the entry exit toward its lowest-index inner neighbour
        self.eta = b.edge_len[entry][first] / p.attacker_speed
        self.active = True
        self.barricaded = False  # shut in a room: its door stays shut to officers until forced
        self.breach_at = INF  # its door will have been forced at (s); INF: no breach under way
        self.moving_away = False  # heard officers close: leaves its space now, away from them
        self.rounds = p.magazine
        self.reload_until = -INF
        self.arrived_at = 0.0
        self.visited = {entry}

    # ---------------------------------------------------------------------------------- step 7: movement

    def move(self) -> None:
        """Walk, dwell while there are open targets, then leave toward a weighted random neighbour (at
        once, and not into a space holding an officer, when moving away from officers)."""
        m = self.model
        b, p, t = m.b, m.p, m.t
        if self.barricaded:
            return
        if self.next_space >= 0:
            self.eta -= p.dt
            if self.eta <= 0:
                if m.room_is_locked(self.next_space):
                    self.next_space = -1  # the door was locked while it walked there: it stays
                    self.eta = 0.0
                else:
                    self.space = self.next_space
                    self.next_space = -1
                    self.eta = 0.0
                    self.arrived_at = t
                    self.visited.add(self.space)
        if self.next_space >= 0:
            return
        no_target = m.open_people_in(self.space) == 0
        due = (t >= self.arrived_at + p.dwell_min_s and no_target) or t >= self.arrived_at + p.dwell_max_s
        if due or self.moving_away:
            away = self.moving_away
            self.moving_away = False
            officers = {o.space for o in m.officers if o.status == INSIDE} if away else set()
            options = b.neighbours[self.space]
            weights = [
                0.0
                if b.is_exit[s] or m.room_is_locked(s) or s in officers
                else (1.0 if s in self.visited else p.w_unvisited)
                for s in options
            ]
            if sum(weights) > 0:
                choice = self.random.choices(options, weights=weights)[0]
                self.next_space = choice
                self.eta = b.edge_len[self.space][choice] / p.attacker_speed

    # ---------------------------------------------------------------------------------- step 10: fire

    def fire(self, engaged: AgentSet) -> None:
        """Fire at engaged officers, else at open targets here and at locked rooms seen through windows
        (barricaded: at a reduced rate, and through the door at the officers forcing it)."""
        m = self.model
        p, b, t = m.p, m.b, m.t
        if t < self.reload_until:
            return
        if engaged:
            engaged.shuffle_do("take_fire", m.p_officer_hit)  # independent hits: the order does not matter
            m.mark_gunfire()
            return
        here, adjacent = self.space, b.adjacent[self.space]
        targets: list[OccupantGroup] = []
        factors: list[float] = []
        any_open = False
        for g in m.groups:
            if g.count == 0:
                continue
            if g.space == here and g.state in OPEN_STATES:
                targets.append(g)
                factors.append(1.0)
                any_open = True
            elif g.state == LOCKED and b.door_window[g.space] and g.space in adjacent:
                targets.append(g)
                factors.append(p.window_hit_factor)
        at_door = m.officers.select(lambda o: o.breaching and o.status == INSIDE) if self.barricaded else None
        if at_door:  # through the door, at the officers forcing it (independent hits)
            at_door.shuffle_do("take_fire", m.p_door_hit)
        if not targets:
            if at_door:
                m.mark_gunfire()
            return
        rate = p.fire_rate * p.dt * (1.0 if any_open else p.window_fire_factor)
        if self.barricaded:  # shut in, it fires less
            rate *= p.barricade_fire_factor
        n = min(int(self.rng.poisson(rate)), p.max_shots_per_tick, self.rounds)
        for _ in range(n):
            counts = [g.count for g in targets]
            if sum(counts) == 0:
                continue  # everyone in reach is already down: the shot hits nobody
            k = self.random.choices(range(len(targets)), weights=counts)[0]
            if self.random.random() >= p.p_hit * factors[k]:
                continue
            m.hit(targets[k])
        m.shots_fired += n
        self.rounds -= n
        if self.rounds == 0:
            self.reload_until = t + p.reload_s
            self.rounds = p.magazine
        if n > 0 or at_door:
            m.mark_gunfire()
