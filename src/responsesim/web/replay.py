"""Per-tick arrays of ONE replication, for the page to draw on a canvas (the server never draws frames).

The replication is re-simulated on its own from the stored scenario and seed: random numbers depend only
on (seed, replication index), so it is the same replication as in the stored run (its final tallies equal
the stored outcome row). An observer records the state after every tick; ticks are then thinned evenly to
at most ``max_frames`` frames (the first and last are always kept). Events (first shot, shots, lockdown,
fire alarm, officer arrivals, entries, officers down, end) are found on every tick, before thinning; shots
in one space with nothing else in between are one event (``count`` shots from ``t`` to ``t_end``). Events
and the plan name spaces by ``space_label`` (``room_209`` -> "Room 209", ``f2_hall_5`` -> "Hall 5", with
the floor where the label alone is ambiguous).

Per frame the attacker and each officer also carry the space they are walking to (``next``, -1 when not
in transit) and how far along that leg they are (``progress``, 0-1), so the page can draw moves between
spaces instead of jumps; officers on scene but outside wait at ``waiting_at`` (the exit they would enter
by: the scenario's officer entry, else the exit nearest the last gunfire, else the attacker's entry).
``replay_choices`` picks representative replications of a stored run from its outcome table.

Accounting at every frame (docs/model.md, *Conservation*): ``sum(occupants.by_space) +
occupants.evacuated + killed + wounded == occupants.total``, where ``by_space`` counts unhurt people still
in the building by the space their group is in (or leaving, while in transit) and ``wounded`` counts light
and critical casualties.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from responsesim.codes import (
    DOWN,
    END_REASON_NAMES,
    INSIDE,
    LOCKED,
    LOCKED_HC,
    NOT_ARRIVED,
    ON_SCENE,
    ROLE_NAMES,
    SPACE_KIND_NAMES,
    UNIT_STATUS_NAMES,
)
from responsesim.engine.run import run_chunk
from responsesim.engine.types import State
from responsesim.scenario.compile import Params

__all__ = [
    "REPLAY_FORMAT",
    "UNIT_STATUS_NAMES",
    "building_json",
    "officer_names",
    "replay",
    "replay_choices",
    "space_label",
]

#: version of the replay JSON (cached replays of another version are recomputed); 3: officers named for
#: people ("SRO", "Patrol officer 1") in the events and in ``officers.name``
REPLAY_FORMAT = 3

#: how an officer of each role is called on the page
_ROLE_WORDS = {"sro": "SRO", "patrol": "Patrol officer", "tactical": "Tactical officer"}

_KIND_NAMES = dict(enumerate(SPACE_KIND_NAMES))
_FLOOR_PREFIX = re.compile(r"^(?:f|fl|floor|level|l)-?\d+[_\s-]+", re.IGNORECASE)


def officer_names(roles: list[str]) -> list[str]:
    """Each unit's name for people, numbered from 1 within its role: ``SRO`` (a single SRO),
    ``Patrol officer 1``, ``Patrol officer 2``, ``Tactical officer 1``."""
    out = []
    for j, role in enumerate(roles):
        word = _ROLE_WORDS.get(role, f"{role.replace('_', ' ').capitalize()} officer")
        if roles.count(role) == 1 and role == "sro":
            out.append(word)
        else:
            out.append(f"{word} {roles[: j + 1].count(role)}")
    return out


def space_label(space_id: str) -> str:
    """A space's name for people: the id without a floor prefix, underscores as spaces, first letter
    capitalised, single letters upper-case (``room_209`` -> "Room 209", ``f2_restroom_n`` -> "Restroom N",
    ``f1_stair_west`` -> "Stair west")."""
    rest = _FLOOR_PREFIX.sub("", space_id) or space_id
    words = [w for w in re.split(r"[_\s]+", rest) if w]
    if not words:
        return space_id
    words = [w.upper() if len(w) == 1 else w for w in words]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def space_labels(ids: tuple[str, ...] | list[str], floors: Any) -> tuple[list[str], list[str]]:
    """(label on the plan, name in events) for every space: labels that repeat on one floor fall back to
    the id; names add the floor where the label repeats across floors ("Hall 5, floor 2")."""
    labels = [space_label(sid) for sid in ids]
    floor = [int(f) for f in floors]
    seen: dict[tuple[str, int], int] = {}
    for lab, f in zip(labels, floor, strict=True):
        seen[(lab, f)] = seen.get((lab, f), 0) + 1
    labels = [sid if seen[(lab, f)] > 1 else lab for sid, lab, f in zip(ids, labels, floor, strict=True)]
    floors_of: dict[str, set[int]] = {}
    for lab, f in zip(labels, floor, strict=True):
        floors_of.setdefault(lab, set()).add(f)
    names = [
        f"{lab}, floor {f}" if len(floors_of[lab]) > 1 else lab for lab, f in zip(labels, floor, strict=True)
    ]
    return labels, names


def building_json(params: Params) -> dict[str, Any]:
    """Floors, spaces (id, label on the plan, name in events, kind, floor, x/y in metres on their floor's
    plan, lockable, exit, and the outline ``polygon`` [[x, y], ...] when the building file gives one) and
    edges."""
    b = params.building
    labels, names = space_labels(b.space_ids, b.floor)
    polygons = getattr(b, "polygons", ()) or ()
    spaces = [
        {
            "id": sid,
            "label": labels[i],
            "name": names[i],
            "kind": _KIND_NAMES[int(b.kind[i])],
            "floor": int(b.floor[i]),
            "x": float(b.xy[i, 0]),
            "y": float(b.xy[i, 1]),
            "lockable": bool(b.lockable[i]),
            "exit": _KIND_NAMES[int(b.kind[i])] == "exit",
        }
        for i, sid in enumerate(b.space_ids)
    ]
    for i, poly in enumerate(polygons):
        if poly is not None and i < len(spaces):
            spaces[i]["polygon"] = [[float(x), float(y)] for x, y in poly]
    # each edge once (i < j), from the neighbour lists: no dense [S, S] table for large buildings
    edges = [[i, int(j)] for i in range(b.n_spaces) for j in b.neighbours(i) if j > i]
    return {
        "floors": sorted({int(f) for f in b.floor}),
        "spaces": spaces,
        "edges": edges,
        "has_polygons": any(p is not None for p in polygons),
    }


_FIELDS = ("t", "attacker", "active", "u_space", "u_status", "by_space", "evacuated", "locked", "killed",
           "wounded", "a_next", "a_progress", "u_next", "u_progress", "waiting_at")  # fmt: skip


@dataclass
class _Recorder:
    """Observer of a one-replication run: one frame per tick, events from every tick.

    Memory is bounded whatever the horizon: once ``2 * max_frames`` frames are held, every other one is
    dropped and from then on only every ``stride``-th tick is recorded (the stride doubles each time), so
    the frames stay evenly spaced. The last tick is always kept. At most ``max_events`` events are kept
    (the end of the attack always).
    """

    params: Params
    max_frames: int
    max_events: int = 5000
    frames: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    dropped_events: int = 0
    stride: int = 1
    calls: int = 0
    last: tuple[Any, ...] | None = None
    last_recorded: bool = False
    _prev: dict[str, Any] = field(default_factory=dict)
    _legs: dict[int, tuple[int, int, float]] = field(default_factory=dict)  # who -> (from, to, eta at start)
    _names: list[str] = field(default_factory=list)
    _officers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        b = self.params.building
        self._names = space_labels(b.space_ids, b.floor)[1]
        self._officers = officer_names([ROLE_NAMES[int(r)] for r in self.params.unit_role])

    def _progress(self, who: int, space: int, nxt: int, eta: float) -> float:
        """How far along its current leg (0-1) an entity is (``who``: -1 the attacker, j officer j)."""
        if nxt < 0:
            self._legs.pop(who, None)
            return 0.0
        leg = self._legs.get(who)
        if leg is None or leg[0] != space or leg[1] != nxt or eta > leg[2]:
            leg = (space, nxt, max(eta, 1e-9))
            self._legs[who] = leg
        return round(min(1.0, max(0.0, 1.0 - eta / leg[2])), 3)

    def _waiting_at(self, s: State, params: Params) -> int:
        """The exit officers on scene would enter by now (as the engine's entry step chooses it)."""
        if params.officer_entry >= 0:
            return int(params.officer_entry)
        gf = int(s.last_gf_space[0])
        b = params.building
        if gf >= 0 and len(b.exits):
            return int(b.exits[int(np.argmin(b.exit_dist[gf]))])  # exit_dist columns follow b.exits
        return int(params.attacker_entry)

    def __call__(self, s: State, params: Params) -> None:
        if s.rep.shape[0] != 1:  # pragma: no cover - replay always runs one replication
            raise ValueError("replay records exactly one replication")
        n_spaces = params.n_spaces
        t = float(s.tick[0] * params.dt)
        active = bool(s.a_active[0])
        killed = int(s.killed[0])
        wounded = int(s.wounded_light[0] + s.n_critical[0])
        self._events(s, t, active, killed + wounded)
        k = self.calls
        self.calls += 1
        counts = np.bincount(s.g_space[0], weights=s.g_count[0], minlength=n_spaces).round().astype(np.int64)
        locked = np.zeros(n_spaces, dtype=bool)
        is_locked = (s.g_state[0] == LOCKED) | (s.g_state[0] == LOCKED_HC)
        locked[s.g_space[0][is_locked]] = True
        a_next = int(s.a_next[0]) if active else -1
        a_prog = self._progress(-1, int(s.a_space[0]), a_next, float(s.a_eta[0]))
        u_status = s.u_status[0]
        u_next = [int(n) if st == INSIDE else -1 for n, st in zip(s.u_next[0], u_status, strict=True)]
        u_prog = [
            self._progress(j, int(s.u_space[0][j]), n, float(s.u_eta[0][j])) for j, n in enumerate(u_next)
        ]
        frame = (
            t,
            int(s.a_space[0]) if active else -1,
            active,
            [int(x) for x in s.u_space[0]],
            [int(x) for x in s.u_status[0]],
            [int(x) for x in counts],
            int(s.evacuated[0]),
            [bool(x) for x in locked],
            killed,
            wounded,
            a_next,
            a_prog,
            u_next,
            u_prog,
            self._waiting_at(s, params) if bool((u_status == ON_SCENE).any()) else -1,
        )
        self.last = frame
        self.last_recorded = k % self.stride == 0
        if self.last_recorded:
            self.frames.append(frame)
            if len(self.frames) >= 2 * self.max_frames:
                self.frames = self.frames[::2]
                self.stride *= 2
                self.last_recorded = self.frames[-1] is frame

    def finish(self) -> list[tuple[Any, ...]]:
        """The recorded frames with the last tick included."""
        if self.last is not None and not self.last_recorded:
            self.frames.append(self.last)
            self.last_recorded = True
        return self.frames

    def _event(self, t: float, text: str, *, always: bool = False, **extra: Any) -> None:
        if len(self.events) < self.max_events or always:
            self.events.append({"t": t, "text": text, **extra})
        else:
            self.dropped_events += 1

    def _shots(self, t: float, space: int, fired: int, hit: int) -> None:
        """Shots in ``space``: added to the previous event when it was shots in the same space."""
        last = self.events[-1] if self.events else None
        if last is not None and last.get("kind") == "shots" and last.get("space") == space:
            last["t_end"] = t
            last["shots"] += fired
            last["hit"] += hit
        else:
            self._event(t, "", kind="shots", space=space, t_end=t, shots=fired, hit=hit)
            last = self.events[-1] if self.events and self.events[-1].get("kind") == "shots" else None
        if last is not None:
            n, h = last["shots"], last["hit"]
            last["text"] = f"{n} shot{'s' if n != 1 else ''} in {self._names[space]}" + (
                f", {h} hit" if h else ""
            )

    def _events(self, s: State, t: float, active: bool, hurt: int) -> None:
        p = self.params
        names = self._names
        prev = self._prev
        shots = int(s.shots[0])
        if prev:
            if math.isinf(prev["first_shot"]) and math.isfinite(float(s.t_first_shot[0])):
                a = int(s.a_space[0])
                self._event(t, f"first shot in {names[a]}", kind="first_shot", space=a)
            fired = shots - prev["shots"]
            if fired > 0:
                self._shots(t, int(s.a_space[0]), fired, hurt - prev["hurt"])
            if not prev["locked_down"] and float(s.lockdown_t[0]) <= t:
                self._event(t, "lockdown announced")
            if not prev["fire_alarm"] and p.fire_alarm_t <= t:
                self._event(t, "fire alarm")
            for j, (before, now) in enumerate(zip(prev["status"], s.u_status[0], strict=True)):
                who = self._officers[j]
                if before == NOT_ARRIVED and now != NOT_ARRIVED:
                    self._event(t, f"{who} arrives on scene")
                if before in (NOT_ARRIVED, ON_SCENE) and now == INSIDE:
                    where = names[int(s.u_space[0][j])] if int(s.u_space[0][j]) >= 0 else "the building"
                    self._event(t, f"{who} enters the building at {where}")
                if before != DOWN and now == DOWN:
                    self._event(t, f"{who} is shot")
            barricaded = bool(s.a_barricaded[0])
            if barricaded and not prev["barricaded"]:
                self._event(t, f"the attacker shuts itself in {names[int(s.a_space[0])]}", kind="barricade")
            if barricaded and math.isinf(prev["breach_at"]) and math.isfinite(float(s.a_breach_at[0])):
                self._event(t, "officers start forcing the door", kind="breach")
            if prev["barricaded"] and not barricaded and active:
                self._event(t, "the door gives way: officers go in", kind="breach")
            if prev["active"] and not active:
                reason = END_REASON_NAMES[int(s.end_reason[0])].replace("_", " ")
                self._event(t, f"attack ends: {reason}", always=True)
        prev.update(
            first_shot=float(s.t_first_shot[0]),
            shots=shots,
            hurt=hurt,
            locked_down=float(s.lockdown_t[0]) <= t,
            fire_alarm=p.fire_alarm_t <= t,
            status=[int(x) for x in s.u_status[0]],
            active=active,
            barricaded=bool(s.a_barricaded[0]),
            breach_at=float(s.a_breach_at[0]),
        )


def _thin(n: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` evenly spaced indices of ``range(n)``, first and last included."""
    if n <= max_frames:
        return list(range(n))
    return sorted({int(x) for x in np.rint(np.linspace(0, n - 1, max_frames))})


def replay(
    params: Params, rep: int, max_frames: int = 2000, theta: dict[str, float] | None = None
) -> dict[str, Any]:
    """The ``GET /api/runs/{id}/replay`` object for replication ``rep`` (0-based) of ``params``;
    ``theta``: the model parameters that replication ran at (a posterior draw), if not the calibration's."""
    rec = _Recorder(params, max_frames)
    th = {k: np.array([v]) for k, v in theta.items()} if theta else None
    outcome = run_chunk(params, np.array([rep], dtype=np.int64), observer=rec, theta=th)
    recorded = rec.finish()
    frames = [recorded[k] for k in _thin(len(recorded), max_frames)]
    col = {name: [f[i] for f in frames] for i, name in enumerate(_FIELDS)}
    roles = [ROLE_NAMES[int(r)] for r in params.unit_role]
    events = rec.events
    if rec.dropped_events:  # say so just before the last event (the end of the attack)
        note = {"t": events[-1]["t"], "text": f"({rec.dropped_events} more events not listed)"}
        events = [*events[:-1], note, events[-1]]
    return {
        "format": REPLAY_FORMAT,
        "rep": int(rep),
        "dt_s": float(params.dt),
        "t_first_shot_s": _plain(float(outcome.iloc[0]["first_shot_s"])),
        "n_ticks": len(frames),
        "n_ticks_simulated": rec.calls,
        "building": building_json(params),
        "ticks": {
            "t": col["t"],
            "attacker_space": col["attacker"],
            "attacker_next": col["a_next"],
            "attacker_progress": col["a_progress"],
            "attack_active": col["active"],
            "officers": {
                "space": col["u_space"],
                "next": col["u_next"],
                "progress": col["u_progress"],
                "status": [[UNIT_STATUS_NAMES[x] for x in row] for row in col["u_status"]],
                "role": roles,
                "name": officer_names(roles),
                "waiting_at": col["waiting_at"],
            },
            "occupants": {
                "by_space": col["by_space"],
                "evacuated": col["evacuated"],
                "total": int(params.n_occupants),
            },
            "locked": col["locked"],
            "killed": col["killed"],
            "wounded": col["wounded"],
        },
        "events": events,
        "outcome": {k: _plain(v) for k, v in outcome.iloc[0].items()},
    }


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: representative incidents offered for a replay, in the order the page lists them
CHOICES: tuple[tuple[str, str], ...] = (
    ("typical", "a typical incident (median deaths)"),
    ("worst", "the worst incident (most deaths)"),
    ("police_stop", "police stop the attacker (median deaths of those)"),
    ("before_police", "the attack ends before police arrive (median deaths of those)"),
    ("no_entry", "police on scene never enter (median deaths of those)"),
    ("barricade", "the attacker barricades itself in a room (median deaths of those)"),
)


def _closest(frame: pd.DataFrame, deaths: float) -> pd.Series:
    """The row with deaths nearest ``deaths``, then attack duration nearest the frame's median, then
    the lowest replication number."""
    dur = frame["attack_duration_s"].astype(float)
    key = pd.DataFrame(
        {
            "d": (frame["deaths"].astype(float) - deaths).abs(),
            "u": (dur - float(dur.median())).abs().fillna(np.inf),
            "rep": frame["rep"].astype(int),
        },
        index=frame.index,
    )
    return frame.loc[key.sort_values(["d", "u", "rep"], kind="stable").index[0]]


def replay_choices(outcomes: pd.DataFrame) -> list[dict[str, Any]]:
    """Representative replications of a run from its outcome table (one row per replication): a typical
    incident (deaths at the median), the worst, one the police stop, one that ends before police arrive,
    one where officers on scene never enter; each only when some incident fits. Attempts with no shot
    fired are not incidents and never offered. Each choice: key, label, rep and its outcome in brief."""
    if outcomes.empty or "first_shot_s" not in outcomes.columns:
        return []
    inc = outcomes[outcomes["first_shot_s"].notna()]
    if inc.empty:
        return []
    deaths = inc["deaths"].astype(float)
    police_stop = inc["end_reason"].isin(["police_shot", "police_arrested"])
    before = inc["ended_before_police"].astype(bool)
    no_entry = inc["first_police_s"].notna() & inc["first_entry_s"].isna()
    # runs stored before the encounter (issue 24) have no barricade_s column: no such choice then
    barricade = (
        inc["barricade_s"].notna() if "barricade_s" in inc.columns else pd.Series(False, index=inc.index)
    )
    picks: dict[str, pd.Series] = {
        "typical": _closest(inc, float(deaths.median())),
        "worst": _closest(inc[deaths == deaths.max()], float(deaths.max())),
    }
    share = {"typical": 1.0, "worst": float((deaths == deaths.max()).mean())}
    for key, mask in (
        ("police_stop", police_stop),
        ("before_police", before),
        ("no_entry", no_entry),
        ("barricade", barricade),
    ):
        sub = inc[mask.to_numpy()]
        share[key] = float(mask.mean())
        if not sub.empty:
            picks[key] = _closest(sub, float(sub["deaths"].astype(float).median()))
    out = []
    for key, label in CHOICES:
        row = picks.get(key)
        if row is None:
            continue
        out.append(
            {
                "key": key,
                "label": label,
                "rep": int(row["rep"]),
                "killed": int(row["killed"]),
                "died_awaiting_care": int(row["died_awaiting_care"]),
                "deaths": int(row["deaths"]),
                "end_reason": str(row["end_reason"]),
                "attack_duration_s": _plain(float(row["attack_duration_s"])),
                "share": round(share[key], 4),
            }
        )
    return out
