"""The compiled engine without Numba at run time: the kernel built ahead of time into an extension module.

Loading functions from Numba's cache costs about a second at every start (Numba's import and its
compiler's initialisation), more than 10,000 replications take. So the kernel's entry points
(``engine/kernel.py``: ``run_batch``, ``start_all``, ``step_all``, ``outcomes_all``, and
``rng.replication_keys``) are also compiled ahead of time, from the same rules by the same compiler, into a
Python extension module (``engine/native_build.py``, with Numba's ``pycc``), once per machine and engine
version, in the user cache (``<cache>/native/<fingerprint>/``). Importing it takes milliseconds and does
not import Numba.

A native function trusts its arguments' memory layout, so every call first compares each argument's
type key (dtype, dimensions, layout of every array, recursively through the containers) with the key it
was built for; a mismatch runs the same call through Numba's JIT instead, with a warning. When the module
cannot be built (no C compiler, say) the failure is recorded beside it and the JIT engine is used, so the
build is not retried at every start. ``RESPONSESIM_ENGINE=jit`` skips the native module altogether.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from responsesim.engine.version import cache_dir, fingerprint

#: the entry points a native module exports (the kernel's four and the replication keys)
ENTRY_POINTS: tuple[str, ...] = ("run_batch", "start_all", "step_all", "outcomes_all", "replication_keys")
#: the file of type keys beside the module
KEYS_FILE = "types.json"
#: how long a build may take before it is given up (s)
BUILD_TIMEOUT_S = 1200
#: how long a build takes on the reference machine (2 cores), for the message users see
BUILD_SECONDS = 60


class NativeBuildError(RuntimeError):
    """The native module could not be built (the reason is also kept in ``failed.txt`` beside it)."""


def module_name() -> str:
    """The extension module's name: unique per engine version, so two versions never share a file."""
    return "responsesim_engine_" + fingerprint()


def directory() -> Path:
    """Where this engine version's native module lives."""
    return cache_dir() / "native" / fingerprint()


def module_path() -> Path:
    return directory() / (module_name() + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))


def keys_path() -> Path:
    """The type keys the module was built for (written last: its presence means the build finished)."""
    return directory() / KEYS_FILE


def failed_path() -> Path:
    return directory() / "failed.txt"


def wanted() -> bool:
    """Whether the native module is to be used (``RESPONSESIM_ENGINE`` is not ``jit``)."""
    return os.environ.get("RESPONSESIM_ENGINE", "native").strip().lower() != "jit"


def is_built() -> bool:
    return module_path().exists() and keys_path().exists()


def has_failed() -> bool:
    return failed_path().exists()


# ------------------------------------------------------------------------------------------ type keys


@functools.lru_cache(maxsize=1024)
def _array_key(dtype: np.dtype, ndim: int, layout: str, writeable: bool, aligned: bool) -> str:
    """The key of an array type (cached: a run checks about 150 arrays at every call)."""
    flags = ("" if writeable else ",ro") + ("" if aligned else ",unaligned")
    return f"array({dtype.descr},{ndim},{layout}{flags})"


def type_key(x: Any) -> str:
    """What Numba's type of ``x`` fixes about its memory: dtype, dimensions and layout of an array,
    recursively for the fields of a container (NamedTuple), the width of a scalar."""
    if isinstance(x, np.ndarray):
        fl = x.flags
        layout = "C" if fl.c_contiguous else "F" if fl.f_contiguous else "A"
        return _array_key(x.dtype, x.ndim, layout, fl.writeable, fl.aligned)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x).__name__ + "(" + ",".join(type_key(v) for v in x) + ")"
    if isinstance(x, bool | np.bool_):
        return "bool"
    if isinstance(x, int):
        return "<i8"
    if isinstance(x, float):
        return "<f8"
    if isinstance(x, np.generic):
        return x.dtype.str
    raise TypeError(f"no native type for {type(x).__name__}")


def type_keys(args: tuple[Any, ...]) -> list[str]:
    return [type_key(a) for a in args]


# ------------------------------------------------------------------------------------------ the module


class Native:
    """A loaded native module: its entry points, each checking its arguments against the build."""

    def __init__(self, module: ModuleType, keys: dict[str, list[str]]) -> None:
        self.module = module
        self.keys = keys

    def function(self, name: str, jit: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """Entry point ``name``; calls whose arguments differ from the build's go to ``jit()`` instead."""
        native = getattr(self.module, name)
        want = self.keys[name]

        def call(*args: Any) -> Any:
            got = type_keys(args)
            if got != want:
                bad = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
                what = (
                    f"argument {bad + 1} of {name} is {got[bad]}, built for {want[bad]}"
                    if bad is not None
                    else f"{name} got {len(got)} arguments, built for {len(want)}"
                )
                warnings.warn(
                    f"native engine: {what}; running this call through Numba's JIT",
                    RuntimeWarning,
                    stacklevel=2,
                )
                return jit()(*args)
            return native(*args)

        call.__name__ = name
        return call


def build_message() -> str:
    return (
        f"compiling the simulation engine (about {BUILD_SECONDS} s, once per machine; "
        f"cached in {directory()})"
    )


def _say_plainly() -> contextlib.AbstractContextManager[Any]:
    print(build_message() + " ...", file=sys.stderr, flush=True)
    return contextlib.nullcontext()


#: wraps a build, so that whoever started it can say so (the command line shows a live spinner);
#: by default one line on stderr
announce: Callable[[], contextlib.AbstractContextManager[Any]] = _say_plainly


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two test workers starting at once build once)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build() -> None:
    """Build this engine version's native module in a child process (about a minute on 2 cores), unless it
    is built; ``NativeBuildError`` (and ``failed.txt``) when it cannot be."""
    d = directory()
    with _lock(d / "build.lock"):
        if is_built():
            return
        cmd = [sys.executable, "-m", "responsesim.engine.native_build", str(d), module_name()]
        try:
            with announce():
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
                )
            ok, log = proc.returncode == 0 and is_built(), proc.stdout + proc.stderr
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, log = False, str(exc)
        if not ok:
            tail = "\n".join(log.strip().splitlines()[-20:])
            failed_path().write_text(tail + "\n")
            raise NativeBuildError(f"could not build the native engine in {d}:\n{tail}")


@functools.cache
def load() -> Native | None:
    """This engine version's native module, building it if needed; None when it is not wanted or cannot
    be built (the JIT engine is used then)."""
    if not wanted() or has_failed():
        return None
    if not is_built():
        try:
            build()
        except NativeBuildError as exc:
            warnings.warn(f"{exc}\nusing Numba's JIT engine instead", RuntimeWarning, stacklevel=2)
            return None
    spec = importlib.util.spec_from_file_location(module_name(), module_path())
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Native(module, json.loads(keys_path().read_text()))


__all__ = [
    "BUILD_SECONDS",
    "BUILD_TIMEOUT_S",
    "ENTRY_POINTS",
    "KEYS_FILE",
    "Native",
    "NativeBuildError",
    "announce",
    "build",
    "build_message",
    "directory",
    "has_failed",
    "is_built",
    "load",
    "module_name",
    "module_path",
    "type_key",
    "type_keys",
    "wanted",
]
