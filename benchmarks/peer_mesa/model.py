"""The Mesa 3 peer of the responsesim engine: one ``mesa.Model`` per replication (incident).

Written the way a Mesa user would write docs/model.md: ``mesa.Agent`` subclasses for occupant groups,
officers and the attacker (``agents.py``), per-tick ``agents_by_type`` AgentSets, ``do`` where the model
fixes an order and ``shuffle_do`` where agents of one step act independently (the order within that step
does not change the distribution). Officers move in unit order (``do``): they share the marks of the
spaces cleared, and the first to reach a room clears it, as in the engine. Same rules and the same
documented choices as ``engine/reference.py`` (a group with nobody left is inert; an agent arriving in a
space picks its next hop in the same step; the attacker leaves its entry exit toward the lowest-index inner
neighbour; units shot down in step 10 do not count as engaged in step 11; shots at officers use no rounds;
an attack still going at the horizon never stops the threat for casualty care; the encounter rules of
steps 7, 8, 8b, 10 and 11: moving away from officers, search and room clearing, barricade and standoff,
surrender). Review replays (``Params.forcing``) and the review's officer pace are not
supported. It exists to be timed against the engine (``benchmarks/run.py``) and is checked to agree with it
in distribution (``tests/benchmarks/test_peer_mesa.py``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from responsesim.codes import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_NO_ENTRY,
    D_PERIMETER,
    D_SOLO,
    D_TACTICAL,
    D_WAIT_N,
    DOOR_LOCK_NAMES,
    H_BARRICADE,
    H_CITIZENS,
    H_FLEE,
    H_MOVE_AWAY,
    H_POLICE,
    H_SELF,
    H_SURRENDER,
    HAZARD_NAMES,
    ROLE_NAMES,
    ROLE_PATROL,
    ROLE_SRO,
    ROLE_TACTICAL,
)
from responsesim.codes import EXIT as EXIT_KIND
from responsesim.scenario.compile import Params

from .agents import (
    DOWN,
    INF,
    INSIDE,
    LOCKED_STATES,
    NOT_ARRIVED,
    ON_SCENE,
    Attacker,
    OccupantGroup,
    Officer,
    lognormal,
)

# The outcome table's columns (responsesim.engine.run.OUTCOME_COLUMNS), in the same order.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "rep", "killed", "died_awaiting_care", "deaths", "wounded", "critical", "evacuated", "sheltered",
    "shots_fired", "attack_duration_s", "end_reason", "stopped_by", "first_shot_s", "first_police_s",
    "first_entry_s", "first_contact_s", "barricade_s", "officers_shot", "officers_killed",
    "ended_before_police", "median_time_to_care_s",
)  # fmt: skip
INT_COLUMNS = (
    "rep", "killed", "died_awaiting_care", "deaths", "wounded", "critical", "evacuated", "sheltered",
    "shots_fired", "officers_shot", "officers_killed",
)  # fmt: skip


class Building:
    """The compiled building tables as Python lists (distances in metres), shared by all replications."""

    def __init__(self, params: Params) -> None:
        b = params.building
        n = len(b.space_ids)
        self.dist: list[list[float]] = b.dist.tolist()
        self.next_hop: list[list[int]] = b.next_hop.tolist()
        self.hops: list[list[int]] = b.hops.tolist()
        self.edge_len: list[list[float]] = b.edge_len.tolist()
        self.is_exit = [int(k) == EXIT_KIND for k in b.kind]
        self.lockable = [bool(x) for x in b.lockable]
        self.hard_corner = [bool(x) for x in b.hard_corner]
        self.door_window = [bool(x) for x in b.door_window]
        self.neighbours = [[j for j in range(n) if b.adj[i, j] and j != i] for i in range(n)]
        self.adjacent = [frozenset(nb) for nb in self.neighbours]
        self.inner_neighbours = [[j for j in nb if not self.is_exit[j]] for nb in self.neighbours]
        self.exits = [s for s in range(n) if self.is_exit[s]]  # ascending index
        self.nearest_exit = [min(self.exits, key=lambda e, s=s: (self.dist[s][e], e)) for s in range(n)]
        # median time to force each space's door (s), by its lock (empty ``door_lock``: all ``standard``)
        locks = [int(x) for x in b.door_lock] if len(b.door_lock) == n else [1] * n
        by_lock = {"none": params.breach_none_s, "standard": params.breach_standard_s,
                   "reinforced": params.breach_reinforced_s}  # fmt: skip
        self.breach_median_s = [by_lock[DOOR_LOCK_NAMES[k]] for k in locks]


class Casualty:
    """One person hit by a shot: ``killed``, ``critical`` or ``light``; times in s from the start."""

    __slots__ = ("care_t", "outcome", "survival_s", "wound_t")

    def __init__(self, wound_t: float, outcome: str, survival_s: float = INF) -> None:
        self.wound_t = wound_t
        self.outcome = outcome
        self.survival_s = survival_s  # critical only: time from wound to death without care
        self.care_t = INF


class IncidentModel(mesa.Model):
    """One replication of the incident; ``step()`` is one tick of ``dt`` s (docs/model.md steps 1-12)."""

    def __init__(self, params: Params, rep: int, building: Building | None = None) -> None:
        super().__init__(rng=np.random.SeedSequence([params.seed, rep]))
        if params.forcing is not None:
            raise ValueError("the Mesa peer does not replay observed incidents (Params.forcing)")
        p = params
        self.p = p
        self.rep = rep
        self.b = building or Building(p)
        # incident clock (s) and shared facts
        self.t = 0.0
        self.t_first_shot = INF
        self.last_gunfire_t = -INF
        self.last_gunfire_space = -1  # -1: no gunfire yet
        self.lockdown_t = p.lockdown_t
        self.first_police_t = INF
        self.first_entry_t = INF
        self.first_contact_t = INF
        self.barricade_t = INF  # the attacker first shut itself in a room
        self.cleared: set[int] = set()  # spaces officers have been through (search)
        self.end_reason = "ongoing"
        self.end_t = INF
        self.stopped_by = ""
        # tallies
        self.evacuated = 0
        self.casualties: list[Casualty] = []
        self.shots_fired = 0
        self.officers_shot = 0
        self.officers_killed = 0
        self.p_officer_hit = 1.0 - math.exp(-p.officer_hit_h * p.officer_hit_factor * p.dt)
        self.p_door_hit = 1.0 - math.exp(-p.officer_hit_h * p.officer_hit_factor * p.breach_exposure * p.dt)
        # agents: groups, units (SRO, patrol, tactical, in that order), the attacker
        for g in range(p.n_groups):
            OccupantGroup(self, g, int(p.group_space[g]), int(p.group_size[g]))
        for u in range(p.n_units):
            Officer(
                self,
                u,
                int(p.unit_role[u]),
                bool(p.unit_armed[u]),
                float(p.unit_weapon_factor[u]),
                int(p.unit_doctrine[u]),
                float(p.unit_doctrine_param[u]),
            )
        self.groups = self.agents_by_type.get(OccupantGroup, AgentSet([], random=self.random))
        self.officers = self.agents_by_type.get(Officer, AgentSet([], random=self.random))
        self.draw_arrival_offsets()
        self.attacker = Attacker(self)
        self.n_occupants = sum(self.groups.get("count"))

    def draw_arrival_offsets(self) -> None:
        """Arrival offsets (s after the first shot): SRO, the call, patrol one by one, the tactical team."""
        p = self.p
        call_delay = lognormal(self, p.call_delay_median_s, p.model["call_delay_sigma"])
        quit_sigma = p.model["quit_sigma"]
        self.quit = lognormal(self, 1.0, quit_sigma) if quit_sigma > 0 else 1.0
        tactical = call_delay + lognormal(self, p.tactical_median_s, p.tactical_sigma)
        previous_patrol: float | None = None
        for o in self.officers:
            if o.role == ROLE_SRO:
                o.arrival_offset_s = lognormal(self, p.sro_response_median_s, p.sro_response_sigma)
            elif o.role == ROLE_PATROL:
                if previous_patrol is None:
                    first = lognormal(self, p.patrol_first_median_s, p.patrol_first_sigma)
                    o.arrival_offset_s = call_delay + first
                else:
                    o.arrival_offset_s = previous_patrol + self.random.expovariate(1.0 / p.patrol_gap_mean_s)
                previous_patrol = o.arrival_offset_s
            elif o.role == ROLE_TACTICAL:
                o.arrival_offset_s = tactical

    # ------------------------------------------------------------------------------------- shared facts

    def room_is_locked(self, space: int) -> bool:
        return any(g.space == space and g.state in LOCKED_STATES for g in self.groups)

    def open_people_in(self, space: int) -> int:
        return sum(g.count for g in self.groups if g.space == space and g.is_open_target())

    def armed_unit_arrived(self) -> bool:
        return any(o.armed and o.status != NOT_ARRIVED for o in self.officers)

    def mark_gunfire(self) -> None:
        self.last_gunfire_t = self.t
        self.last_gunfire_space = self.attacker.space
        if self.t_first_shot == INF:
            self.t_first_shot = self.t  # fixes every unit's arrival time

    def hit(self, group: OccupantGroup) -> None:
        """A person of ``group`` is hit: killed at once, critically or lightly wounded."""
        p = self.p
        group.count -= 1
        if self.random.random() < p.p_kill:
            self.casualties.append(Casualty(self.t, "killed"))
        elif self.random.random() < p.p_critical:
            survival = lognormal(self, p.critical_survival_median_s, p.critical_survival_sigma)
            self.casualties.append(Casualty(self.t, "critical", survival))
        else:
            self.casualties.append(Casualty(self.t, "light"))

    def end_attack(self, reason: str, end_t: float) -> None:
        self.attacker.active = False
        self.running = False
        self.end_reason = reason
        self.end_t = end_t

    def doctrine_allows_entry(self, o: Officer) -> bool:
        """Step 3: does unit ``o``'s doctrine let it enter now?"""
        t = self.t
        if o.doctrine == D_NO_ENTRY:
            return False
        if o.doctrine in (D_SOLO, D_TACTICAL):
            return True
        if o.doctrine == D_HESITATE:
            return t >= o.arrival_t + o.doctrine_param
        sro_patrol = self.officers.select(lambda x: x.armed and x.role in (ROLE_SRO, ROLE_PATROL))
        if o.doctrine == D_WAIT_N:
            return sum(1 for x in sro_patrol if x.status in (ON_SCENE, INSIDE)) >= o.doctrine_param
        if o.doctrine == D_BACKUP_ETA:
            return not any(
                x.status == NOT_ARRIVED and t < x.arrival_t <= t + o.doctrine_param for x in sro_patrol
            )
        if o.doctrine == D_PERIMETER:
            tactical = [x.arrival_t for x in self.officers if x.role == ROLE_TACTICAL]
            return bool(tactical) and t >= min(tactical)
        raise ValueError(f"unknown doctrine code {o.doctrine}")

    # ------------------------------------------------------------------------------------- one tick

    def step(self) -> None:
        """Advance the incident by one tick, steps 1-12 of docs/model.md in order."""
        if self.attacker.active:  # 1. an ended replication changes nothing but the clock
            self.officers.do("arrive")  # 2
            self.enter_building()  # 3
            self.groups.shuffle_do("step")  # 4-6: alerting, locking, movement (groups act independently)
            engaged = self.officers.select(lambda o: o.engages())  # 9, between steps 6 and 7
            if engaged and self.first_contact_t == INF:
                self.first_contact_t = self.t
            if not engaged:
                self.attacker.move()  # 7
            self.officers.select(lambda o: o.status == INSIDE and o not in engaged).do("move")  # 8
            self.standoff()  # 8b
            self.attacker.fire(engaged)  # 10
            self.resolve_endings(engaged.select(lambda o: o.status != DOWN))  # 11
        self.t = self.steps * self.p.dt  # 12 (Mesa counts ``steps`` before calling ``step``)
        if self.attacker.active and self.t >= self.p.horizon_s:
            self.end_attack("ongoing", self.p.horizon_s)

    def enter_building(self) -> None:
        """Step 3: every unit whose doctrine allows it enters together (all decide on the same state)."""
        deciding = self.officers.select(lambda o: o.wants_to_enter())
        if not deciding:
            return
        if self.p.officer_entry >= 0:
            entry = self.p.officer_entry
        elif self.last_gunfire_space >= 0:
            entry = self.b.nearest_exit[self.last_gunfire_space]
        else:
            entry = self.p.attacker_entry
        deciding.do("enter", entry)
        if self.first_entry_t == INF:
            self.first_entry_t = self.t

    def standoff(self) -> None:
        """Step 8b: the officers at a barricaded attacker's door force it; it gives way a lognormal time
        (median by its lock) after the first started, unless nobody is left forcing it."""
        a = self.attacker
        for o in self.officers:
            o.breaching = False
        if not a.barricaded:
            return
        forcing = self.officers.select(lambda o: o.forces_door())
        if not forcing:
            a.breach_at = INF  # a new breach starts over
            return
        if a.breach_at == INF:
            a.breach_at = self.t + lognormal(self, self.b.breach_median_s[a.space], self.p.breach_sigma)
        if self.t >= a.breach_at:  # the door gives way: the officers engage next tick
            a.barricaded = False
            a.breach_at = INF
        else:
            forcing.set("breaching", True)

    def resolve_endings(self, engaged: AgentSet) -> None:
        """Step 11: one draw among the competing hazards of ``HAZARD_NAMES`` (self-termination, flight,
        citizens, police, barricade, surrender, moving away)."""
        p, b, a, t = self.p, self.b, self.attacker, self.t
        close = self.officers.select(lambda o: o.status == INSIDE and b.hops[o.space][a.space] <= 2)
        near = bool(close)
        on_scene = any(o.armed and o.status in (ON_SCENE, INSIDE) for o in self.officers)
        # shut in its room it no longer sees them: the on-scene factor, not the near one
        sees = near and not a.barricaded
        mult = p.police_near_mult if sees else (p.police_scene_mult if on_scene else 1.0)
        hazards = [0.0] * len(HAZARD_NAMES)
        hazards[H_SELF] = p.self_term_h * mult * self.quit
        hazards[H_FLEE] = 0.0 if (engaged or a.barricaded) else p.flee_h * self.quit
        if not engaged and self.open_people_in(a.space) > 0:
            hazards[H_CITIZENS] = p.citizen_h * (p.reload_mult if t < a.reload_until else 1.0)
        hazards[H_POLICE] = p.officer_stop_h * sum(engaged.get("weapon_factor"))
        if b.lockable[a.space] and not a.barricaded and not engaged:
            hazards[H_BARRICADE] = p.barricade_h * (p.barricade_near_mult if near else 1.0)
        if engaged or (a.barricaded and near):  # engaged, or its door held or forced: negotiation
            hazards[H_SURRENDER] = p.surrender_h
        if near and not engaged and not a.barricaded:
            hazards[H_MOVE_AWAY] = p.move_away_h
        total = sum(hazards)
        if total <= 0 or self.random.random() >= 1.0 - math.exp(-total * p.dt):
            return
        kind = self.random.choices(range(len(hazards)), weights=hazards)[0]
        if kind == H_BARRICADE:
            self.barricade_t = min(self.barricade_t, t)
            a.barricaded = True
            a.next_space = -1
            a.eta = 0.0
        elif kind == H_MOVE_AWAY:
            a.moving_away = True  # leaves at once, away from the officers (step 7)
        elif kind == H_SURRENDER:
            self.end_attack("police_arrested", t + p.dt)
            # the engaged unit with the largest weight (ties: unit order), else the first unit within two hops
            by = max(engaged, key=lambda o: (o.weapon_factor, -o.index)) if engaged else close[0]
            self.stopped_by = ROLE_NAMES[by.role]
        elif kind == H_SELF:
            reason = "suicide_police_on_scene" if self.armed_unit_arrived() else "suicide_before_police"
            self.end_attack(reason, t + p.dt)
        elif kind == H_FLEE:
            self.end_attack("fled", t + p.dt)
        elif kind == H_CITIZENS:
            self.end_attack("citizens", t + p.dt)
        else:  # police
            shot = self.random.random() < p.p_police_shot
            self.end_attack("police_shot" if shot else "police_arrested", t + p.dt)
            best = max(engaged, key=lambda o: (o.weapon_factor, -o.index))  # ties: unit order, SRO first
            self.stopped_by = ROLE_NAMES[best.role]

    # ------------------------------------------------------------------------------------- after the attack

    def care_for_casualties(self) -> None:
        """Closed-form casualty care (docs/model.md, "Casualty care"); times in s."""
        p = self.p
        ended = self.end_reason != "ongoing"
        stop_t = self.end_t if ended else INF
        for c in self.casualties:
            if c.outcome != "critical":
                continue
            if p.rescue_task_force:
                access = lognormal(self, p.rtf_access_median_s, p.ems_access_sigma)
                c.care_t = max(c.wound_t, min(stop_t, self.first_entry_t + p.rtf_ready_s)) + access
            else:
                access = lognormal(self, p.ems_access_median_s, p.ems_access_sigma)
                c.care_t = max(c.wound_t, stop_t) + access

    def outcome(self) -> dict[str, object]:
        """One row of the outcome table (same columns and meanings as the engine's)."""
        self.care_for_casualties()
        shot = self.t_first_shot < INF
        killed = sum(1 for c in self.casualties if c.outcome == "killed")
        light = sum(1 for c in self.casualties if c.outcome == "light")
        critical = [c for c in self.casualties if c.outcome == "critical"]
        died = sum(1 for c in critical if c.wound_t + c.survival_s < c.care_t)
        to_care = [c.care_t - c.wound_t for c in critical if c.care_t < INF]
        armed = self.officers.select(lambda o: o.armed)
        police_t = self.t_first_shot + min(armed.get("arrival_offset_s")) if armed else INF

        def since_first_shot(x: float) -> float:
            return x - self.t_first_shot if (shot and x < INF) else math.nan

        return {
            "rep": self.rep,
            "killed": killed,
            "died_awaiting_care": died,
            "deaths": killed + died,
            "wounded": light + len(critical) - died,
            "critical": len(critical),
            "evacuated": self.evacuated,
            "sheltered": sum(self.groups.get("count")),
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
            "ended_before_police": self.end_reason != "ongoing" and self.end_t < police_t,
            "median_time_to_care_s": float(np.median(to_care)) if to_care else math.nan,
        }


def run_replications(params: Params, reps: range | list[int]) -> Iterator[dict[str, object]]:
    """Run each replication's model to its end; yield its outcome row."""
    building = Building(params)
    for rep in reps:
        model = IncidentModel(params, rep, building)
        model.run_model()
        yield model.outcome()
        model.remove_all_agents()
        # Mesa 3.3 keeps a per-model id counter in a class-level dict (``Agent._ids``) that holds a strong
        # reference to the model; without this, every finished model stays in memory.
        mesa.Agent._ids.pop(model, None)


def outcome_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The outcome rows as a DataFrame with the engine's dtypes."""
    df = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    for col in INT_COLUMNS:
        df[col] = df[col].astype(np.int64)
    df["ended_before_police"] = df["ended_before_police"].astype(bool)
    return df


def _run_block(args: tuple[Params, int, int]) -> list[dict[str, object]]:
    params, start, stop = args
    return list(run_replications(params, range(start, stop)))


def simulate_mesa(params: Params, replications: int, first_rep: int = 0, workers: int = 1) -> pd.DataFrame:
    """Run replications ``first_rep ..`` with the Mesa peer; one outcome row each, in order.

    ``workers`` > 1 spreads contiguous blocks of replications over a process pool (results are the same
    for any number of workers: each replication depends only on (seed, replication index)).
    """
    if workers <= 1 or replications < 2:
        return outcome_frame(list(run_replications(params, range(first_rep, first_rep + replications))))
    from concurrent.futures import ProcessPoolExecutor

    n_blocks = min(replications, 4 * workers)
    bounds = np.linspace(first_rep, first_rep + replications, n_blocks + 1).astype(int)
    tasks = [(params, int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = [row for block in pool.map(_run_block, tasks) for row in block]
    return outcome_frame(rows)
