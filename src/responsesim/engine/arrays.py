"""From the compiled scenario (``scenario.compile.Params``) to the engine's typed containers.

Data flow: Params (scenario + building + calibration) -> ``Building``, ``Scenario``, ``Units``, the base
values of the per-replication parameters and the ``Forcing`` (engine/types.py). Nothing here is a model
rule: it only lays the numbers out as the compiled rules read them.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

from responsesim.codes import (
    D_NO_ENTRY,
    D_TACTICAL,
    EXIT,
    LOCK_STANDARD,
    ROLE_PATROL,
    ROLE_SRO,
    ROLE_TACTICAL,
)
from responsesim.engine.types import THETA_FIELDS, Building, Forcing, Scenario, Units, no_forcing
from responsesim.scenario.compile import Params


@dataclass(frozen=True)
class EngineInput:
    """Everything the kernel reads for one compiled scenario (per-replication parameters come apart)."""

    building: Building
    scenario: Scenario
    units: Units
    forcing: Forcing
    group_space: np.ndarray  # int64 [G] the space of each group at the start
    group_size: np.ndarray  # int64 [G] its people
    base_theta: dict[str, float]  # the scenario's value of every ``THETA_FIELDS`` name


def _c(a: Any, dtype: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype)


def first_hop(params: Params, space: int) -> int:
    """Lowest-index non-exit neighbour of a space (where the attacker heads from its entry)."""
    b = params.building
    nb = b.neighbours(space)
    cand = nb[b.kind[nb] != EXIT]
    if cand.size == 0:
        raise ValueError(f"space {b.space_ids[space]!r} has no interior neighbour")
    return int(cand[0])


def building(params: Params) -> Building:
    """The engine's building: neighbour lists with per-edge leg times, distances to exits, next hops."""
    b = params.building
    length = b.nbr_len
    return Building(
        kind=_c(b.kind, np.int64),
        lockable=_c(b.lockable, np.bool_),
        hard_corner=_c(b.hard_corner, np.bool_),
        door_window=_c(b.door_window, np.bool_),
        nbr_ptr=_c(b.nbr_ptr, np.int64),
        nbr=_c(b.nbr, np.int64),
        nbr_interior=_c(b.kind[b.nbr] != EXIT, np.bool_),
        leg_group=_c(length / params.evac_speed, np.float64),
        leg_attacker=_c(length / params.attacker_speed, np.float64),
        leg_officer=_c(length / params.officer_speed, np.float64),
        exits=_c(b.exits, np.int64),
        exit_dist=_c(b.exit_dist, np.float64),
        nearest_exit=_c(b.exits[np.argmin(b.exit_dist, axis=1)], np.int64),
        next_hop=_c(b.route, np.int16),
        breach_median_s=_c(breach_times(params)[_door_locks(params)], np.float64),
    )


def _door_locks(params: Params) -> np.ndarray:
    """Each space's door lock code (``standard`` where the building does not say)."""
    b = params.building
    if b.door_lock.shape[0] == len(b.space_ids):
        return np.asarray(b.door_lock, dtype=np.int64)
    return np.full(len(b.space_ids), LOCK_STANDARD, dtype=np.int64)


def breach_times(params: Params) -> np.ndarray:
    """Median time to force a door (s), indexed by codes.DOOR_LOCK_NAMES."""
    return np.array([params.breach_none_s, params.breach_standard_s, params.breach_reinforced_s])


#: each scalar's Python type, from the container's annotations (Numba compiles one signature per type)
_SCENARIO_TYPES: dict[str, Any] = typing.get_type_hints(Scenario)


def scenario(params: Params) -> Scenario:
    """The scenario scalars: every field of ``Scenario`` is the ``Params`` field of the same name, cast to
    its annotated type, except the attacker's first hop, which is derived from the building."""
    vals = {f: _SCENARIO_TYPES[f](getattr(params, f)) for f in Scenario._fields if f != "attacker_first_hop"}
    return Scenario(**vals, attacker_first_hop=first_hop(params, params.attacker_entry))


def scenario_doctrine(params: Params) -> tuple[int, float]:
    """The scenario's doctrine (code, parameter): that of the patrol units (no_entry without patrol)."""
    patrol = np.flatnonzero(params.unit_role == ROLE_PATROL)
    if not patrol.size:
        return D_NO_ENTRY, 0.0
    j = int(patrol[0])
    return int(params.unit_doctrine[j]), float(params.unit_doctrine_param[j])


def units(params: Params) -> Units:
    role = params.unit_role.astype(np.int64)
    code, par = scenario_doctrine(params)
    follows = (role != ROLE_TACTICAL) & (params.unit_doctrine == code) & (params.unit_doctrine_param == par)
    if not (role == ROLE_PATROL).any():
        follows[:] = False
    sro = np.flatnonzero(role == ROLE_SRO)
    rifle = params.unit_rifle if params.unit_rifle.size == role.size else np.zeros(role.size, dtype=bool)
    return Units(
        role=_c(role, np.int64),
        armed=_c(params.unit_armed, np.bool_),
        rifle=_c(rifle, np.bool_),
        doctrine=_c(np.where(role == ROLE_TACTICAL, D_TACTICAL, params.unit_doctrine), np.int64),
        doctrine_param=_c(params.unit_doctrine_param, np.float64),
        follows_scenario=_c(follows, np.bool_),
        sro_present=_c(role == ROLE_SRO, np.bool_),
        sro_index=int(sro[0]) if sro.size else -1,
    )


def base_theta(params: Params) -> dict[str, float]:
    """The scenario's value of each per-replication parameter and lever."""
    code, par = scenario_doctrine(params)
    out = {k: float(v) for k, v in params.model.items()}
    out.update(
        rifle=1.0 if params.rifle else 0.0,
        lockdown_t=float(params.lockdown_t),
        sro_present=1.0 if (params.unit_role == ROLE_SRO).any() else 0.0,
        doctrine_code=float(code),
        doctrine_param=par,
        breach=1.0 if params.barricade_breach else 0.0,
    )
    missing = [k for k in THETA_FIELDS if k not in out]
    if missing:
        raise ValueError(f"the compiled scenario lacks model parameters {', '.join(missing)}")
    return out


def forcing(params: Params) -> Forcing:
    f = params.forcing or no_forcing(params.n_units)
    return Forcing(
        wp_t=_c(f.wp_t, np.float64),
        wp_space=_c(f.wp_space, np.int64),
        wp_shot=_c(f.wp_shot, np.bool_),
        end_t=float(f.end_t),
        arrival_t=_c(f.arrival_t, np.float64),
        entry_t=_c(f.entry_t, np.float64),
        withdraw_t=_c(f.withdraw_t, np.float64),
        units_out_ends=bool(f.units_out_ends),
    )


def engine_input(params: Params) -> EngineInput:
    """The kernel's containers for ``params``."""
    return EngineInput(
        building=building(params),
        scenario=scenario(params),
        units=units(params),
        forcing=forcing(params),
        group_space=_c(params.group_space, np.int64),
        group_size=_c(params.group_size, np.int64),
        base_theta=base_theta(params),
    )
