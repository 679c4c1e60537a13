"""The real building models in ``examples/buildings``: imported, checked and run (200 replications)."""

from __future__ import annotations

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


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_runs_200_replications(name: str) -> None:
    sc = rs.load_scenario(EXAMPLES / name / "scenario.toml")
    res = rs.run(sc, replications=200, seed=1)
    deaths = res.outcomes["deaths"]
    assert len(res.outcomes) == 200 and math.isfinite(float(deaths.mean())) and deaths.min() >= 0
