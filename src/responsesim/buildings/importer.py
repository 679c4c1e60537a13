"""The whole import: pick the reader by ``--format`` or the file's suffix, read, infer."""

from __future__ import annotations

from pathlib import Path

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.graph import InferOptions, infer
from responsesim.buildings.plan import Plan
from responsesim.buildings.report import ImportReport
from responsesim.scenario.building import BuildingSpec

FORMATS = ("ifc", "geojson", "dxf")
SUFFIXES = {".ifc": "ifc", ".geojson": "geojson", ".json": "geojson", ".dxf": "dxf"}


def detect_format(path: Path, fmt: str | None) -> str:
    """``fmt`` when given (checked), else from the suffix; ``BuildingImportError`` when neither says."""
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise BuildingImportError(
                f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", file=str(path), field="--format"
            )
        return fmt.lower()
    found = SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise BuildingImportError(
            f"cannot tell the format from the suffix {Path(path).suffix!r}: give --format "
            f"({', '.join(FORMATS)})",
            file=str(path),
            field="--format",
        )
    return found


def read_plan(path: Path, fmt: str | None = None, layers: Path | None = None) -> Plan:
    """The floor plan in ``path`` (``layers``: a DXF layer map, ``docs/buildings.md``)."""
    kind = detect_format(path, fmt)
    if layers is not None and kind != "dxf":
        raise BuildingImportError("--layers applies to DXF files only", file=str(path), field="--layers")
    if kind == "geojson":
        from responsesim.buildings.geojson import read_geojson

        return read_geojson(path)
    if kind == "ifc":
        from responsesim.buildings.ifc import read_ifc

        return read_ifc(path)
    from responsesim.buildings.dxf import read_dxf

    return read_dxf(path, layers)


def import_building(
    path: Path,
    fmt: str | None = None,
    layers: Path | None = None,
    fill: float = 0.8,
    name: str | None = None,
) -> tuple[BuildingSpec, ImportReport]:
    """Read and infer; every problem with the input raises ``BuildingImportError``."""
    if not 0.0 <= fill <= 1.0:
        raise BuildingImportError(f"--fill must be between 0 and 1, not {fill:g}", field="--fill")
    plan = read_plan(Path(path), fmt, layers)
    return infer(plan, InferOptions(fill=fill, name=name))
