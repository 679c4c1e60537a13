"""The engine as the exercise drives it: one scenario's containers and the kernel's tick-by-tick entry
points (``start_all``, ``step_all``, ``outcomes_all``), never a rule of its own.

Times are seconds from the attacker's entry (t = tick x dt), as in docs/model.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from responsesim.engine import native
from responsesim.engine.arrays import EngineInput, engine_input
from responsesim.engine.run import _kernel, _keys
from responsesim.engine.types import Outcomes, Scratch, State, empty_outcomes, empty_state, scratch
from responsesim.scenario.compile import Params

__all__ = ["Sim", "contiguous", "replicate"]


def contiguous(st: State) -> State:
    """``st`` with every array C-contiguous and writeable (the native engine's guard asks for it)."""
    return State(*(np.require(x, requirements=["C", "W", "A"]) for x in st))


def replicate(st: State, row: int, n: int) -> State:
    """A state of ``n`` rows, each a copy of row ``row`` of ``st``."""
    return State(*(np.ascontiguousarray(np.repeat(x[row : row + 1], n, axis=0)) for x in st))


@dataclass(frozen=True)
class Sim:
    """One compiled scenario bound to the engine's entry points."""

    params: Params
    ei: EngineInput
    wk: Scratch
    kernel: Any

    @staticmethod
    def of(params: Params) -> Sim:
        """The engine's containers for ``params``, and a working scratch."""
        p = params
        wk = scratch(p.n_units, p.n_spaces, p.n_groups, p.n_occupants)
        return Sim(p, engine_input(p), wk, _kernel())

    @property
    def dt(self) -> float:
        """Tick length (s)."""
        return float(self.params.dt)

    def initial(self, reps: np.ndarray, theta: np.ndarray) -> State:
        """State of replications ``reps`` at t = 0 (keys from the scenario's seed), parameters ``theta``."""
        reps = np.ascontiguousarray(reps, dtype=np.int64)
        p = self.params
        st = empty_state(reps.shape[0], p.n_groups, p.n_units, p.n_spaces, p.n_occupants)
        self.kernel.start_all(reps, _keys(p.seed, reps), theta, self.ei.building, self.ei.scenario,
                              self.ei.units, self.ei.group_space, self.ei.group_size, st)  # fmt: skip
        return st

    def step(self, st: State, theta: np.ndarray) -> bool:
        """One tick of every row of ``st``; whether any attack is still going."""
        e = self.ei
        return bool(self.kernel.step_all(st, theta, e.building, e.scenario, e.units, e.forcing, self.wk))

    def stepper(self, st: State, theta: np.ndarray) -> Callable[[], bool]:
        """A function advancing ``st`` one tick (whether any attack goes on). On the native engine the
        arguments' types are checked against its build once here, not at every tick (the engine's guard
        costs about 0.1 ms a call, more than a tick of a few hundred replications); the arrays of ``st``
        and ``theta`` must not be replaced while it is used."""
        e = self.ei
        args = (st, theta, e.building, e.scenario, e.units, e.forcing, self.wk)
        mod = native.load() if self.kernel.engine == "native" else None
        if mod is not None and native.type_keys(args) == mod.keys["step_all"]:
            raw = mod.module.step_all
            return lambda: bool(raw(*args))
        return lambda: self.step(st, theta)

    def run_to_end(self, st: State, theta: np.ndarray) -> int:
        """Tick every row of ``st`` until every attack has ended (the horizon ends them all); ticks done."""
        n = 0
        going = bool(st.a_active.any())
        step = self.stepper(st, theta)
        while going:
            going = step()
            n += 1
        return n

    def run_compacting(self, st: State, theta: np.ndarray, keep: float = 0.7) -> tuple[State, int]:
        """Tick every row of ``st`` to its end, dropping ended rows from the batch whenever fewer than
        ``keep`` of its rows go on: the engine visits every row of a batch each tick (about 0.3 us a row
        even when ended), so a batch of long and short branches otherwise spends most of its time on
        rows already ended. Rows are independent, so this changes no number. Returns the ended state,
        rows in the order of ``st`` (``st`` is left part-way), and the ticks done."""
        final = st.copy()
        idx = np.arange(st.rep.shape[0])
        cur, th = st, theta
        ticks = 0
        going = bool(cur.a_active.any())
        step = self.stepper(cur, th)
        while going:
            going = step()
            ticks += 1
            alive = cur.a_active
            n_alive = int(alive.sum())
            if going and n_alive < keep * alive.shape[0]:
                done = ~alive
                for f, x in zip(final, cur, strict=True):
                    f[idx[done]] = x[done]
                cur = State(*(np.ascontiguousarray(x[alive]) for x in cur))
                th = np.ascontiguousarray(th[alive])
                idx = idx[alive]
                step = self.stepper(cur, th)
        for f, x in zip(final, cur, strict=True):
            f[idx] = x
        return final, ticks

    def outcomes(self, st: State) -> Outcomes:
        """The outcome arrays of every row of an ended state (docs/model.md, *Outcomes*)."""
        out = empty_outcomes(st.rep.shape[0])
        self.kernel.outcomes_all(st, self.ei.forcing, self.ei.scenario, self.ei.units, self.wk, out)
        return out
