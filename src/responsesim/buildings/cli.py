"""``responsesim building import|check|show``: bring a real floor plan in, validate it, draw it.

Bad input (a malformed file, an unknown ``--format``, a plan with no exit) prints one message naming the
file and the entity and exits with code 2; nothing is written.
"""

from __future__ import annotations

import json
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from responsesim.buildings.errors import BuildingImportError

if TYPE_CHECKING:  # the command line starts without numpy / scipy; they load when a command runs
    from responsesim.buildings.report import ImportReport
    from responsesim.scenario.building import BuildingSpec

building_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Import a building model (IFC, GeoJSON, DXF) into a building file; check or draw a building file.",
)
err = Console(stderr=True)
EXIT_BAD_INPUT = 2

FormatOption = Annotated[
    str | None, typer.Option("--format", help="ifc, geojson or dxf (default: from the file's suffix)")
]
LayersOption = Annotated[
    Path | None, typer.Option("--layers", help="DXF only: a TOML map of your layer names to roles")
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _is_geojson(path: Path) -> bool:
    """A ``.json`` file holding a GeoJSON FeatureCollection (else it is a building graph file)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("type") == "FeatureCollection"


def load_any(
    path: Path, fmt: str | None = None, layers: Path | None = None
) -> tuple[BuildingSpec, ImportReport | None]:
    """A building from a graph file (``.toml``, ``.json``) or, imported in memory, from a floor plan."""
    from responsesim.buildings.importer import import_building
    from responsesim.scenario.building import load_building_file

    suffix = path.suffix.lower()
    if (
        fmt is None
        and layers is None
        and (suffix == ".toml" or (suffix == ".json" and not _is_geojson(path)))
    ):
        return load_building_file(path), None
    return import_building(path, fmt, layers)


def _summary(spec: BuildingSpec) -> str:
    from responsesim.scenario.building import compile_building

    compile_building(spec)  # the engine's own check: every space reaches an exit
    floors = sorted({s.floor for s in spec.spaces})
    exits = [s.id for s in spec.spaces if s.kind == "exit"]
    shown = ", ".join(exits[:6]) + (", ..." if len(exits) > 6 else "")
    return (
        f"{spec.name!r}: {len(spec.spaces)} spaces on {len(floors)} floor(s) "
        f"({', '.join(map(str, floors))}), {len(spec.edges)} edges, {len(exits)} exits ({shown}), "
        f"{sum(s.occupants for s in spec.spaces)} occupants, default entry {spec.default_entry!r}"
    )


def _print_report(report: ImportReport, to_stderr: bool) -> None:
    console = err if to_stderr else Console()
    for line in report.lines():
        # wrapped to the terminal (80 columns and up), list items with a hanging indent
        indent = " " * (len(line) - len(line.lstrip(" -")) if line.lstrip().startswith("-") else 0)
        for part in textwrap.wrap(line, width=max(console.width, 40), subsequent_indent=indent) or [""]:
            console.print(escape(part), highlight=False, soft_wrap=True)


@building_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="building model: .ifc, .geojson / .json or .dxf")],
    out: Annotated[Path, typer.Option("--out", help="building file to write (.toml)")],
    fmt: FormatOption = None,
    layers: LayersOption = None,
    fill: Annotated[
        float, typer.Option("--fill", help="starting occupants as a share of capacity where not given")
    ] = 0.8,
    name: Annotated[
        str | None, typer.Option("--name", help="the building's name (default: the model's)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON object")] = False,
) -> None:
    """Import a building model and write a building file; print what was inferred and what could not be."""
    from responsesim.buildings.importer import import_building
    from responsesim.buildings.toml_out import dumps, write_atomic
    from responsesim.scenario.building import BuildingSpec

    if out.suffix.lower() != ".toml":
        _fail(f"--out {out}: the building file is written as TOML: give a .toml name")
    if not out.parent.exists():
        _fail(f"--out {out}: directory {out.parent} does not exist")
    try:
        spec, report = import_building(file, fmt, layers, fill=fill, name=name)
    except BuildingImportError as exc:
        _fail(str(exc))
        return
    header = [
        f"Imported by `responsesim building import` from {file.name} ({report.format}).",
        "What was inferred and what could not be: `responsesim building check` on the source.",
    ]
    text = dumps(spec, header)
    BuildingSpec.model_validate(tomllib.loads(text))  # what is written reads back as the same building
    try:
        write_atomic(out, text)
    except OSError as exc:
        _fail(f"--out {out}: cannot write ({exc.strerror})")
    if as_json:
        obj = {"report": report.to_json(), "out": str(out)}
        sys.stdout.write(json.dumps(obj, indent=2) + "\n")
        return
    _print_report(report, to_stderr=False)
    Console().print(f"wrote {escape(str(out))}", highlight=False)


@building_app.command("check")
def check_cmd(
    file: Annotated[Path, typer.Argument(help="building file (.toml / .json graph) or model to import")],
    fmt: FormatOption = None,
    layers: LayersOption = None,
) -> None:
    """Validate a building file (or a model, imported in memory): exit 0 when usable, 2 with the problem."""
    from responsesim.scenario.building import BuildingFileError

    try:
        spec, report = load_any(file, fmt, layers)
        summary = _summary(spec)
    except (BuildingImportError, BuildingFileError) as exc:
        _fail(str(exc))
        return
    except ValueError as exc:  # pragma: no cover - validated specs compile
        _fail(f"{file}: {exc}")
        return
    if report is not None:
        _print_report(report, to_stderr=False)
    Console().print(f"ok: {escape(summary)}", highlight=False)


@building_app.command("show")
def show_cmd(
    file: Annotated[Path, typer.Argument(help="building file (.toml / .json graph) or model to import")],
    png: Annotated[Path, typer.Option("--png", help="PNG file to write")],
    fmt: FormatOption = None,
    layers: LayersOption = None,
    labels: Annotated[bool, typer.Option("--labels/--no-labels", help="write space ids on the plan")] = True,
) -> None:
    """Draw a building's plan, floor by floor, to a PNG."""
    from responsesim.scenario.building import BuildingFileError

    if not png.parent.exists():
        _fail(f"--png {png}: directory {png.parent} does not exist")
    try:
        spec, _ = load_any(file, fmt, layers)
    except (BuildingImportError, BuildingFileError) as exc:
        _fail(str(exc))
        return
    from responsesim.buildings.plot import save_plan

    try:
        save_plan(spec, png, labels=labels)
    except OSError as exc:
        _fail(f"--png {png}: cannot write ({exc.strerror})")
    Console().print(f"wrote {escape(str(png))}", highlight=False)
