"""Per-tick arrays of ONE replication, for the page to draw on a canvas (the server never draws frames).

The replication is re-simulated on its own from the stored scenario and seed: random numbers depend only
on (seed, replication index), so it is the same replication as in the stored run (its final tallies equal
the stored outcome row). An observer records the state after every tick; ticks are then thinned evenly to
at most ``max_frames`` frames (the first and last are always kept). Events (first shot, shots, lockdown,
fire alarm, officer arrivals, entries, officers down, end) are found on every tick, before thinning.

Accounting at every frame (docs/model.md, *Conservation*): ``sum(occupants.by_space) +
occupants.evacuated + killed + wounded == occupants.total``, where ``by_space`` counts unhurt people still
in the building by the space their group is in (or leaving, while in transit) and ``wounded`` counts light
and critical casualties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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

__all__ = ["UNIT_STATUS_NAMES", "building_json", "replay"]

_KIND_NAMES = dict(enumerate(SPACE_KIND_NAMES))


def building_json(params: Params) -> dict[str, Any]:
    """Floors, spaces (id, kind, floor, x/y in metres on their floor's plan, lockable, exit) and edges."""
    b = params.building
    spaces = [
        {
            "id": sid,
            "kind": _KIND_NAMES[int(b.kind[i])],
            "floor": int(b.floor[i]),
            "x": float(b.xy[i, 0]),
            "y": float(b.xy[i, 1]),
            "lockable": bool(b.lockable[i]),
            "exit": _KIND_NAMES[int(b.kind[i])] == "exit",
        }
        for i, sid in enumerate(b.space_ids)
    ]
    ii, jj = np.nonzero(np.triu(b.adj, k=1))
    return {
        "floors": sorted({int(f) for f in b.floor}),
        "spaces": spaces,
        "edges": [[int(i), int(j)] for i, j in zip(ii, jj, strict=True)],
    }


_FIELDS = ("t", "attacker", "active", "u_space", "u_status", "by_space", "evacuated", "locked", "killed",
           "wounded")  # fmt: skip


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

    def _event(self, t: float, text: str, *, always: bool = False) -> None:
        if len(self.events) < self.max_events or always:
            self.events.append({"t": t, "text": text})
        else:
            self.dropped_events += 1

    def _events(self, s: State, t: float, active: bool, hurt: int) -> None:
        p = self.params
        ids = p.building.space_ids
        prev = self._prev
        shots = int(s.shots[0])
        if prev:
            if math.isinf(prev["first_shot"]) and math.isfinite(float(s.t_first_shot[0])):
                self._event(t, f"first shot in {ids[int(s.a_space[0])]}")
            fired = shots - prev["shots"]
            if fired > 0:
                hit = hurt - prev["hurt"]
                where = ids[int(s.a_space[0])]
                self._event(t, f"{fired} shot(s) in {where}" + (f", {hit} hit" if hit else ""))
            if not prev["locked_down"] and float(s.lockdown_t[0]) <= t:
                self._event(t, "lockdown announced")
            if not prev["fire_alarm"] and p.fire_alarm_t <= t:
                self._event(t, "fire alarm")
            for j, (before, now) in enumerate(zip(prev["status"], s.u_status[0], strict=True)):
                role = ROLE_NAMES[int(p.unit_role[j])]
                if before == NOT_ARRIVED and now != NOT_ARRIVED:
                    self._event(t, f"{role} officer {j} arrives on scene")
                if before in (NOT_ARRIVED, ON_SCENE) and now == INSIDE:
                    self._event(t, f"{role} officer {j} enters the building")
                if before != DOWN and now == DOWN:
                    self._event(t, f"{role} officer {j} is shot")
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
        "rep": int(rep),
        "dt_s": float(params.dt),
        "t_first_shot_s": _plain(float(outcome.iloc[0]["first_shot_s"])),
        "n_ticks": len(frames),
        "n_ticks_simulated": rec.calls,
        "building": building_json(params),
        "ticks": {
            "t": col["t"],
            "attacker_space": col["attacker"],
            "attack_active": col["active"],
            "officers": {
                "space": col["u_space"],
                "status": [[UNIT_STATUS_NAMES[x] for x in row] for row in col["u_status"]],
                "role": roles,
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
