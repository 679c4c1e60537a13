"""How the engine runs. There is one engine (the compiled rules of ``engine/rules.py``); the name is kept
so stored results say what produced them and old command lines give a clear message."""

from __future__ import annotations

BACKENDS: tuple[str, ...] = ("numba",)
DEFAULT_BACKEND = "numba"


def check_backend(name: str) -> str:
    """``name`` if it is a known backend, else ``ValueError`` saying what to use."""
    if name not in BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}: there is one engine, the compiled one ('numba'); "
            "the separate NumPy engine was removed"
        )
    return name


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "check_backend"]
