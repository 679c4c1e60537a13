"""IFC building models (IFC2x3, IFC4, IFC4x3; read with ifcopenshell): a reader.

- Floors: ``IfcBuildingStorey`` by elevation; the lowest storey at or above ``GROUND_TOLERANCE_M`` below
  zero is floor 1 (the ground floor), lower storeys are 0, -1, ...
- Spaces: every ``IfcSpace`` with a body; its outline is the union of its triangulated body projected on
  the plan; its name is the ``LongName`` (else ``Name``); ``ObjectType`` and ``Pset_SpaceCommon.Category``
  help guess the kind; ``BaseQuantities`` / ``Qto_SpaceBaseQuantities`` ``NetFloorArea`` (else the
  outline's area) sizes it; ``Pset_SpaceOccupancyRequirements.OccupancyNumber`` gives its occupants.
- Doors: every ``IfcDoor``; the spaces it joins come from space boundaries (``IfcRelSpaceBoundary`` on
  the door or on the opening it fills), else from the geometry; ``Pset_DoorCommon.IsExternal`` marks an
  exterior door; a door named like a main entrance (``MAIN_ENTRANCE_WORDS``) is the default entry.
- Stairs: every ``IfcStair`` (or ``IfcStairFlight`` not part of one); it serves the floors whose levels
  its body spans (else it rises from its own storey to the next).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.plan import Plan, PlanDoor, PlanSpace, PlanStair

GROUND_TOLERANCE_M = 1.0
"""A storey this far (m) below elevation 0 or less still counts as the ground floor when it is the lowest."""
STAIR_LEVEL_TOLERANCE_M = 0.3
"""A stair whose body reaches within this (m) of a storey's level serves that storey."""
MAIN_ENTRANCE_WORDS = re.compile(r"haust(ue|ü)r|main|entrance|front|eingang|principal|entr(e|é)e", re.I)
MAX_ENTITIES = 20_000
"""More spaces + doors + stairs than this is refused (the engine's tables are dense)."""


def _ref(e: Any) -> str:
    name = getattr(e, "Name", None)
    return f"#{e.id()} {e.is_a()}" + (f" {name!r}" if name else "")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)

    def fail(self, message: str, field: str | None) -> BuildingImportError:
        return BuildingImportError(message, file=self.file, field=field)

    def open(self) -> Any:
        import ifcopenshell

        try:
            with open(self.path, "rb") as fh:
                head = fh.read(64)
        except OSError as exc:
            raise self.fail(f"cannot read IFC file ({exc.strerror})", None) from exc
        except ValueError as exc:  # a NUL character in the name
            raise self.fail("cannot read IFC file (its name contains a NUL character)", None) from exc
        if not head.lstrip().startswith(b"ISO-10303-21"):
            raise self.fail("not an IFC file: it does not start with 'ISO-10303-21;' (IFC-SPF)", "header")
        try:
            return ifcopenshell.open(str(self.path))
        except Exception as exc:  # the parser raises several kinds; each is a malformed file
            msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise self.fail(f"the IFC file cannot be parsed: {msg}", "data") from exc

    def shapes(self, f: Any, elements: list[Any]) -> dict[int, np.ndarray]:
        """Entity id -> world vertices [n, 3] (m) and triangles, for the elements with a body."""
        import ifcopenshell.geom

        out: dict[int, np.ndarray] = {}
        if not elements:
            return out
        settings = ifcopenshell.geom.settings()
        settings.set("use-world-coords", True)
        it = ifcopenshell.geom.iterator(settings, f, 2, include=elements)
        try:
            ok = bool(it.initialize())
        except Exception:  # geometry the kernel cannot build: fall back to placements below
            return out
        while ok:
            sh = it.get()
            verts = np.asarray(sh.geometry.verts, dtype=float).reshape(-1, 3)
            faces = np.asarray(sh.geometry.faces, dtype=int).reshape(-1, 3)
            out[int(sh.id)] = verts
            self.faces[int(sh.id)] = faces
            ok = bool(it.next())
        return out

    def read(self) -> Plan:
        import ifcopenshell.util.element as ue
        import ifcopenshell.util.placement as up
        import ifcopenshell.util.unit as uu

        f = self.open()
        try:
            storeys = list(f.by_type("IfcBuildingStorey"))
            spaces = list(f.by_type("IfcSpace"))
            doors = list(f.by_type("IfcDoor"))
            stairs = list(f.by_type("IfcStair"))
            flights = [s for s in f.by_type("IfcStairFlight") if not ue.get_aggregate(s)]
        except RuntimeError as exc:
            raise self.fail(f"the file's schema has no building entities ({exc})", "FILE_SCHEMA") from exc
        if not spaces:
            raise self.fail(
                "no IfcSpace: the model has no rooms (export spaces / zones from the design tool)", "IfcSpace"
            )
        if len(spaces) + len(doors) + len(stairs) > MAX_ENTITIES:
            raise self.fail(f"more than {MAX_ENTITIES:,} spaces, doors and stairs", "IfcSpace")
        try:
            scale = float(uu.calculate_unit_scale(f))
        except Exception:
            scale = 1.0
        # storeys -> floors
        levels: list[tuple[float, Any]] = []
        for s in storeys:
            elev = s.Elevation
            if elev is None:
                try:
                    elev = up.get_local_placement(s.ObjectPlacement)[2, 3]
                except Exception:
                    elev = 0.0
            levels.append((float(elev) * scale, s))
        levels.sort(key=lambda t: t[0])
        ground = next((k for k, (e, _) in enumerate(levels) if e >= -GROUND_TOLERANCE_M), 0)
        floor_of_storey = {s.id(): k - ground + 1 for k, (_, s) in enumerate(levels)}
        elevations = {k - ground + 1: e for k, (e, _) in enumerate(levels)}
        plan = Plan(name=self.name(f), file=self.file, format="ifc")
        plan.elevations = dict(elevations)
        plan.floor_names = {floor_of_storey[s.id()]: str(s.Name or s.LongName or "") for _, s in levels}
        self.faces: dict[int, np.ndarray] = {}
        geo = self.shapes(f, spaces + doors + stairs + flights)

        def storey_floor(e: Any, z: float | None) -> int:
            node = e
            for _ in range(8):  # space -> (space ->) storey, element -> storey
                parent = ue.get_aggregate(node) or ue.get_container(node)
                if parent is None:
                    break
                if parent.is_a("IfcBuildingStorey"):
                    return floor_of_storey[parent.id()]
                node = parent
            if z is not None and elevations:
                return min(
                    elevations, key=lambda fl: abs(elevations[fl] - z) if elevations[fl] <= z + 0.5 else 1e9
                )
            return 1

        index: dict[int, int] = {}
        skipped: list[str] = []
        for sp in spaces:
            verts = geo.get(sp.id())
            poly = self.footprint(sp.id(), verts) if verts is not None else None
            if poly is None:
                skipped.append(_ref(sp))
                continue
            psets = ue.get_psets(sp)
            q = psets.get("Qto_SpaceBaseQuantities") or psets.get("BaseQuantities") or {}
            area = q.get("NetFloorArea") or q.get("GrossFloorArea")
            occ = (psets.get("Pset_SpaceOccupancyRequirements") or {}).get("OccupancyNumber")
            usage = " ".join(
                str(x)
                for x in (sp.Name, sp.ObjectType, (psets.get("Pset_SpaceCommon") or {}).get("Category"))
                if x
            )
            name = str(sp.LongName or sp.Name or f"space {sp.id()}")
            index[sp.id()] = len(plan.spaces)
            plan.spaces.append(
                PlanSpace(
                    ref=_ref(sp),
                    name=name,
                    floor=storey_floor(sp, float(verts[:, 2].min())),  # type: ignore[index]
                    polygon=[(float(x), float(y)) for x, y in poly.exterior.coords[:-1]],
                    usage=usage,
                    area_m2=float(area) if isinstance(area, int | float) and area > 0 else None,
                    occupants=int(occ) if isinstance(occ, int | float) and 0 <= occ <= 1_000_000 else None,
                )
            )
        if skipped:
            plan.notes.append(
                f"spaces with no body to draw an outline from, skipped: {', '.join(skipped[:8])}"
            )
        if not plan.spaces:
            raise self.fail("no IfcSpace has a body (geometry) to take its outline from", "IfcSpace")
        for d in doors:
            p, z = self.position(d, geo.get(d.id()), up, scale)
            if p is None:
                plan.notes.append(f"{_ref(d)} has no position: skipped")
                continue
            sides = self.boundary_spaces(d, index)
            common = ue.get_psets(d).get("Pset_DoorCommon") or {}
            ext = common.get("IsExternal")
            name = str(d.Name or f"door {d.id()}")
            plan.doors.append(
                PlanDoor(
                    ref=_ref(d),
                    name=name,
                    floor=storey_floor(d, z),
                    point=p,
                    spaces=sides or None,
                    external=ext if isinstance(ext, bool) else None,
                    principal=bool(MAIN_ENTRANCE_WORDS.search(name)),
                )
            )
        for st in stairs + flights:
            verts = geo.get(st.id())
            if verts is None:  # a stair made of flights: their bodies
                parts = [geo[c.id()] for c in ue.get_decomposition(st) if c.id() in geo]
                verts = np.vstack(parts) if parts else None
            p, z = self.position(st, verts, up, scale)
            if p is None:
                plan.notes.append(f"{_ref(st)} has no position: skipped")
                continue
            base = storey_floor(st, z)
            floors = [base]
            if verts is not None:
                lo, hi = float(verts[:, 2].min()), float(verts[:, 2].max())
                tol = STAIR_LEVEL_TOLERANCE_M
                spanned = [fl for fl, e in elevations.items() if lo - tol <= e <= hi + tol]
                if len(spanned) >= 2:
                    floors = sorted(spanned)
            plan.stairs.append(PlanStair(ref=_ref(st), name=str(st.Name or "stair"), floors=floors, point=p))
        return plan

    def name(self, f: Any) -> str:
        for t in ("IfcBuilding", "IfcProject"):
            for e in f.by_type(t):
                if getattr(e, "Name", None):
                    return str(e.Name)
        return self.path.stem

    def footprint(self, eid: int, verts: np.ndarray) -> Polygon | None:
        """The plan outline of a body: the union of its triangles seen from above (largest part)."""
        faces = self.faces.get(eid)
        if faces is None or len(faces) == 0:
            return None
        xy = verts[:, :2]
        tris = [Polygon(xy[t]) for t in faces]
        tris = [t for t in tris if t.is_valid and t.area > 1e-6]
        if not tris:
            return None
        shape = unary_union(tris)
        if isinstance(shape, MultiPolygon):
            shape = max(shape.geoms, key=lambda g: g.area)
        if not isinstance(shape, Polygon) or shape.area <= 0:
            return None
        shape = Polygon(shape.exterior).simplify(0.02)
        return shape if isinstance(shape, Polygon) and shape.area > 0 else None

    def position(self, e: Any, verts: np.ndarray | None, up: Any, scale: float) -> tuple[Any, float | None]:
        """Plan centre and lowest level (m) of an element: its body's bounding box, else its placement."""
        if verts is not None and len(verts):
            lo, hi = verts.min(axis=0), verts.max(axis=0)
            return (float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2)), float(lo[2])
        try:
            m = up.get_local_placement(e.ObjectPlacement) if e.ObjectPlacement else None
        except Exception:
            m = None
        if m is None:
            return None, None
        return (float(m[0, 3]) * scale, float(m[1, 3]) * scale), float(m[2, 3]) * scale

    def boundary_spaces(self, door: Any, index: dict[int, int]) -> list[int]:
        """Spaces on either side of a door from its space boundaries (or those of the opening it fills)."""
        rels = list(getattr(door, "ProvidesBoundaries", None) or [])
        for fill in getattr(door, "FillsVoids", None) or []:
            rels += list(getattr(fill.RelatingOpeningElement, "ProvidesBoundaries", None) or [])
        out: list[int] = []
        for r in rels:
            sp = r.RelatingSpace
            if sp is not None and sp.id() in index and index[sp.id()] not in out:
                out.append(index[sp.id()])
        return out


def read_ifc(path: Path) -> Plan:
    """Read an IFC model; any problem raises ``BuildingImportError`` naming the entity (``#id IfcType``)."""
    return _Reader(Path(path)).read()
