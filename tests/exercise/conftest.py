from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import responsesim as rs
from responsesim.codes import NOT_ARRIVED, ROLE_PATROL
from responsesim.engine.types import make_theta
from responsesim.exercise.moment import Moment, capture
from responsesim.exercise.sim import Sim

REPO = Path(__file__).resolve().parents[2]
BARRICADE = REPO / "examples" / "barricade_breach_vs_contain.toml"


@pytest.fixture(scope="session")
def barricade_scenario() -> rs.Scenario:
    return rs.load_scenario(BARRICADE)


def _due(st, unit: int, dt: float) -> bool:
    """The unit's arrival is processed by the next tick."""
    arrival = st.t_first_shot[0] + st.u_offset[0, unit]
    return bool(st.u_status[0, unit] == NOT_ARRIVED and st.tick[0] * dt >= arrival)


def at_arrival(sc: rs.Scenario, unit: int) -> Moment:
    """The first replication in which ``unit`` arrives while the attack goes on, just before its arrival."""
    sim = Sim.of(sc.params)
    th = make_theta(sim.ei.base_theta, 1)
    for r in range(400):
        st = sim.initial(np.array([r]), th)
        while st.a_active[0] and not _due(st, unit, sim.dt):
            sim.step(st, th)
        if st.a_active[0]:
            return capture(st, 0, th, sc, unit, "arrival")
    raise AssertionError("no replication with the unit arriving during the attack")


@pytest.fixture(scope="session")
def arrival_moment(barricade_scenario: rs.Scenario) -> Moment:
    unit = int(np.flatnonzero(barricade_scenario.params.unit_role == ROLE_PATROL)[0])
    return at_arrival(barricade_scenario, unit)
