"""Extrapolation warnings: none for the default scenario, one per reason otherwise."""

from __future__ import annotations

from responsesim.sanity import extrapolation_warnings
from responsesim.scenario.load import load_scenario, loads


def test_default_scenario_is_inside_the_calibrated_range() -> None:
    assert extrapolation_warnings(load_scenario()) == []


def test_each_reason_warns() -> None:
    ws = extrapolation_warnings(loads("[model]\np_hit = 0.9\n"))
    assert len(ws) == 1 and "model.p_hit" in ws[0] and "extrapolation" in ws[0]
    ws = extrapolation_warnings(loads("[responders.patrol]\nfirst_median_s = 1800\n"))
    assert len(ws) == 1 and "first_median_s" in ws[0]
    assert extrapolation_warnings(loads("[responders.patrol]\ncount = 0\nfirst_median_s = 1800\n")) == []
