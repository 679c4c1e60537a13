"""The debrief: numbers from the branches, plain words, JSON round trip, HTML page, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from responsesim.exercise.__main__ import main
from responsesim.exercise.alternatives import apply
from responsesim.exercise.branching import run_branches
from responsesim.exercise.debrief import Debrief, debrief
from responsesim.exercise.report import render_html
from responsesim.exercise.session import Exercise, ExerciseError
from responsesim.exercise.sim import replicate

from .conftest import BARRICADE


@pytest.fixture(scope="module")
def played(barricade_scenario) -> Exercise:
    ex = Exercise(barricade_scenario)
    ex.play({"arrival": "wait_for_next"}, default="enter_now")
    return ex


def test_the_saved_moment_with_its_own_key_replays_the_incident(played: Exercise) -> None:
    """Run on from the first saved moment with the replication's own key and the trainee's choices, the
    state gives exactly the incident as played (the moment is the full state)."""
    first = played.decisions[0].point.moment
    st = replicate(first.state, 0, 1)
    th = first.theta.copy()
    for k, dec in enumerate(played.decisions):
        if k:  # run to the next decision's tick, then apply that choice
            while st.tick[0] < dec.point.moment.tick:
                played.sim.step(st, th)
        alt = next(c for c in dec.point.choices if c.id == dec.choice)
        apply(alt, st, th, first.unit, slice(0, 1))
    played.sim.run_to_end(st, th)
    out = played.sim.outcomes(st)
    assert int(out.killed[0] + out.died_awaiting_care[0]) == played.outcome()["deaths"]
    assert float(out.attack_duration_s[0]) == played.outcome()["attack_duration_s"]


def test_debrief_numbers_and_words(barricade_scenario, played: Exercise) -> None:
    d = debrief(played, 300)
    assert len(d.decisions) == len(played.decisions) and d.branches == 300
    x = d.decisions[0]
    assert x.kind == "arrival" and x.chosen == "wait_for_next" and x.doctrine_choice == "enter_now"
    br = run_branches(
        played.decisions[0].point.moment, barricade_scenario, played.decisions[0].point.choices, 300
    )
    mine = br.of("wait_for_next")
    for a in x.alternatives:
        o = br.of(a.id)
        assert a.deaths.value == pytest.approx(o.deaths.mean())
        assert a.you_shot.value == pytest.approx(o.unit_shot.mean())
        assert a.deaths.low <= a.deaths.value <= a.deaths.high
        if a.chosen:
            assert a.deaths_vs_chosen is None and a.sentence.startswith(
                "Your choice, waiting for the next officer"
            )
        else:
            assert a.deaths_vs_chosen is not None
            assert a.deaths_vs_chosen.value == pytest.approx((o.deaths - mine.deaths).mean())
            assert a.sentence.endswith(".") and "your risk of being shot" in a.sentence
    assert x.headline[0].startswith("Your choice")
    enter = next(a for a in x.alternatives if a.id == "enter_now")
    assert enter.sentence.startswith("Entering now here would have")


def test_debrief_json_round_trip_and_html(tmp_path: Path, played: Exercise) -> None:
    d = debrief(played, 100)
    back = Debrief.load(d.save(tmp_path / "d.json"))
    assert back.to_json() == d.to_json()
    page = render_html(back)
    assert "Debrief: Patrol officer 1" in page and "What you knew" in page
    for s in back.decisions[0].headline:
        assert s.replace("'", "&#39;") in page
    (tmp_path / "bad.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ExerciseError, match="debrief format 99"):
        Debrief.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(ExerciseError, match="not a saved debrief"):
        Debrief.load(tmp_path / "junk.json")


def test_no_decision_no_debrief(barricade_scenario) -> None:
    ex = Exercise(barricade_scenario, replication=1)
    ex.play()
    if ex.decisions:  # replication 1 happens to end before the officer arrives; if not, say so
        pytest.skip("replication 1 has a decision under this calibration")
    with pytest.raises(ExerciseError, match="no decision was made"):
        debrief(ex, 10)


def test_the_command(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d"
    assert main(["play", str(BARRICADE), "--choose", "arrival=hold_perimeter", "--branches", "50",
                 "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "You arrive on scene" in text and "chosen: hold_perimeter" in text
    assert (
        (out / "debrief.json").exists()
        and (out / "debrief.html").exists()
        and (out / "moment-1.npz").exists()
    )
    assert main(["render", str(out / "debrief.json"), "--out", str(tmp_path / "p.html")]) == 0
    assert (tmp_path / "p.html").read_text() == (out / "debrief.html").read_text()
    assert main(["play", str(BARRICADE), "--choose", "arrival"]) == 2
    assert "KIND=CHOICE" in capsys.readouterr().err
    assert main(["play", str(tmp_path / "missing.toml")]) == 2
    np.testing.assert_equal(json.loads((out / "debrief.json").read_text())["branches"], 50)
