"""What the trainee's officer can choose, and how a choice changes a copied engine state.

A choice only changes the trainee's unit (its doctrine in ``State.u_doctrine`` / ``u_doctrine_param``,
or, for falling back, its status as the engine's withdrawal does) or the replication's barricade lever
(theta field ``breach``: 1 breach, 0 contain). The engine's rules are untouched; the attacker stays the
calibrated abstract model (no choice acts on it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from responsesim.codes import D_NO_ENTRY, D_SOLO, D_WAIT_N, INSIDE, NOT_ARRIVED, ON_SCENE, ROLE_TACTICAL
from responsesim.engine.types import State, Units

__all__ = ["Alternative", "apply", "armed_present", "backups_coming", "doctrine_choices"]


@dataclass(frozen=True)
class Alternative:
    """One choice: its id (what the trainee picks), words for people, and its effect.

    ``doctrine``: (codes.D_* code, parameter) for the trainee's unit from now, or None; ``breach``: the
    barricade lever from now (True breach, False contain) or None; ``fall_back``: the unit leaves the
    building and holds the perimeter (it does not go back in)."""

    id: str
    label: str
    doctrine: tuple[int, float] | None = None
    breach: bool | None = None
    fall_back: bool = False

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "label": self.label}


def armed_present(st: State, un: Units, row: int = 0) -> int:
    """Armed SRO/patrol units on scene or inside (not down) in row ``row``."""
    s = st.u_status[row]
    ok = un.armed & (un.role != ROLE_TACTICAL) & ((s == ON_SCENE) | (s == INSIDE))
    return int(ok.sum())


def backups_coming(st: State, un: Units, row: int = 0) -> int:
    """Armed SRO/patrol units not yet arrived with a known arrival time (after the first shot)."""
    s = st.u_status[row]
    when = st.t_first_shot[row] + st.u_offset[row]
    ok = un.armed & (un.role != ROLE_TACTICAL) & (s == NOT_ARRIVED) & np.isfinite(when)
    return int(ok.sum())


def doctrine_choices(st: State, un: Units, unit: int, row: int = 0) -> list[Alternative]:
    """The choices at the door: enter now, wait for the next officer, wait for N (up to three more
    officers, as many as are coming), hold the perimeter. Counts include the trainee's own unit."""
    here = armed_present(st, un, row) + (0 if st.u_status[row, unit] in (ON_SCENE, INSIDE) else 1)
    coming = backups_coming(st, un, row) - (1 if st.u_status[row, unit] == NOT_ARRIVED else 0)
    out = [Alternative("enter_now", "Enter now, alone if need be", doctrine=(D_SOLO, 0.0))]
    if coming >= 1:
        label = f"Wait for the next officer ({here + 1} on scene), then enter"
        out.append(Alternative("wait_for_next", label, doctrine=(D_WAIT_N, float(here + 1))))
    for k in range(2, min(coming, 3) + 1):
        label = f"Wait until {here + k} officers are on scene, then enter"
        out.append(Alternative(f"wait_for_{here + k}", label, doctrine=(D_WAIT_N, float(here + k))))
    label = "Hold the perimeter: do not go in (the tactical team will)"
    out.append(Alternative("hold_perimeter", label, doctrine=(D_NO_ENTRY, 0.0)))
    return out


def apply(alt: Alternative, st: State, theta: np.ndarray, unit: int, rows: slice | np.ndarray) -> None:
    """Apply ``alt`` to rows ``rows`` of ``st`` and ``theta`` in place (the trainee's unit ``unit``)."""
    if alt.doctrine is not None:
        st.u_doctrine[rows, unit] = alt.doctrine[0]
        st.u_doctrine_param[rows, unit] = alt.doctrine[1]
    if alt.breach is not None:
        theta["breach"][rows] = 1.0 if alt.breach else 0.0
    if alt.fall_back:
        inside = st.u_status[rows, unit] == INSIDE
        idx = np.arange(st.rep.shape[0])[rows][inside]
        st.u_status[idx, unit] = ON_SCENE
        st.u_space[idx, unit] = -1
        st.u_next[idx, unit] = -1
        st.u_eta[idx, unit] = 0.0
        st.u_hold[idx, unit] = -math.inf
        st.u_breaching[idx, unit] = False
        st.u_withdrawn[idx, unit] = True
        st.u_doctrine[idx, unit] = D_NO_ENTRY
        st.u_doctrine_param[idx, unit] = 0.0
        st.n_waiting[idx] += 1  # as the engine's withdrawal: the entry step looks at it again
