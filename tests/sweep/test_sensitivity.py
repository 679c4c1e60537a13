"""The Sobol wrapper against the Ishigami function's analytic indices; parameters; plot; a tiny real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("SALib")

from responsesim.params import PARAMETER_INFO
from responsesim.sweep.sensitivity import (
    _point_spec,
    default_parameters,
    evaluate,
    make_problem,
    plot_sobol,
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
