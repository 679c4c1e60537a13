"""Compile a validated scenario into the frozen arrays and scalars the engines read (``Params``).

Data flow: ScenarioSpec (validated) + BuildingGraph + calibrated parameters -> Params. Nothing in the
engine reads the pydantic models: everything it needs is here, in seconds, metres and per-second rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from responsesim.codes import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_NO_ENTRY,
    D_TACTICAL,
    D_WAIT_N,
    DOCTRINE_CODES,
    ROLE_PATROL,
    ROLE_SRO,
    ROLE_TACTICAL,
)
from responsesim.engine.types import Forcing
from responsesim.params import CalibratedParams
from responsesim.scenario.building import BuildingGraph
from responsesim.scenario.schema import DoctrineSpec, ScenarioSpec


def doctrine_code(spec: DoctrineSpec) -> tuple[int, float]:
    """(code, parameter) of a doctrine: threshold (s), n, or delay (s) depending on the kind."""
    code = DOCTRINE_CODES[spec.kind]
    param = {D_WAIT_N: float(spec.n), D_BACKUP_ETA: spec.threshold_s, D_HESITATE: spec.delay_s}.get(code, 0.0)
    return code, param


@dataclass(frozen=True)
class Params:
    """Everything one replication needs, immutable. Times in s, lengths in m, hazards per s."""

    name: str
    seed: int
    dt: float
    horizon_s: float
    building: BuildingGraph
    # occupant groups [G]
    group_space: np.ndarray
    group_size: np.ndarray
    n_occupants: int
    reaction_median_s: float
    reaction_sigma: float
    p_lockdown: float
    p_evacuate_open: float
    lock_time_min_s: float
    lock_time_max_s: float
    lock_works_prob: float
    use_hard_corner_prob: float
    evac_speed: float
    avoid_penalty_m: float
    # alerting
    lockdown_t: float
    fire_alarm_t: float
    hear_hops: int
    # attacker
    attacker_entry: int
    officer_entry: int  # -1: the exit nearest the last gunfire
    attacker_speed: float
    dwell_min_s: float
    dwell_max_s: float
    w_unvisited: float
    fire_rate: float
    magazine: int
    reload_s: float
    p_hit: float
    window_hit_factor: float
    window_fire_factor: float
    p_kill: float
    p_critical: float
    critical_survival_median_s: float
    critical_survival_sigma: float
    max_shots_per_tick: int
    self_term_h: float
    police_scene_mult: float
    police_near_mult: float
    flee_h: float
    citizen_h: float
    reload_mult: float
    barricade_h: float
    barricade_near_mult: float
    surrender_h: float
    move_away_h: float
    barricade_fire_factor: float
    breach_exposure: float
    officer_stop_h: float
    officer_hit_h: float
    officer_hit_factor: float
    p_officer_killed: float
    p_police_shot: float
    # responders [U]
    unit_role: np.ndarray
    unit_armed: np.ndarray
    unit_weapon_factor: np.ndarray
    unit_doctrine: np.ndarray
    unit_doctrine_param: np.ndarray
    sro_response_median_s: float
    sro_response_sigma: float
    sro_calls_lockdown: bool
    sro_lockdown_delay_s: float
    call_delay_median_s: float
    patrol_first_median_s: float
    patrol_first_sigma: float
    patrol_gap_mean_s: float
    tactical_median_s: float
    tactical_sigma: float
    officer_speed: float
    # the encounter: barricade doctrine, breach times by door lock (s), search
    barricade_breach: bool
    breach_none_s: float
    breach_standard_s: float
    breach_reinforced_s: float
    breach_sigma: float
    clear_room_s: float
    location_info_s: float  # inf: officers learn the attacker's room only by hearing or seeing it
    # care
    rescue_task_force: bool
    ems_access_median_s: float
    ems_access_sigma: float
    rtf_ready_s: float
    rtf_access_median_s: float
    rifle: bool = False  # the attacker carries a rifle
    unit_rifle: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # [U] officer's rifle
    #: every calibrated model parameter by registry name (``responsesim.parameters``)
    model: Mapping[str, float] = field(default_factory=dict)
    calibration_version: str = ""
    #: what a replayed incident imposes (review counterfactuals); None when nothing is replayed
    forcing: Forcing | None = None

    @property
    def n_groups(self) -> int:
        return int(self.group_space.shape[0])

    @property
    def n_units(self) -> int:
        return int(self.unit_role.shape[0])

    @property
    def n_spaces(self) -> int:
        return len(self.building.space_ids)


def engine_values(c: Mapping[str, Any], rifle: bool) -> dict[str, Any]:
    """The scenario's weapon-resolved values of the calibrated parameters, as the per-agent reference and
    the Mesa peer read them (``Params.fire_rate`` etc.; the compiled engine resolves the weapon itself)."""
    return {
        "fire_rate": c["fire_rate_rifle"] if rifle else c["fire_rate_handgun"],
        "p_hit": c["p_hit"],
        "window_hit_factor": c["window_hit_factor"],
        "window_fire_factor": c["window_fire_factor"],
        "p_kill": c["p_kill_rifle"] if rifle else c["p_kill_handgun"],
        "p_critical": c["p_critical"],
        "critical_survival_median_s": c["critical_survival_median_s"],
        "critical_survival_sigma": c["critical_survival_sigma"],
        "self_term_h": c["self_term_h"],
        "police_scene_mult": c["police_scene_mult"],
        "police_near_mult": c["police_near_mult"],
        "flee_h": c["flee_h"],
        "citizen_h": c["citizen_h"],
        "reload_mult": c["reload_mult"],
        "barricade_h": c["barricade_h"],
        "barricade_near_mult": c["barricade_near_mult"],
        "surrender_h": c["surrender_h"],
        "move_away_h": c["move_away_h"],
        "barricade_fire_factor": c["barricade_fire_factor"],
        "breach_exposure": c["breach_exposure"],
        "officer_stop_h": c["officer_stop_h"],
        "officer_hit_h": c["officer_hit_h"],
        "officer_hit_factor": c["officer_hit_factor_rifle"] if rifle else 1.0,
        "p_officer_killed": c["p_officer_killed"],
        "p_police_shot": c["p_police_shot"],
        "reload_s": c["reload_s"],
    }


def split_groups(occupants: np.ndarray, group_size_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the people in each space into groups of at most ``group_size_max`` (as equal as possible)."""
    spaces: list[int] = []
    sizes: list[int] = []
    for s, n in enumerate(occupants.tolist()):
        if n <= 0:
            continue
        k = math.ceil(n / group_size_max)
        base, extra = divmod(n, k)
        for i in range(k):
            spaces.append(s)
            sizes.append(base + (1 if i < extra else 0))
    return np.asarray(spaces, dtype=np.int32), np.asarray(sizes, dtype=np.int32)


def compile_params(spec: ScenarioSpec, graph: BuildingGraph, cal: CalibratedParams) -> Params:
    """Build ``Params`` from a validated scenario, its compiled building and calibrated parameters."""
    occ = spec.occupants
    gspace, gsize = split_groups(graph.occupants, occ.group_size_max)
    c = cal.values
    rifle = spec.attacker.weapon == "rifle"

    resp = spec.responders
    roles: list[int] = []
    armed: list[bool] = []
    wfac: list[float] = []
    rifles: list[bool] = []
    dcode: list[int] = []
    dparam: list[float] = []
    base_code, base_param = doctrine_code(spec.doctrine)
    if resp.sro.present:
        code, param = doctrine_code(resp.sro.doctrine) if resp.sro.doctrine else (base_code, base_param)
        roles.append(ROLE_SRO)
        armed.append(resp.sro.armed)
        wfac.append(c["rifle_factor_officer"] if resp.sro.weapon == "rifle" else 1.0)
        rifles.append(resp.sro.weapon == "rifle")
        dcode.append(code)
        dparam.append(param)
    n_rifles = round(resp.patrol.rifle_share * resp.patrol.count)
    for i in range(resp.patrol.count):
        roles.append(ROLE_PATROL)
        armed.append(True)
        wfac.append(c["rifle_factor_officer"] if i < n_rifles else 1.0)
        rifles.append(i < n_rifles)
        dcode.append(base_code)
        dparam.append(base_param)
    if resp.tactical.enabled:
        for _ in range(resp.tactical.size):
            roles.append(ROLE_TACTICAL)
            armed.append(True)
            wfac.append(c["rifle_factor_officer"])
            rifles.append(True)
            dcode.append(D_NO_ENTRY if base_code == D_NO_ENTRY else D_TACTICAL)
            dparam.append(0.0)

    entry = graph.index(spec.attacker.entry_space) if spec.attacker.entry_space else graph.default_entry
    al = spec.alerting
    inf = math.inf
    return Params(
        name=spec.name,
        seed=spec.seed,
        dt=spec.tick_s,
        horizon_s=spec.horizon_s,
        building=graph,
        group_space=gspace,
        group_size=gsize,
        n_occupants=int(gsize.sum()),
        reaction_median_s=occ.reaction_median_s,
        reaction_sigma=occ.reaction_sigma,
        p_lockdown=occ.p_lockdown,
        p_evacuate_open=occ.p_evacuate_open,
        lock_time_min_s=occ.lock_time_min_s,
        lock_time_max_s=occ.lock_time_max_s,
        lock_works_prob=occ.lock_works_prob,
        use_hard_corner_prob=occ.use_hard_corner_prob,
        evac_speed=occ.evac_speed_mps,
        avoid_penalty_m=occ.avoid_penalty_m,
        lockdown_t=inf if al.lockdown_at_s is None else float(al.lockdown_at_s),
        fire_alarm_t=inf if al.fire_alarm_at_s is None else float(al.fire_alarm_at_s),
        hear_hops=al.hear_hops,
        attacker_entry=entry,
        officer_entry=graph.index(resp.entry_space) if resp.entry_space else -1,
        attacker_speed=spec.attacker.speed_mps,
        dwell_min_s=spec.attacker.dwell_min_s,
        dwell_max_s=spec.attacker.dwell_max_s,
        w_unvisited=spec.attacker.w_unvisited,
        magazine=int(c["magazine_rifle"] if rifle else c["magazine_handgun"]),
        max_shots_per_tick=int(c["max_shots_per_tick"]),
        **{k: float(v) for k, v in engine_values(c, rifle).items()},  # type: ignore[arg-type]
        unit_role=np.asarray(roles, dtype=np.int8),
        unit_armed=np.asarray(armed, dtype=bool),
        unit_weapon_factor=np.asarray(wfac, dtype=np.float64),
        unit_doctrine=np.asarray(dcode, dtype=np.int8),
        unit_doctrine_param=np.asarray(dparam, dtype=np.float64),
        sro_response_median_s=resp.sro.response_median_s,
        sro_response_sigma=resp.sro.response_sigma,
        sro_calls_lockdown=resp.sro.present and resp.sro.calls_lockdown,
        sro_lockdown_delay_s=resp.sro.lockdown_delay_s,
        call_delay_median_s=resp.patrol.call_delay_median_s,
        patrol_first_median_s=resp.patrol.first_median_s,
        patrol_first_sigma=resp.patrol.first_sigma,
        patrol_gap_mean_s=resp.patrol.gap_mean_s,
        tactical_median_s=resp.tactical.median_s,
        tactical_sigma=resp.tactical.sigma,
        officer_speed=resp.officer_speed_mps,
        barricade_breach=spec.doctrine.barricade == "breach",
        breach_none_s=resp.breach.none_s,
        breach_standard_s=resp.breach.standard_s,
        breach_reinforced_s=resp.breach.reinforced_s,
        breach_sigma=resp.breach.sigma,
        clear_room_s=resp.search.clear_room_s,
        location_info_s=inf if resp.search.location_info_s is None else float(resp.search.location_info_s),
        rescue_task_force=spec.care.rescue_task_force,
        ems_access_median_s=spec.care.ems_access_median_s,
        ems_access_sigma=spec.care.ems_access_sigma,
        rtf_ready_s=spec.care.rtf_ready_s,
        rtf_access_median_s=spec.care.rtf_access_median_s,
        rifle=rifle,
        unit_rifle=np.asarray(rifles, dtype=bool),
        model={k: float(v) for k, v in c.items()},
        calibration_version=cal.version,
    )
