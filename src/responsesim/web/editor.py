"""The page's building editor on the server: a drawn plan -> a building graph, building files read back
for editing, and a scenario run on a drawn building.

- ``validate_plan``: the editor's JSON (rooms as polygons in metres, doors, exits, stairs) becomes a
  ``buildings.plan.Plan`` and goes through the importers' inference (``buildings.graph.infer``: doors
  join the spaces beside them, exits become exit spaces, stairs link floors), so a drawn plan and an
  imported one follow the same rules. A plan with no exit, or with spaces that cannot reach one, is a
  400 naming them; the answer carries the graph and the building file (TOML) to download.
- ``read_building_text``: a building file (TOML / JSON) uploaded to edit: the editor's own plan when the
  file was saved by the editor (a ``# editor-plan:`` comment), else rooms from the spaces' polygons,
  doors and exits from the edges, stairs from edges between floors.
- ``store_building`` / ``scenario_with_building``: a run of a scenario on an uploaded building: the file
  is written under ``<data>/buildings`` with a server-chosen name and the scenario's ``[building]`` is
  replaced by ``file = "<that name>"`` (the run stores the file's text, so replays rebuild it).
"""

from __future__ import annotations

import json
import math
import re
import secrets
from pathlib import Path
from typing import Any

from shapely.geometry import Point as ShPoint
from shapely.geometry import Polygon
from shapely.ops import nearest_points

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.graph import InferOptions, infer, slug
from responsesim.buildings.plan import Plan, PlanDoor, PlanSpace, PlanStair
from responsesim.buildings.toml_out import dumps
from responsesim.scenario.building import BuildingFileError, BuildingSpec, load_building_file
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import Scenario, build, parse_text
from responsesim.scenario.schema import BuildingSection
from responsesim.web.errors import ApiError, from_input_error
from responsesim.web.forms import spec_to_toml
from responsesim.web.plots import prune_oldest, write_atomically
from responsesim.web.replay import space_label

__all__ = [
    "MAX_DOORS",
    "MAX_SPACES",
    "read_building_text",
    "scenario_with_building",
    "store_building",
    "validate_plan",
]

MAX_SPACES = 1000
MAX_DOORS = 4000
MAX_STAIRS = 200
MAX_POINTS = 500
MAX_NAME = 80
MAX_COORD_M = 100_000.0
KINDS = ("classroom", "office", "lounge", "restroom", "corridor", "stairwell", "open_area")
EDITOR_TAG = "editor-plan: "
KEEP_BUILDINGS = 200
"""Building files of runs kept under ``<data>/buildings`` (oldest deleted first; a run stores its text)."""
SQUARE_M = 4.0
"""A space of a loaded file with no outline is drawn as a square of this side (m) about its position."""


def _fail(message: str, field: str | None) -> ApiError:
    return ApiError(400, message, field=field)


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > MAX_COORD_M:
        raise _fail(f"{where}: must be a number of metres within ±{MAX_COORD_M:,.0f}", where)
    return float(v)


def _point(v: Any, where: str) -> tuple[float, float]:
    if not isinstance(v, list | tuple) or len(v) != 2:
        raise _fail(f"{where}: must be a point [x, y] in metres", where)
    return (_number(v[0], f"{where}[0]"), _number(v[1], f"{where}[1]"))


def _floor(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not -100 <= v <= 1000:
        raise _fail(f"{where}: must be a whole floor number (1 = ground floor)", where)
    return v


def _flag(d: dict[str, Any], key: str, where: str) -> bool | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise _fail(f"{where}.{key}: must be true or false", f"{where}.{key}")
    return v


def _count(d: dict[str, Any], key: str, where: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1_000_000:
        raise _fail(f"{where}.{key}: must be a whole number from 0 to 1,000,000", f"{where}.{key}")
    return v


def _text(v: Any, where: str, default: str) -> str:
    if v is None or v == "":
        return default
    if not isinstance(v, str) or len(v) > MAX_NAME:
        raise _fail(f"{where}: must be text of at most {MAX_NAME} characters", where)
    return v.strip() or default


def _list(body: dict[str, Any], key: str, most: int) -> list[Any]:
    v = body.get(key, [])
    if not isinstance(v, list):
        raise _fail(f"{key}: must be a list", key)
    if len(v) > most:
        raise _fail(f"{key}: at most {most:,} on one plan (got {len(v):,})", key)
    return v


def plan_from_json(body: dict[str, Any]) -> tuple[Plan, dict[str, str]]:
    """The editor's JSON as a ``Plan`` and each space id -> the name the user gave it; 400 naming the
    entry for anything malformed."""
    unknown = sorted(set(body) - {"name", "spaces", "doors", "stairs", "editor", "fill"})
    if unknown:
        raise _fail(f"unknown key(s) in the plan: {', '.join(unknown)}", unknown[0])
    name = _text(body.get("name"), "name", "drawn building")
    plan = Plan(name=name, file="drawn plan", format="editor")
    names: dict[str, str] = {}
    used: set[str] = set()
    spaces = _list(body, "spaces", MAX_SPACES)
    if not spaces:
        raise _fail("no rooms: draw at least one room or corridor (and an exit on its outer wall)", "spaces")
    for i, s in enumerate(spaces):
        where = f"spaces[{i}]"
        if not isinstance(s, dict):
            raise _fail(f"{where}: must be an object", where)
        label = _text(s.get("name"), f"{where}.name", f"Space {i + 1}")
        poly = s.get("polygon")
        if not isinstance(poly, list) or not 3 <= len(poly) <= MAX_POINTS:
            raise _fail(f"{where} {label!r}: the outline needs 3 to {MAX_POINTS} corners", f"{where}.polygon")
        pts = [_point(p, f"{where}.polygon[{k}]") for k, p in enumerate(poly)]
        if Polygon(pts).area < 0.05:
            raise _fail(f"{where} {label!r}: the outline has (almost) no area", f"{where}.polygon")
        kind = s.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise _fail(f"{where}.kind: one of {', '.join(KINDS)} (or empty: from the name)", f"{where}.kind")
        base = slug(label) or f"space_{i + 1}"
        sid, n = base, 2
        while sid in used:
            sid = f"{base}_{n}"
            n += 1
        used.add(sid)
        names[sid] = label
        plan.spaces.append(
            PlanSpace(
                ref=f"{where} {label!r}",
                name=label,
                floor=_floor(s.get("floor", 1), f"{where}.floor"),
                polygon=pts,
                id=sid,
                kind=kind,
                capacity=_count(s, "capacity", where),
                occupants=_count(s, "occupants", where),
                lockable=_flag(s, "lockable", where),
                hard_corner=_flag(s, "hard_corner", where),
                door_window=_flag(s, "door_window", where),
            )
        )
    for i, d in enumerate(_list(body, "doors", MAX_DOORS)):
        where = f"doors[{i}]"
        if not isinstance(d, dict):
            raise _fail(f"{where}: must be an object", where)
        exit_ = _flag(d, "exit", where)
        label = _text(d.get("name"), f"{where}.name", f"{'exit' if exit_ else 'door'} {i + 1}")
        plan.doors.append(
            PlanDoor(
                ref=f"{'exit' if exit_ else 'door'} {label!r}",
                name=re.sub(r"^exit\b\W*", "", label, flags=re.IGNORECASE) or str(i + 1),
                floor=_floor(d.get("floor", 1), f"{where}.floor"),
                point=_point(d.get("point"), f"{where}.point"),
                external=True if exit_ else None,
                principal=bool(_flag(d, "principal", where)),
            )
        )
    for i, st in enumerate(_list(body, "stairs", MAX_STAIRS)):
        where = f"stairs[{i}]"
        if not isinstance(st, dict):
            raise _fail(f"{where}: must be an object", where)
        floors = st.get("floors")
        if not isinstance(floors, list) or not 1 <= len(floors) <= 50:
            raise _fail(f"{where}.floors: the floors the stair links, e.g. [1, 2]", f"{where}.floors")
        fl = sorted({_floor(f, f"{where}.floors") for f in floors})
        plan.stairs.append(
            PlanStair(
                ref=f"stair {i + 1}",
                name=_text(st.get("name"), f"{where}.name", f"stair {i + 1}"),
                floors=fl,
                point=_point(st.get("point"), f"{where}.point"),
            )
        )
    return plan, names


def _names(ids: list[str], names: dict[str, str], limit: int = 8) -> str:
    shown = [names.get(i, i) for i in ids[:limit]]
    return ", ".join(shown) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def validate_plan(body: dict[str, Any]) -> dict[str, Any]:
    """The building graph of a drawn plan (``POST /api/buildings/validate``), or 400 with a clear error."""
    plan, names = plan_from_json(body)
    fill = body.get("fill", 0.8)
    if isinstance(fill, bool) or not isinstance(fill, int | float) or not 0 <= fill <= 1:
        raise _fail("fill: the share of capacity occupied at the start, from 0 to 1", "fill")
    if not any(d.external for d in plan.doors):
        raise _fail(
            "no exit: place an exit (a door to the outside) on the outer wall of a room on the ground floor",
            "exits",
        )
    try:
        spec, report = infer(plan, InferOptions(fill=float(fill), name=plan.name))
    except BuildingImportError as exc:
        msg = exc.message
        if exc.field == "exits" and msg.startswith("no exit"):
            lowest = 1 if any(s.floor == 1 for s in plan.spaces) else min(s.floor for s in plan.spaces)
            msg = (
                f"no exit: no exit lies on the outer wall of exactly one room on the entrance floor "
                f"{lowest} (an exit must touch one room, within 0.6 m, and no other)"
            )
        raise _fail(msg, exc.field) from exc
    kept = {s.id for s in spec.spaces}
    lost = [sid for sid in names if sid not in kept]
    if lost:
        raise ApiError(
            400,
            f"the graph is not connected: {_names(lost, names)} cannot reach an exit (join "
            f"{'it' if len(lost) == 1 else 'them'} by a door on a shared wall, or a stair, to a space "
            "that can)",
            field="spaces",
        )
    editor = body.get("editor")
    header = [f"building drawn on the responsesim page: {plan.name}"]
    if isinstance(editor, dict):
        header.append(EDITOR_TAG + json.dumps(editor, separators=(",", ":"), ensure_ascii=True))
    spaces = []
    for s in spec.spaces:
        d = s.model_dump(exclude={"polygon"})
        d["name"] = names.get(s.id) or space_label(s.id)
        spaces.append(d)
    return {
        "ok": True,
        "name": spec.name,
        "spaces": spaces,
        "edges": [e.model_dump() for e in spec.edges],
        "default_entry": spec.default_entry,
        "counts": dict(report.counts),
        "inferred": list(report.inferred),
        "warnings": list(report.problems),
        "toml": dumps(spec, header),
    }


# ---------------------------------------------------------------------------------------------- files


def store_building(data_dir: Path, text: Any, filename: str) -> tuple[Path, BuildingSpec]:
    """Write an uploaded building file's text under ``<data>/buildings`` with a server-chosen name and
    load it (``load_building_file``: the usual ``line: what is wrong`` errors, given as ``filename``)."""
    if not isinstance(text, str) or not text.strip():
        raise _fail("building: must be the text of a building file (TOML or JSON)", "building")
    suffix = ".json" if filename.lower().endswith(".json") or text.lstrip().startswith("{") else ".toml"
    folder = data_dir / "buildings"
    path = folder / f"building-{secrets.token_hex(8)}{suffix}"
    write_atomically(path, text.encode("utf-8"))
    try:
        spec = load_building_file(path)
    except BuildingFileError as exc:
        path.unlink(missing_ok=True)
        where = f"{filename}:{exc.line}" if exc.line else filename
        raise ApiError(400, f"{where}: {exc.message}", field="building", line=exc.line) from exc
    prune_oldest(folder, "building-*", KEEP_BUILDINGS)
    return path, spec


def scenario_with_building(sc: Scenario, building: Path, bspec: BuildingSpec) -> Scenario:
    """``sc`` with its ``[building]`` replaced by the file ``building`` (its overrides dropped: the drawn
    building says per room what it has), named after the building."""
    short = sc.spec.name.split(":")[0].strip()[:60]
    name = f"{bspec.name[:80]}: your building, other settings from {short}"
    spec = sc.spec.model_copy(update={"building": BuildingSection(file=building.name), "name": name})
    text = f"# {sc.source} on a building from the page ({building.name})\n" + spec_to_toml(spec)
    try:
        return build(parse_text(text, sc.source), sc.source, text, sc.calibration, base_dir=building.parent)
    except ScenarioError as exc:
        raise from_input_error(exc) from exc


def read_building_text(data_dir: Path, text: Any, filename: str) -> dict[str, Any]:
    """A building file to edit (``POST /api/buildings/read``): its plan in metres, in the editor's form."""
    path, spec = store_building(data_dir, text, filename)
    path.unlink(missing_ok=True)
    editor = None
    for line in str(text).splitlines()[:5]:
        if line.startswith("# " + EDITOR_TAG):
            try:
                editor = json.loads(line[len("# " + EDITOR_TAG) :])
            except json.JSONDecodeError:
                editor = None
            break
    out = plan_of_spec(spec)
    out["editor"] = editor if isinstance(editor, dict) else None
    return out


def plan_of_spec(spec: BuildingSpec) -> dict[str, Any]:
    """Rooms from polygons (a square where there is none), a door where an edge joins two rooms of a
    floor, an exit where one joins an exit space, a stair where one joins two floors."""
    notes: list[str] = []
    polys: dict[str, Polygon] = {}
    floor: dict[str, int] = {}
    spaces = []
    squares = []
    for s in spec.spaces:
        floor[s.id] = s.floor
        if s.kind == "exit":
            continue
        if s.polygon is not None and Polygon(s.polygon).is_valid and Polygon(s.polygon).area > 0:
            poly = Polygon(s.polygon)
        else:
            h = SQUARE_M / 2
            poly = Polygon([(s.x - h, s.y - h), (s.x + h, s.y - h), (s.x + h, s.y + h), (s.x - h, s.y + h)])
            squares.append(s.id)
        polys[s.id] = poly
        spaces.append(
            {
                "name": space_label(s.id),
                "kind": s.kind,
                "floor": s.floor,
                "polygon": [[round(x, 3), round(y, 3)] for x, y in poly.exterior.coords[:-1]],
                "capacity": s.capacity,
                "occupants": s.occupants,
                "lockable": s.lockable,
                "door_window": s.door_window,
                "hard_corner": s.hard_corner,
            }
        )
    if squares:
        notes.append(f"spaces with no outline drawn as {SQUARE_M:g} m squares: {', '.join(squares[:8])}")
    pos = {s.id: (s.x, s.y) for s in spec.spaces}
    doors: list[dict[str, Any]] = []
    stairs: list[dict[str, Any]] = []
    for e in spec.edges:
        a, b = e.a, e.b
        if a not in polys and b not in polys:
            continue  # an outside path between two exits: inferred again
        if a not in polys or b not in polys:
            room, ext = (a, b) if a in polys else (b, a)
            p, _ = nearest_points(polys[room].exterior, ShPoint(pos[ext]))
            doors.append({"floor": floor[room], "point": [round(p.x, 3), round(p.y, 3)], "exit": True,
                          "principal": ext == spec.default_entry})  # fmt: skip
            continue
        pa, pb = polys[a], polys[b]
        if floor[a] == floor[b]:
            near = pa.exterior.buffer(0.3).intersection(pb.exterior)
            if near.is_empty:
                p, q = nearest_points(pa.exterior, pb.exterior)
                pt = ((p.x + q.x) / 2, (p.y + q.y) / 2)
                if p.distance(q) > 1.0:
                    notes.append(f"a door between {a} and {b}, which do not touch: move them together")
            else:
                c = pb.exterior.interpolate(pb.exterior.project(near.centroid))
                pt = (c.x, c.y)
            doors.append({"floor": floor[a], "point": [round(pt[0], 3), round(pt[1], 3)], "exit": False})
        else:
            lo, hi = (a, b) if floor[a] < floor[b] else (b, a)
            both = polys[lo].intersection(polys[hi])
            c = both.representative_point() if both.area > 0.5 else polys[lo].representative_point()
            stairs.append({"floors": [floor[lo], floor[hi]], "point": [round(c.x, 3), round(c.y, 3)]})
    return {"name": spec.name, "spaces": spaces, "doors": doors, "stairs": stairs, "notes": notes}
