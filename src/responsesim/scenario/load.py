"""Load a scenario: TOML text -> validated ScenarioSpec -> building graph -> compiled Params.

Every failure is a ``ScenarioError`` naming the file, the field and (for TOML) the line.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from responsesim.errors import read_input_text
from responsesim.params import CalibratedParams, CalibrationError, load_calibration
from responsesim.scenario.building import (
    EXIT_CODE,
    BuildingFileError,
    BuildingGraph,
    apply_overrides,
    compile_building,
    load_building_file,
    template,
)
from responsesim.scenario.compile import Params, compile_params
from responsesim.scenario.errors import (
    ScenarioError,
    from_toml_decode_error,
    from_validation_error,
    locate_toml_line,
)
from responsesim.scenario.schema import ScenarioSpec

DEFAULT_NAME = "<built-in default scenario>"


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: its spec, source text and hash, compiled building and parameters."""

    spec: ScenarioSpec
    source: str
    text: str
    sha256: str
    building: BuildingGraph
    calibration: CalibratedParams
    params: Params
    base_dir: Path | None = None

    def with_run_settings(self, replications: int | None = None, seed: int | None = None) -> Scenario:
        """This scenario with the replication count and/or seed replaced (None keeps the scenario's)."""
        changes = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
        return self.with_updates(**changes) if changes else self

    def with_updates(self, **changes: object) -> Scenario:
        """A copy with top-level fields of the spec replaced (e.g. replications, seed), recompiled.

        Invalid values raise ``ScenarioError`` naming the field (file: "command line")."""
        data = self.spec.model_dump()
        data.update(changes)
        try:
            spec = ScenarioSpec.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, "command line", None, ScenarioSpec) from exc
        return build(spec, self.source, self.text, self.calibration, base_dir=self.base_dir)


def _err(message: str, source: str, text: str, loc: tuple[str | int, ...]) -> ScenarioError:
    field = ".".join(str(p) for p in loc)
    line = locate_toml_line(text, loc) if text else None
    return ScenarioError(message, file=source, field=field, line=line)


def parse_text(text: str, source: str = "<text>") -> ScenarioSpec:
    """Parse and validate scenario TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise from_toml_decode_error(exc, source, text) from exc
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, source, text, ScenarioSpec) from exc


def build(
    spec: ScenarioSpec,
    source: str,
    text: str,
    calibration: CalibratedParams | None = None,
    base_dir: Path | None = None,
) -> Scenario:
    """Resolve the building, check cross-references and compile ``Params``."""
    bsec = spec.building
    if bsec.template is not None:
        try:
            bspec = template(bsec.template)
        except KeyError as exc:
            raise _err(str(exc.args[0]), source, text, ("building", "template")) from exc
    else:
        assert bsec.file is not None
        path = Path(bsec.file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            bspec = load_building_file(path)
        except BuildingFileError as exc:
            raise _err(f"building file error: {exc}", source, text, ("building", "file")) from exc
    try:
        bspec = apply_overrides(bspec, bsec)
    except (ValueError, ValidationError) as exc:
        raise _err(
            str(exc).splitlines()[0] if str(exc) else repr(exc), source, text, ("building", "spaces")
        ) from exc
    try:
        graph = compile_building(bspec)
    except ValueError as exc:  # e.g. a graph that is not connected: a clear error, never a traceback
        raise _err(str(exc).splitlines()[0] if str(exc) else repr(exc), source, text, ("building",)) from exc
    for loc, space in (
        (("attacker", "entry_space"), spec.attacker.entry_space),
        (("responders", "entry_space"), spec.responders.entry_space),
    ):
        if space is None:
            continue
        exits = ", ".join(graph.space_ids[i] for i in graph.exits)
        if space not in graph.space_ids:
            raise _err(f"unknown space {space!r} (exits: {exits})", source, text, loc)
        if graph.kind[graph.index(space)] != EXIT_CODE:
            raise _err(f"{space!r} is not an exit (exits: {exits})", source, text, loc)
    if int(graph.occupants.sum()) == 0:
        raise _err("the building has no occupants", source, text, ("building",))
    cal = calibration or load_calibration()
    try:
        cal = cal.with_overrides(spec.model, where="model")
    except CalibrationError as exc:
        key = str(exc).split(":")[0].split(".")[-1]
        raise _err(str(exc).split(": ", 1)[-1], source, text, ("model", key)) from exc
    params = compile_params(spec, graph, cal)
    return Scenario(
        spec=spec,
        source=source,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        building=graph,
        calibration=cal,
        params=params,
        base_dir=base_dir,
    )


def load_scenario(path: Path | str | None = None, calibration: CalibratedParams | None = None) -> Scenario:
    """Load a scenario file, or the built-in default scenario when ``path`` is None."""
    if path is None:
        return loads(default_scenario_text(), DEFAULT_NAME, calibration)
    p = Path(path)
    text = read_input_text(p, "scenario file", ScenarioError)
    spec = parse_text(text, str(p))
    return build(spec, str(p), text, calibration, base_dir=p.parent)


def loads(text: str, source: str = "<text>", calibration: CalibratedParams | None = None) -> Scenario:
    """Load a scenario from TOML text (relative building files resolve against the working directory)."""
    return build(parse_text(text, source), source, text, calibration, base_dir=Path.cwd())


def default_scenario_text() -> str:
    """The built-in default scenario (the three-floor school), as TOML."""
    from importlib import resources

    return resources.files("responsesim").joinpath("data/default_scenario.toml").read_text(encoding="utf-8")
