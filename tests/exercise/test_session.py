"""The exercise: decision points, what the officer knows, the choices and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import responsesim as rs
from responsesim.codes import INSIDE, ON_SCENE
from responsesim.exercise.knowledge import officer_position, space_name, within
from responsesim.exercise.session import DecisionPoint, Exercise, ExerciseError


def find(sc: rs.Scenario, kind: str, default: str = "enter_now") -> tuple[Exercise, DecisionPoint]:
    """The first replication whose exercise, played with ``default``, reaches a point of ``kind``."""
    for r in range(300):
        ex = Exercise(sc, replication=r)
        while (p := ex.advance()) is not None:
            if p.kind == kind:
                return ex, p
            ids = [c.id for c in p.choices]
            ex.choose(default if default in ids else ids[0])
    raise AssertionError(f"no {kind} decision in 300 replications")


def test_first_decision_is_the_arrival(barricade_scenario) -> None:
    ex = Exercise(barricade_scenario)
    p = ex.advance()
    assert p is not None and p.kind == "arrival" and ex.pending is p
    assert p.choices[0].id == "enter_now" and p.choices[-1].id == "hold_perimeter"
    assert p.doctrine_choice == "enter_now"  # the scenario's doctrine is solo entry
    assert p.view.status == "arriving" and p.view.you == "Patrol officer 1"
    assert ex.advance() is p  # pending until chosen
    assert p.moment.kind == "arrival" and p.moment.t_s == p.t_s


def test_a_choice_not_offered_changes_nothing(barricade_scenario) -> None:
    ex = Exercise(barricade_scenario)
    p = ex.advance()
    before = ex.state.copy()
    with pytest.raises(
        ExerciseError, match=r"'breach' is not a choice at this decision .*choose one of enter_now"
    ):
        ex.choose("breach")
    assert ex.pending is p and not ex.decisions
    for a, b in zip(before, ex.state, strict=True):
        assert np.array_equal(a, b)
    ex.choose("enter_now")
    with pytest.raises(ExerciseError, match="no decision is pending"):
        ex.choose("enter_now")


def test_the_choice_is_applied(barricade_scenario) -> None:
    ex = Exercise(barricade_scenario)
    ex.advance()
    ex.choose("enter_now")
    ex.sim.step(ex.state, ex.theta)
    assert ex.state.u_status[0, ex.unit] == INSIDE  # solo entry: in on arrival
    held = Exercise(barricade_scenario)
    held.play({"arrival": "hold_perimeter"}, default="hold_perimeter")
    assert held.finished and held.outcome()["you_shot"] is False
    assert all(d.choice == "hold_perimeter" for d in held.decisions if d.point.kind != "out_of_sight")


def test_same_seed_same_choices_same_incident(barricade_scenario) -> None:
    a, b = Exercise(barricade_scenario), Exercise(barricade_scenario)
    a.play({"arrival": "wait_for_next"})
    b.play({"arrival": "wait_for_next"})
    assert a.outcome() == b.outcome()
    assert [(d.point.kind, d.point.t_s, d.choice) for d in a.decisions] == [
        (d.point.kind, d.point.t_s, d.choice) for d in b.decisions
    ]


def test_the_officer_sees_the_attacker_only_within_two_hops(barricade_scenario) -> None:
    """Over many decision points of many replications: the attacker's space is named exactly when it is
    within two hops of the officer (or the radio was told), never otherwise."""
    sc = barricade_scenario
    p_ = sc.params
    checked = 0
    for r in range(80):
        ex = Exercise(sc, replication=r)
        while (p := ex.advance()) is not None:
            st = p.moment.state
            pos = officer_position(st, p_, ex.unit)
            a = int(st.a_space[0])
            close = a in within(p_, pos, 2)
            v = p.view
            assert (v.attacker_seen_in is not None) == close
            if v.attacker_seen_in is None:
                assert not any(s.attacker for s in v.in_sight)
                assert v.attacker_reported_in is None  # location_info_s is never here (the default)
            else:
                assert v.attacker_seen_in == space_name(p_.building.space_ids[a])
            checked += 1
            ex.choose(p.choices[0].id)
    assert checked >= 20


def test_barricade_decision_offers_breach_or_contain(barricade_scenario) -> None:
    ex, p = find(barricade_scenario, "barricade")
    assert [c.id for c in p.choices] == ["breach", "contain"] and p.doctrine_choice == "breach"
    assert p.view.attacker_barricaded and p.view.people_with_attacker and p.view.people_with_attacker > 0
    ex.choose("contain")
    assert ex.theta["breach"][0] == 0.0


def test_out_of_sight_decision_and_falling_back(barricade_scenario) -> None:
    ex, p = find(barricade_scenario, "out_of_sight")
    assert [c.id for c in p.choices] == ["keep_searching", "fall_back"]
    assert p.view.attacker_seen_in is None and p.view.status == "inside"
    ex.choose("fall_back")
    assert ex.state.u_status[0, ex.unit] == ON_SCENE
    ex.play(default="hold_perimeter")
    assert ex.finished


def test_the_sro(barricade_scenario) -> None:
    with pytest.raises(ExerciseError, match="no SRO"):
        Exercise(barricade_scenario, unit="sro")
    with pytest.raises(ExerciseError, match=r"'patrol'.*or 'sro', not 'attacker'"):
        Exercise(barricade_scenario, unit="attacker")
    ex = Exercise(rs.load_scenario(), unit="sro")
    p = ex.advance()
    assert p is not None and p.kind == "arrival" and p.view.you == "SRO"
