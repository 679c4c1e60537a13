"""Sweep files: which scenario, which parameters, how many replications per point.

```toml
[sweep]
name = "entry delay"
base = ""                    # scenario TOML (relative to this file), empty = built-in default
replications_per_point = 200
seed = 1
chunk_size = 50              # replications per task

[[parameter]]
path = "doctrine.kind"       # dotted path into the scenario
values = ["hesitate"]

[[parameter]]
path = "doctrine.delay_s"
range = [0, 600]
step = 30                    # grid lo, lo+step, ..., hi

# optional: sample the `range` parameters (without `step`) instead of a grid
# [sampling]
# method = "lhs"             # or "sobol"
# n = 32
```

Points are the cartesian product of the parameters' values (with ``[sampling]``: the ``n`` sampled
combinations of the ``range`` parameters, crossed with the ``values`` parameters). Every error is a
``SweepError`` naming the file, the field and the line.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from responsesim.errors import read_input_text
from responsesim.params import CalibrationError
from responsesim.scenario.building import BuildingFileError
from responsesim.scenario.errors import (
    ScenarioError,
    format_loc,
    from_toml_decode_error,
    from_validation_error,
    locate_toml_line,
)
from responsesim.scenario.load import Scenario, build, load_scenario
from responsesim.scenario.schema import ScenarioSpec

MAX_POINTS = 100_000
RESERVED_PATHS = ("seed", "replications")


class SweepError(ScenarioError):
    """A sweep file that cannot be read, parsed or validated (``file:line: field: message``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SweepSection(_Strict):
    name: str = Field(min_length=1)
    base: str = ""
    replications_per_point: int = Field(ge=1, le=10_000_000)
    seed: int = Field(default=20260101, ge=0, lt=2**63)
    chunk_size: int = Field(default=100, ge=1, le=1_000_000)


class ParameterSpec(_Strict):
    path: str = Field(min_length=1)
    values: list[Any] | None = None
    range: tuple[float, float] | None = None
    step: float | None = Field(default=None, gt=0)
    integer: bool = Field(default=False, description="round sampled values to whole numbers")

    @model_validator(mode="after")
    def _one_kind(self) -> ParameterSpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either 'values' or 'range' (not both)")
        if self.values is not None:
            if not self.values:
                raise ValueError("'values' is empty")
            if self.step is not None:
                raise ValueError("'step' goes with 'range', not 'values'")
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("'range' bounds must be finite")
            if hi < lo:
                raise ValueError(f"'range' must be [low, high] with low <= high, not [{lo}, {hi}]")
        return self


class SamplingSpec(_Strict):
    method: Literal["lhs", "sobol"]
    n: int = Field(ge=1, le=MAX_POINTS)


class SweepFile(_Strict):
    sweep: SweepSection
    parameter: list[ParameterSpec] = Field(min_length=1)
    sampling: SamplingSpec | None = None


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index, parameter values (path -> value) and compiled scenario."""

    point_id: int
    values: dict[str, Any]
    scenario: Scenario

    @property
    def params_json(self) -> str:
        return json.dumps(self.values)

    @property
    def scenario_hash(self) -> str:
        canon = json.dumps(self.scenario.spec.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its file text, settings, and points (each with its compiled scenario)."""

    file: str
    text: str
    name: str
    seed: int
    replications_per_point: int
    chunk_size: int
    parameters: tuple[str, ...]
    points: tuple[Point, ...]

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def sweep_id(self) -> str:
        """Hash of the file's content and the seed: the same command resumes the same sweep."""
        return hashlib.sha256(f"{self.text}\n--seed {self.seed}".encode()).hexdigest()[:16]

    def chunk_ranges(self) -> list[tuple[int, int, int]]:
        """(chunk_index, first_rep, n) of every chunk of a point (the same for all points)."""
        out = []
        for k, first in enumerate(range(0, self.replications_per_point, self.chunk_size)):
            out.append((k, first, min(self.chunk_size, self.replications_per_point - first)))
        return out

    @property
    def n_chunks(self) -> int:
        return len(self.points) * len(self.chunk_ranges())


def _err(message: str, file: str, text: str, loc: tuple[str | int, ...]) -> SweepError:
    return SweepError(message, file=file, field=format_loc(loc), line=locate_toml_line(text, loc))


def _grid(p: ParameterSpec) -> list[Any]:
    if p.values is not None:
        return list(p.values)
    assert p.range is not None and p.step is not None
    lo, hi = p.range
    count = math.floor((hi - lo) / p.step + 1e-9) + 1
    vals = [lo + k * p.step for k in range(count)]
    if p.integer or all(float(x).is_integer() for x in (lo, hi, p.step)):
        return [round(v) for v in vals]
    return [round(v, 12) for v in vals]


def _sample(spec: SweepFile, seed: int) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    assert spec.sampling is not None
    ranged = [p for p in spec.parameter if p.range is not None]
    d = len(ranged)
    engine: qmc.QMCEngine
    if spec.sampling.method == "lhs":
        engine = qmc.LatinHypercube(d=d, seed=seed % 2**32)
    else:
        engine = qmc.Sobol(d=d, scramble=True, seed=seed % 2**32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sobol: n not a power of 2 loses balance, still valid
        u = engine.random(spec.sampling.n)
    lows = [p.range[0] for p in ranged if p.range is not None]
    highs = [p.range[1] for p in ranged if p.range is not None]
    x = qmc.scale(u, lows, highs) if d else u
    out = []
    for row in x:
        out.append(
            {p.path: (round(float(v)) if p.integer else float(v)) for p, v in zip(ranged, row, strict=True)}
        )
    return out


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested dict; ``KeyError`` (message) for an unknown key."""
    parts = path.split(".")
    cur: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = cur.get(part, KeyError) if isinstance(cur, dict) else KeyError
        if nxt is KeyError:
            raise KeyError(f"unknown scenario field {'.'.join(parts[: i + 1])!r}")
        if nxt is None:  # an optional table not set in the base scenario (e.g. responders.sro.doctrine)
            nxt = cur[part] = {}
        if not isinstance(nxt, dict):
            raise KeyError(f"{'.'.join(parts[: i + 1])!r} is a value, not a table")
        cur = nxt
    last = parts[-1]
    if cur and last not in cur:
        known = ", ".join(sorted(cur))
        raise KeyError(f"unknown scenario field {path!r} (fields there: {known})")
    cur[last] = value


def parse_sweep(
    text: str, file: str = "<text>", base_dir: Path | None = None, seed: int | None = None
) -> Sweep:
    """Validate sweep TOML text and build every point's scenario; ``SweepError`` on any problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        e = from_toml_decode_error(exc, file, text)
        raise SweepError(e.message, file=file, field=e.field, line=e.line) from exc
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        e = from_validation_error(exc, file, text)
        raise SweepError(e.message, file=file, field=e.field, line=e.line) from exc

    seen: set[str] = set()
    for i, p in enumerate(spec.parameter):
        loc: tuple[str | int, ...] = ("parameter", i, "path")
        if p.path in RESERVED_PATHS:
            raise _err(f"{p.path!r} is set by the sweep itself ([sweep] section)", file, text, loc)
        if p.path in seen:
            raise _err(f"parameter {p.path!r} is given twice", file, text, loc)
        seen.add(p.path)
        if spec.sampling is None and p.range is not None and p.step is None:
            raise _err("'range' needs a 'step' (or add a [sampling] section)", file, text, ("parameter", i))
        if spec.sampling is not None and p.range is not None and p.step is not None:
            raise _err(
                "with [sampling], 'range' parameters are sampled: remove 'step' (or use 'values')",
                file,
                text,
                ("parameter", i, "step"),
            )
    if spec.sampling is not None and not any(p.range is not None for p in spec.parameter):
        raise _err("[sampling] needs at least one parameter with a 'range'", file, text, ("sampling",))

    seed_used = spec.sweep.seed if seed is None else seed
    if seed_used < 0 or seed_used >= 2**63:
        raise SweepError("seed must be >= 0 and < 2**63", file=file, field="sweep.seed")
    # base scenario
    try:
        if spec.sweep.base:
            bp = Path(spec.sweep.base)
            if not bp.is_absolute() and base_dir is not None:
                bp = base_dir / bp
            base = load_scenario(bp)
        else:
            base = load_scenario(None)
    except ScenarioError as exc:
        if exc.file is None or "cannot read" in exc.message:
            raise _err(f"base scenario: {exc}", file, text, ("sweep", "base")) from exc
        raise  # an error inside the base scenario file is reported against that file
    except (BuildingFileError, CalibrationError) as exc:
        raise _err(f"base scenario: {exc}", file, text, ("sweep", "base")) from exc

    # combinations
    grid_params = [p for p in spec.parameter if spec.sampling is None or p.range is None]
    grids = [_grid(p) for p in grid_params]
    n_grid = math.prod(len(g) for g in grids)
    n_sampled = spec.sampling.n if spec.sampling is not None else 1
    if n_grid * n_sampled > MAX_POINTS:
        raise _err(f"{n_grid * n_sampled} points: at most {MAX_POINTS} allowed", file, text, ("parameter",))
    sampled = _sample(spec, seed_used) if spec.sampling is not None else [{}]
    combos: list[dict[str, Any]] = []
    for s in sampled:
        for g in itertools.product(*grids):
            values = {**dict(zip((p.path for p in grid_params), g, strict=True)), **s}
            combos.append({p.path: values[p.path] for p in spec.parameter})  # in file order

    base_data = base.spec.model_dump(mode="json")
    points: list[Point] = []
    cache: dict[str, Scenario] = {}
    for pid, values in enumerate(combos):
        data = json.loads(json.dumps(base_data))
        data["seed"] = seed_used
        for i, p in enumerate(spec.parameter):
            try:
                _set_path(data, p.path, values[p.path])
            except KeyError as exc:
                raise _err(str(exc.args[0]), file, text, ("parameter", i, "path")) from exc
        try:
            pspec = ScenarioSpec.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = format_loc(tuple(err["loc"]))
            idx = next((i for i, p in enumerate(spec.parameter) if field and field.startswith(p.path)), None)
            loc = (
                ("parameter", idx, "values" if spec.parameter[idx].values is not None else "range")
                if (idx is not None)
                else ("parameter",)
            )
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            raise _err(f"point {values}: {field}: {msg}", file, text, loc) from exc
        key = json.dumps(pspec.model_dump(mode="json"), sort_keys=True)
        if key not in cache:
            try:
                cache[key] = build(pspec, base.source, base.text, base.calibration, base_dir=base.base_dir)
            except ScenarioError as exc:
                raise _err(f"point {values}: {exc.field}: {exc.message}", file, text, ("parameter",)) from exc
        points.append(Point(pid, values, cache[key]))
    return Sweep(
        file=file,
        text=text,
        name=spec.sweep.name,
        seed=seed_used,
        replications_per_point=spec.sweep.replications_per_point,
        chunk_size=spec.sweep.chunk_size,
        parameters=tuple(p.path for p in spec.parameter),
        points=tuple(points),
    )


def load_sweep(path: Path | str, seed: int | None = None) -> Sweep:
    """Read and validate a sweep file (``seed`` overrides ``[sweep] seed``)."""
    p = Path(path)
    text = read_input_text(p, "sweep file", SweepError)
    return parse_sweep(text, str(p), base_dir=p.parent, seed=seed)
