"""Engine backends selected by name: ``numpy`` (the vectorised reference kernel) and ``numba``.

Both compute the same outcome table for the same seed; ``numba`` runs compiled kernels over the same
arrays (``engine/fast.py``). Numba is imported only when the ``numba`` backend is used, so a missing
Numba never breaks ``import responsesim``.
"""

from __future__ import annotations

BACKENDS: tuple[str, ...] = ("numpy", "numba")
DEFAULT_BACKEND = "numpy"


def check_backend(name: str) -> str:
    """``name`` if it is a known backend, else ``ValueError`` listing the choices."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return name


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "check_backend"]
