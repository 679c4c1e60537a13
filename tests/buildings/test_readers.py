"""Each reader on the same hand-made plan (``plans.py``): a door between two spaces, an exterior door, a
stair across floors, a space with no door; and each reader's own conventions and errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.buildings.plans import write_dxf, write_geojson, write_ifc

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.importer import import_building

WRITERS: dict[str, tuple[str, Callable[..., Path]]] = {
    "geojson": (".geojson", write_geojson),
    "ifc": (".ifc", write_ifc),
    "dxf": (".dxf", write_dxf),
}
EXPECTED = {
    frozenset(("room_101", "hallway")),
    frozenset(("room_201", "upper_hall")),
    frozenset(("hallway", "upper_hall")),
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_rule_in_every_format(tmp_path: Path, fmt: str) -> None:
    suffix, write = WRITERS[fmt]
    spec, report = import_building(write(tmp_path / f"plan{suffix}"))
    pairs = {frozenset((e.a, e.b)) for e in spec.edges}
    exits = [s.id for s in spec.spaces if s.kind == "exit"]
    assert len(exits) == 1 and frozenset(("hallway", exits[0])) in pairs  # the exterior door
    assert pairs >= EXPECTED  # doors between two spaces, the stair across floors
    assert "store" not in {s.id for s in spec.spaces}  # the space with no door
    assert any("store" in p for p in report.problems) and report.left_out
    by_id = {s.id: s for s in spec.spaces}
    assert by_id["room_101"].kind == "classroom" and by_id["hallway"].kind == "corridor"
    assert by_id["room_201"].floor == 2 and by_id["room_101"].polygon is not None


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_without_the_stair_the_upper_floor_is_reported(tmp_path: Path, fmt: str) -> None:
    suffix, write = WRITERS[fmt]
    spec, report = import_building(write(tmp_path / f"plan{suffix}", drop={"Stair"}))
    assert {s.floor for s in spec.spaces} == {1}
    assert any("floors with no stair" in p for p in report.problems)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_without_the_exterior_door_there_is_no_exit(tmp_path: Path, fmt: str) -> None:
    suffix, write = WRITERS[fmt]
    path = write(tmp_path / f"plan{suffix}", drop={"Main door"})
    with pytest.raises(BuildingImportError) as exc:
        import_building(path)
    assert exc.value.file == str(path) and exc.value.field == "exits"


def test_ifc_doors_joined_by_space_boundaries(tmp_path: Path) -> None:
    spec, _ = import_building(write_ifc(tmp_path / "b.ifc", boundaries=True))
    assert {frozenset((e.a, e.b)) for e in spec.edges} >= EXPECTED


def test_geojson_in_degrees_is_projected_to_metres(tmp_path: Path) -> None:
    from tests.buildings.plans import geojson_doc

    doc = geojson_doc()
    for f in doc["features"]:
        g = f["geometry"]
        if g["type"] == "Point":
            g["coordinates"] = [-80.0 + g["coordinates"][0] / 92_000, 26.0 + g["coordinates"][1] / 110_540]
        else:
            g["coordinates"] = [
                [[-80.0 + x / 92_000, 26.0 + y / 110_540] for x, y in r] for r in g["coordinates"]
            ]
    path = tmp_path / "deg.geojson"
    path.write_text(json.dumps(doc))
    spec, _ = import_building(path)
    room = next(s for s in spec.spaces if s.id == "room_101")
    xs = [p[0] for p in room.polygon or []]
    assert max(xs) - min(xs) == pytest.approx(8.0 / 92_000 * 111_320 * math.cos(math.radians(26.0)), rel=0.01)


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ([1, 2], "type", "FeatureCollection"),
        ({"type": "Feature"}, "type", "FeatureCollection"),
        ({"type": "FeatureCollection", "features": 3}, "features", "list"),
        ({"type": "FeatureCollection", "features": [{"feature_type": "unit", "properties": {"level": 1}}]},
         "features[0].geometry", "no geometry"),
        ({"type": "FeatureCollection", "features": [{"properties": {"feature_type": "unit", "level": "x"},
          "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}]},
         "features[0].properties.level", "whole number"),
        ({"type": "FeatureCollection", "features": [{"properties": {"feature_type": "unit", "level": 1},
          "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}}]},
         "features[0].geometry.coordinates[0]", "3 distinct"),
    ],
)  # fmt: skip
def test_geojson_errors_name_the_feature(tmp_path: Path, doc: object, field: str, words: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(BuildingImportError) as exc:
        import_building(path)
    assert exc.value.file == str(path) and exc.value.field == field and words in exc.value.message


def test_geojson_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n')
    with pytest.raises(BuildingImportError) as exc:
        import_building(path)
    assert exc.value.line is not None and "syntax" in exc.value.message


def test_dxf_layer_map_names_your_own_layers(tmp_path: Path) -> None:
    renamed = {
        "SPACE": "A-AREA",
        "LABEL": "A-AREA-IDEN",
        "DOOR": "A-DOOR",
        "EXIT": "A-DOOR-EXT",
        "STAIR": "A-STRS",
    }
    dxf = write_dxf(tmp_path / "own.dxf", drop={"Room 201", "Upper hall", "D2", "Stair"}, layers=renamed)
    with pytest.raises(BuildingImportError) as exc:
        import_building(dxf)
    assert "no closed polylines" in exc.value.message and exc.value.field is not None
    mapping = tmp_path / "layers.toml"
    mapping.write_text(
        'units = "m"\n[layers]\n"A-AREA" = "space"\n"a-area-iden" = "label"\n"A-DOOR" = "door"\n'
        '"A-DOOR-EXT" = { role = "exit", floor = 1 }\n"A-STRS" = "stair"\n'
    )
    spec, _ = import_building(dxf, layers=mapping)
    assert {"room_101", "hallway"} <= {s.id for s in spec.spaces}


def test_dxf_bad_layer_map_and_bad_file(tmp_path: Path) -> None:
    mapping = tmp_path / "layers.toml"
    mapping.write_text('[layers]\n"A" = "window"\n')
    with pytest.raises(BuildingImportError) as exc:
        import_building(write_dxf(tmp_path / "p.dxf"), layers=mapping)
    assert exc.value.file == str(mapping) and exc.value.field == "layers.A"
    bad = tmp_path / "bad.dxf"
    bad.write_text("0\nSECTION\n2\nNOPE\n")
    with pytest.raises(BuildingImportError) as exc:
        import_building(bad)
    assert exc.value.file == str(bad)


def test_ifc_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ifc"
    bad.write_text("not an ifc file\n")
    with pytest.raises(BuildingImportError) as exc:
        import_building(bad)
    assert exc.value.file == str(bad) and "ISO-10303-21" in exc.value.message
    trunc = tmp_path / "trunc.ifc"
    trunc.write_text(write_ifc(tmp_path / "ok.ifc").read_text()[:900])
    with pytest.raises(BuildingImportError) as exc:
        import_building(trunc)
    assert exc.value.file == str(trunc)


def test_unknown_format_and_suffix(tmp_path: Path) -> None:
    p = write_geojson(tmp_path / "plan.geojson")
    with pytest.raises(BuildingImportError) as exc:
        import_building(p, fmt="shp")
    assert exc.value.field == "--format" and "ifc, geojson, dxf" in exc.value.message
    other = tmp_path / "plan.xyz"
    other.write_text("{}")
    with pytest.raises(BuildingImportError) as exc:
        import_building(other)
    assert exc.value.field == "--format"


def test_overlapping_rooms_are_refused_naming_both(tmp_path: Path) -> None:
    """Issue 25 item 8: a plan with a room drawn twice (or an outline taking in its neighbour) is refused,
    naming both spaces, the overlap and the feature; the CLI exits 2. A sliver of shared wall is not an
    overlap."""
    from tests.buildings.plans import geojson_doc
    from typer.testing import CliRunner

    from responsesim.cli import app

    doc = geojson_doc()
    rooms = [f for f in doc["features"] if f["properties"].get("feature_type") == "unit"]
    twin = json.loads(json.dumps(rooms[0]))
    twin["properties"]["name"] = rooms[0]["properties"]["name"] + " (again)"
    doc["features"].append(twin)
    path = tmp_path / "twice.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(BuildingImportError) as exc:
        import_building(path)
    msg = exc.value.message
    assert "overlap by" in msg and "m² on floor" in msg and "(again)" not in msg  # ids, not names
    assert exc.value.file == str(path) and exc.value.field is not None
    res = CliRunner().invoke(app, ["building", "check", str(path)], env={"COLUMNS": "300"})
    assert res.exit_code == 2 and "overlap by" in " ".join(res.output.split()), res.output
    # the plan as drawn (rooms meeting along walls) still imports
    import_building(write_geojson(tmp_path / "ok.geojson"))
