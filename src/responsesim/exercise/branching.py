"""Branching from one moment: the saved state run on many times under each alternative, with common
random numbers.

The engine draws every random number from (key, tick, stream, slot). Branch ``b`` of every alternative
gets the same key, derived from (the saved replication's key, b) (``branch_keys``), written into
``State.key`` of its copy: alternatives at branch ``b`` share every draw until what they change makes the
runs differ, and an alternative that changes nothing gives exactly the same outcome. Later decisions
are not asked in a branch: each alternative is followed to the end as chosen, with the scenario's
doctrine for everyone else.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from responsesim.codes import DOWN
from responsesim.engine.types import Outcomes, State, empty_outcomes
from responsesim.exercise.alternatives import Alternative, apply
from responsesim.exercise.moment import Moment
from responsesim.exercise.sim import Sim, replicate
from responsesim.scenario.load import Scenario

__all__ = ["BranchOutcomes", "Branches", "branch_keys", "run_branches"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic), as ``engine.rng.mix64``."""
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * _M1
        z = z ^ (z >> np.uint64(27))
        z = z * _M2
        return z ^ (z >> np.uint64(31))


def branch_keys(key: int, n: int, salt: int = 0) -> np.ndarray:
    """Keys of branches 0..n-1 of the replication with key ``key`` (uint64 [n]); ``salt`` gives another,
    independent set (tests). The same (key, b, salt) always gives the same key, whatever the alternative."""
    b = np.arange(n, dtype=np.uint64) + np.uint64(1) + (np.uint64(salt) << np.uint64(40))
    with np.errstate(over="ignore"):
        return _mix64(np.uint64(key) + _mix64(b * _GOLDEN))


@dataclass(frozen=True)
class BranchOutcomes:
    """Outcomes of ``n`` branches under one alternative, branch ``b`` at index ``b`` (people, s)."""

    alternative: Alternative
    deaths: np.ndarray  # int64 [n] killed at once plus died awaiting care
    killed: np.ndarray  # int64 [n]
    died_awaiting_care: np.ndarray  # int64 [n]
    officers_shot: np.ndarray  # int64 [n] every officer shot
    unit_shot: np.ndarray  # bool [n] the trainee's officer was shot
    attack_duration_s: np.ndarray  # float64 [n] s
    end_reason: np.ndarray  # int64 [n] codes.END_REASON_NAMES
    barricade_s: np.ndarray  # float64 [n] the attacker first barricaded (s after the first shot), NaN never

    @property
    def n(self) -> int:
        return int(self.deaths.shape[0])


@dataclass(frozen=True)
class Branches:
    """Every alternative's branches from one moment, and the time they took (s, wall clock)."""

    moment: Moment
    outcomes: list[BranchOutcomes]
    seconds: float
    salt: int = 0
    ticks: int = field(default=0)
    cpu_seconds: float = 0.0  # processor time of this process (s): the wall time less waiting for a core

    def of(self, alt_id: str) -> BranchOutcomes:
        """The branches of the alternative with id ``alt_id`` (KeyError when not run)."""
        for o in self.outcomes:
            if o.alternative.id == alt_id:
                return o
        ran = ", ".join(o.alternative.id for o in self.outcomes)
        raise KeyError(f"alternative {alt_id!r} was not run (run: {ran})")


def run_branches(
    moment: Moment,
    scenario: Scenario,
    alternatives: Sequence[Alternative],
    n: int = 1000,
    *,
    salt: int = 0,
    sim: Sim | None = None,
    thetas: np.ndarray | None = None,
    workers: int = 1,
) -> Branches:
    """Run ``moment`` on ``n`` times under each alternative (one batch of len(alternatives) x n rows).

    ``thetas``: per-branch parameter rows (``THETA_DTYPE`` [n]; branch ``b`` of every alternative runs at
    ``thetas[b]``, e.g. posterior draws: ``uncertainty.branch_parameters``), else the moment's own row.
    ``workers`` > 1 splits the branches over that many forked processes (the engine's tick-by-tick entry
    point holds the GIL, so threads would not run at once); the numbers do not depend on it.
    ``scenario`` must be the one (and calibration) the moment was saved from (``MomentMismatchError``)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    if not alternatives:
        raise ValueError("no alternative to run")
    moment.check_scenario(scenario)
    sim = sim or Sim.of(scenario.params)
    a = len(alternatives)
    t0, c0 = time.perf_counter(), _cpu()
    st = replicate(moment.state, 0, a * n)
    if thetas is not None and thetas.shape != (n,):
        raise ValueError(f"thetas: expected {n} parameter rows, got shape {thetas.shape}")
    one = moment.theta[:1] if thetas is None else thetas
    theta = np.ascontiguousarray(np.tile(one, a) if thetas is not None else np.repeat(one, a * n))
    keys = branch_keys(moment.key, n, salt)
    for k, alt in enumerate(alternatives):
        rows = slice(k * n, (k + 1) * n)
        st.key[rows] = keys
        apply(alt, st, theta, moment.unit, rows)
    if workers > 1 and a * n >= 2 * workers:
        out, down, ticks = _run_parallel(sim, st, theta, moment.unit, workers)
    else:
        out, down, ticks = _run_rows(sim, st, theta, moment.unit)
    unit_shot = down if moment.unit >= 0 else np.zeros(a * n, dtype=bool)
    res = []
    for k, alt in enumerate(alternatives):
        r = slice(k * n, (k + 1) * n)
        res.append(
            BranchOutcomes(
                alternative=alt,
                deaths=out.killed[r] + out.died_awaiting_care[r],
                killed=out.killed[r].copy(),
                died_awaiting_care=out.died_awaiting_care[r].copy(),
                officers_shot=out.officers_shot[r].copy(),
                unit_shot=unit_shot[r].copy(),
                attack_duration_s=out.attack_duration_s[r].copy(),
                end_reason=out.end_reason[r].copy(),
                barricade_s=out.barricade_s[r].copy(),
            )
        )
    return Branches(moment, res, time.perf_counter() - t0, salt, ticks, _cpu() - c0)


def _cpu() -> float:
    """Processor time (s) of this process and of its finished child processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _run_rows(sim: Sim, st: State, theta: np.ndarray, unit: int) -> tuple[Outcomes, np.ndarray, int]:
    """Run every row of ``st`` to its end: (outcomes, the trainee's unit down [R], ticks)."""
    final, ticks = sim.run_compacting(st, theta)
    down = final.u_status[:, unit] == DOWN if unit >= 0 else np.zeros(st.rep.shape[0], dtype=bool)
    return sim.outcomes(final), down, ticks


_PARTS: list[tuple[Sim, State, np.ndarray, int]] = []  # set before forking; read by the children


def _run_part(k: int) -> tuple[Outcomes, np.ndarray, int]:
    return _run_rows(*_PARTS[k])


def _run_parallel(
    sim: Sim, st: State, theta: np.ndarray, unit: int, workers: int
) -> tuple[Outcomes, np.ndarray, int]:
    """``_run_rows`` over ``workers`` forked processes, rows dealt out in turn (so each gets every
    alternative and branch mix), results put back in row order."""
    r = st.rep.shape[0]
    idx = [np.arange(k, r, workers) for k in range(workers)]
    _PARTS[:] = [(sim, State(*(np.ascontiguousarray(x[i]) for x in st)), np.ascontiguousarray(theta[i]), unit)
                 for i in idx]  # fmt: skip
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            parts = list(pool.map(_run_part, range(workers)))
    finally:
        _PARTS.clear()
    out = empty_outcomes(r)
    down = np.zeros(r, dtype=bool)
    for i, (o, d, _) in zip(idx, parts, strict=True):
        for f, x in zip(out, o, strict=True):
            f[i] = x
        down[i] = d
    return out, down, max(p[2] for p in parts)
