"""Write a ``BuildingSpec`` as a TOML building file (read back by ``load_building_file``), atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from responsesim.scenario.building import BuildingSpec


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v}")
        return repr(v)
    if isinstance(v, str):
        # a JSON string is a TOML basic string, but for DEL, which TOML wants escaped
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps(spec: BuildingSpec, header: list[str] | None = None) -> str:
    """The TOML text: ``header`` lines as comments, the root keys, then ``[[spaces]]`` and ``[[edges]]``.

    Space keys equal to their defaults (lockable and door_window from the kind, zero capacity, ...) are
    still written, so the file says everything the engine will use."""
    lines = [f"# {h}" for h in header or []]
    lines += [
        f"name = {_value(spec.name)}",
        f"description = {_value(spec.description)}",
        f"default_entry = {_value(spec.default_entry)}",
    ]
    for s in spec.spaces:
        lines += ["", "[[spaces]]"]
        for key, v in s.model_dump().items():
            if v is None:
                continue
            lines.append(f"{key} = {_value(v)}")
    for e in spec.edges:
        lines += ["", "[[edges]]"]
        lines += [f"{k} = {_value(v)}" for k, v in e.model_dump().items()]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename: a reader
    never sees half a file, and a failure leaves any old file as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_mode() -> int:
    """The permissions a new file gets here (0o666 less the umask; ``mkstemp`` alone gives 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
