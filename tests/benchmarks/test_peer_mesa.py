"""The Mesa peer (benchmarks/peer_mesa): its outcome table, and statistical agreement with the compiled
engine (engine/run.py) on the default scenario and on barricades under both doctrines (the encounter rules:
barricade and standoff, search, surrender, moving away), so that the side-by-side benchmark times the same
model."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pandas as pd
import pytest

from responsesim.analysis.agreement import compare_outcomes
from responsesim.codes import END_REASON_NAMES, INSIDE, ROLE_TACTICAL
from responsesim.engine.run import OUTCOME_COLUMNS, simulate
from responsesim.scenario.compile import Params
from responsesim.scenario.load import load_scenario, loads

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from peer_mesa import IncidentModel, simulate_mesa
from peer_mesa.agents import LOCKED_HC, OUT

# An attacker that barricades often, in a classroom wing, under both barricade doctrines (same text otherwise;
# as tests/engine/test_reference.py's BARRICADE_CONTAIN and BARRICADE_BREACH_TOLD, with barricade_h raised
# from 0.004 so that about a third of the replications barricade rather than a sixth): under ``contain``
# only the tactical team (median 600 s) forces the door, under ``breach`` every officer there does, and the
# attacker fires through it at them (engine, 4,000 replications, when written: officers shot 0.06 vs 0.73
# per replication, attack duration 151 vs 190 s).
BARRICADE = """
name = "attackers who barricade when police close in, under the {doctrine} doctrine"
seed = 58
[building]
template = "elementary_wing"
[doctrine]
kind = "solo_entry"
barricade = "{doctrine}"
[responders.tactical]
median_s = 600
[responders.breach]
standard_s = 240
[responders.search]
clear_room_s = 45
location_info_s = 60
[model]
barricade_h = 0.01
barricade_near_mult = 20
surrender_h = 0.003
move_away_h = 0.03
breach_exposure = 1.0
"""
SCENARIOS = ("default", "barricade_contain", "barricade_breach")


@functools.cache
def scenario(name: str) -> Params:
    if name == "default":
        return load_scenario().params
    doctrine = name.removeprefix("barricade_")
    return loads(BARRICADE.replace("{doctrine}", doctrine)).params


def default_params() -> Params:
    return scenario("default")


def test_outcome_table_shape_conservation_and_reproducibility() -> None:
    params = default_params()
    a = simulate_mesa(params, 8)
    assert tuple(a.columns) == OUTCOME_COLUMNS
    assert a["rep"].tolist() == list(range(8))
    assert set(a["end_reason"]) <= set(END_REASON_NAMES)
    assert set(a["stopped_by"]) <= {"", "sro", "patrol", "tactical"}
    assert (a["deaths"] == a["killed"] + a["died_awaiting_care"]).all()
    people = a["killed"] + a["wounded"] + a["died_awaiting_care"] + a["evacuated"] + a["sheltered"]
    assert people.eq(params.n_occupants).all()
    # a replication depends only on (seed, replication index)
    b = simulate_mesa(params, 4, first_rep=4)
    pd.testing.assert_frame_equal(a.iloc[4:].reset_index(drop=True), b)


def test_people_conserved_every_tick_and_hard_corner_safe() -> None:
    params = default_params()
    n_hc = 0
    for rep in range(6):
        model = IncidentModel(params, rep)
        hc_count: dict[int, int] = {}
        while model.running:
            model.step()
            hurt = len(model.casualties)
            assert sum(model.groups.get("count")) + model.evacuated + hurt == model.n_occupants
            for g in model.groups:
                assert g.count >= 0
                assert g.state != OUT or g.count == 0
                if g.state == LOCKED_HC:  # nobody in the hard corner is ever shot
                    assert g.count == hc_count.setdefault(g.index, g.count)
        assert model.t <= params.horizon_s
        n_hc += len(hc_count)
    assert n_hc > 0  # the hard-corner rule was exercised


@pytest.mark.parametrize("doctrine", ["contain", "breach"])
def test_standoff_every_tick(doctrine: str) -> None:
    """While the attacker is barricaded its door is shut: nobody next to its room is engaged, and those
    forcing the door stand inside next to it (under ``contain`` only the tactical team); people are
    conserved."""
    params = scenario(f"barricade_{doctrine}")
    barricaded = forcing = 0
    for rep in range(30):
        model = IncidentModel(params, rep)
        while model.running:
            model.step()
            hurt = len(model.casualties)
            assert sum(model.groups.get("count")) + model.evacuated + hurt == model.n_occupants
            a = model.attacker
            if not (a.active and a.barricaded):
                continue
            barricaded += 1
            adjacent = model.b.adjacent[a.space]
            for o in model.officers:
                assert not (o.engages() and o.space in adjacent)
                if o.breaching:
                    forcing += 1
                    assert o.status == INSIDE and o.next_space < 0 and o.space in adjacent
                    assert doctrine == "breach" or o.role == ROLE_TACTICAL
    assert barricaded > 0
    assert forcing > 0 or doctrine == "contain"  # under breach, officers really forced doors


# ------------------------------------------------------------------------------- agreement with the engine

# N_MESA Mesa replications against N_VEC compiled-engine ones per scenario (about 10 s per scenario on one
# core, measured; up to twice that on a busy one). Fixed seeds, so the test is deterministic. Each comparison
# is two-sided at the 0.1 % level (99.9 % interval for the difference): 8 means + 5 shares = 13 comparisons
# per scenario, plus the share of replications that barricade in the two barricade scenarios: 41 comparisons,
# so if both implement the same model the chance of at least one false alarm is 1 - 0.999**41, about 4 %. The
# half-widths are about 3.3 standard errors of the difference (measured, default scenario: 0.26 killed per
# incident, about 19 % of the mean; 17 s of attack duration): a rule implemented differently enough to matter
# for the benchmark fails. Measured when written, with one rule of the peer changed at a time: caught were
# contain forcing like breach, no fire through the door, no barricade_fire_factor, the shut door not shut to
# engagement, officers not stopping at it, no surrender, and the barricaded attacker's self-termination taken
# with police_near_mult (officers shot 0.35 vs 0.69 under breach). Not caught, because in these scenarios they
# hardly change the engine's outcomes either (less than 0.5 standard error at these sizes): room clearing, the
# preference for uncleared spaces, location_info_s, the breach time and moving away. Borderline:
# barricade_near_mult left out (about 3.5 standard errors on the share that barricades; not caught in the run
# made).
N_MESA = 400
N_VEC = 2000
ALPHA = 0.001
MEANS = (
    "killed",
    "died_awaiting_care",
    "deaths",
    "wounded",
    "evacuated",
    "attack_duration_s",
    "shots_fired",
    "officers_shot",
)
SHARES: dict[str, tuple[str, ...] | None] = {
    "ended_before_police": None,
    "police_stop": ("police_shot", "police_arrested"),
    "suicide": ("suicide_before_police", "suicide_police_on_scene"),
    "citizens": ("citizens",),
    "fled": ("fled",),
}


@functools.cache
def samples(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = scenario(name)
    mesa_df = simulate_mesa(params, N_MESA)
    eng = simulate(params, N_VEC, workers=1, chunk_size=N_VEC)
    for df in (mesa_df, eng):
        df["barricaded"] = df["barricade_s"].notna()
    return mesa_df, eng


@pytest.mark.parametrize("name", SCENARIOS)
def test_outcomes_agree_with_the_engine(name: str) -> None:
    """Every mean and share inside its 99.9 % agreement test (analysis/agreement.py); in the barricade
    scenarios also the share of replications in which the attacker barricaded, which must be substantial
    in both."""
    mesa_df, eng = samples(name)
    shares = dict(SHARES)
    if name.startswith("barricade_"):
        shares["barricaded"] = None
        barricaded = [float(d.barricaded.mean()) for d in (mesa_df, eng)]
        assert min(barricaded) > 0.2, barricaded
    results = compare_outcomes(mesa_df, eng, MEANS, shares, ALPHA)
    failures = [str(r) for r in results if not r.agree]
    assert not failures, f"{name}:\n" + "\n".join(failures)
    assert len(results) == len(MEANS) + len(shares)
