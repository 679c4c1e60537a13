"""Compile the engine once per machine, and say so.

The first use of the compiled engine on a machine (or after a change to the engine's source, or to the
Numba or Python version) compiles it, about 25 s on 2 cores, into the user cache (``engine/jit.py``);
afterwards loading it takes a fraction of a second. ``is_compiled()`` tells whether a compile is ahead,
so a command can say so (with a live spinner) instead of looking frozen; ``warm()`` does it.
"""

from __future__ import annotations

from pathlib import Path

from responsesim.engine import jit

#: how long the first compile takes on the reference machine (2 cores), for the message users see
COMPILE_SECONDS = 25


def marker() -> Path:
    """The file that records a finished compile of this engine version in the cache."""
    import os

    return Path(os.environ["NUMBA_CACHE_DIR"]) / f"compiled-{jit.FINGERPRINT}"


def is_compiled() -> bool:
    """Whether this engine version has been compiled into the cache already."""
    return marker().exists()


def compile_message() -> str:
    return (
        f"compiling the simulation engine (about {COMPILE_SECONDS} s, once per machine; "
        f"cached in {marker().parent})"
    )


def warm() -> None:
    """Load (or compile) the batch engine by running one replication of the built-in scenario."""
    import numpy as np

    from responsesim.engine.run import run_outcomes
    from responsesim.scenario.load import load_scenario

    run_outcomes(load_scenario().params, np.zeros(1, dtype=np.int64))  # no outcome table: no pandas
    path = marker()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


__all__ = ["COMPILE_SECONDS", "compile_message", "is_compiled", "marker", "warm"]
