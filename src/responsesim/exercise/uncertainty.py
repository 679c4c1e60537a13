"""Branches over the calibration's posterior: branch ``b`` runs at posterior draw ``b % k`` (the same draw
for every alternative), so the debrief's intervals cover the parameters' uncertainty and chance.

The state at the moment is what the trainee saw (it was made at the replication's own parameters,
including the draws made once at the start, such as the attacker's quit factor and the arrival times);
what follows the moment runs at each draw's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from responsesim.api import MIN_REPS_PER_DRAW
from responsesim.engine.types import THETA_FIELDS
from responsesim.exercise.moment import Moment
from responsesim.posterior import load_posterior
from responsesim.scenario.load import Scenario

__all__ = ["DEFAULT_DRAWS", "BranchParameters", "branch_parameters"]

DEFAULT_DRAWS = 50  # posterior draws per decision (at least MIN_REPS_PER_DRAW branches each)


@dataclass(frozen=True)
class BranchParameters:
    """Per-branch parameter rows (``THETA_DTYPE`` [n]) and posterior draw index [n] (-1: point), with
    a note saying which."""

    theta: np.ndarray | None  # None: every branch at the moment's own row
    draw: np.ndarray  # int64 [n]
    mode: str  # "posterior" or "point"
    note: str


def branch_parameters(
    scenario: Scenario, moment: Moment, n: int, mode: str = "posterior", draws: int = DEFAULT_DRAWS
) -> BranchParameters:
    """Parameters of ``n`` branches from ``moment``: over ``min(draws, n // MIN_REPS_PER_DRAW)`` posterior
    draws (seeded by the scenario's seed), or the moment's own values when asked ("point"), when the
    calibration has no posterior (e.g. a scenario's ``[model]`` overrides) or with too few branches."""
    point = np.full(n, -1, dtype=np.int64)
    if mode not in ("posterior", "point"):
        raise ValueError(f"uncertainty must be 'posterior' or 'point', not {mode!r}")
    if mode == "point":
        return BranchParameters(None, point, "point", "every branch at the replication's parameter values")
    post = load_posterior(scenario.calibration)
    if post is None:
        why = "the calibration has no posterior" + (
            " (the scenario overrides its values)" if "+overrides" in scenario.calibration.version else ""
        )
        return BranchParameters(None, point, "point", f"{why}: every branch at the replication's values")
    k = min(draws, n // MIN_REPS_PER_DRAW)
    if k < 2:
        return BranchParameters(
            None, point, "point", f"too few branches ({n}) to spread over posterior draws"
        )
    chosen = post.draw(k, seed=int(scenario.spec.seed))
    draw = np.arange(n, dtype=np.int64) % k
    theta = np.ascontiguousarray(np.repeat(moment.theta[:1], n))
    for j, name in enumerate(post.names):
        if name in THETA_FIELDS:
            theta[name] = post.particles[chosen, j][draw]
    note = f"branches spread over {k} posterior draws: intervals cover the parameters' uncertainty and chance"
    return BranchParameters(theta, draw, "posterior", note)
