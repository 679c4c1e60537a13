"""Small hand-made floor plans in each format, for the inference rules (``docs/buildings.md``).

The same plan in every format (metres): floor 1 has a classroom ``Room 101`` (0..8 x 0..7), a
``Hallway`` (0..20 x 7.2..10), a doorless ``Store`` (12..16 x 0..4); floor 2 (3 m up) has ``Room 201``
over room 101 and an ``Upper hall`` over the hallway. Doors: room 101 - hallway and room 201 - upper hall
at (4.5, 7.1); the main door at the hallway's east end (20, 8.5) (exterior); a stair at (18, 8.5) from
floor 1 to floor 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

RECTS: list[tuple[str, int, tuple[float, float, float, float]]] = [
    ("Room 101", 1, (0, 0, 8, 7)),
    ("Hallway", 1, (0, 7.2, 20, 10)),
    ("Store", 1, (12, 0, 16, 4)),
    ("Room 201", 2, (0, 0, 8, 7)),
    ("Upper hall", 2, (0, 7.2, 20, 10)),
]
DOORS: list[tuple[str, int, tuple[float, float], bool | None]] = [
    ("D1", 1, (4.5, 7.1), None),
    ("D2", 2, (4.5, 7.1), None),
    ("Main door", 1, (20.0, 8.5), True),
]
STAIR = ("Stair", 1, (18.0, 8.5))


def ring(r: tuple[float, float, float, float]) -> list[list[float]]:
    x0, y0, x1, y1 = r
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def geojson_doc(drop: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    feats: list[dict[str, Any]] = []
    for name, floor, r in RECTS:
        if name in drop:
            continue
        props = {"feature_type": "unit", "name": name, "level": floor}
        if name == "Room 101":
            props["category"] = "classroom"
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Polygon", "coordinates": [ring(r)]},
            }
        )
    for name, floor, p, ext in DOORS:
        if name in drop:
            continue
        props: dict[str, Any] = {"feature_type": "opening", "name": name, "level": floor}
        if ext is not None:
            props["exterior"] = ext
        feats.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": list(p)}}
        )
    if STAIR[0] not in drop:
        feats.append({"type": "Feature", "properties": {"feature_type": "stair", "levels": [1, 2]},
                      "geometry": {"type": "Point", "coordinates": list(STAIR[2])}})  # fmt: skip
    return {"type": "FeatureCollection", "name": "tiny school", "features": feats}


def write_geojson(path: Path, drop: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
    path.write_text(json.dumps(geojson_doc(drop), indent=1), encoding="utf-8")
    return path


def write_dxf(path: Path, drop: set[str] = frozenset(), layers: dict[str, str] | None = None) -> Path:  # type: ignore[assignment]
    """The plan on the default layers (``layers`` renames them: role name -> layer, e.g. SPACE -> A-AREA)."""
    import ezdxf

    names = {"SPACE": "SPACE", "LABEL": "LABEL", "DOOR": "DOOR", "EXIT": "EXIT", "STAIR": "STAIR"}
    names.update(layers or {})

    def layer(role: str, floor: int) -> str:
        base = names[role]
        return base if floor == 1 and layers is None else f"{base}-{floor}" if layers is None else base

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6
    msp = doc.modelspace()
    for name, floor, r in RECTS:
        if name in drop:
            continue
        msp.add_lwpolyline(
            [tuple(p) for p in ring(r)[:-1]], close=True, dxfattribs={"layer": layer("SPACE", floor)}
        )
        cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
        label = f"{name} [classroom]" if name == "Room 101" else name
        msp.add_text(label, dxfattribs={"layer": layer("LABEL", floor), "insert": (cx, cy)})
    for name, floor, p, ext in DOORS:
        if name in drop:
            continue
        msp.add_point(p, dxfattribs={"layer": layer("EXIT" if ext else "DOOR", floor)})
    if STAIR[0] not in drop:
        msp.add_circle(STAIR[2], radius=0.5, dxfattribs={"layer": layer("STAIR", 1)})
    doc.saveas(path)
    return path


def write_ifc(path: Path, drop: set[str] = frozenset(), boundaries: bool = False) -> Path:  # type: ignore[assignment]
    """The plan as IFC4 (metres): spaces and doors as extruded bodies; with ``boundaries`` the doors
    between rooms also carry ``IfcRelSpaceBoundary`` (and are placed off the wall, so only the
    boundaries can join them)."""
    import ifcopenshell
    import ifcopenshell.api
    import ifcopenshell.guid
    from ifcopenshell.util.shape_builder import ShapeBuilder

    f = ifcopenshell.api.run("project.create_file", version="IFC4")
    project = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcProject", name="tiny")
    ifcopenshell.api.run("unit.assign_unit", f, length={"is_metric": True, "raw": "METERS"})
    model = ifcopenshell.api.run("context.add_context", f, context_type="Model")
    body = ifcopenshell.api.run("context.add_context", f, context_type="Model", context_identifier="Body",
                                target_view="MODEL_VIEW", parent=model)  # fmt: skip
    site = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcSite", name="site")
    bldg = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcBuilding", name="Tiny school")
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=project, products=[site])
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=site, products=[bldg])
    storeys = {}
    for fl in (1, 2):
        st = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcBuildingStorey", name=f"Level {fl}")
        st.Elevation = 3.0 * (fl - 1)
        ifcopenshell.api.run("aggregate.assign_object", f, relating_object=bldg, products=[st])
        storeys[fl] = st
    sb = ShapeBuilder(f)

    def place(product: Any, x: float, y: float, z: float) -> None:
        m = np.eye(4)
        m[:3, 3] = (x, y, z)
        ifcopenshell.api.run("geometry.edit_object_placement", f, product=product, matrix=m)

    def box(product: Any, pts: list[tuple[float, float]], h: float) -> None:
        solid = sb.extrude(sb.profile(sb.polyline(pts, closed=True)), magnitude=h)
        rep = sb.get_representation(body, [solid])
        ifcopenshell.api.run("geometry.assign_representation", f, product=product, representation=rep)

    spaces = {}
    for name, floor, (x0, y0, x1, y1) in RECTS:
        if name in drop:
            continue
        sp = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcSpace", name=name.split()[-1])
        sp.LongName = name
        if name == "Room 101":
            sp.ObjectType = "Classroom"
        ifcopenshell.api.run("aggregate.assign_object", f, relating_object=storeys[floor], products=[sp])
        place(sp, 0, 0, 3.0 * (floor - 1))
        box(sp, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], 2.8)
        spaces[name] = sp
    for name, floor, (x, y), ext in DOORS:
        if name in drop:
            continue
        d = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcDoor", name=name)
        ifcopenshell.api.run("spatial.assign_container", f, relating_structure=storeys[floor], products=[d])
        joined = boundaries and ext is None
        dx = 30.0 if joined else 0.0  # far from every space: only the boundaries can join it
        place(d, 0, 0, 3.0 * (floor - 1))
        box(
            d,
            [
                (x - 0.45 + dx, y - 0.1),
                (x + 0.45 + dx, y - 0.1),
                (x + 0.45 + dx, y + 0.1),
                (x - 0.45 + dx, y + 0.1),
            ],
            2.0,
        )
        if ext is not None:
            pset = ifcopenshell.api.run("pset.add_pset", f, product=d, name="Pset_DoorCommon")
            ifcopenshell.api.run("pset.edit_pset", f, pset=pset, properties={"IsExternal": ext})
        if joined:
            pair = ("Room 101", "Hallway") if floor == 1 else ("Room 201", "Upper hall")
            for sname in pair:
                f.create_entity(
                    "IfcRelSpaceBoundary",
                    GlobalId=ifcopenshell.guid.new(),
                    RelatingSpace=spaces[sname],
                    RelatedBuildingElement=d,
                    PhysicalOrVirtualBoundary="PHYSICAL",
                    InternalOrExternalBoundary="INTERNAL",
                )
    if STAIR[0] not in drop:
        st = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcStair", name="Stair")
        ifcopenshell.api.run("spatial.assign_container", f, relating_structure=storeys[1], products=[st])
        place(st, 0, 0, 0)
        sx, sy = STAIR[2]
        box(st, [(sx - 0.5, sy - 1), (sx + 0.5, sy - 1), (sx + 0.5, sy + 1), (sx - 0.5, sy + 1)], 3.0)
    f.write(str(path))
    return path
