"""The per-agent reference (engine/reference.py): its own invariants, and statistical agreement with the
compiled engine on six scenarios that exercise different rules of docs/model.md, one of them a replayed
incident (the Parkland protocol arm: forced attacker waypoints, observed arrivals and entries)."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from responsesim.analysis.agreement import compare_outcomes
from responsesim.codes import END_REASON_NAMES
from responsesim.engine.reference import (
    LOCKED_HC,
    OUT,
    Incident,
    simulate_reference,
)
from responsesim.engine.run import OUTCOME_COLUMNS, simulate
from responsesim.review.whatif import compile_replay, parse_counterfactual
from responsesim.scenario.compile import Params
from responsesim.scenario.load import load_scenario, loads

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------------------ scenarios

RIFLE_PERIMETER = """
name = "rifle, perimeter doctrine"
seed = 4242
[building]
template = "three_floor_school"
[alerting]
lockdown_at_s = "never"
[attacker]
weapon = "rifle"
[responders.tactical]
median_s = 900   # sooner than the default 40 min, so that the perimeter rule (enter with the team) matters
[doctrine]
kind = "perimeter"
"""

NO_ENTRY_FIRE_ALARM = """
name = "no entry, fire alarm at 30 s"
seed = 777
[building]
template = "three_floor_school"
[alerting]
lockdown_at_s = "never"
fire_alarm_at_s = 30
[doctrine]
kind = "no_entry"
"""

ELEMENTARY_SOLO_RTF = """
name = "elementary wing, solo entry, rescue task force"
seed = 99
[building]
template = "elementary_wing"
[doctrine]
kind = "solo_entry"
[care]
rescue_task_force = true
"""

BARRICADE_CONTAIN = """
name = "attackers who barricade when police close in; police contain and the tactical team breaches"
seed = 31
[doctrine]
kind = "solo_entry"
barricade = "contain"
[responders.tactical]
median_s = 600
[responders.search]
clear_room_s = 45
[model]
barricade_h = 0.004
barricade_near_mult = 20
surrender_h = 0.003
move_away_h = 0.03
"""

BARRICADE_BREACH_TOLD = """
name = "barricade, officers force the door at once, and are told the attacker's room after 60 s"
seed = 58
[building]
template = "elementary_wing"
[doctrine]
kind = "solo_entry"
barricade = "breach"
[responders.breach]
standard_s = 240
[responders.search]
location_info_s = 60
[model]
barricade_h = 0.004
barricade_near_mult = 20
breach_exposure = 1.0
move_away_h = 0.03
"""

SCENARIOS = (
    "default",
    "rifle_perimeter",
    "no_entry_fire_alarm",
    "elementary_solo_rtf",
    "barricade_contain",
    "barricade_breach_told",
)


@functools.cache
def scenario(name: str) -> Params:
    if name == "default":
        return load_scenario().params
    if name == "office_wait_for_four":
        return load_scenario(ROOT / "examples" / "office_wait_for_four.toml").params
    if name == "parkland_protocol":
        incident = ROOT / "examples" / "parkland" / "incident.toml"
        rp, _ = compile_replay(incident, parse_counterfactual("SRO:entered_building@+30s"))
        return rp.protocol
    text = {
        "rifle_perimeter": RIFLE_PERIMETER,
        "no_entry_fire_alarm": NO_ENTRY_FIRE_ALARM,
        "elementary_solo_rtf": ELEMENTARY_SOLO_RTF,
        "barricade_contain": BARRICADE_CONTAIN,
        "barricade_breach_told": BARRICADE_BREACH_TOLD,
    }[name]
    return loads(text).params


# ------------------------------------------------------------------------------------------ invariants


class InvariantObserver:
    """Checks, after every tick of one incident, the invariants of docs/model.md."""

    def __init__(self) -> None:
        self.ticks = 0
        self.hc_count: dict[int, int] = {}  # group -> count when first seen in LOCKED_HC
        self.seen_casualties = 0
        self.hurt_at_end: int | None = None

    def __call__(self, inc: Incident) -> None:
        self.ticks += 1
        hurt = inc.killed + inc.wounded_light + inc.critical
        # people conserved
        assert inc.in_building + inc.evacuated + hurt == inc.n_occupants
        assert all(g.count >= 0 for g in inc.groups)
        assert all(g.count == 0 for g in inc.groups if g.state == OUT)
        # nobody hurt after the attack ended
        if not inc.attacker.active:
            if self.hurt_at_end is None:
                self.hurt_at_end = hurt
            assert hurt == self.hurt_at_end
            assert all(c.wound_t < inc.end_t for c in inc.casualties)
        # a group in the hard corner never loses a person (LOCKED_HC is absorbing, and step 5 comes
        # before step 10, so a casualty of this tick from a group now LOCKED_HC was shot while in it)
        for g in inc.groups:
            if g.state == LOCKED_HC:
                assert g.count == self.hc_count.setdefault(g.index, g.count)
        for c in inc.casualties[self.seen_casualties :]:
            assert inc.groups[c.group].state != LOCKED_HC
        self.seen_casualties = len(inc.casualties)


@pytest.mark.parametrize(
    ("name", "expect_hard_corner"),
    [("default", True), ("no_entry_fire_alarm", False), ("elementary_solo_rtf", True)],
)
def test_invariants_every_tick(name: str, expect_hard_corner: bool) -> None:
    params = scenario(name)
    n_hc = 0
    n_hurt = 0
    for rep in range(12):
        inc = Incident(params, rep)
        obs = InvariantObserver()
        inc.run(obs)
        assert not inc.attacker.active
        # ticks after the end change nothing but the clock (step 1)
        before = (inc.killed, inc.wounded_light, inc.critical, inc.evacuated, inc.shots_fired, inc.end_t)
        for _ in range(5):
            inc.tick()
            obs(inc)
        assert before == (
            inc.killed,
            inc.wounded_light,
            inc.critical,
            inc.evacuated,
            inc.shots_fired,
            inc.end_t,
        )
        n_hc += len(obs.hc_count)
        n_hurt += len(inc.casualties)
    # the invariants were exercised (under a fire alarm nearly every class leaves instead of locking)
    assert n_hurt > 0
    assert n_hc > 0 or not expect_hard_corner


def test_outcome_table_shape_and_reproducibility() -> None:
    params = scenario("elementary_solo_rtf")
    a = simulate_reference(params, 6)
    assert tuple(a.columns) == OUTCOME_COLUMNS
    assert a["rep"].tolist() == list(range(6))
    assert set(a["end_reason"]) <= set(END_REASON_NAMES)
    assert set(a["stopped_by"]) <= {"", "sro", "patrol", "tactical"}
    assert (a["deaths"] == a["killed"] + a["died_awaiting_care"]).all()
    assert (
        (a["killed"] + a["wounded"] + a["died_awaiting_care"] + a["evacuated"] + a["sheltered"])
        .eq(params.n_occupants)
        .all()
    )
    # a replication depends only on (seed, replication index)
    b = simulate_reference(params, 3, first_rep=3)
    pd.testing.assert_frame_equal(a.iloc[3:].reset_index(drop=True), b)


# ------------------------------------------------------------------------------- agreement with the engine

# Sample sizes: N_REF reference replications against N_ENGINE compiled-engine ones per scenario. Both use
# fixed seeds, so the test is deterministic.
N_REF = {"parkland_protocol": 300}
N_REF_DEFAULT = 400
N_ENGINE = 3000
# Each comparison is a two-sided test at the 0.1 % level (analysis/agreement.py: Welch for means, Fisher's
# exact test for shares). With 8 scenarios x (6 means + 4 shares) + 2 = 82 comparisons, if the two agree
# in distribution the expected number of false alarms is 82 x 0.001 = 0.08 (at least one with probability
# about 8 %); with fixed seeds a passing run passes every time. A real deviation of a few standard errors
# (for example 0.6 killed per incident in the default scenario) still fails.
ALPHA = 0.001
MEANS = ("killed", "died_awaiting_care", "wounded", "evacuated", "attack_duration_s", "officers_shot")
END_CLASSES: dict[str, tuple[str, ...] | None] = {
    "police_stop": ("police_shot", "police_arrested"),
    "suicide": ("suicide_before_police", "suicide_police_on_scene"),
    "citizens": ("citizens",),
    "fled": ("fled",),
}
AGREEMENT_SCENARIOS = (*SCENARIOS, "office_wait_for_four", "parkland_protocol")


@functools.cache
def samples(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = scenario(name)
    ref = simulate_reference(params, N_REF.get(name, N_REF_DEFAULT))
    eng = simulate(params, N_ENGINE, workers=1)
    return ref, eng


@pytest.mark.parametrize("name", AGREEMENT_SCENARIOS)
def test_reference_agrees_with_the_engine(name: str) -> None:
    """Every mean and end-reason share of the reference inside the engine's 99.9 % agreement test."""
    ref, eng = samples(name)
    results = compare_outcomes(ref, eng, MEANS, END_CLASSES, ALPHA)
    failures = [str(r) for r in results if not r.agree]
    assert not failures, f"{name}:\n" + "\n".join(failures)
    assert len(results) == len(MEANS) + len(END_CLASSES)
    if name == "parkland_protocol":  # the replay really exercised the forced entry and engagements
        assert (eng.end_reason.str.startswith("police")).mean() > 0.3
        assert (ref.end_reason.str.startswith("police")).mean() > 0.3
    if name.startswith("barricade_"):  # barricades really happened, in both, at the same rate
        shares = [float(d.barricade_s.notna().mean()) for d in (ref, eng)]
        assert min(shares) > 0.1, shares
        (res,) = compare_outcomes(
            ref.assign(b=ref.barricade_s.notna()),
            eng.assign(b=eng.barricade_s.notna()),
            (),
            {"b": None},
            ALPHA,
        )
        assert res.agree, str(res)
