"""The real building models in ``examples/buildings``: imported, checked and run (200 replications)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

import responsesim as rs
from responsesim.buildings.importer import import_building
from responsesim.buildings.toml_out import dumps
from responsesim.scenario.building import compile_building, load_building_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "buildings"
MODELS = {
    "fzk_haus": "AC20-FZK-Haus.ifc",
    "kit_institute": "AC11-Institute-Var-2-IFC.ifc",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_has_its_licence_and_source(name: str) -> None:
    d = EXAMPLES / name
    assert (d / "LICENSE.txt").read_text().strip() and "SHA-256" in (d / "SOURCE.md").read_text()
    assert (d / MODELS[name]).stat().st_size < 5_000_000


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_imports_to_the_committed_building_file(name: str) -> None:
    d = EXAMPLES / name
    spec, report = import_building(d / MODELS[name])
    committed = load_building_file(d / "building.toml")
    assert spec.spaces == committed.spaces and spec.edges == committed.edges
    assert dumps(spec).startswith("name = ")
    compile_building(spec)
    assert report.counts["exits"] >= 1


def test_fzk_haus_inference() -> None:
    spec, report = import_building(EXAMPLES / "fzk_haus" / "AC20-FZK-Haus.ifc")
    by_id = {s.id: s for s in spec.spaces}
    assert {"exit_haustuer", "exit_terrassentuer"} <= set(by_id) and spec.default_entry == "exit_haustuer"
    assert by_id["flur"].kind == "corridor" and by_id["bad"].kind == "restroom"
    assert by_id["galerie"].floor == 2  # reached by the spiral stair from the living room
    pairs = {frozenset((e.a, e.b)) for e in spec.edges}
    assert frozenset(("wohnen", "galerie")) in pairs
    assert "kueche" not in by_id and any("kueche" in p for p in report.problems)  # the kitchen has no door


def test_kit_institute_inference() -> None:
    """Five storeys (cellar = floor 0), one exterior door, one stair through every storey; the attic's two
    rooms have no door or stair and are left out."""
    spec, report = import_building(EXAMPLES / "kit_institute" / "AC11-Institute-Var-2-IFC.ifc")
    by_id = {s.id: s for s in spec.spaces}
    assert report.counts["exits"] == 1 and spec.default_entry == "exit_tuer_019"
    assert len(spec.spaces) == 81 and len(spec.edges) == 81
    assert sorted({s.floor for s in spec.spaces}) == [0, 1, 2, 3, 4]
    assert sum(s.occupants for s in spec.spaces) == 179
    kinds = [s.kind for s in spec.spaces]
    assert (kinds.count("office"), kinds.count("classroom"), kinds.count("restroom")) == (51, 8, 8)
    assert (kinds.count("corridor"), kinds.count("stairwell")) == (9, 4)
    assert by_id["seminarraum"].floor == 0 and by_id["seminarraum"].kind == "classroom"
    assert by_id["besprechungsraum_i"].kind == "office" and by_id["flur_eg_eingang"].floor == 1
    pairs = {frozenset((e.a, e.b)) for e in spec.edges}
    stairs = ["flur_keller_treppe", "flur_eg_eingang", *(f"flur_{n}_og_treppe" for n in (1, 2, 3))]
    assert all(frozenset(p) in pairs for p in itertools.pairwise(stairs))  # the stair, cellar to attic
    assert frozenset(("flur_eg_eingang", "exit_tuer_019")) in pairs
    assert {"dachboden_1", "dachboden_2"}.isdisjoint(by_id)
    assert any("dachboden_1" in p for p in report.problems)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_runs_200_replications(name: str) -> None:
    sc = rs.load_scenario(EXAMPLES / name / "scenario.toml")
    res = rs.run(sc, replications=200, seed=1)
    deaths = res.outcomes["deaths"]
    assert len(res.outcomes) == 200 and math.isfinite(float(deaths.mean())) and deaths.min() >= 0
