"""Fuzz the importers like the other parsers (``tests/fuzz``): a mutated or random GeoJSON, IFC, DXF file
or layer map imports into a building that compiles, or raises a clear ``BuildingImportError`` naming the
file and the entity (or the line); never another exception, never a hang."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from fuzz_strategies import any_bytes, check_parse, fuzz_settings, mutated_toml, write_input
from tests.buildings.plans import geojson_doc, write_dxf, write_ifc
from typer.testing import CliRunner

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.importer import import_building
from responsesim.scenario.building import BuildingSpec, compile_building

WHOLE_FILE = ("cannot read", "not UTF-8", "not an IFC file", "not a readable DXF")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("fuzz-building-seeds")
    return {
        "ifc": write_ifc(d / "seed.ifc").read_text(),
        "dxf": write_dxf(d / "seed.dxf").read_text(),
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-building-import")


def assert_clear(exc: BuildingImportError, files: tuple[str, ...]) -> None:
    s = str(exc)
    assert exc.file in files and s.startswith(str(exc.file)), s
    assert exc.message.strip() and "Traceback" not in s, s
    if not any(w in exc.message for w in WHOLE_FILE):
        assert exc.field is not None or exc.line is not None, f"names no entity or line: {s}"


def assert_sane(result: tuple[BuildingSpec, Any]) -> None:
    spec, report = result
    g = compile_building(spec)
    assert len(g.exits) >= 1 and report.counts["graph_spaces"] == len(spec.spaces)


def _import(path: Path, data: bytes, parser: str, layers: Path | None = None) -> None:
    write_input(path, data)
    files = (str(path),) if layers is None else (str(path), str(layers))
    check_parse(
        parser,
        lambda: import_building(path, layers=layers),
        BuildingImportError,
        lambda exc: assert_clear(exc, files),
        assert_sane,
    )


def _corrupt_json(doc: Any, rng: random.Random, n: int) -> Any:
    """Replace ``n`` random values in the document by values of other types or out of range."""
    junk: list[Any] = [None, "x", -1, 1e308, True, [], {}, [1], {"type": "Point"}, 2**40, "Polygon", [[0, 0]]]
    for _ in range(n):
        node, path = doc, []
        while isinstance(node, dict | list) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append(key)
            node = node[key]
        if not path:
            return copy.deepcopy(rng.choice(junk))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(junk))
    return doc


@fuzz_settings(60)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), lines=st.booleans(), data=st.data())
def test_mutated_geojson(workdir: Path, seed: int, n: int, lines: bool, data: st.DataObject) -> None:
    doc = _corrupt_json(geojson_doc(), random.Random(seed), n)
    text = json.dumps(doc, indent=1)
    raw = data.draw(mutated_toml(text, max_ops=2)) if lines else text.encode()
    _import(workdir / "plan.geojson", raw, "building import geojson")


@fuzz_settings(40)
@given(data=any_bytes)
def test_random_bytes_in_every_format(workdir: Path, data: bytes) -> None:
    for suffix in (".geojson", ".ifc", ".dxf"):
        _import(workdir / f"random{suffix}", data, "building import random")


@fuzz_settings(30, deadline_ms=30_000)
@given(data=st.data())
def test_mutated_ifc(workdir: Path, seeds: dict[str, str], data: st.DataObject) -> None:
    raw = data.draw(mutated_toml(seeds["ifc"], max_ops=3))
    _import(workdir / "plan.ifc", raw, "building import ifc")


@fuzz_settings(40)
@given(data=st.data())
def test_mutated_dxf(workdir: Path, seeds: dict[str, str], data: st.DataObject) -> None:
    raw = data.draw(mutated_toml(seeds["dxf"], max_ops=3))
    _import(workdir / "plan.dxf", raw, "building import dxf")


LAYER_MAP = 'units = "m"\n[layers]\n"SPACE" = "space"\n"DOOR-2" = { role = "door", floor = 2 }\n'


@fuzz_settings(40)
@given(data=st.data())
def test_mutated_layer_map(workdir: Path, seeds: dict[str, str], data: st.DataObject) -> None:
    plan = workdir / "map-plan.dxf"
    if not plan.exists():
        plan.write_text(seeds["dxf"])
    layers = workdir / "layers.toml"
    write_input(layers, data.draw(mutated_toml(LAYER_MAP, max_ops=3)))
    check_parse(
        "building import layer map",
        lambda: import_building(plan, layers=layers),
        BuildingImportError,
        lambda exc: assert_clear(exc, (str(plan), str(layers))),
        assert_sane,
    )


@fuzz_settings(20)
@given(seed=st.integers(0, 2**32 - 1))
def test_cli_never_shows_a_traceback(workdir: Path, seed: int) -> None:
    from responsesim.cli import app

    path = workdir / "cli.geojson"
    path.write_text(json.dumps(_corrupt_json(geojson_doc(), random.Random(seed), 2)))
    out = workdir / "cli-out.toml"
    out.unlink(missing_ok=True)
    res = CliRunner().invoke(app, ["building", "import", str(path), "--out", str(out)])
    assert res.exit_code in (0, 2) and "Traceback" not in res.output, res.output
    assert out.exists() == (res.exit_code == 0)
