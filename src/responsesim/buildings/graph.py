"""Inference shared by every reader: a ``Plan`` becomes a validated ``BuildingSpec`` and a report.

Rules (``docs/buildings.md``, *Inference rules*):

- a door joins the two spaces the source names (IFC space boundaries) or, failing that, the (at most two)
  nearest spaces of its floor within ``DOOR_TOLERANCE_M`` of it;
- a door with a space on one side only is an exterior door when the source says so or when it lies on
  the outline of its floor; an exterior door on the entrance floor (the ground floor, else the lowest)
  becomes an exit space ``EXIT_OFFSET_M`` outside it; elsewhere it is reported (a balcony?);
- stairwell spaces overlapping in plan on consecutive floors are linked;
- a stair links the space containing it (or the nearest within ``STAIR_TOLERANCE_M``) on each pair of
  consecutive floors it serves; one floor means it rises to the next floor up;
- edge length = centroid -> door (or stair) -> centroid, plus ``STAIR_RUN_FACTOR`` x the rise of a stair
  (m); at least ``MIN_EDGE_M``;
- kind, capacity, occupants and hard corners: ``kinds``;
- spaces from which no exit can be reached are left out and reported; parts of the building that meet
  only outside are joined by outside paths between their nearest exits.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import deque
from dataclasses import dataclass

import shapely
from pydantic import ValidationError
from shapely.geometry import Point as ShPoint
from shapely.geometry import Polygon
from shapely.ops import unary_union

from responsesim.buildings import kinds
from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.plan import Plan, PlanSpace, Point
from responsesim.buildings.report import ImportReport
from responsesim.scenario.building import LOCKABLE_KINDS, BuildingSpec

DOOR_TOLERANCE_M = 0.6
"""A door belongs to a space whose outline is within this distance (m): half a thick wall and more."""
STAIR_TOLERANCE_M = 2.0
"""A stair end belongs to the space containing it or to the nearest one within this distance (m)."""
EXIT_OFFSET_M = 3.0
"""An exit space is placed this far (m) outside its exterior door."""
STAIR_RUN_FACTOR = 2.0
"""Walking length of a stair per metre of rise (a 30° stair); floors with unknown heights rise 3 m."""
DEFAULT_RISE_M = 3.0
MIN_EDGE_M = 0.5
OUTSIDE_FACTOR = 1.5
"""Walking length of an outside path between two exits per metre of straight distance."""
STAIRWELL_OVERLAP_M2 = 1.0
"""Stairwell spaces on consecutive floors overlapping by at least this much (m²) are linked."""
OVERLAP_M2 = 1.0
OVERLAP_SHARE = 0.2
"""Two spaces of one floor overlapping by more than OVERLAP_M2 and more than OVERLAP_SHARE of the smaller
are refused: a room drawn twice, or an outline that takes in its neighbour (people would be counted
twice and the doors between them guessed wrong)."""
WALL_CLOSE_M = 0.5
"""Rooms of a floor closer than twice this (m) are merged when drawing the floor's outline."""


@dataclass(frozen=True)
class InferOptions:
    """``fill``: share of capacity occupied at the start in occupied kinds (0..1); ``name``: the building's
    name (default: the plan's)."""

    fill: float = 0.8
    name: str | None = None


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """``"Küche 1.04"`` -> ``"kueche_1_04"`` (empty when nothing is left)."""
    return _SLUG.sub("_", kinds.fold(text)).strip("_")[:48]


def _polygon(sp: PlanSpace) -> Polygon:
    poly = Polygon(sp.polygon)
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon) and g.area > 0]
        poly = max(parts, key=lambda g: g.area) if parts else poly.buffer(0)
    return poly if isinstance(poly, Polygon) else Polygon(sp.polygon).convex_hull


def _anchor(poly: Polygon) -> Point:
    """The centroid, or a point surely inside when the centroid falls outside (an L-shaped room)."""
    c = poly.centroid
    if poly.is_empty or not math.isfinite(c.x):
        return (0.0, 0.0)
    if not poly.contains(c):
        c = poly.representative_point()
    return (float(c.x), float(c.y))


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class _Builder:
    """Collects spaces and edges, reports as it goes."""

    def __init__(self, plan: Plan, opts: InferOptions) -> None:
        self.plan = plan
        self.opts = opts
        self.report = ImportReport(file=plan.file, format=plan.format)
        self.spaces: list[dict[str, object]] = []
        self.edges: dict[frozenset[str], dict[str, object]] = {}
        self.polys: list[Polygon] = []
        self.anchors: list[Point] = []
        self.exits: list[tuple[str, bool]] = []  # (exit id, from the principal door)

    def fail(self, message: str, field: str | None) -> BuildingImportError:
        return BuildingImportError(message, file=self.plan.file, field=field)

    # -- spaces
    def add_spaces(self) -> None:
        used: set[str] = set()
        guessed: dict[str, list[str]] = {}
        defaulted: list[str] = []
        for i, sp in enumerate(self.plan.spaces):
            poly = _polygon(sp)
            if poly.is_empty or poly.area <= 0:
                raise self.fail(f"space {sp.name!r} has an outline of no area", sp.ref)
            area = sp.area_m2 if sp.area_m2 is not None and sp.area_m2 > 0 else float(poly.area)
            base = sp.id or slug(sp.name) or f"space_{i + 1}"
            sid = base
            if sid in used:
                if sp.id:
                    raise self.fail(f"duplicate space id {sp.id!r}", sp.ref)
                sid = f"{base}_f{sp.floor}"
                n = 2
                while sid in used:
                    sid = f"{base}_f{sp.floor}_{n}"
                    n += 1
            used.add(sid)
            kind = sp.kind
            if kind is None:
                kind = kinds.guess_kind(sp.name, sp.usage)
                if kind is None:
                    kind = kinds.default_kind(area)
                    defaulted.append(sid)
                else:
                    guessed.setdefault(kind, []).append(sid)
            if kind == "exit":
                raise self.fail("a space cannot be an exit: exits are made from exterior doors", sp.ref)
            capacity = sp.capacity if sp.capacity is not None else kinds.capacity_from_area(kind, area)
            occupants = (
                sp.occupants
                if sp.occupants is not None
                else kinds.occupants_from_capacity(kind, capacity, self.opts.fill)
            )
            if capacity and occupants > capacity:
                capacity = occupants
            lockable = sp.lockable if sp.lockable is not None else kind in LOCKABLE_KINDS
            hard = (
                sp.hard_corner
                if sp.hard_corner is not None
                else lockable and area >= kinds.HARD_CORNER_MIN_M2
            )
            x, y = _anchor(poly)
            d: dict[str, object] = {
                "id": sid,
                "kind": kind,
                "floor": sp.floor,
                "lockable": lockable,
                "hard_corner": hard,
                "capacity": capacity,
                "occupants": occupants,
                "x": round(x, 3),
                "y": round(y, 3),
                "polygon": [(round(px, 3), round(py, 3)) for px, py in poly.exterior.coords[:-1]],
            }
            if sp.door_window is not None:
                d["door_window"] = sp.door_window
            self.spaces.append(d)
            self.polys.append(poly)
            self.anchors.append((x, y))
        self.check_overlaps()
        r = self.report.inferred
        for kind, ids in guessed.items():
            r.append(f"kind {kind!r} from the name: {_ids(ids)}")
        if defaulted:
            r.append(f"kind from no known word in the name (office, or open_area above "
                     f"{kinds.OPEN_AREA_M2:g} m²): {_ids(defaulted)}")  # fmt: skip
        per = ", ".join(f"{k} {v:g}" for k, v in kinds.M2_PER_PERSON.items() if v)
        r.append(f"capacity from floor area where not given (m² per person: {per}); starting occupants "
                 f"{self.opts.fill:g} x capacity in classrooms, offices, lounges and open areas")  # fmt: skip
        r.append(f"hard corner assumed in lockable rooms of {kinds.HARD_CORNER_MIN_M2:g} m² or more")

    def check_overlaps(self) -> None:
        """Refuse two spaces of one floor that overlap (``OVERLAP_M2``, ``OVERLAP_SHARE``), naming both."""
        tree = shapely.STRtree(self.polys)
        for i, j in zip(*tree.query(self.polys, predicate="intersects"), strict=True):
            if i >= j or self.spaces[i]["floor"] != self.spaces[j]["floor"]:
                continue
            a, b = self.polys[int(i)], self.polys[int(j)]
            shared = float(a.intersection(b).area)
            if shared > OVERLAP_M2 and shared > OVERLAP_SHARE * min(a.area, b.area):
                sp = self.plan.spaces[int(j)]
                raise self.fail(
                    f"spaces {self.spaces[int(i)]['id']!r} and {self.spaces[int(j)]['id']!r} overlap by "
                    f"{shared:.1f} m² on floor {sp.floor} (a room drawn twice, or an outline that takes in "
                    "its neighbour): fix one of the outlines",
                    sp.ref,
                )

    # -- edges
    def add_edge(self, a: str, b: str, length: float, via: str) -> None:
        key = frozenset((a, b))
        length = max(MIN_EDGE_M, round(length, 2))
        old = self.edges.get(key)
        if old is None or float(old["length_m"]) > length:  # type: ignore[arg-type]
            self.edges[key] = {"a": a, "b": b, "length_m": length, "via": via}

    def floor_outline(self, floor: int) -> object | None:
        """The floor's outline: its rooms merged across walls up to ``2 * WALL_CLOSE_M`` thick."""
        polys = [p for p, s in zip(self.polys, self.plan.spaces, strict=True) if s.floor == floor]
        if not polys:
            return None
        return unary_union([p.buffer(WALL_CLOSE_M) for p in polys]).buffer(-WALL_CLOSE_M)

    def entrance_floor(self) -> int:
        floors = sorted({s.floor for s in self.plan.spaces})
        return 1 if 1 in floors else floors[0]

    def near_spaces(self, floor: int, p: Point, tol: float) -> list[int]:
        pt = ShPoint(p)
        cands = [
            (poly.distance(pt), i)
            for i, (poly, s) in enumerate(zip(self.polys, self.plan.spaces, strict=True))
            if s.floor == floor
        ]
        return [i for d, i in sorted(cands) if d <= tol]

    def add_doors(self) -> None:
        entrance = self.entrance_floor()
        outlines: dict[int, object] = {}
        one_sided: list[str] = []
        no_side: list[str] = []
        upper_exterior: list[str] = []
        n_exterior = 0
        for door in self.plan.doors:
            sides: list[int] = []
            for i in door.spaces or []:
                if i not in sides:
                    sides.append(i)
            if len(sides) < 2:
                for i in self.near_spaces(door.floor, door.point, DOOR_TOLERANCE_M):
                    if len(sides) >= 2:
                        break
                    if i not in sides:
                        sides.append(i)
            label = f"{door.ref}"
            if len(sides) >= 2:
                a, b = sides[0], sides[1]
                length = _dist(self.anchors[a], door.point) + _dist(door.point, self.anchors[b])
                self.add_edge(str(self.spaces[a]["id"]), str(self.spaces[b]["id"]), length, door.ref)
                continue
            if not sides:
                no_side.append(label)
                continue
            (room,) = sides
            external = door.external
            if external is None:
                if door.floor not in outlines:
                    outlines[door.floor] = self.floor_outline(door.floor)
                outline = outlines[door.floor]
                external = outline is not None and outline.boundary.distance(ShPoint(door.point)) <= (  # type: ignore[attr-defined]
                    DOOR_TOLERANCE_M + WALL_CLOSE_M
                )
            if not external:
                one_sided.append(f"{label} (only {self.spaces[room]['id']!r} beside it)")
                continue
            if door.floor != entrance:
                upper_exterior.append(f"{label} on floor {door.floor}")
                continue
            n_exterior += 1
            self.add_exit(room, door.point, door.name, door.ref, door.principal)
        r = self.report
        if n_exterior:
            r.inferred.append(f"{n_exterior} exterior door(s) on floor {entrance} made exits")
        if one_sided:
            r.problems.append(f"doors with a space on one side only (not exits): {_ids(one_sided)}")
        if no_side:
            r.problems.append(f"doors with no space on either side: {_ids(no_side)}")
        if upper_exterior:
            r.problems.append(
                f"exterior doors above or below the entrance floor {entrance}, not used as exits "
                f"(balconies?): {_ids(upper_exterior)}"
            )

    def add_exit(self, room: int, p: Point, name: str, ref: str, principal: bool) -> None:
        c = self.anchors[room]
        dx, dy = p[0] - c[0], p[1] - c[1]
        norm = math.hypot(dx, dy) or 1.0
        ex, ey = p[0] + EXIT_OFFSET_M * dx / norm, p[1] + EXIT_OFFSET_M * dy / norm
        used = {str(s["id"]) for s in self.spaces}
        base = "exit_" + (slug(name) or str(len(self.exits) + 1))
        eid, n = base, 2
        while eid in used:
            eid = f"{base}_{n}"
            n += 1
        self.spaces.append(
            {
                "id": eid,
                "kind": "exit",
                "floor": self.spaces[room]["floor"],
                "x": round(ex, 3),
                "y": round(ey, 3),
            }
        )
        self.add_edge(str(self.spaces[room]["id"]), eid, _dist(c, p) + EXIT_OFFSET_M, ref)
        self.exits.append((eid, principal))

    def rise(self, lo: int, hi: int) -> float:
        e = self.plan.elevations
        if lo in e and hi in e and e[hi] > e[lo]:
            return e[hi] - e[lo]
        return DEFAULT_RISE_M * (hi - lo)

    def stair_space(self, floor: int, p: Point) -> int | None:
        near = self.near_spaces(floor, p, STAIR_TOLERANCE_M)
        return near[0] if near else None

    def add_stairs(self) -> None:
        floors = sorted({s.floor for s in self.plan.spaces})
        linked: set[int] = set()
        unmatched: list[str] = []
        n = 0
        for st in self.plan.stairs:
            served = sorted(set(st.floors))
            if len(served) == 1:
                above = [f for f in floors if f > served[0]]
                if not above:
                    unmatched.append(f"{st.ref} (on the top floor {served[0]}: no floor above)")
                    continue
                served.append(above[0])
            for lo, hi in itertools.pairwise(served):
                a, b = self.stair_space(lo, st.point), self.stair_space(hi, st.point)
                if a is None or b is None:
                    miss = lo if a is None else hi
                    unmatched.append(f"{st.ref} (no space at it on floor {miss})")
                    continue
                length = (
                    _dist(self.anchors[a], st.point) + STAIR_RUN_FACTOR * self.rise(lo, hi)
                    + _dist(st.point, self.anchors[b])
                )  # fmt: skip
                self.add_edge(str(self.spaces[a]["id"]), str(self.spaces[b]["id"]), length, st.ref)
                linked.update((lo, hi))
                n += 1
        n += self.link_stairwells(floors, linked)
        if n:
            self.report.inferred.append(
                f"{n} stair link(s) between floors (length: centroid -> stair -> centroid + "
                f"{STAIR_RUN_FACTOR:g} x the rise)"
            )
        if unmatched:
            self.report.problems.append(f"stairs not linked: {_ids(unmatched)}")
        if len(floors) > 1:
            lone = [f for f in floors if f not in linked]
            if lone:
                names = [f"{f} ({self.plan.floor_names[f]!r})" if f in self.plan.floor_names else str(f)
                         for f in lone]  # fmt: skip
                self.report.problems.append(f"floors with no stair to another floor: {', '.join(names)}")

    def link_stairwells(self, floors: list[int], linked: set[int]) -> int:
        """Link stairwell spaces that overlap in plan on consecutive floors; returns the links made."""
        wells: dict[int, list[int]] = {}
        for i, s in enumerate(self.spaces):
            if s["kind"] == "stairwell" and i < len(self.polys):
                wells.setdefault(int(s["floor"]), []).append(i)  # type: ignore[call-overload]
        n = 0
        for lo, hi in itertools.pairwise(floors):
            for a in wells.get(lo, []):
                for b in wells.get(hi, []):
                    if self.polys[a].intersection(self.polys[b]).area < STAIRWELL_OVERLAP_M2:
                        continue
                    ida, idb = str(self.spaces[a]["id"]), str(self.spaces[b]["id"])
                    if frozenset((ida, idb)) in self.edges:
                        continue
                    length = _dist(self.anchors[a], self.anchors[b]) + STAIR_RUN_FACTOR * self.rise(lo, hi)
                    self.add_edge(ida, idb, length, "overlapping stairwells")
                    linked.update((lo, hi))
                    n += 1
        return n

    # -- the graph
    def connected(self) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """Spaces that reach an exit and the edges among them; the rest are reported."""
        nbrs: dict[str, list[str]] = {str(s["id"]): [] for s in self.spaces}
        for e in self.edges.values():
            nbrs[str(e["a"])].append(str(e["b"]))
            nbrs[str(e["b"])].append(str(e["a"]))
        doorless = [str(s["id"]) for s in self.spaces if not nbrs[str(s["id"])]]
        if doorless:
            self.report.problems.append(f"spaces with no door or stair: {_ids(doorless)}")
        reached = {eid for eid, _ in self.exits}
        queue = deque(reached)
        while queue:
            for m in nbrs[queue.popleft()]:
                if m not in reached:
                    reached.add(m)
                    queue.append(m)
        lost = [str(s["id"]) for s in self.spaces if str(s["id"]) not in reached]
        if lost:
            self.report.left_out.append(f"{len(lost)} space(s): {_ids(lost)}")
        self.join_outside(reached)
        spaces = [s for s in self.spaces if str(s["id"]) in reached]
        edges = [
            {k: v for k, v in e.items() if k != "via"}
            for e in self.edges.values()
            if str(e["a"]) in reached and str(e["b"]) in reached
        ]
        return spaces, edges

    def join_outside(self, reached: set[str]) -> None:
        """Join parts of the building that meet only outside (each reaches its own exit) by outside paths
        between their nearest exits (length ``OUTSIDE_FACTOR`` x the straight distance): the engine needs
        one connected graph."""
        nbrs: dict[str, list[str]] = {sid: [] for sid in reached}
        for e in self.edges.values():
            a, b = str(e["a"]), str(e["b"])
            if a in reached and b in reached:
                nbrs[a].append(b)
                nbrs[b].append(a)
        part: dict[str, int] = {}
        for start in nbrs:
            if start in part:
                continue
            part[start] = len(set(part.values()))
            queue = deque([start])
            while queue:
                for m in nbrs[queue.popleft()]:
                    if m not in part:
                        part[m] = part[start]
                        queue.append(m)
        if len(set(part.values())) <= 1:
            return
        pos = {str(s["id"]): (float(s["x"]), float(s["y"])) for s in self.spaces}  # type: ignore[arg-type]
        exits = [eid for eid, _ in self.exits if eid in reached]
        pairs = sorted(
            (_dist(pos[a], pos[b]), a, b)
            for i, a in enumerate(exits)
            for b in exits[i + 1 :]
            if part[a] != part[b]
        )
        root = {p: p for p in set(part.values())}

        def find(p: int) -> int:
            while root[p] != p:
                p = root[p]
            return p

        joined = 0
        for d, a, b in pairs:
            ra, rb = find(part[a]), find(part[b])
            if ra != rb:
                root[ra] = rb
                self.add_edge(a, b, OUTSIDE_FACTOR * d, "outside")
                joined += 1
        self.report.inferred.append(
            f"{joined} outside path(s) join exits of parts of the building not joined inside "
            f"(length {OUTSIDE_FACTOR:g} x the straight distance)"
        )

    def build(self) -> BuildingSpec:
        if not self.plan.spaces:
            raise self.fail("no spaces found: the plan has no rooms to simulate", "spaces")
        self.add_spaces()
        self.add_doors()
        self.add_stairs()
        if not self.exits:
            raise self.fail(
                f"no exit: no exterior door was found on the entrance floor {self.entrance_floor()} "
                "(mark one as exterior: see docs/buildings.md)",
                "exits",
            )
        spaces, edges = self.connected()
        if not any(s["kind"] != "exit" for s in spaces):
            raise self.fail("no space can reach an exit: every exterior door opens onto a space with no "
                            "other door", "exits")  # fmt: skip
        principal = [eid for eid, p in self.exits if p and any(s["id"] == eid for s in spaces)]
        entry = principal[0] if principal else next(str(s["id"]) for s in spaces if s["kind"] == "exit")
        self.report.inferred.append(
            f"default entry {entry!r}" + (" (the main entrance)" if principal else " (the first exit found)")
        )
        c = self.report.counts
        c.update(
            spaces=len(self.plan.spaces),
            floors=len({s.floor for s in self.plan.spaces}),
            doors=len(self.plan.doors),
            stairs=len(self.plan.stairs),
            graph_spaces=len(spaces),
            exits=sum(1 for s in spaces if s["kind"] == "exit"),
            edges=len(edges),
            occupants=sum(int(s.get("occupants", 0)) for s in spaces),  # type: ignore[call-overload]
        )
        name = self.opts.name or self.plan.name or "imported"
        data = {
            "name": name,
            "description": f"imported from {self.plan.file} ({self.plan.format})",
            "spaces": spaces,
            "edges": edges,
            "default_entry": entry,
        }
        try:
            return BuildingSpec.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            msg = str(first["msg"]).removeprefix("Value error, ")
            raise self.fail(
                f"the inferred building is not valid: {loc}: {msg}" if loc else msg, "building"
            ) from exc


def _ids(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def infer(plan: Plan, opts: InferOptions | None = None) -> tuple[BuildingSpec, ImportReport]:
    """The building and the report of what was inferred; ``BuildingImportError`` when no usable graph can
    be made (no spaces, no exit)."""
    b = _Builder(plan, opts or InferOptions())
    spec = b.build()
    b.report.inferred.extend(plan.notes)
    return spec, b.report
