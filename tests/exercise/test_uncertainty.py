"""Branches over the calibration's posterior: the same draw for every choice at branch b, wider intervals."""

from __future__ import annotations

import dataclasses

import numpy as np

import responsesim as rs
from responsesim.exercise.branching import run_branches
from responsesim.exercise.debrief import debrief
from responsesim.exercise.session import Exercise
from responsesim.exercise.stats import mean_interval, share_interval
from responsesim.exercise.uncertainty import branch_parameters


def test_posterior_branches() -> None:
    sc = rs.load_scenario()
    ex = Exercise(sc, unit="sro")
    p = ex.advance()
    assert p is not None
    par = branch_parameters(sc, p.moment, 400)
    assert par.mode == "posterior" and par.theta is not None
    assert np.unique(par.draw).size == 20  # 400 branches, at least 20 a draw
    assert not np.all(par.theta["officer_hit_h"] == par.theta["officer_hit_h"][0])
    # the levers stay the moment's
    assert np.all(par.theta["doctrine_code"] == p.moment.theta["doctrine_code"][0])
    twin = dataclasses.replace(p.choices[0], id="twin")
    b = run_branches(p.moment, sc, [p.choices[0], twin, p.choices[-1]], 400, thetas=par.theta)
    x, y = b.outcomes[0], b.outcomes[1]
    assert np.array_equal(x.deaths, y.deaths) and np.array_equal(x.unit_shot, y.unit_shot)
    pt = run_branches(p.moment, sc, [p.choices[0]], 400).outcomes[0]
    assert not np.array_equal(pt.deaths, x.deaths)  # other parameters, other runs
    wide, narrow = mean_interval(x.deaths, par.draw), mean_interval(x.deaths)
    assert wide.low <= narrow.low and wide.high >= narrow.high
    s_wide, s_narrow = share_interval(x.unit_shot, par.draw), share_interval(x.unit_shot)
    assert s_wide.low <= s_narrow.low and s_wide.high >= s_narrow.high and 0 <= s_wide.low <= s_wide.high <= 1


def test_overridden_calibration_falls_back_to_the_point(barricade_scenario, arrival_moment) -> None:
    par = branch_parameters(barricade_scenario, arrival_moment, 400)
    assert par.mode == "point" and par.theta is None and "overrides" in par.note
    assert branch_parameters(rs.load_scenario(), arrival_moment, 30).mode == "point"  # too few branches


def test_debrief_says_which() -> None:
    ex = Exercise(rs.load_scenario(), unit="sro")
    ex.play(default="enter_now")
    d = debrief(ex, 100)
    assert d.uncertainty == "posterior" and "5 posterior draws" in d.uncertainty_note
    assert debrief(ex, 100, uncertainty="point").uncertainty == "point"
