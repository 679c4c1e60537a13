"""Numba's ``njit`` with the engine's settings, and the user-writable cache it compiles into.

Importing this module points Numba's on-disk cache at the user's cache directory
(``$RESPONSESIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/responsesim``, else ``~/.cache/responsesim``) before
Numba is imported, so an install in a read-only location still compiles once per machine and user.

Numba checks a cached function against its own source file only, not the files of the functions it
calls, so a change to a rule would silently reuse a kernel compiled from the old rule. The cache
therefore lives in a sub-directory named after a fingerprint of every engine source file (and the Numba
and Python versions): any change to the engine compiles afresh. A user's ``NUMBA_CACHE_DIR`` moves the
root; the fingerprint's sub-directory is always added. The directory is set on ``numba.config`` itself,
not only in the environment: Numba reads its environment once, when first imported, and a process that
imported Numba earlier (a test, a library) would otherwise cache next to the sources under
``__pycache__``, keyed on ``kernel.py`` alone, and a later native build would take a kernel compiled from
old rules from there (seen: the native module then lagged a rule change the JIT had). Nothing is written to
the environment, so child processes (the native build) add their own fingerprint. Every engine module
takes ``njit`` from here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numba

from responsesim.engine.version import ENGINE_SOURCES, cache_dir, fingerprint

FINGERPRINT = fingerprint()
#: where Numba caches this engine version's compiled functions
NUMBA_CACHE = Path(os.environ.get("NUMBA_CACHE_DIR") or cache_dir() / "numba") / FINGERPRINT
numba.config.CACHE_DIR = str(NUMBA_CACHE)  # type: ignore[attr-defined]  # set at import by numba


def njit(*args, **kw):  # type: ignore[no-untyped-def]
    """``numba.njit`` with on-disk caching (and no fast-math: IEEE results, reproducible everywhere).

    Used bare (``@njit``), with a signature (``@njit("float64(float64)")``) or with options."""
    kw.setdefault("cache", True)
    if len(args) == 1 and callable(args[0]):
        return numba.njit(**kw)(args[0])
    return numba.njit(*args, **kw)


__all__ = ["ENGINE_SOURCES", "FINGERPRINT", "NUMBA_CACHE", "cache_dir", "fingerprint", "njit"]
