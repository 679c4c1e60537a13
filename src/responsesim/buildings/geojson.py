"""GeoJSON floor plans in the style of indoor-mapping data (IMDF, OpenStreetMap indoor): a reader.

A ``FeatureCollection`` whose features carry ``feature_type`` (on the feature or in its properties):

- ``unit`` (or ``room``, ``space``): a Polygon / MultiPolygon (the largest part is used); properties
  ``name``, ``level`` (floor number, 1 = ground) or ``level_id`` (a ``level`` feature's id: floor =
  its ``ordinal`` + 1, as in IMDF), ``category`` (words used to guess the kind), and optionally ``id``,
  ``kind``, ``capacity``, ``occupants``, ``lockable``, ``hard_corner``, ``door_window``;
- ``opening`` (or ``door``): a LineString (its midpoint), Point or Polygon (its centroid) with
  ``level`` / ``level_id``, ``name``, ``exterior`` (true / false; default: from the geometry) and
  ``principal`` (the main entrance; also a ``category`` starting ``pedestrian.principal``);
- ``stair`` (or ``stairs``): a Point or Polygon with ``levels`` (the floors it serves) or ``level``
  (it rises to the next floor up);
- ``level``: ``id``, ``ordinal``, ``name``.

Other feature types are skipped. Coordinates are metres, or longitude / latitude degrees (projected about
the plan's centre): the collection's ``units`` says which (``"m"`` or ``"degrees"``); without it, a plan
whose coordinates all fit in less than half a degree of longitude / latitude is taken as degrees.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, Polygon

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.plan import Plan, PlanDoor, PlanSpace, PlanStair, Point
from responsesim.errors import read_input_text

TYPES = {
    "unit": "unit", "room": "unit", "space": "unit",
    "opening": "opening", "door": "opening",
    "stair": "stair", "stairs": "stair", "staircase": "stair",
    "level": "level",
}  # fmt: skip
KINDS = frozenset({"classroom", "office", "lounge", "restroom", "corridor", "stairwell", "open_area"})
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0
MAX_FEATURES = 200_000


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)

    def fail(self, message: str, field: str | None, line: int | None = None) -> BuildingImportError:
        return BuildingImportError(message, file=self.file, field=field, line=line)

    # -- values
    def number(self, v: Any, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(f"a coordinate must be a finite number, not {json.dumps(v)[:40]}", where)
        return float(v)

    def point(self, v: Any, where: str) -> Point:
        if not isinstance(v, list) or len(v) < 2:
            raise self.fail("a position must be a list [x, y]", where)
        return (self.number(v[0], where), self.number(v[1], where))

    def ring(self, v: Any, where: str) -> list[Point]:
        if not isinstance(v, list) or len(v) > 100_000:
            raise self.fail("a polygon ring must be a list of positions", where)
        pts = [self.point(p, f"{where}[{k}]") for k, p in enumerate(v)]
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]
        if len(set(pts)) < 3:
            raise self.fail("a polygon needs at least 3 distinct corners", where)
        return pts

    def geometry(self, f: dict[str, Any], where: str) -> tuple[str, Any]:
        g = f.get("geometry")
        if not isinstance(g, dict):
            raise self.fail("the feature has no geometry", f"{where}.geometry")
        gtype, coords = g.get("type"), g.get("coordinates")
        w = f"{where}.geometry.coordinates"
        if gtype == "Point":
            return "point", self.point(coords, w)
        if gtype == "LineString":
            if not isinstance(coords, list) or len(coords) < 2:
                raise self.fail("a LineString needs at least 2 positions", w)
            return "line", [self.point(p, f"{w}[{k}]") for k, p in enumerate(coords)]
        if gtype == "Polygon":
            if not isinstance(coords, list) or not coords:
                raise self.fail("a Polygon needs an outer ring", w)
            return "polygon", self.ring(coords[0], f"{w}[0]")
        if gtype == "MultiPolygon":
            if not isinstance(coords, list) or not coords:
                raise self.fail("a MultiPolygon needs at least one polygon", w)
            rings = []
            for k, poly in enumerate(coords):
                if not isinstance(poly, list) or not poly:
                    raise self.fail("a polygon needs an outer ring", f"{w}[{k}]")
                rings.append(self.ring(poly[0], f"{w}[{k}][0]"))
            return "polygon", max(rings, key=lambda r: Polygon(r).area)
        raise self.fail(
            f"geometry type {str(gtype)[:40]!r} is not used here (Point, LineString, Polygon, MultiPolygon)",
            f"{where}.geometry.type",
        )

    def integer(self, v: Any, where: str, lo: int = -100, hi: int = 1000) -> int:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v != int(v):
            raise self.fail(f"must be a whole number, not {json.dumps(v)[:40]}", where)
        if not lo <= int(v) <= hi:
            raise self.fail(f"must be between {lo} and {hi}, not {int(v)}", where)
        return int(v)

    def flag(self, props: dict[str, Any], key: str, where: str) -> bool | None:
        v = props.get(key)
        if v is None:
            return None
        if not isinstance(v, bool):
            raise self.fail(f"must be true or false, not {json.dumps(v)[:40]}", f"{where}.properties.{key}")
        return v

    def text(self, v: Any) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, dict):  # IMDF labels: {"en": "Room 101"}
            for x in v.values():
                if isinstance(x, str):
                    return x
        return "" if v is None else str(v)[:80]

    # -- document
    def load(self) -> dict[str, Any]:
        text = read_input_text(self.path, "GeoJSON file", BuildingImportError, encoding="utf-8-sig")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.fail(f"JSON syntax error: {exc.msg} (column {exc.colno})", None, exc.lineno) from exc
        except RecursionError as exc:
            raise self.fail("JSON syntax error: nested too deeply", None, 1) from exc
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
            raise self.fail(
                f"the top level must be a GeoJSON FeatureCollection, not {str(got)[:40]!r}", "type"
            )
        if not isinstance(doc.get("features"), list):
            raise self.fail("a FeatureCollection needs a list of features", "features")
        if len(doc["features"]) > MAX_FEATURES:
            raise self.fail(f"more than {MAX_FEATURES:,} features", "features")
        return doc

    def read(self) -> Plan:
        doc = self.load()
        feats: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = []
        skipped: dict[str, int] = {}
        for i, f in enumerate(doc["features"]):
            where = f"features[{i}]"
            if not isinstance(f, dict):
                raise self.fail("a feature must be an object", where)
            props = f.get("properties")
            if props is None:
                props = {}
            if not isinstance(props, dict):
                raise self.fail("properties must be an object", f"{where}.properties")
            raw = f.get("feature_type", props.get("feature_type"))
            ftype = TYPES.get(str(raw).lower()) if isinstance(raw, str) else None
            if ftype is None:
                key = str(raw)[:30] if raw is not None else "no feature_type"
                skipped[key] = skipped.get(key, 0) + 1
                continue
            feats.append((i, ftype, f, props))
        levels: dict[str, int] = {}
        names: dict[int, str] = {}
        for i, ftype, f, props in feats:
            if ftype == "level":
                where = f"features[{i}]"
                lid = props.get("id", f.get("id"))
                ordinal = self.integer(props.get("ordinal", 0), f"{where}.properties.ordinal", -101, 999)
                if lid is not None:
                    levels[str(lid)] = ordinal + 1
                nm = self.text(props.get("name") or props.get("short_name"))
                if nm:
                    names[ordinal + 1] = nm

        def floor_of(props: dict[str, Any], where: str) -> int:
            if "level" in props and props["level"] is not None:
                return self.integer(props["level"], f"{where}.properties.level")
            lid = props.get("level_id")
            if lid is not None:
                if str(lid) not in levels:
                    raise self.fail(
                        f"level_id {str(lid)[:40]!r} names no level feature", f"{where}.properties.level_id"
                    )
                return levels[str(lid)]
            raise self.fail("no floor: give 'level' (1 = ground floor) or 'level_id'", f"{where}.properties")

        geoms = [(i, ftype, f, props, self.geometry(f, f"features[{i}]")) for i, ftype, f, props in feats
                 if ftype != "level"]  # fmt: skip
        to_m = self.projection(doc, [g for *_, g in geoms])
        plan = Plan(name=self.text(doc.get("name")) or self.path.stem, file=self.file, format="geojson")
        plan.floor_names = names
        for i, ftype, _f, props, (gk, coords) in geoms:
            where = f"features[{i}]"
            name = self.text(props.get("name") or props.get("alt_name") or props.get("ref")) or f"{ftype} {i}"
            ref = f"{where} {name!r}"
            if ftype == "unit":
                if gk != "polygon":
                    raise self.fail("a unit must be a Polygon or MultiPolygon", f"{where}.geometry.type")
                plan.spaces.append(
                    self.space(props, where, ref, name, floor_of(props, where), [to_m(p) for p in coords])
                )
            elif ftype == "opening":
                plan.doors.append(
                    self.door(props, where, ref, name, floor_of(props, where), to_m(self.centre(gk, coords)))
                )
            else:
                if "levels" in props:
                    lv = props["levels"]
                    if not isinstance(lv, list) or not lv:
                        raise self.fail(
                            "levels must be a list of floor numbers", f"{where}.properties.levels"
                        )
                    floors = [self.integer(x, f"{where}.properties.levels[{k}]") for k, x in enumerate(lv)]
                else:
                    floors = [floor_of(props, where)]
                plan.stairs.append(
                    PlanStair(ref=ref, name=name, floors=floors, point=to_m(self.centre(gk, coords)))
                )
        if skipped:
            plan.notes.append("features skipped (not unit, opening, stair or level): "
                              + ", ".join(f"{k} x{n}" for k, n in sorted(skipped.items())))  # fmt: skip
        return plan

    def centre(self, kind: str, coords: Any) -> Point:
        if kind == "point":
            return coords
        geom = LineString(coords) if kind == "line" else Polygon(coords)
        c = geom.interpolate(0.5, normalized=True) if kind == "line" else geom.centroid
        return (float(c.x), float(c.y))

    def space(
        self, props: dict[str, Any], where: str, ref: str, name: str, floor: int, poly: list[Point]
    ) -> PlanSpace:
        kind = props.get("kind")
        if kind is not None and kind not in KINDS:
            raise self.fail(
                f"unknown kind {str(kind)[:40]!r} (one of {', '.join(sorted(KINDS))})",
                f"{where}.properties.kind",
            )
        counts: dict[str, int | None] = {}
        for key in ("capacity", "occupants"):
            v = props.get(key)
            counts[key] = None if v is None else self.integer(v, f"{where}.properties.{key}", 0, 1_000_000)
        sid = props.get("id")
        if sid is not None and (not isinstance(sid, str) or not sid.strip()):
            raise self.fail("id must be a non-empty string", f"{where}.properties.id")
        return PlanSpace(
            ref=ref,
            name=name,
            floor=floor,
            polygon=poly,
            usage=self.text(props.get("category")),
            id=sid,
            kind=kind,
            capacity=counts["capacity"],
            occupants=counts["occupants"],
            lockable=self.flag(props, "lockable", where),
            hard_corner=self.flag(props, "hard_corner", where),
            door_window=self.flag(props, "door_window", where),
        )

    def door(self, props: dict[str, Any], where: str, ref: str, name: str, floor: int, p: Point) -> PlanDoor:
        category = self.text(props.get("category")).lower()
        principal = self.flag(props, "principal", where)
        return PlanDoor(
            ref=ref,
            name=name,
            floor=floor,
            point=p,
            external=self.flag(props, "exterior", where),
            principal=bool(principal) or category.startswith("pedestrian.principal"),
        )

    def projection(self, doc: dict[str, Any], geoms: list[tuple[str, Any]]) -> Any:
        """A function from the file's coordinates to metres."""
        pts: list[Point] = []
        for kind, coords in geoms:
            pts += [coords] if kind == "point" else list(coords)
        units = doc.get("units")
        if units is not None and units not in ("m", "metres", "meters", "degrees"):
            raise self.fail(f"units must be 'm' or 'degrees', not {str(units)[:40]!r}", "units")
        if not pts:
            return lambda p: p
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        degrees = units == "degrees" or (
            units is None
            and all(-180 <= x <= 180 for x in xs)
            and all(-90 <= y <= 90 for y in ys)
            and max(xs) - min(xs) < 0.5
            and max(ys) - min(ys) < 0.5
        )
        if not degrees:
            return lambda p: p
        lon0, lat0 = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        kx = M_PER_DEG_LON * math.cos(math.radians(lat0))
        return lambda p: ((p[0] - lon0) * kx, (p[1] - lat0) * M_PER_DEG_LAT)


def read_geojson(path: Path) -> Plan:
    """Read a GeoJSON floor plan; any problem raises ``BuildingImportError`` naming the feature."""
    return _Reader(Path(path)).read()
