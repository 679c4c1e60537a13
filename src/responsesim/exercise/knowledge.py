"""What the trainee's officer knows at a moment: what it hears, what is in sight, what the radio says.

Never the attacker's position, unless the officer sees it (within two hops of where the officer is, the
engine's own reach for officers, docs/model.md step 8) or the radio has been told its room (the
scenario's ``location_info_s``). Gunfire is heard, with the space it came from, within the scenario's
``hear_hops`` edges of the officer. An officer outside stands at the exit it would enter by (the
scenario's officer entry, else the exit nearest the gunfire reported, else the attacker's entry).
Times are seconds; ``t_s`` counts from the attacker's entry, ``since_first_shot_s`` from the first shot.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from responsesim.codes import DOWN, INSIDE, NOT_ARRIVED, ON_SCENE, OPEN_STATES, OUT, ROLE_NAMES, ROLE_TACTICAL
from responsesim.engine.types import State
from responsesim.scenario.compile import Params

__all__ = [
    "OfficerView",
    "Radio",
    "SpaceSeen",
    "officer_names",
    "officer_position",
    "space_name",
    "view",
    "within",
]

_WORDS = {"sro": "SRO", "patrol": "Patrol officer", "tactical": "Tactical officer"}
_FLOOR_PREFIX = re.compile(r"^(?:f|fl|floor|level|l)-?\d+[_\s-]+", re.IGNORECASE)


def space_name(space_id: str) -> str:
    """A space's name for people: ``room_209`` -> "Room 209", ``f1_stair_west`` -> "Stair west"."""
    rest = _FLOOR_PREFIX.sub("", space_id) or space_id
    words = [w.upper() if len(w) == 1 else w for w in re.split(r"[_\s]+", rest) if w]
    text = " ".join(words) or space_id
    return text[0].upper() + text[1:]


def officer_names(roles: list[str]) -> list[str]:
    """Each unit's name: "SRO", "Patrol officer 1", "Tactical officer 2" (numbered within its role)."""
    out = []
    for j, role in enumerate(roles):
        word = _WORDS.get(role, role)
        out.append(
            word if role == "sro" and roles.count(role) == 1 else f"{word} {roles[: j + 1].count(role)}"
        )
    return out


def within(params: Params, src: int, hops: int) -> dict[int, int]:
    """Spaces at most ``hops`` edges from ``src``, with their distance in edges (breadth-first)."""
    b = params.building
    seen = {src: 0}
    frontier = [src]
    for d in range(1, hops + 1):
        nxt = []
        for a in frontier:
            for n in b.nbr[b.nbr_ptr[a] : b.nbr_ptr[a + 1]]:
                if int(n) not in seen:
                    seen[int(n)] = d
                    nxt.append(int(n))
        frontier = nxt
    return seen


def officer_position(st: State, params: Params, unit: int, row: int = 0) -> int:
    """Where the officer is: its space inside, else the exit it would enter by."""
    if st.u_status[row, unit] == INSIDE:
        return int(st.u_space[row, unit])
    if params.officer_entry >= 0:
        return int(params.officer_entry)
    gf = int(st.last_gf_space[row])
    if gf >= 0:
        b = params.building
        return int(b.exits[int(np.argmin(b.exit_dist[gf]))])
    return int(params.attacker_entry)


@dataclass(frozen=True)
class SpaceSeen:
    """A space in sight: its name, people seen in the open, and whether the attacker is there."""

    space: str
    people: int
    attacker: bool = False


@dataclass(frozen=True)
class Radio:
    """What the radio says of another unit: its status and, en route, its ETA (s)."""

    unit: str
    status: str  # "en route", "on scene", "inside", "down", "not called"
    eta_s: float | None = None


@dataclass(frozen=True)
class OfficerView:
    """What the trainee's officer knows (times in s)."""

    t_s: float
    since_first_shot_s: float | None
    you: str  # the officer's name
    status: str  # "en route", "arriving", "outside", "inside", "down"
    where: str | None  # the space it is in, or the exit it stands at
    shots_reported: bool  # the call: shots fired in the building
    gunfire_heard_s_ago: float | None  # last gunfire heard (within hearing), s before now
    gunfire_from: str | None  # the space it came from
    in_sight: list[SpaceSeen] = field(default_factory=list)
    attacker_seen_in: str | None = None  # only when in sight
    attacker_barricaded: bool = False  # only when in sight: shut in its room
    people_with_attacker: int | None = None  # only when in sight and barricaded: people heard inside
    attacker_reported_in: str | None = None  # the radio was told its room (location_info_s)
    radio: list[Radio] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The view in short sentences, for the terminal and the debrief."""
        out = [f"You: {self.you}, {self.status}" + (f" at {self.where}" if self.where else "")]
        if self.gunfire_heard_s_ago is not None:
            out.append(f"Gunfire heard {self.gunfire_heard_s_ago:.0f} s ago, from {self.gunfire_from}")
        elif self.shots_reported:
            out.append("Shots reported in the building; you cannot hear where from")
        if self.attacker_seen_in:
            what = "barricaded in" if self.attacker_barricaded else "in sight in"
            n = self.people_with_attacker or 0
            extra = f", {n} {'person' if n == 1 else 'people'} in there with it" if n else ""
            out.append(f"Attacker {what} {self.attacker_seen_in}{extra}")
        elif self.attacker_reported_in:
            out.append(f"Radio: attacker reported in {self.attacker_reported_in}")
        else:
            out.append("Attacker: not in sight")
        people = [f"{s.people} in {s.space}" for s in self.in_sight if s.people]
        if people:
            out.append("People in sight: " + ", ".join(people))
        for r in self.radio:
            eta = f", ETA {r.eta_s:.0f} s" if r.eta_s is not None else ""
            out.append(f"Radio: {r.unit} {r.status}{eta}")
        return out


_STATUS = {NOT_ARRIVED: "en route", ON_SCENE: "on scene", INSIDE: "inside", DOWN: "down"}


def _radio(st: State, row: int, j: int, name: str, t: float, first: float) -> Radio:
    s_j = int(st.u_status[row, j])
    if s_j != NOT_ARRIVED:
        return Radio(name, _STATUS[s_j])
    when = first + float(st.u_offset[row, j])
    return Radio(name, "en route", when - t) if math.isfinite(when) else Radio(name, "not called")


def view(st: State, params: Params, unit: int, row: int = 0) -> OfficerView:
    """What officer ``unit`` knows in row ``row`` of ``st`` (it has not moved since the last tick)."""
    b = params.building
    t = float(st.tick[row] * params.dt)
    first = float(st.t_first_shot[row])
    names = officer_names([ROLE_NAMES[int(r)] for r in params.unit_role])
    status = int(st.u_status[row, unit])
    arrival = first + float(st.u_offset[row, unit])
    pos = officer_position(st, params, unit, row)
    near = within(params, pos, max(2, int(params.hear_hops)))
    if status == NOT_ARRIVED:
        mine = "arriving" if t >= arrival else "en route"
        where = space_name(b.space_ids[pos]) if t >= arrival else None
    else:
        mine = {ON_SCENE: "outside", INSIDE: "inside", DOWN: "down"}[status]
        where = space_name(b.space_ids[pos])
    present = status != NOT_ARRIVED or t >= arrival
    gf_space = int(st.last_gf_space[row])
    heard = present and gf_space >= 0 and near.get(gf_space, 99) <= params.hear_hops
    sight = {s: d for s, d in near.items() if d <= 2} if present else {}
    a = int(st.a_space[row])
    a_seen = bool(st.a_active[row]) and a in sight
    barricaded = bool(st.a_barricaded[row])
    seen = []
    for s in sorted(sight, key=lambda s: (sight[s], s)):
        open_people = sum(
            int(st.g_count[row, g])
            for g in range(st.g_space.shape[1])
            if int(st.g_space[row, g]) == s and int(st.g_state[row, g]) in OPEN_STATES
        )
        show_attacker = a_seen and s == a and not barricaded
        seen.append(
            SpaceSeen(
                space_name(b.space_ids[s]), 0 if (barricaded and s == a) else open_people, show_attacker
            )
        )
    with_attacker = None
    if a_seen and barricaded:
        with_attacker = int(
            sum(int(st.g_count[row, g]) for g in range(st.g_space.shape[1])
                if int(st.g_space[row, g]) == a and int(st.g_state[row, g]) != OUT)
        )  # fmt: skip
    told = bool(st.a_active[row]) and t >= float(st.a_arrived_at[row]) + float(params.location_info_s)
    radio = []
    team: list[int] = []
    for j, name in enumerate(names):
        if j == unit or not params.unit_armed[j]:
            continue
        if int(params.unit_role[j]) == ROLE_TACTICAL:
            team.append(j)  # the team arrives together: one entry
            continue
        radio.append(_radio(st, row, j, name, t, first))
    if team:
        radio.append(_radio(st, row, team[0], "Tactical team", t, first))
    return OfficerView(
        t_s=t,
        since_first_shot_s=t - first if math.isfinite(first) else None,
        you=names[unit],
        status=mine,
        where=where,
        shots_reported=math.isfinite(first),
        gunfire_heard_s_ago=t - float(st.last_gf_t[row]) if heard else None,
        gunfire_from=space_name(b.space_ids[gf_space]) if heard else None,
        in_sight=seen,
        attacker_seen_in=space_name(b.space_ids[a]) if a_seen else None,
        attacker_barricaded=a_seen and barricaded,
        people_with_attacker=with_attacker,
        attacker_reported_in=space_name(b.space_ids[a]) if told and not a_seen else None,
        radio=radio,
    )
