"""Engine state: structure of arrays with a leading replication axis [R, ...].

``Draws`` holds what is drawn once at the start of a replication (reaction delays, decisions, arrival
offsets); ``State`` what changes tick by tick. Dead, evacuated or stopped agents are masked by their
state codes, never removed, so every array keeps its shape for the whole run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from responsesim.engine import rng
from responsesim.scenario.compile import (
    D_NO_ENTRY,
    D_TACTICAL,
    ROLE_PATROL,
    ROLE_SRO,
    ROLE_TACTICAL,
    THETA_FIELDS,
    Params,
)

# Group states (docs/model.md)
UNAWARE, LOCKING, LOCKED, LOCKED_HC, HIDING, EVACUATING, FIRE_EVAC, OUT = range(8)
GROUP_STATE_NAMES = ("unaware", "locking", "locked", "locked_hc", "hiding", "evacuating", "fire_evac", "out")
OPEN_STATES = (UNAWARE, LOCKING, HIDING, EVACUATING, FIRE_EVAC)

# Unit statuses
NOT_ARRIVED, ON_SCENE, INSIDE, DOWN = range(4)

# End reasons
ONGOING, SUICIDE_BEFORE_POLICE, SUICIDE_POLICE_ON_SCENE, FLED, CITIZENS, POLICE_SHOT, POLICE_ARRESTED = range(
    7
)
END_REASON_NAMES = (
    "ongoing",
    "suicide_before_police",
    "suicide_police_on_scene",
    "fled",
    "citizens",
    "police_shot",
    "police_arrested",
)
NO_ROLE = -1


@dataclass(frozen=True)
class Theta:
    """Model parameters per replication ([R] arrays, names as ``scenario.compile.THETA_FIELDS``).

    Usually every replication has the scenario's values; calibration and sweeps give each replication of a
    batch its own values, so many parameter points run in one batch.
    """

    values: dict[str, np.ndarray]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["values"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def take(self, idx: np.ndarray) -> Theta:
        return Theta({k: v[idx] for k, v in self.values.items()})

    @staticmethod
    def concat(parts: list[Theta]) -> Theta:
        return Theta({k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values})


# Per-replication scenario choices that may vary inside one batch, besides THETA_FIELDS: the magazine
# (rounds), the lockdown time (s, inf = never), the SRO's presence (0/1) and the doctrine of SRO and
# patrol units (code from scenario.compile.DOCTRINE_CODES and its parameter).
SCENARIO_FIELDS = ("magazine", "lockdown_t", "sro_present", "doctrine_code", "doctrine_param")


def make_theta(params: Params, r: int, overrides: Mapping[str, np.ndarray] | None = None) -> Theta:
    """The scenario's values broadcast to ``r`` replications, with per-replication ``overrides``."""
    vals = {k: np.full(r, float(getattr(params, k))) for k in THETA_FIELDS}
    vals["magazine"] = np.full(r, float(params.magazine))
    vals["lockdown_t"] = np.full(r, params.lockdown_t)
    vals["sro_present"] = np.full(r, float((params.unit_role == ROLE_SRO).any()))
    patrol = np.flatnonzero(params.unit_role == ROLE_PATROL)
    base = params.unit_doctrine[patrol[0]] if patrol.size else D_NO_ENTRY
    vals["doctrine_code"] = np.full(r, float(base))
    vals["doctrine_param"] = np.full(r, float(params.unit_doctrine_param[patrol[0]]) if patrol.size else 0.0)
    for k, v in (overrides or {}).items():
        if k not in vals:
            raise KeyError(f"unknown engine parameter {k!r} (known: {', '.join(vals)})")
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape != (r,):
            raise ValueError(f"{k}: expected {r} values, got shape {arr.shape}")
        vals[k] = arr
    return Theta(vals)


@dataclass(frozen=True)
class Draws:
    """Random values fixed at the start of each replication ([R, G] for groups, [R, U] for units)."""

    g_react: np.ndarray
    g_udecide: np.ndarray
    g_lock_time: np.ndarray
    g_ulock: np.ndarray
    g_uhc: np.ndarray
    u_offset: np.ndarray  # arrival offset after the first shot (s); inf for none
    u_doctrine: np.ndarray  # [R, U] doctrine code of each unit
    u_doctrine_param: np.ndarray  # [R, U]
    theta: Theta  # per-replication model parameters

    def take(self, idx: np.ndarray) -> Draws:
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self) if f.name != "theta"
        }
        return Draws(theta=self.theta.take(idx), **out)

    @staticmethod
    def concat(parts: list[Draws]) -> Draws:
        out: dict[str, Any] = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(Draws)
            if f.name != "theta"
        }
        return Draws(theta=Theta.concat([p.theta for p in parts]), **out)


@dataclass(frozen=True)
class State:
    """Everything that changes during a replication. Times in s (inf = not yet / never)."""

    tick: int
    rep: np.ndarray  # int64 [R] replication index
    keys: np.ndarray  # uint64 [R]
    # groups [R, G]
    g_space: np.ndarray
    g_next: np.ndarray  # -1 when not in transit
    g_eta: np.ndarray
    g_count: np.ndarray
    g_state: np.ndarray
    g_alert_t: np.ndarray
    g_lock_done: np.ndarray
    # attacker [R]
    a_space: np.ndarray
    a_next: np.ndarray
    a_eta: np.ndarray
    a_active: np.ndarray
    a_barricaded: np.ndarray
    a_rounds: np.ndarray
    a_reload_until: np.ndarray
    a_arrived_at: np.ndarray
    a_visited: np.ndarray  # bool [R, S]
    # units [R, U]
    u_status: np.ndarray
    u_space: np.ndarray
    u_next: np.ndarray
    u_eta: np.ndarray
    # incident clock and events [R]
    t_first_shot: np.ndarray
    last_gf_t: np.ndarray  # -inf before any gunfire
    last_gf_space: np.ndarray  # -1 before any gunfire
    lockdown_t: np.ndarray
    first_police_t: np.ndarray
    first_entry_t: np.ndarray
    first_contact_t: np.ndarray
    end_reason: np.ndarray
    end_t: np.ndarray
    stopped_by: np.ndarray
    # tallies [R]
    evacuated: np.ndarray
    killed: np.ndarray
    wounded_light: np.ndarray
    n_critical: np.ndarray
    shots: np.ndarray
    officers_shot: np.ndarray
    officers_killed: np.ndarray

    def copy(self) -> State:
        """A deep copy of every array (so a step never mutates its input)."""
        out: dict[str, Any] = {
            f.name: (v.copy() if isinstance(v := getattr(self, f.name), np.ndarray) else v)
            for f in dataclasses.fields(self)
        }
        return State(**out)

    def take(self, idx: np.ndarray) -> State:
        """The replications at ``idx`` (bool mask or indices)."""
        out: dict[str, Any] = {
            f.name: (v[idx] if isinstance(v := getattr(self, f.name), np.ndarray) else v)
            for f in dataclasses.fields(self)
        }
        return State(**out)

    def in_building(self) -> np.ndarray:
        """Unhurt people still inside, per replication."""
        return np.asarray(self.g_count.sum(axis=1))


def draw_initial(params: Params, keys: np.ndarray, theta: Theta | None = None) -> Draws:
    """Per-replication draws made once at the start (tick -1 streams), and the model parameters."""
    r = keys.shape[0]
    g = params.n_groups
    u = rng.uniform(keys, -1, rng.S_INIT_GROUP, 6 * g).reshape(r, g, 6)
    react = rng.lognormal(u[..., 0], u[..., 1], params.reaction_median_s, params.reaction_sigma)
    lock_time = params.lock_time_min_s + (params.lock_time_max_s - params.lock_time_min_s) * u[..., 3]

    nu = params.n_units
    uu = rng.uniform(keys, -1, rng.S_INIT_UNIT, 2 * nu).reshape(r, nu, 2)
    m = rng.uniform(keys, -1, rng.S_INIT_MISC, 6)
    call = rng.lognormal(m[:, 0], m[:, 1], params.call_delay_median_s, 0.5)
    tactical = call + rng.lognormal(m[:, 2], m[:, 3], params.tactical_median_s, params.tactical_sigma)
    offset = np.full((r, nu), np.inf)
    t_patrol = call.copy()
    first_patrol = True
    for j in range(nu):
        role = params.unit_role[j]
        if role == ROLE_SRO:
            offset[:, j] = rng.lognormal(
                uu[:, j, 0], uu[:, j, 1], params.sro_response_median_s, params.sro_response_sigma
            )
        elif role == ROLE_PATROL:
            if first_patrol:
                t_patrol = t_patrol + rng.lognormal(
                    uu[:, j, 0], uu[:, j, 1], params.patrol_first_median_s, params.patrol_first_sigma
                )
                first_patrol = False
            else:
                t_patrol = t_patrol + rng.exponential(uu[:, j, 0], params.patrol_gap_mean_s)
            offset[:, j] = t_patrol
        elif role == ROLE_TACTICAL:
            offset[:, j] = tactical
    theta = theta if theta is not None else make_theta(params, r)
    doctrine = np.broadcast_to(params.unit_doctrine, (r, nu)).copy()
    dparam = np.broadcast_to(params.unit_doctrine_param, (r, nu)).copy()
    sro_unit = params.unit_role == ROLE_SRO
    offset[:, sro_unit] = np.where(theta.sro_present[:, None] > 0, offset[:, sro_unit], np.inf)
    # units following the scenario doctrine (all SRO/patrol units unless the SRO has its own) take the
    # replication's doctrine
    patrol = np.flatnonzero(params.unit_role == ROLE_PATROL)
    if patrol.size:
        base = params.unit_doctrine[patrol[0]], params.unit_doctrine_param[patrol[0]]
        follows = (params.unit_role != ROLE_TACTICAL) & (params.unit_doctrine == base[0])
        follows &= params.unit_doctrine_param == base[1]
        doctrine[:, follows] = theta.doctrine_code.astype(np.int8)[:, None]
        dparam[:, follows] = theta.doctrine_param[:, None]
        tactical = params.unit_role == ROLE_TACTICAL
        no_entry = theta.doctrine_code == D_NO_ENTRY
        doctrine[:, tactical] = np.where(no_entry[:, None], D_NO_ENTRY, D_TACTICAL)
    return Draws(
        u_doctrine=doctrine,
        u_doctrine_param=dparam,
        g_react=react,
        g_udecide=u[..., 2],
        g_lock_time=lock_time,
        g_ulock=u[..., 4],
        g_uhc=u[..., 5],
        u_offset=offset,
        theta=theta,
    )


def first_neighbour(params: Params, space: int) -> int:
    """Lowest-index non-exit neighbour of a space (where the attacker heads from its entry)."""
    b = params.building
    cand = np.flatnonzero(b.adj[space] & (b.kind != 7))
    if cand.size == 0:
        raise ValueError(f"space {b.space_ids[space]!r} has no interior neighbour")
    return int(cand[0])


def initial_state(params: Params, reps: np.ndarray, theta: Theta | None = None) -> State:
    """State at t = 0 for replications ``reps`` (any subset of indices, in any order)."""
    reps = np.asarray(reps, dtype=np.int64)
    r = reps.shape[0]
    g = params.n_groups
    nu = params.n_units
    s = params.n_spaces
    keys = rng.replication_keys(params.seed, reps)
    entry = params.attacker_entry
    nxt = first_neighbour(params, entry)
    visited = np.zeros((r, s), dtype=bool)
    visited[:, entry] = True
    inf = np.full(r, np.inf)
    return State(
        tick=0,
        rep=reps,
        keys=keys,
        g_space=np.broadcast_to(params.group_space, (r, g)).astype(np.int32),
        g_next=np.full((r, g), -1, dtype=np.int32),
        g_eta=np.zeros((r, g)),
        g_count=np.broadcast_to(params.group_size, (r, g)).astype(np.int32),
        g_state=np.zeros((r, g), dtype=np.int8),
        g_alert_t=np.full((r, g), np.inf),
        g_lock_done=np.full((r, g), np.inf),
        a_space=np.full(r, entry, dtype=np.int32),
        a_next=np.full(r, nxt, dtype=np.int32),
        a_eta=np.full(r, params.building.edge_len[entry, nxt] / params.attacker_speed),
        a_active=np.ones(r, dtype=bool),
        a_barricaded=np.zeros(r, dtype=bool),
        a_rounds=(theta.magazine if theta is not None else np.full(r, params.magazine)).astype(np.int32),
        a_reload_until=np.full(r, -np.inf),
        a_arrived_at=np.zeros(r),
        a_visited=visited,
        u_status=np.zeros((r, nu), dtype=np.int8),
        u_space=np.full((r, nu), -1, dtype=np.int32),
        u_next=np.full((r, nu), -1, dtype=np.int32),
        u_eta=np.zeros((r, nu)),
        t_first_shot=inf.copy(),
        last_gf_t=np.full(r, -np.inf),
        last_gf_space=np.full(r, -1, dtype=np.int32),
        lockdown_t=(theta.lockdown_t if theta is not None else np.full(r, params.lockdown_t)).astype(
            np.float64
        ),
        first_police_t=inf.copy(),
        first_entry_t=inf.copy(),
        first_contact_t=inf.copy(),
        end_reason=np.full(r, ONGOING, dtype=np.int8),
        end_t=inf.copy(),
        stopped_by=np.full(r, NO_ROLE, dtype=np.int8),
        evacuated=np.zeros(r, dtype=np.int32),
        killed=np.zeros(r, dtype=np.int32),
        wounded_light=np.zeros(r, dtype=np.int32),
        n_critical=np.zeros(r, dtype=np.int32),
        shots=np.zeros(r, dtype=np.int32),
        officers_shot=np.zeros(r, dtype=np.int32),
        officers_killed=np.zeros(r, dtype=np.int32),
    )
