"""One engine: golden tables, the batch and tick-by-tick drivers run the same rules, per-replication
parameters, the backend name, the compiled-engine cache."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from responsesim.codes import D_BACKUP_ETA, D_HESITATE, D_NO_ENTRY, D_PERIMETER, D_SOLO, D_WAIT_N
from responsesim.engine import jit
from responsesim.engine.run import observe, run_chunk, simulate
from responsesim.engine.types import State
from responsesim.scenario.compile import Params
from responsesim.scenario.load import load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_cases import REPS, cases, read, table

CASES = cases()


@pytest.mark.parametrize("name", list(CASES))
def test_golden_table(name: str) -> None:
    """The engine reproduces its stored tables exactly (regenerate only for an intended model change:
    ``python tests/engine/golden_cases.py --write``)."""
    got = table(CASES[name])
    want = read(name)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, check_dtype=False)


@pytest.mark.parametrize("name", ["default", "office_wait_for_four", "parkland_protocol"])
def test_observed_run_equals_batch_run(name: str) -> None:
    """Driving the rules tick by tick over a whole batch (``observe``) gives the batch loop's table."""
    params = CASES[name]
    ticks: list[int] = []

    def count(s: State, p: Params) -> None:
        ticks.append(int(s.tick.max()))

    reps = REPS[:60]
    got = observe(params, reps, count)
    pd.testing.assert_frame_equal(got, run_chunk(params, reps), check_exact=True)
    assert ticks[0] == 0 and ticks == list(range(len(ticks)))


def test_replications_do_not_depend_on_batch(default_params: Params) -> None:
    ref = simulate(default_params, 120, chunk_size=120)
    for size, workers in ((1, 1), (7, 1), (50, 2)):
        pd.testing.assert_frame_equal(simulate(default_params, 120, chunk_size=size, workers=workers), ref)
    reps = np.array([99, 3, 17, 3])
    part = run_chunk(default_params, reps)
    assert list(part.rep) == [99, 3, 17, 3]
    pd.testing.assert_frame_equal(part, ref.iloc[reps].reset_index(drop=True))


def test_mixed_parameter_batch_equals_uniform_batches(default_params: Params) -> None:
    """Replications with their own parameters (as calibration and sweeps run them) get exactly the rows
    they get in a batch where every replication has those values."""
    g = np.random.default_rng(7)
    codes = np.array([D_SOLO, D_WAIT_N, D_BACKUP_ETA, D_HESITATE, D_PERIMETER, D_NO_ENTRY], dtype=float)
    points = [
        {
            "fire_rate_handgun": g.uniform(0.3, 2.0),
            "p_hit": g.uniform(0.1, 0.6),
            "rifle": float(g.random() < 0.5),
            "barricade_h": g.uniform(0.0, 0.01),
            "lockdown_t": float(np.inf if g.random() < 0.5 else g.uniform(0, 300)),
            "sro_present": float(g.random() < 0.5),
            "doctrine_code": float(codes[g.integers(0, codes.size)]),
            "doctrine_param": float(g.choice([2.0, 30.0, 90.0])),
        }
        for _ in range(6)
    ]
    reps = np.arange(240)
    which = reps % len(points)
    theta = {k: np.array([points[w][k] for w in which]) for k in points[0]}
    mixed = run_chunk(default_params, reps, theta=theta)
    for w, point in enumerate(points):
        sel = reps[which == w]
        alone = run_chunk(default_params, sel, theta=point)
        pd.testing.assert_frame_equal(mixed[which == w].reset_index(drop=True), alone, check_exact=True)
    assert mixed.deaths.std() > 0


def test_unknown_theta_name_is_refused(default_params: Params) -> None:
    with pytest.raises(KeyError, match="unknown engine parameter 'fire_rate'"):
        run_chunk(default_params, np.arange(3), theta={"fire_rate": 1.0})


def test_backend_name(default_params: Params) -> None:
    assert len(run_chunk(default_params, np.arange(3), backend="numba")) == 3
    with pytest.raises(ValueError, match="one engine, the compiled one"):
        simulate(default_params, 3, backend="numpy")


def test_cache_lives_in_a_fingerprinted_user_directory(tmp_path: Path) -> None:
    """The compiled-engine cache goes under $RESPONSESIM_CACHE_DIR/numba/<fingerprint of the engine
    sources>, so a read-only install still caches and a changed rule never reuses an old kernel."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["RESPONSESIM_CACHE_DIR"] = str(tmp_path)
    # Numba imported first (as a library or a test may do): the engine's cache still goes there, not next
    # to the sources, where a kernel cached from old rules would be found again by a later build
    code = (
        "import numba, responsesim.engine.jit as j, responsesim.engine.rng as r; r.exponential(0.5, 1.0); "
        "print(numba.config.CACHE_DIR, j.FINGERPRINT)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    path, fp = out.stdout.split()
    assert Path(path) == tmp_path / "numba" / fp
    assert any(f.name.startswith("rng.exponential") for f in Path(path).rglob("*.nbi")), "not cached there"
    # a NUMBA_CACHE_DIR inherited from a parent process moves the root, and the fingerprint is still added
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "inherited")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.split()[0]) == tmp_path / "inherited" / fp
    assert fp == jit.fingerprint() and len(fp) == 16
    # the fingerprint covers every engine source file
    root = Path(importlib.import_module("responsesim").__file__).parent  # type: ignore[arg-type]
    for rel in jit.ENGINE_SOURCES:
        assert (root / rel).is_file(), rel


@pytest.fixture(scope="module")
def default_params() -> Params:
    return dataclasses.replace(load_scenario().params)
