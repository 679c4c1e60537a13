"""Compile the engine once per machine, and say so.

The first use of the engine on a machine (or after a change to the engine's source, or to the Numba or
Python version) compiles it into the user cache: the native module of ``engine/native.py`` (about a
minute on 2 cores), or, where that cannot be built, Numba's JIT cache (``engine/jit.py``). Afterwards
loading it takes a fraction of a second. ``is_compiled()`` tells whether a compile is ahead, so a command
can say so (with a live spinner) instead of looking frozen; ``warm()`` does it. Nothing here imports
Numba.
"""

from __future__ import annotations

import os
from pathlib import Path

from responsesim.engine import native
from responsesim.engine.version import cache_dir, fingerprint

#: how long the first compile takes on the reference machine (2 cores), for the message users see
COMPILE_SECONDS = native.BUILD_SECONDS


def marker() -> Path:
    """The file that records a finished compile of this engine version: the native module's type keys,
    or a marker in Numba's cache when the JIT engine is used."""
    if native.wanted() and not native.has_failed():
        return native.keys_path()
    numba_dir = Path(os.environ.get("NUMBA_CACHE_DIR") or cache_dir() / "numba") / fingerprint()
    return numba_dir / f"compiled-{fingerprint()}"


def is_compiled() -> bool:
    """Whether this engine version has been compiled into the cache already."""
    return marker().exists()


def compile_message() -> str:
    return (
        f"compiling the simulation engine (about {COMPILE_SECONDS} s, once per machine; "
        f"cached in {marker().parent})"
    )


def warm() -> None:
    """Build (or load) the engine and run one replication of the built-in scenario on it."""
    import numpy as np

    from responsesim.engine.run import run_outcomes
    from responsesim.scenario.load import load_scenario

    run_outcomes(load_scenario().params, np.zeros(1, dtype=np.int64))  # no outcome table: no pandas
    path = marker()
    if not path.exists():  # the JIT engine (the native module's marker is written by its build)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


__all__ = ["COMPILE_SECONDS", "compile_message", "is_compiled", "marker", "warm"]
