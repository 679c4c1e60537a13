"""The model version: a fingerprint of the engine's source, so stored results can name the model rules
that produced them and a store made by other rules is never resumed silently.

Light on purpose (no Numba import): sweeps and stores read it before any simulation.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
from importlib import metadata
from pathlib import Path

#: the modules whose source decides what the engine computes (and what Numba compiles)
ENGINE_SOURCES = ("codes.py", "parameters.py", "engine/types.py", "engine/rng.py", "engine/rules.py",
                  "engine/kernel.py", "engine/jit.py", "engine/version.py", "engine/native.py",
                  "engine/native_build.py")  # fmt: skip


def cache_dir() -> Path:
    """The directory holding responsesim's compiled engine (created on first use):
    ``$RESPONSESIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/responsesim``, else ``~/.cache/responsesim``."""
    base = os.environ.get("RESPONSESIM_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "responsesim"


@functools.cache
def fingerprint(with_toolchain: bool = True) -> str:
    """16 hex digits identifying the engine's source (and, for the compile cache, Numba and Python); read
    once per process (results and stores ask for it often)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for rel in ENGINE_SOURCES:
        h.update(rel.encode())
        h.update((root / rel).read_bytes())
    if with_toolchain:
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(metadata.version("numba").encode())
        h.update(sys.version.encode())
    return h.hexdigest()[:16]


def model_version() -> str:
    """The engine's model version: ``model-`` and the fingerprint of its source (not of the toolchain:
    the numbers do not depend on the Numba or Python version)."""
    return "model-" + fingerprint(with_toolchain=False)


__all__ = ["ENGINE_SOURCES", "cache_dir", "fingerprint", "model_version"]
