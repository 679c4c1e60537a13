"""Decision points of the trainee's officer, and the choices offered at each.

Checked before every tick, in this order (one at a time):

- ``arrival``: the officer arrives on scene at the next tick (its doctrine decides its entry then);
- ``barricade``: inside, the attacker is barricaded within two hops with people in its room;
- ``backup_eta``: outside, the radio says the next officer is ``ETA_CALL_S`` or less away;
- ``shots_heard``: outside, new gunfire heard, at least ``SHOTS_GAP_S`` after the last decision;
- ``out_of_sight``: inside, the attacker out of sight and no gunfire for ``QUIET_S`` (asked again only
  after the attacker was seen or heard again).

Times in s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from responsesim.codes import (
    D_NO_ENTRY,
    D_SOLO,
    INSIDE,
    NOT_ARRIVED,
    ON_SCENE,
    OUT,
    ROLE_TACTICAL,
)
from responsesim.engine.types import State, Units
from responsesim.exercise.alternatives import Alternative, doctrine_choices
from responsesim.exercise.knowledge import officer_position, within
from responsesim.scenario.compile import Params

__all__ = ["KINDS", "KIND_WORDS", "Memory", "choices", "detect", "doctrine_pick", "note_decision"]

KINDS: tuple[str, ...] = ("arrival", "barricade", "backup_eta", "shots_heard", "out_of_sight")
KIND_WORDS: dict[str, str] = {
    "arrival": "You arrive on scene",
    "barricade": "The attacker has barricaded itself in a room with people",
    "backup_eta": "The radio gives your backup's ETA",
    "shots_heard": "Shots heard while you are outside",
    "out_of_sight": "The attacker is out of sight inside",
}
ETA_CALL_S = 60.0  # the radio's "one minute out"
SHOTS_GAP_S = 60.0  # new gunfire asks again at most this often
QUIET_S = 30.0  # no gunfire for this long, inside, attacker out of sight

BREACH = Alternative("breach", "Breach: force the door now (people are in reach)", breach=True)
CONTAIN = Alternative("contain", "Contain: hold the door and wait for the tactical team", breach=False)
KEEP = Alternative("keep_searching", "Keep searching toward the last gunfire")
FALL_BACK = Alternative("fall_back", "Fall back outside and hold the perimeter", fall_back=True)


@dataclass
class Memory:
    """What the exercise remembers between ticks, so a decision point is asked once."""

    arrival_asked: bool = False
    barricade_asked: bool = False
    lost_asked: bool = False
    last_decision_t: float = -math.inf
    last_shots_t: float = -math.inf
    announced: set[int] = field(default_factory=set)


def _arrival_t(st: State, unit: int, row: int = 0) -> float:
    return float(st.t_first_shot[row] + st.u_offset[row, unit])


def _next_backup(st: State, un: Units, unit: int, t: float) -> tuple[int, float]:
    """The next armed SRO/patrol unit on its way (index, arrival time), (-1, inf) when none."""
    best, when = -1, math.inf
    for j in range(un.role.shape[0]):
        if j == unit or not un.armed[j] or un.role[j] == ROLE_TACTICAL or st.u_status[0, j] != NOT_ARRIVED:
            continue
        a = _arrival_t(st, j)
        if t < a < when:
            best, when = j, a
    return best, when


def detect(st: State, params: Params, un: Units, unit: int, mem: Memory) -> str | None:
    """The decision point the state is at for officer ``unit`` (a ``KINDS`` name), or None; updates
    ``mem`` for the point returned and for what it has now seen."""
    if not st.a_active[0]:
        return None
    t = float(st.tick[0] * params.dt)
    status = int(st.u_status[0, unit])
    if status == NOT_ARRIVED:
        if not mem.arrival_asked and t >= _arrival_t(st, unit):
            mem.arrival_asked = True
            return "arrival"
        return None
    pos = officer_position(st, params, unit)
    near = within(params, pos, max(2, int(params.hear_hops)))
    a = int(st.a_space[0])
    gf = int(st.last_gf_space[0])
    if status == INSIDE:
        seen = near.get(a, 99) <= 2
        if seen or (
            gf >= 0 and t - float(st.last_gf_t[0]) < QUIET_S and near.get(gf, 99) <= params.hear_hops
        ):
            mem.lost_asked = False
        if st.a_barricaded[0] and seen and not mem.barricade_asked:
            people = sum(
                int(st.g_count[0, g]) for g in range(st.g_space.shape[1])
                if int(st.g_space[0, g]) == a and int(st.g_state[0, g]) != OUT
            )  # fmt: skip
            if people > 0:
                mem.barricade_asked = True
                return "barricade"
        quiet = t - float(st.last_gf_t[0]) >= QUIET_S and t - mem.last_decision_t >= QUIET_S
        if not seen and not mem.lost_asked and quiet:
            mem.lost_asked = True
            return "out_of_sight"
        return None
    if status == ON_SCENE:
        j, when = _next_backup(st, un, unit, t)
        if j >= 0 and when - t <= ETA_CALL_S and j not in mem.announced:
            mem.announced.add(j)
            return "backup_eta"
        heard = gf >= 0 and near.get(gf, 99) <= params.hear_hops
        new = float(st.last_gf_t[0]) > mem.last_shots_t
        if heard and new and t - mem.last_decision_t >= SHOTS_GAP_S:
            mem.last_shots_t = float(st.last_gf_t[0])
            return "shots_heard"
    return None


def note_decision(st: State, params: Params, un: Units, unit: int, mem: Memory) -> None:
    """Remember a decision made now: its time, and the backups whose ETA the officer already had (their
    radio call is not a new decision point)."""
    t = float(st.tick[0] * params.dt)
    mem.last_decision_t = t
    for j in range(un.role.shape[0]):
        if j != unit and st.u_status[0, j] == NOT_ARRIVED and _arrival_t(st, j) - t <= ETA_CALL_S:
            mem.announced.add(j)


def choices(kind: str, st: State, un: Units, unit: int) -> list[Alternative]:
    """The choices offered at a decision point of kind ``kind``."""
    if kind in ("arrival", "backup_eta", "shots_heard"):
        return doctrine_choices(st, un, unit)
    if kind == "barricade":
        return [BREACH, CONTAIN]
    if kind == "out_of_sight":
        return [KEEP, FALL_BACK]
    raise ValueError(f"unknown decision point {kind!r} (known: {', '.join(KINDS)})")


def doctrine_pick(
    kind: str, offered: list[Alternative], un: Units, theta: np.ndarray, unit: int
) -> str | None:
    """The choice the scenario's doctrine makes here for the unit (its id among ``offered``), None when
    it is none of them (e.g. hesitate, perimeter). ``theta``: the replication's parameter row [1]."""
    if kind == "barricade":
        return "breach" if float(theta["breach"][0]) > 0 else "contain"
    if kind == "out_of_sight":
        return "keep_searching"
    if un.follows_scenario[unit]:
        code, par = int(theta["doctrine_code"][0]), float(theta["doctrine_param"][0])
    else:
        code, par = int(un.doctrine[unit]), float(un.doctrine_param[unit])
    for alt in offered:
        same = alt.doctrine is not None and alt.doctrine[0] == code
        if same and (code in (D_SOLO, D_NO_ENTRY) or (alt.doctrine is not None and alt.doctrine[1] == par)):
            return alt.id
    return None
