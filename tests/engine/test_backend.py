"""Engine backends: selection by name, and identical outcome tables from the numpy and numba backends.

The numba backend (engine/fast.py) must give exactly the NumPy engine's table for the same seed, so the
comparisons are exact (``assert_frame_equal`` with ``check_exact``), on the default scenario, every
example scenario, a replayed incident (both arms of a counterfactual) and batches whose replications each
have their own engine parameters (as calibration and sweeps run them). The first numba call compiles the
kernel (cached on disk by Numba afterwards).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from responsesim.engine.backend import BACKENDS, check_backend
from responsesim.engine.run import run_chunk, simulate
from responsesim.review.counterfactual import compile_replay, parse_counterfactual
from responsesim.scenario.compile import (
    D_BACKUP_ETA,
    D_HESITATE,
    D_NO_ENTRY,
    D_PERIMETER,
    D_SOLO,
    D_WAIT_N,
    Params,
)
from responsesim.scenario.load import load_scenario

pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def _same(params: Params, reps: np.ndarray, **kwargs: object) -> pd.DataFrame:
    """The numpy and numba tables for ``reps``, asserted identical (exact); returns the table."""
    a = run_chunk(params, reps, **kwargs)  # type: ignore[arg-type]
    b = run_chunk(params, reps, backend="numba", **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    return a


@pytest.fixture(scope="module")
def default_params() -> Params:
    return load_scenario().params


def test_registry_names() -> None:
    assert BACKENDS == ("numpy", "numba")
    for name in BACKENDS:
        assert check_backend(name) == name


@pytest.mark.parametrize("call", ["simulate", "run_chunk"])
def test_unknown_backend_is_rejected(call: str) -> None:
    params = load_scenario().params
    with pytest.raises(ValueError, match="unknown backend 'x'; choose one of: numpy, numba"):
        if call == "simulate":
            simulate(params, 10, backend="x")
        else:
            run_chunk(params, np.arange(10), backend="x")


def test_observer_needs_numpy_backend(default_params: Params) -> None:
    with pytest.raises(ValueError, match="backend='numpy'"):
        run_chunk(default_params, np.arange(3), observer=lambda s, p: None, backend="numba")


def test_missing_numba_is_a_clear_error(default_params: Params, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Numba, ``responsesim`` still imports and the numba backend says what is missing."""
    monkeypatch.setitem(sys.modules, "numba", None)  # makes ``import numba`` raise ImportError
    monkeypatch.delitem(sys.modules, "responsesim.engine.fast", raising=False)
    monkeypatch.delattr("responsesim.engine.fast", raising=False)
    with pytest.raises(RuntimeError, match="numba backend needs the 'numba' package"):
        run_chunk(default_params, np.arange(3), backend="numba")
    assert len(run_chunk(default_params, np.arange(3))) == 3


def test_default_scenario_identical(default_params: Params) -> None:
    params = dataclasses.replace(default_params, seed=20261123)
    # replication indices out of order and not starting at 0: rows follow ``reps`` in both backends
    reps = np.concatenate([np.arange(1000, 1100), np.arange(99, -1, -1)])
    df = _same(params, reps)
    assert (df.rep.to_numpy() == reps).all()
    # not vacuous: every ending but the horizon, casualty care and officers shot are exercised
    endings = {"police_shot", "police_arrested", "fled", "citizens", "suicide_police_on_scene"}
    assert set(df.end_reason) >= endings
    assert df.died_awaiting_care.sum() > 0 and df.officers_shot.sum() > 0


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_scenarios_identical(path: Path) -> None:
    _same(load_scenario(path).params, np.arange(80))


@pytest.mark.parametrize("arm", ["observed", "protocol"])
def test_replayed_incident_identical(arm: str) -> None:
    rp, _ = compile_replay(
        ROOT / "examples" / "parkland" / "incident.toml", parse_counterfactual("SRO:entered_building@+30s")
    )
    _same(getattr(rp, arm), np.arange(80))


def test_per_replication_parameters_identical(default_params: Params) -> None:
    """Each replication with its own engine parameters and scenario choices (as calibration and sweeps)."""
    r = 160
    g = np.random.default_rng(7)
    codes = np.array([D_SOLO, D_WAIT_N, D_BACKUP_ETA, D_HESITATE, D_PERIMETER, D_NO_ENTRY], dtype=float)
    theta = {
        "fire_rate": g.uniform(0.05, 0.6, r),
        "p_hit": g.uniform(0.1, 0.6, r),
        "window_hit_factor": g.uniform(0.1, 0.9, r),
        "window_fire_factor": g.uniform(0.1, 1.0, r),
        "p_critical": g.uniform(0.1, 0.6, r),
        "flee_h": g.uniform(0.0, 0.01, r),
        "barricade_h": g.uniform(0.0, 0.02, r),
        "citizen_h": g.uniform(0.0, 0.01, r),
        "magazine": g.integers(5, 31, r).astype(float),
        "lockdown_t": np.where(g.random(r) < 0.5, np.inf, g.uniform(0, 300, r)),
        "sro_present": (g.random(r) < 0.5).astype(float),
        "doctrine_code": codes[g.integers(0, codes.size, r)],
        "doctrine_param": g.choice([2.0, 30.0, 90.0], r),
    }
    _same(default_params, np.arange(r), theta=theta)


def test_variants_identical(default_params: Params) -> None:
    """Officers entering at a fixed space, an SRO calling the lockdown, a tight horizon (ongoing ends)."""
    p = default_params
    entry = int(p.building.exits[-1])
    _same(dataclasses.replace(p, officer_entry=entry, sro_calls_lockdown=True), np.arange(100))
    assert (_same(dataclasses.replace(p, horizon_s=240.0), np.arange(100)).end_reason == "ongoing").any()


def _chunked(params: Params, n: int, sizes: list[int], workers: int = 1) -> Iterator[pd.DataFrame]:
    for size in sizes:
        yield simulate(params, n, chunk_size=size, workers=workers, backend="numba")


def test_numba_chunk_and_worker_invariance(default_params: Params) -> None:
    n = 120
    ref = simulate(default_params, n, chunk_size=n, backend="numba")
    for df in _chunked(default_params, n, [1, 7, 50]):
        pd.testing.assert_frame_equal(df, ref, check_exact=True)
    for df in _chunked(default_params, n, [40], workers=2):
        pd.testing.assert_frame_equal(df, ref, check_exact=True)
    # and simulate() with first_rep gives the same rows as the NumPy backend
    pd.testing.assert_frame_equal(
        simulate(default_params, 60, first_rep=500, chunk_size=25, backend="numba"),
        simulate(default_params, 60, first_rep=500, chunk_size=25),
        check_exact=True,
    )
