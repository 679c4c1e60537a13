"""The exercise: a trainee plays one officer (the first patrol officer or the SRO) through one simulated
incident, choosing at each decision point; everything else runs as the calibrated model says.

>>> ex = Exercise(load_scenario("examples/barricade_breach_vs_contain.toml"), unit="patrol")
>>> point = ex.advance()             # simulated time runs to the officer's first decision point
>>> point.view.lines(), [c.id for c in point.choices]
>>> ex.choose("wait_for_next")       # the state goes on from the choice; ``advance`` again
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from responsesim.codes import DOWN, END_REASON_NAMES, NOT_ARRIVED, ROLE_PATROL, ROLE_SRO
from responsesim.engine.types import State, make_theta
from responsesim.exercise.alternatives import Alternative, apply
from responsesim.exercise.decisions import KIND_WORDS, Memory, choices, detect, doctrine_pick, note_decision
from responsesim.exercise.knowledge import OfficerView, view
from responsesim.exercise.moment import Moment, capture
from responsesim.exercise.sim import Sim
from responsesim.scenario.load import Scenario

__all__ = ["Decision", "DecisionPoint", "Exercise", "ExerciseError", "trainee_unit"]

#: replications tried to find one in which the trainee arrives while the attack goes on
SEARCH_LIMIT = 2000


class ExerciseError(ValueError):
    """A request the exercise cannot honour (a choice not offered, no decision pending, ...); the
    exercise is left as it was."""


@dataclass(frozen=True)
class DecisionPoint:
    """A decision the trainee faces: its kind (``decisions.KINDS``), time (s), what the officer knows,
    the choices offered, the choice the scenario's doctrine makes (None: none of them) and the saved
    moment (the full engine state, for the debrief's branches)."""

    kind: str
    t_s: float
    view: OfficerView
    choices: list[Alternative]
    doctrine_choice: str | None
    moment: Moment

    @property
    def title(self) -> str:
        return KIND_WORDS[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "t_s": self.t_s,
            "view": self.view.to_json(),
            "choices": [c.to_json() for c in self.choices],
            "doctrine_choice": self.doctrine_choice,
        }


@dataclass(frozen=True)
class Decision:
    """A decision point and the trainee's choice (an id of ``point.choices``)."""

    point: DecisionPoint
    choice: str


def trainee_unit(sc: Scenario, unit: str) -> int:
    """The unit index of ``unit``: "patrol" (the first patrol officer) or "sro"."""
    role = sc.params.unit_role
    code = {"patrol": ROLE_PATROL, "sro": ROLE_SRO}.get(unit)
    if code is None:
        raise ExerciseError(f"the trainee plays 'patrol' (the first patrol officer) or 'sro', not {unit!r}")
    idx = np.flatnonzero(role == code)
    if not idx.size:
        raise ExerciseError(f"this scenario has no {'SRO' if unit == 'sro' else 'patrol officer'}")
    return int(idx[0])


class Exercise:
    """One incident of ``scenario`` (its seed; replication ``replication``, or the first in which the
    trainee's officer arrives while the attack goes on) played by the trainee as ``unit``."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        unit: str = "patrol",
        seed: int | None = None,
        replication: int | None = None,
    ) -> None:
        sc = scenario.with_run_settings(seed=seed) if seed is not None else scenario
        self.scenario = sc
        self.sim = Sim.of(sc.params)
        self.unit_role = unit
        self.unit = trainee_unit(sc, unit)
        self.theta = make_theta(self.sim.ei.base_theta, 1)
        if unit == "sro" and self.theta["sro_present"][0] <= 0:
            raise ExerciseError("the SRO is not present in this scenario")
        self.replication = self._find(0) if replication is None else int(replication)
        self.state = self.sim.initial(np.array([self.replication]), self.theta)
        self.memory = Memory()
        self.decisions: list[Decision] = []
        self.pending: DecisionPoint | None = None

    def _find(self, start: int) -> int:
        """The first replication from ``start`` in which the trainee arrives while the attack goes on."""
        for r in range(start, start + SEARCH_LIMIT):
            st = self.sim.initial(np.array([r]), self.theta)
            step = self.sim.stepper(st, self.theta)
            while st.a_active[0] and not self._arrives(st):
                step()
            if st.a_active[0]:
                return r
        raise ExerciseError(
            f"in {SEARCH_LIMIT} replications the attack always ended before the trainee's officer arrived: "
            "pick another scenario or officer"
        )

    def _arrives(self, st: State) -> bool:
        t = st.tick[0] * self.sim.dt
        return bool(
            st.u_status[0, self.unit] == NOT_ARRIVED and t >= st.t_first_shot[0] + st.u_offset[0, self.unit]
        )

    @property
    def t_s(self) -> float:
        """Simulated time now (s after the attacker entered)."""
        return float(self.state.tick[0] * self.sim.dt)

    @property
    def finished(self) -> bool:
        """The attack has ended (the incident's outcome is known)."""
        return not bool(self.state.a_active[0])

    def view(self) -> OfficerView:
        """What the trainee's officer knows now."""
        return view(self.state, self.scenario.params, self.unit)

    def advance(self, max_s: float = math.inf) -> DecisionPoint | None:
        """Run simulated time until the next decision point (returned, and pending until ``choose``), the
        end of the attack (None), or ``max_s`` more seconds (None; call again)."""
        if self.pending is not None:
            return self.pending
        p, un = self.scenario.params, self.sim.ei.units
        step = self.sim.stepper(self.state, self.theta)
        stop = self.t_s + max_s
        while self.state.a_active[0] and self.t_s < stop:
            kind = detect(self.state, p, un, self.unit, self.memory)
            if kind is not None:
                offered = choices(kind, self.state, un, self.unit)
                self.pending = DecisionPoint(
                    kind=kind,
                    t_s=self.t_s,
                    view=self.view(),
                    choices=offered,
                    doctrine_choice=doctrine_pick(kind, offered, un, self.theta, self.unit),
                    moment=capture(self.state, 0, self.theta, self.scenario, self.unit, kind),
                )
                return self.pending
            step()
        return None

    def choose(self, choice: str) -> None:
        """Apply the trainee's choice (an id of the pending point's choices); ``ExerciseError`` when no
        decision is pending or the choice is not offered (nothing changes then)."""
        point = self.pending
        if point is None:
            raise ExerciseError("no decision is pending: call advance() first")
        ids = [c.id for c in point.choices]
        if choice not in ids:
            raise ExerciseError(
                f"{choice!r} is not a choice at this decision ({point.title.lower()}, "
                f"t = {point.t_s:.0f} s): choose one of {', '.join(ids)}"
            )
        alt = point.choices[ids.index(choice)]
        apply(alt, self.state, self.theta, self.unit, slice(0, 1))
        note_decision(self.state, self.scenario.params, self.sim.ei.units, self.unit, self.memory)
        self.decisions.append(Decision(point, choice))
        self.pending = None

    def play(self, policy: dict[str, str] | None = None, default: str | None = None) -> None:
        """Play to the end choosing by kind of decision point (``policy``), else ``default``, else the
        doctrine's choice, else the first offered (for scripts and tests)."""
        policy = policy or {}
        while (point := self.advance()) is not None:
            ids = [c.id for c in point.choices]
            pick = policy.get(point.kind)
            if pick not in ids:
                pick = default if default in ids else point.doctrine_choice or ids[0]
            self.choose(pick)

    def outcome(self) -> dict[str, Any]:
        """The incident's outcome as played (people; s): run to the end first (``advance``)."""
        if not self.finished:
            raise ExerciseError("the incident is still going: advance() to its end first")
        out = self.sim.outcomes(self.state)
        return {
            "deaths": int(out.killed[0] + out.died_awaiting_care[0]),
            "killed": int(out.killed[0]),
            "died_awaiting_care": int(out.died_awaiting_care[0]),
            "officers_shot": int(out.officers_shot[0]),
            "you_shot": bool(self.state.u_status[0, self.unit] == DOWN),
            "attack_duration_s": float(out.attack_duration_s[0]),
            "end_reason": END_REASON_NAMES[int(out.end_reason[0])],
        }
