"""A generated campus of many three-floor schools, for benchmarks and scaling tests of large buildings.

``campus(n_spaces)`` lays copies of the ``three_floor_school`` template (63 spaces each: 30 classrooms,
offices, restrooms, hallways, two stairwells, three exits) on a grid, 100 m apart, and joins
neighbouring schools on the ground floor by covered walkways (one corridor space each, 20 m to either
hallway): east-west from the east end of one hallway to the west end of the next, north-south between
the middle hallway segments. Schools are added until the campus has at least ``n_spaces`` spaces, so the
graph is connected, every school keeps its own exits and the attacker (entering at the first school's
east exit) can walk through the whole campus. Not a template: nothing here is calibrated.
"""

from __future__ import annotations

import math

from responsesim.scenario.building import BuildingSpec, EdgeSpec, SpaceSpec, three_floor_school

SCHOOL_PITCH_M = 100.0
WALKWAY_M = 20.0


def n_schools_for(n_spaces: int) -> int:
    """The fewest schools whose campus (with its walkways) has at least ``n_spaces`` spaces."""
    per = len(three_floor_school().spaces)
    k = 1
    while _size(k, per) < n_spaces:
        k += 1
    return k


def _grid(k: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(k)))
    return cols, math.ceil(k / cols)


def _size(k: int, per: int) -> int:
    cols, _ = _grid(k)
    walkways = sum(1 for i in range(k) for j in (i + 1, i + cols) if _joined(i, j, k, cols))
    return k * per + walkways


def _joined(i: int, j: int, k: int, cols: int) -> bool:
    """School ``j`` is the east (``j = i + 1`` in the same row) or south (``j = i + cols``) neighbour."""
    if j >= k:
        return False
    return j == i + cols or (j == i + 1 and j % cols != 0)


def campus(n_spaces: int = 5000) -> BuildingSpec:
    """A campus of at least ``n_spaces`` spaces (see the module docstring)."""
    school = three_floor_school()
    k = n_schools_for(n_spaces)
    cols, _ = _grid(k)
    spaces: list[SpaceSpec] = []
    edges: list[EdgeSpec] = []
    for b in range(k):
        dx, dy = SCHOOL_PITCH_M * (b % cols), SCHOOL_PITCH_M * (b // cols)
        for s in school.spaces:
            spaces.append(s.model_copy(update={"id": f"b{b}_{s.id}", "x": s.x + dx, "y": s.y + dy}))
        for e in school.edges:
            edges.append(EdgeSpec(a=f"b{b}_{e.a}", b=f"b{b}_{e.b}", length_m=e.length_m))
    for i in range(k):
        for j in (i + 1, i + cols):
            if not _joined(i, j, k, cols):
                continue
            east = j == i + 1
            a, z = (f"b{i}_f1_hall_5", f"b{j}_f1_hall_0") if east else (f"b{i}_f1_hall_2", f"b{j}_f1_hall_2")
            w = f"walk_{i}_{j}"
            x = SCHOOL_PITCH_M * (i % cols) + (85.0 if east else 30.0)
            y = SCHOOL_PITCH_M * (i // cols) + (0.0 if east else 50.0)
            spaces.append(SpaceSpec(id=w, kind="corridor", floor=1, x=x, y=y))
            edges += [EdgeSpec(a=a, b=w, length_m=WALKWAY_M), EdgeSpec(a=w, b=z, length_m=WALKWAY_M)]
    return BuildingSpec(
        name=f"campus_{k}_schools",
        description=f"{k} three-floor schools on a {cols}-column grid joined by ground-floor walkways",
        spaces=tuple(spaces),
        edges=tuple(edges),
        default_entry=f"b0_{school.default_entry}",
    )


__all__ = ["campus", "n_schools_for"]
