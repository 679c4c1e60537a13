"""Build the engine's native module (``engine/native.py``): run as ``python -m
responsesim.engine.native_build DIR MODULE`` in a child process, since it imports Numba and a C compiler.

The entry points of ``engine/kernel.py`` (and ``rng.replication_keys``) are compiled by Numba's ahead-of-
time compiler (``numba.pycc``) for this machine's CPU, with the signatures of the containers the engine
really passes (built here by the same functions from the built-in scenario), into ``DIR/MODULE<ext>``.
``run_batch`` releases the GIL as the JIT kernel does, so batches still run on parallel threads. The
type keys of those signatures are written last, to ``DIR/types.json``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any


def sample_args() -> dict[str, tuple[Any, ...]]:
    """Arguments of every entry point, as the engine builds them (engine/run.py) for the built-in scenario."""
    import numpy as np

    from responsesim.engine.arrays import engine_input
    from responsesim.engine.types import empty_outcomes, empty_state, make_theta, scratch
    from responsesim.scenario.load import load_scenario

    p = load_scenario().params
    ei = engine_input(p)
    reps = np.arange(2, dtype=np.int64)
    keys = np.zeros(2, dtype=np.uint64)
    th = make_theta(ei.base_theta, 2)
    st = empty_state(1, p.n_groups, p.n_units, p.n_spaces, p.n_occupants)
    wk = scratch(p.n_units, p.n_spaces, p.n_groups, p.n_occupants)
    out = empty_outcomes(2)
    b, s, u, f = ei.building, ei.scenario, ei.units, ei.forcing
    return {
        "run_batch": (reps, keys, th, b, s, u, f, ei.group_space, ei.group_size, st, wk, out),
        "start_all": (reps, keys, th, b, s, u, ei.group_space, ei.group_size, st),
        "step_all": (st, th, b, s, u, f, wk),
        "outcomes_all": (st, f, s, u, wk, out),
        "replication_keys": (int(p.seed), reps),
    }


def build(directory: Path, module: str) -> None:
    """Compile the native module into ``directory`` (atomically: a half-built module is never loaded)."""
    import numba.pycc.compiler as pycc_compiler
    from numba import typeof, types
    from numba.core.compiler import Flags
    from numba.pycc import CC

    from responsesim.engine import kernel, rng
    from responsesim.engine.native import ENTRY_POINTS, KEYS_FILE, type_keys

    class ReleaseGil(Flags):
        """pycc's wrappers hold the GIL unless told otherwise; the JIT kernel's ``nogil`` does the same."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.release_gil = True  # type: ignore[assignment]

    pycc_compiler.Flags = ReleaseGil  # type: ignore[misc]
    args = sample_args()
    returns = {"step_all": types.boolean, "replication_keys": types.uint64[::1]}
    functions = {name: getattr(kernel, name, None) or getattr(rng, name) for name in ENTRY_POINTS}
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        cc = CC(module)
        cc.output_dir = tmp
        cc.target_cpu = "host"  # built on the machine that runs it, as the JIT would
        cc.verbose = False
        for name, fn in functions.items():
            sig = returns.get(name, types.void)(*(typeof(a) for a in args[name]))
            cc.export(name, sig)(fn.py_func)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pycc's own deprecation notice
            cc.compile()
        (built,) = Path(tmp).glob(module + "*")
        os.replace(built, directory / built.name)
    keys = {name: type_keys(args[name]) for name in ENTRY_POINTS}
    tmp_keys = directory / (KEYS_FILE + ".tmp")
    tmp_keys.write_text(json.dumps(keys, indent=1) + "\n")
    os.replace(tmp_keys, directory / KEYS_FILE)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m responsesim.engine.native_build DIR MODULE", file=sys.stderr)
        return 2
    build(Path(argv[0]), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
