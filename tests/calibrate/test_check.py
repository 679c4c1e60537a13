"""`responsesim calibrate --check`: every target against the shipped calibration, no refit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from responsesim.calibrate.pipeline import check
from responsesim.cli import app


def test_check_lists_every_target_with_an_honest_inside_flag(reference_path) -> None:
    res = check(incidents_n=400, seed=5, workers=1)
    js = res.to_json()
    assert js["total"] == len(js["targets"]) == 42
    sets = {t["set"] for t in js["targets"]}
    assert sets == {"train 2000-2013", "held out 2014-2019"}
    for t in js["targets"]:
        lo, hi = t["observed_ci"]
        assert lo <= t["observed"] <= hi
        sim = t["simulated"]
        assert t["inside"] == (sim is not None and lo <= sim <= hi)
        if sim is not None and t["simulated_ci"][0] is not None:
            assert t["simulated_ci"][0] <= sim <= t["simulated_ci"][1]
    assert js["inside"] == sum(t["inside"] for t in js["targets"])
    assert js["calibration"]["key"].startswith(js["calibration"]["version"])


def test_check_command_json(reference_path) -> None:
    out = CliRunner().invoke(app, ["calibrate", "--check", "--validation", "200", "--workers", "1", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.stdout)
    assert obj["attempts"] == 200 and obj["total"] == 42
    bad = CliRunner().invoke(app, ["calibrate", "--check", "--calibration", "/nonexistent/cal.toml"])
    assert bad.exit_code == 2 and "cannot read" in bad.output
