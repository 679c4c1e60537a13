"""The inference rules (shared by every format), on the hand-made GeoJSON plan and small variations."""

from __future__ import annotations

from pathlib import Path

import pytest

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.graph import InferOptions, infer
from responsesim.buildings.kinds import capacity_from_area, guess_kind
from responsesim.buildings.plan import Plan, PlanDoor, PlanSpace, PlanStair
from responsesim.scenario.building import compile_building


def rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def two_rooms(**door: object) -> Plan:
    plan = Plan(name="t", file="t.json", format="test")
    plan.spaces = [
        PlanSpace(ref="a", name="Classroom A", floor=1, polygon=rect(0, 0, 8, 7)),
        PlanSpace(ref="b", name="Corridor", floor=1, polygon=rect(0, 7.2, 20, 10)),
    ]
    plan.doors = [PlanDoor(ref="d1", name="d1", floor=1, point=(4.0, 7.1)),
                  PlanDoor(ref="main", name="Main", floor=1, point=(20.0, 8.5), **door)]  # type: ignore[arg-type]  # fmt: skip
    return plan


def test_door_between_two_spaces_is_an_edge_with_length_through_the_door() -> None:
    spec, _ = infer(two_rooms())
    edges = {frozenset((e.a, e.b)): e.length_m for e in spec.edges}
    # centroid (4, 3.5) -> door (4, 7.1) -> corridor centroid (10, 8.6)
    assert edges[frozenset(("classroom_a", "corridor"))] == pytest.approx(
        3.6 + (6.0**2 + 1.5**2) ** 0.5, abs=0.01
    )


def test_exterior_door_on_the_outline_becomes_the_exit_and_default_entry() -> None:
    spec, report = infer(two_rooms())
    exits = [s for s in spec.spaces if s.kind == "exit"]
    assert [e.id for e in exits] == ["exit_main"] and spec.default_entry == "exit_main"
    assert exits[0].x == pytest.approx(23.0, abs=0.1)  # 3 m outside the door
    assert any("exterior door" in x for x in report.inferred)
    compile_building(spec)


def test_door_flagged_interior_with_one_space_is_reported_and_no_exit_is_an_error() -> None:
    with pytest.raises(BuildingImportError) as exc:
        infer(two_rooms(external=False))
    assert exc.value.field == "exits" and "no exterior door" in exc.value.message


def test_exterior_door_on_an_upper_floor_is_not_an_exit() -> None:
    plan = two_rooms()
    plan.spaces.append(PlanSpace(ref="c", name="Balcony room", floor=2, polygon=rect(0, 0, 8, 7)))
    plan.doors.append(PlanDoor(ref="balcony", name="b", floor=2, point=(0.0, 3.0), external=True))
    _, report = infer(plan)
    assert any("balcon" in p and "balcony" in p for p in report.problems)
    assert any("floors with no stair" in p for p in report.problems)
    assert any("balcony_room" in x for x in report.left_out)


def test_stair_links_floors_with_length_from_the_rise() -> None:
    plan = two_rooms()
    plan.spaces.append(PlanSpace(ref="u", name="Upper corridor", floor=2, polygon=rect(0, 7.2, 20, 10)))
    plan.stairs.append(PlanStair(ref="s", name="s", floors=[1], point=(18.0, 8.5)))
    plan.elevations = {1: 0.0, 2: 4.0}
    spec, report = infer(plan)
    edges = {frozenset((e.a, e.b)): e.length_m for e in spec.edges}
    assert edges[frozenset(("corridor", "upper_corridor"))] == pytest.approx(2 * 8.0 + 8.0, abs=0.05)
    assert not any("floors with no stair" in p for p in report.problems)


def test_overlapping_stairwells_on_consecutive_floors_are_linked() -> None:
    plan = two_rooms()
    plan.spaces += [
        PlanSpace(ref="w1", name="Stairwell", floor=1, polygon=rect(-4, 7.2, -0.2, 10)),
        PlanSpace(ref="w2", name="Stairwell", floor=2, polygon=rect(-4, 7.2, -0.2, 10)),
    ]
    plan.doors.append(PlanDoor(ref="d3", name="d3", floor=1, point=(-0.1, 9.5), external=False))
    spec, _ = infer(plan)
    pairs = {frozenset((e.a, e.b)) for e in spec.edges}
    assert frozenset(("stairwell", "stairwell_f2")) in pairs


def test_space_with_no_door_is_reported_and_left_out() -> None:
    plan = two_rooms()
    plan.spaces.append(PlanSpace(ref="x", name="Store", floor=1, polygon=rect(12, 0, 16, 4)))
    spec, report = infer(plan)
    assert "store" not in {s.id for s in spec.spaces}
    assert any("no door" in p and "store" in p for p in report.problems)


def test_capacity_from_area_and_occupants_from_fill() -> None:
    spec, _ = infer(two_rooms(), InferOptions(fill=0.5))
    room = next(s for s in spec.spaces if s.id == "classroom_a")
    assert (
        room.kind == "classroom"
        and room.capacity == int(56 / 1.86)
        and room.occupants == round(room.capacity / 2)
    )
    assert room.lockable and room.door_window and room.hard_corner
    assert room.polygon is not None and len(room.polygon) == 4


def test_kinds_from_names() -> None:
    assert guess_kind("Klassenzimmer 2.04") == "classroom"
    assert guess_kind("Küche") == "lounge"
    assert guess_kind("WC Damen") == "restroom"
    assert guess_kind("Eingang") == "corridor"
    assert guess_kind("Treppenhaus") == "stairwell"
    assert guess_kind("Gymnasium") == "open_area"
    assert guess_kind("R 12") is None
    # the KIT institute's meeting and plant rooms (examples/buildings/kit_institute)
    assert guess_kind("Besprechungsraum II") == "office" and guess_kind("Technikraum I") == "office"
    assert capacity_from_area("corridor", 100.0) == 0


def test_no_spaces_is_an_error_naming_the_file() -> None:
    with pytest.raises(BuildingImportError) as exc:
        infer(Plan(name="t", file="empty.json", format="test"))
    assert str(exc.value).startswith("empty.json: spaces: no spaces")


def test_written_toml_loads_back(tmp_path: Path) -> None:
    from responsesim.buildings.toml_out import dumps, write_atomic
    from responsesim.scenario.building import load_building_file

    spec, _ = infer(two_rooms())
    out = tmp_path / "b.toml"
    write_atomic(out, dumps(spec, ["a header"]))
    assert load_building_file(out) == spec
    assert [p.name for p in tmp_path.iterdir()] == ["b.toml"]
