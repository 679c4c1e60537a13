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


def test_points_warnings_name_the_points_that_extrapolate() -> None:
    from responsesim.sanity import points_warnings

    inside = load_scenario()
    outside = loads("[responders.patrol]\nfirst_median_s = 1800\n")
    ws = points_warnings([("a", inside), ("b", outside), ("c", outside)])
    assert len(ws) == 1 and "first_median_s" in ws[0] and ws[0].endswith("(points: b, c)")
    assert points_warnings([("a", inside)]) == []
    ws = points_warnings([("b", outside), ("c", outside)])
    assert ws[0].endswith("(all points)")


def test_sweep_points_are_labelled_by_their_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from responsesim.sanity import sweep_warnings
    from responsesim.sweep.spec import load_sweep

    f = tmp_path / "s.toml"
    f.write_text(
        '[sweep]\nname = "arrival"\nreplications_per_point = 10\n'
        '[[parameter]]\npath = "responders.patrol.first_median_s"\nvalues = [180, 1800]\n'
    )
    ws = sweep_warnings(load_sweep(f).points)
    assert len(ws) == 1 and "(points: responders.patrol.first_median_s=1800)" in ws[0]
