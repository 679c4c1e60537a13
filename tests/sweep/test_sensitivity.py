"""The Sobol wrapper against the Ishigami function's analytic indices; parameters; plot; a tiny real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("SALib")

from scipy import stats

from responsesim.params import PARAMETER_INFO
from responsesim.sweep.sensitivity import (
    POSTERIOR_FACTOR,
    SCENARIO_PARAMETERS,
    _point_spec,
    default_parameters,
    evaluate,
    factor_parameters,
    make_problem,
    plot_sobol,
    posterior_index,
    sensitivity_command,
    sobol_indices,
)

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: analytic first-order and total indices
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices() -> None:
    problem = make_problem([(f"x{i}", -np.pi, np.pi) for i in (1, 2, 3)])
    res = sobol_indices(problem, ishigami, n=2048, seed=7)
    assert res.n_evaluations == 2048 * 5
    np.testing.assert_allclose(res.S1, S1_TRUE, atol=0.05)
    np.testing.assert_allclose(res.ST, ST_TRUE, atol=0.05)
    assert np.all(res.S1_conf > 0) and np.all(res.ST_conf < 0.1)
    frame = res.frame()
    assert list(frame["name"]) == ["x1", "x2", "x3"]  # sorted by ST


def test_default_parameters_are_fitted_model_and_scenario() -> None:
    params = default_parameters()
    names = [p[0] for p in params]
    fitted = [f"model.{k}" for k, v in PARAMETER_INFO.items() if v.fitted]
    assert names[: len(fitted)] == fitted
    assert "responders.patrol.first_median_s" in names
    assert all(lo < hi for _, lo, hi in params)


def test_point_spec_sets_nested_values() -> None:
    base = {"model": {}, "responders": {"patrol": {"count": 6}}}
    d = _point_spec(base, ["model.p_hit", "responders.patrol.first_median_s"], [0.3, 120.0])
    assert d == {"model": {"p_hit": 0.3}, "responders": {"patrol": {"count": 6, "first_median_s": 120.0}}}
    assert base["model"] == {}


def test_evaluate_runs_points_in_process() -> None:
    x = np.array([[0.1, 300.0], [0.6, 60.0]])
    y = evaluate(x, ["model.p_hit", "responders.patrol.first_median_s"], replications=8, workers=1)
    assert y.shape == (2,) and np.all(np.isfinite(y)) and np.all(y >= 0)


def test_plot_and_command_validation(tmp_path: Path) -> None:
    problem = make_problem([(f"x{i}", -np.pi, np.pi) for i in (1, 2, 3)])
    res = sobol_indices(problem, ishigami, n=64, seed=1)
    png = plot_sobol(res, tmp_path / "s.png", "Ishigami")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert sensitivity_command(tmp_path, n=3) == 2
    assert sensitivity_command(tmp_path, replications=0) == 2
    assert sensitivity_command(tmp_path, scenario=tmp_path / "missing.toml") == 2
    assert not list(tmp_path.glob("*.json"))
    json.dumps(res.frame().to_dict(orient="records"))


def test_posterior_index_picks_particles_by_weight() -> None:
    """A uniform u picks particle i with probability weights[i] (chi-square goodness of fit)."""
    w = np.array([0.5, 0.0, 0.2, 0.3])
    u = np.random.default_rng(3).random(20_000)
    idx = posterior_index(u, w)
    assert idx.min() >= 0 and idx.max() <= 3
    counts = np.bincount(idx, minlength=4)
    assert counts[1] == 0  # a zero-weight particle is never drawn
    keep = w > 0
    p = stats.chisquare(counts[keep], len(u) * w[keep]).pvalue
    assert p > 0.001
    assert posterior_index(np.array([0.0, 1.0]), w).tolist() == [0, 3]


def test_posterior_factor_sobol_index_analytic() -> None:
    """y = x + v[particle(u)], x ~ U(0, 1): the posterior factor's index is Var(v) / (1/12 + Var(v))
    (weighted variance of the particle values), within the estimate's own 95% bootstrap half-width x 2."""
    rng = np.random.default_rng(11)
    v = rng.normal(0.0, 0.4, 300)
    w = rng.random(300) ** 2
    w /= w.sum()
    var_v = float(np.sum(w * (v - np.sum(w * v)) ** 2))
    s_true = var_v / (1 / 12 + var_v)
    problem = make_problem([("x", 0.0, 1.0), (POSTERIOR_FACTOR, 0.0, 1.0)])
    res = sobol_indices(problem, lambda x: x[:, 0] + v[posterior_index(x[:, 1], w)], n=4096, seed=5)
    j = res.names.index(POSTERIOR_FACTOR)
    assert abs(res.ST[j] - s_true) <= 2 * res.ST_conf[j]
    assert abs(res.S1[j] - s_true) <= 2 * res.S1_conf[j]
    assert abs(res.ST[0] - (1 - s_true)) <= 2 * res.ST_conf[0]


def test_factor_sets() -> None:
    assert factor_parameters("posterior") == [*SCENARIO_PARAMETERS, (POSTERIOR_FACTOR, 0.0, 1.0)]
    assert factor_parameters("point") == list(SCENARIO_PARAMETERS)
    assert factor_parameters("model-ranges") == default_parameters()
    with pytest.raises(ValueError, match="factors must be one of"):
        factor_parameters("everything")


def test_evaluate_posterior_factor_runs_at_the_particle() -> None:
    """Two rows with the same scenario values but u picking different particles give different means;
    the same u gives the same mean (common random numbers, one particle per row)."""
    from responsesim.params import load_calibration
    from responsesim.posterior import load_posterior

    post = load_posterior(load_calibration())
    assert post is not None
    names = ["responders.patrol.first_median_s", POSTERIOR_FACTOR]
    c = np.cumsum(post.weights)
    # the middle of the lightest and of the heaviest particles' intervals of u
    lo_p, hi_p = (
        int(np.argmin(post.particles[:, post.names.index("p_hit")])),
        int(np.argmax(post.particles[:, post.names.index("p_hit")])),
    )
    u_of = [float(c[i] - post.weights[i] / 2) for i in (lo_p, hi_p)]
    x = np.array([[180.0, u_of[0]], [180.0, u_of[1]], [180.0, u_of[0]]])
    y = evaluate(x, names, replications=64, workers=1, metric="shots_fired")
    assert y[0] == y[2]
    assert y[0] != y[1]


def test_command_posterior_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default factor set, end to end at a tiny size: JSON says which inputs and which calibration."""
    assert sensitivity_command(tmp_path, n=2, replications=2, workers=1, as_json=True) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["factors"] == "posterior" and "posterior" in doc["factors_note"]
    assert doc["calibration"]
    names = {r["name"] for r in doc["figures"]["indices"]}
    assert POSTERIOR_FACTOR in names and not any(n.startswith("model.") for n in names)
    assert (tmp_path / "sobol_deaths.json").is_file()
    assert sensitivity_command(tmp_path, n=2, replications=2, workers=1, factors="nope") == 2


def test_command_posterior_refused_with_model_overrides(tmp_path: Path) -> None:
    """A scenario that overrides calibrated values has no posterior: exit 2 and a plain reason."""
    sc = tmp_path / "s.toml"
    sc.write_text("[model]\np_hit = 0.2\n")
    out = tmp_path / "out"
    assert sensitivity_command(out, n=2, replications=2, scenario=sc) == 2
    assert not out.exists() or not list(out.glob("*.json"))


def test_cli_point_estimate_conflicts_with_model_ranges(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from responsesim.cli import app

    res = CliRunner().invoke(
        app, ["sensitivity", "--point-estimate", "--factors", "model-ranges", "--outdir", str(tmp_path)]
    )
    assert res.exit_code == 2 and "two different analyses" in res.output
    assert not list(tmp_path.glob("*.json"))


def test_command_bad_scenario_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario that does not validate: exit 2 naming the file, line and field; nothing written."""
    sc = tmp_path / "bad.toml"
    sc.write_text('seed = "x"\n')
    out = tmp_path / "out"
    for factors in ("posterior", "point"):
        assert sensitivity_command(out, n=2, replications=2, scenario=sc, factors=factors) == 2
        assert f"{sc}:1: seed: must be a whole number" in capsys.readouterr().err
    assert not out.exists()
