"""The format-neutral floor plan every reader produces and ``graph.infer`` turns into a building.

Coordinates are metres in the plan's own frame (x east, y north); floors are numbers with 1 = the
ground floor (0 = a basement, 2 = the floor above the ground floor, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass
class PlanSpace:
    """A room, corridor or other space: its outline and whatever the source says about it.

    ``ref`` names the source entity for messages (``#20909 IfcSpace '4'``, ``features[3]``); ``usage``
    holds further words used to guess the kind (an IFC LongName, a category); fields left None are
    inferred (``kinds``)."""

    ref: str
    name: str
    floor: int
    polygon: list[Point]
    usage: str = ""
    id: str | None = None
    kind: str | None = None
    area_m2: float | None = None
    capacity: int | None = None
    occupants: int | None = None
    lockable: bool | None = None
    hard_corner: bool | None = None
    door_window: bool | None = None


@dataclass
class PlanDoor:
    """A door (or opening) at ``point`` on ``floor``.

    ``spaces``: indices into ``Plan.spaces`` the source says it joins (IFC space boundaries), or None to
    find them from the geometry; ``external``: the source's own flag (None = decide from the geometry);
    ``principal``: the main entrance (becomes the default entry when it is an exit)."""

    ref: str
    name: str
    floor: int
    point: Point
    spaces: list[int] | None = None
    external: bool | None = None
    principal: bool = False


@dataclass
class PlanStair:
    """A stair at ``point`` serving ``floors`` (ascending); one floor means "from here to the next floor
    up"."""

    ref: str
    name: str
    floors: list[int]
    point: Point


@dataclass
class Plan:
    """Everything read from one file. ``elevations``: floor -> height of its floor level (m), when known."""

    name: str
    file: str
    format: str
    spaces: list[PlanSpace] = field(default_factory=list)
    doors: list[PlanDoor] = field(default_factory=list)
    stairs: list[PlanStair] = field(default_factory=list)
    floor_names: dict[int, str] = field(default_factory=dict)
    elevations: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
