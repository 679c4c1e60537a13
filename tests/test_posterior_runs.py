"""Runs draw each replication's model parameters from the calibration's posterior (issue 13 item 3):
the posterior file is found and checked, draws are reproducible, intervals cover parameter uncertainty."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from responsesim.api import parameter_draws, run
from responsesim.calibrate.abc_smc import Posterior
from responsesim.params import CalibrationError, default_calibration_text, load_calibration
from responsesim.scenario.load import load_scenario

VERSION = "test-posterior-1"


def calibration_with_posterior(tmp: Path, spread: float) -> Path:
    """The shipped calibration's values with a posterior of 200 particles whose p_hit varies by +-spread
    (relative); returns the calibration file's path."""
    base = load_calibration(None)
    g = np.random.default_rng(4)
    p_hit = np.clip(base.values["p_hit"] * (1 + spread * g.uniform(-1, 1, 200)), 0.1, 0.6)
    flee = np.full(200, base.values["flee_h"])
    post = Posterior(("p_hit", "flee_h"), np.column_stack([p_hit, flee]), np.ones(200), {"version": VERSION})
    text = post.to_text()
    (tmp / "posterior.csv").write_text(text)
    cal = re.sub(r'^version = ".*"$', f'version = "{VERSION}"', default_calibration_text(), flags=re.M)
    cal = re.sub(r"^posterior(_sha256)? = .*\n", "", cal, flags=re.M)  # the shipped file's own posterior
    digest = hashlib.sha256(text.encode()).hexdigest()
    cal = cal.replace("[fit]\n", f'[fit]\nposterior = "posterior.csv"\nposterior_sha256 = "{digest}"\n', 1)
    path = tmp / "calibration.toml"
    path.write_text(cal)
    return path


def test_draws_are_reproducible_and_spread_over_the_replications(tmp_path: Path) -> None:
    cal = load_calibration(calibration_with_posterior(tmp_path, 0.5))
    sc = load_scenario(calibration=cal)
    a = parameter_draws(sc, 1000, draws=50)
    b = parameter_draws(sc, 1000, draws=50)
    assert a.mode == "posterior" and a.n_draws == 50 and a.posterior_version == VERSION
    assert a.theta is not None and a.draw is not None and b.theta is not None
    np.testing.assert_array_equal(a.theta["p_hit"], b.theta["p_hit"])
    assert np.bincount(a.draw).tolist() == [20] * 50  # evenly spread
    # at least 20 replications per draw: 250 replications use 12 draws; 30 are too few for draws at all
    assert parameter_draws(sc, 250, draws=50).n_draws == 12
    few = parameter_draws(sc, 30)
    assert few.mode == "point" and "too few replications" in few.reason
    # replications of one draw share its parameters
    for d in range(50):
        assert np.unique(a.theta["p_hit"][a.draw == d]).size == 1
    assert parameter_draws(sc, 1000, "point").mode == "point"
    with pytest.raises(ValueError, match="posterior' or 'point'"):
        parameter_draws(sc, 10, "maybe")


def test_total_interval_is_wider_than_chance_alone_and_grows_with_the_spread(tmp_path: Path) -> None:
    wide, narrow = tmp_path / "wide", tmp_path / "narrow"
    wide.mkdir()
    narrow.mkdir()
    res = {}
    for name, d, spread in (("wide", wide, 0.6), ("narrow", narrow, 0.05)):
        sc = load_scenario(calibration=load_calibration(calibration_with_posterior(d, spread)))
        res[name] = run(sc, replications=4000, seed=3, workers=2)
    deaths = {k: {s.name: s for s in r.summaries}["deaths"] for k, r in res.items()}
    w, n = deaths["wide"], deaths["narrow"]
    assert w.interval == "total" and w.ci_low <= w.mean <= w.ci_high
    assert w.mc_low <= w.mean <= w.mc_high
    # p_hit varying by +-60% moves the expected deaths far more than chance does at 4,000 replications
    assert (w.ci_high - w.ci_low) > 2 * (w.mc_high - w.mc_low)
    assert (w.ci_high - w.ci_low) > 2 * (n.ci_high - n.ci_low)
    js = res["wide"].to_json()
    assert js["uncertainty"]["mode"] == "posterior" and js["uncertainty"]["draws"] == 100
    assert js["metrics"]["deaths"]["interval"] == "total"
    assert "draw" in res["wide"].outcomes.columns


def test_a_posterior_from_another_fit_is_refused(tmp_path: Path) -> None:
    path = calibration_with_posterior(tmp_path, 0.2)
    (tmp_path / "posterior.csv").write_text((tmp_path / "posterior.csv").read_text() + "1.0,0.2,0.001\n")
    sc = load_scenario(calibration=load_calibration(path))
    with pytest.raises(CalibrationError, match="another fit"):
        parameter_draws(sc, 100)
    (tmp_path / "posterior.csv").unlink()
    with pytest.raises(CalibrationError, match="cannot be read"):
        parameter_draws(sc, 100)
    # a point-estimate run does not need the posterior
    assert parameter_draws(sc, 100, "point").mode == "point"


def test_compare_draws_the_same_parameters_in_both_arms(tmp_path: Path) -> None:
    from responsesim.compare import compare

    sc = load_scenario(calibration=load_calibration(calibration_with_posterior(tmp_path, 0.6)))
    res = compare(sc, ["solo_entry", "no_entry"], replications=600, seed=9, workers=2)
    a, b = res.outcomes["solo_entry"], res.outcomes["no_entry"]
    assert (a["draw"] == b["draw"]).all() and (a["rep"] == b["rep"]).all()
    deaths = next(x for x in res.diffs if x.metric == "deaths")
    assert deaths.interval == "total" and deaths.ci_low <= deaths.mean_diff <= deaths.ci_high
    assert deaths.ci_low <= deaths.mc_low and deaths.mc_high <= deaths.ci_high
    assert res.to_json()["uncertainty"]["mode"] == "posterior"
    point = compare(sc, ["solo_entry", "no_entry"], replications=600, seed=9, uncertainty="point")
    assert next(x for x in point.diffs if x.metric == "deaths").interval == "monte_carlo"
