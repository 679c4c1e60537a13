"""The native module (engine/native.py, engine/native_build.py): the same numbers as Numba's JIT, no
Numba at run time, a guard on every argument, and a failed build that falls back instead of retrying."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from responsesim.engine import native
from responsesim.engine.arrays import engine_input
from responsesim.engine.run import _kernel, run_outcomes
from responsesim.engine.types import Outcomes, empty_outcomes, empty_state, make_theta, scratch
from responsesim.scenario.compile import Params

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_cases import REPS, cases

CASES = cases()


def _batch(fn_run, fn_keys, params: Params, reps: np.ndarray) -> Outcomes:  # type: ignore[no-untyped-def]
    ei = engine_input(params)
    th = make_theta(ei.base_theta, reps.shape[0])
    out = empty_outcomes(reps.shape[0])
    st = empty_state(1, params.n_groups, params.n_units, params.n_spaces, params.n_occupants)
    wk = scratch(params.n_units, params.n_spaces, params.n_groups, params.n_occupants)
    keys = fn_keys(int(params.seed), reps)
    fn_run(reps, keys, th, ei.building, ei.scenario, ei.units, ei.forcing, ei.group_space, ei.group_size,
           st, wk, out)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def native_engine() -> native.Native:
    mod = native.load()
    if mod is None:
        pytest.fail(f"the native module could not be built here: {native.failed_path().read_text()}")
    return mod


@pytest.mark.parametrize(
    "name", ["default", "office_wait_for_four", "parkland_observed", "parkland_protocol"]
)
def test_native_equals_jit(native_engine: native.Native, name: str) -> None:
    """The native module and Numba's JIT compile the same rules into the same numbers, bit for bit."""
    from responsesim.engine import kernel, rng

    params = CASES[name]
    nat = _batch(native_engine.module.run_batch, native_engine.module.replication_keys, params, REPS)
    jit = _batch(kernel.run_batch, rng.replication_keys, params, REPS)
    for field, a, b in zip(Outcomes._fields, nat, jit, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=field)


def test_runs_use_the_native_module(native_engine: native.Native) -> None:
    assert _kernel().engine == "native"


def test_a_run_does_not_import_numba(native_engine: native.Native) -> None:
    """With the module built, running the engine loads neither Numba nor LLVM (a second of start-up)."""
    code = (
        "import sys, numpy as np\n"
        "from responsesim.scenario.load import load_scenario\n"
        "from responsesim.engine.run import run_outcomes\n"
        "out = run_outcomes(load_scenario().params, np.arange(20))\n"
        "print(int(out.killed.sum()), sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numba', 'llvmlite')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RESPONSESIM_ENGINE"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    killed, modules = res.stdout.split(" ", 1)
    assert modules.strip() == "[]"
    assert int(killed) == int(run_outcomes(CASES["default"], np.arange(20)).killed.sum())


def test_a_mismatched_argument_runs_through_the_jit(native_engine: native.Native) -> None:
    """A native function trusts its arguments' layout, so a call with another layout is not passed to it:
    it runs through Numba's JIT (same numbers), with a warning naming the argument."""
    from responsesim.engine import rng

    reps = np.arange(0, 40, dtype=np.int64)
    strided = np.arange(0, 80, dtype=np.int64)[::2]  # not contiguous
    keys = native_engine.function("replication_keys", lambda: rng.replication_keys)
    with pytest.warns(RuntimeWarning, match=r"argument 2 of replication_keys is array\(.*,1,A\)"):
        got = keys(5, strided)
    want = native_engine.module.replication_keys(5, np.ascontiguousarray(strided))
    np.testing.assert_array_equal(got, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(keys(5, reps), rng.replication_keys(5, reps))
    # a call with too few arguments: the JIT then says what is wrong with it
    too_few = "replication_keys got 1 arguments, built for 2"
    with pytest.warns(RuntimeWarning, match=too_few), pytest.raises(TypeError):
        keys(5)


def test_type_keys() -> None:
    a = np.zeros((2, 3))
    assert native.type_key(a) == "array([('', '<f8')],2,C)"
    assert native.type_key(a.T).endswith(",2,F)")
    ro = np.zeros(3)
    ro.flags.writeable = False
    assert native.type_key(ro).endswith(",1,C,ro)")
    assert native.type_key(True) == native.type_key(np.bool_(False)) == "bool"
    assert native.type_key(3) == native.type_key(np.int64(3)) == "<i8"
    assert native.type_key(2.5) == native.type_key(np.float64(1)) == "<f8"
    assert native.type_key(np.int32(1)) == "<i4"
    ei = engine_input(CASES["default"])
    key = native.type_key(ei.units)
    assert key.startswith("Units(array([('', '<i8')],1,C),array([('', '|b1')],1,C)") and key.endswith(",<i8)")
    with pytest.raises(TypeError, match="no native type for str"):
        native.type_key("x")


def test_a_failed_build_is_recorded_and_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that cannot finish leaves ``failed.txt`` with the reason; loading then gives None (the JIT
    engine) at once instead of building again at every start."""
    monkeypatch.setenv("RESPONSESIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "BUILD_TIMEOUT_S", 0.001)
    with pytest.raises(native.NativeBuildError, match="could not build the native engine"):
        native.build()
    assert native.has_failed() and "timed out" in native.failed_path().read_text()
    assert not native.is_built()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the failure is known: no new build, no warning
        assert native.load.__wrapped__() is None  # type: ignore[attr-defined]
    monkeypatch.setenv("RESPONSESIM_ENGINE", "jit")
    assert not native.wanted()
