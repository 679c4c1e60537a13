"""Numba's ``njit`` with the engine's settings, and the user-writable cache it compiles into.

Importing this module points Numba's on-disk cache at the user's cache directory
(``$RESPONSESIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/responsesim``, else ``~/.cache/responsesim``) before
Numba is imported, so an install in a read-only location still compiles once per machine and user.

Numba checks a cached function against its own source file only, not the files of the functions it
calls, so a change to a rule would silently reuse a kernel compiled from the old rule. The cache
therefore lives in a sub-directory named after a fingerprint of every engine source file (and the Numba
and Python versions): any change to the engine compiles afresh. An explicit ``NUMBA_CACHE_DIR`` is
respected. Every engine module takes ``njit`` from here.
"""

from __future__ import annotations

import os

from responsesim.engine.version import ENGINE_SOURCES, cache_dir, fingerprint

FINGERPRINT = fingerprint()
if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir() / "numba" / FINGERPRINT)

import numba  # noqa: E402  (the cache directory must be set before Numba reads its configuration)


def njit(*args, **kw):  # type: ignore[no-untyped-def]
    """``numba.njit`` with on-disk caching (and no fast-math: IEEE results, reproducible everywhere).

    Used bare (``@njit``), with a signature (``@njit("float64(float64)")``) or with options."""
    kw.setdefault("cache", True)
    if len(args) == 1 and callable(args[0]):
        return numba.njit(**kw)(args[0])
    return numba.njit(*args, **kw)


__all__ = ["ENGINE_SOURCES", "FINGERPRINT", "cache_dir", "fingerprint", "njit"]
