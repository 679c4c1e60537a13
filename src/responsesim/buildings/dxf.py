"""DXF floor plans (read with ezdxf) drawn on a documented layer convention: a reader.

Roles and their default layer names (case does not matter; ``-<n>`` after the name puts the entities on
floor ``n``, e.g. ``SPACE-2``; without it they are on floor 1):

- ``SPACE``: one closed polyline (LWPOLYLINE / POLYLINE) per space, the room's outline;
- ``LABEL``: TEXT / MTEXT inside a space naming it: ``Room 104`` or ``Room 104 [classroom]`` (a kind in
  brackets sets the kind; otherwise it is guessed from the words);
- ``DOOR``: a door at a block (INSERT), POINT, CIRCLE / ARC centre, LINE midpoint or polyline centre;
- ``EXIT``: the same, for doors to the outside (an ``EXIT`` door is always an exterior door; a ``DOOR``
  with a space on one side only is one when it lies on the floor's outline);
- ``STAIR``: a stair (any of the shapes above) rising from its floor to the next floor up.

A layer map (``--layers MAP.toml``) names the layers of one's own drawing::

    units = "mm"                    # optional: overrides the drawing's $INSUNITS
    [layers]
    "A-AREA" = "space"
    "A-AREA-IDEN" = "label"
    "A-DOOR" = "door"
    "A-FLOR-STRS" = "stair"
    "L2-AREA" = { role = "space", floor = 2 }

Lengths are converted to metres from the drawing's ``$INSUNITS`` (unitless drawings are taken as metres).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import Point as ShPoint
from shapely.geometry import Polygon

from responsesim.buildings.errors import BuildingImportError
from responsesim.buildings.plan import Plan, PlanDoor, PlanSpace, PlanStair, Point

ROLES = ("space", "label", "door", "exit", "stair")
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048}
INSUNITS = {1: 0.0254, 2: 0.3048, 4: 0.001, 5: 0.01, 6: 1.0, 14: 0.1}
_DEFAULT = re.compile(r"^(space|label|door|exit|stair)(?:[-_ ](-?\d{1,3}))?$", re.I)
_KIND = re.compile(r"\[\s*([a-z_]+)\s*\]\s*$", re.I)
KINDS = frozenset({"classroom", "office", "lounge", "restroom", "corridor", "stairwell", "open_area"})
MAX_ENTITIES = 200_000


@dataclass(frozen=True)
class LayerRole:
    role: str
    floor: int


def read_layer_map(path: Path) -> tuple[dict[str, LayerRole], float | None]:
    """A layer map: layer name (upper case) -> role and floor, and the units override (m per unit)."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BuildingImportError(f"cannot read layer map ({exc.strerror})", file=where) from exc
    except UnicodeDecodeError as exc:
        raise BuildingImportError("layer map is not UTF-8 text", file=where) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise BuildingImportError(
            f"TOML syntax error: {exc}", file=where, line=int(m.group(1)) if m else 1
        ) from exc
    unknown = set(data) - {"units", "layers"}
    if unknown:
        raise BuildingImportError(f"unknown key(s) {', '.join(sorted(unknown))}", file=where, field="root")
    scale = None
    if "units" in data:
        if data["units"] not in UNITS:
            raise BuildingImportError(f"units must be one of {', '.join(UNITS)}", file=where, field="units")
        scale = UNITS[data["units"]]
    layers = data.get("layers", {})
    if not isinstance(layers, dict):
        raise BuildingImportError("[layers] must be a table", file=where, field="layers")
    out: dict[str, LayerRole] = {}
    for name, v in layers.items():
        field = f"layers.{name}"
        role, floor = (v, 1) if isinstance(v, str) else (None, None)
        if isinstance(v, dict):
            role, floor = v.get("role"), v.get("floor", 1)
            if set(v) - {"role", "floor"}:
                raise BuildingImportError("a layer takes 'role' and 'floor' only", file=where, field=field)
        if role not in ROLES:
            raise BuildingImportError(f"role must be one of {', '.join(ROLES)}", file=where, field=field)
        if isinstance(floor, bool) or not isinstance(floor, int) or not -100 <= floor <= 1000:
            raise BuildingImportError(
                "floor must be a whole number (1 = ground floor)", file=where, field=field
            )
        out[name.upper()] = LayerRole(str(role), floor)
    return out, scale


class _Reader:
    def __init__(self, path: Path, layer_map: Path | None) -> None:
        self.path = path
        self.file = str(path)
        self.map: dict[str, LayerRole] = {}
        self.scale: float | None = None
        if layer_map is not None:
            self.map, self.scale = read_layer_map(Path(layer_map))

    def fail(self, message: str, field: str | None) -> BuildingImportError:
        return BuildingImportError(message, file=self.file, field=field)

    def role(self, layer: str) -> LayerRole | None:
        found = self.map.get(layer.upper())
        if found is not None:
            return found
        m = _DEFAULT.match(layer.strip())
        if m is None:
            return None
        return LayerRole(m.group(1).lower(), int(m.group(2)) if m.group(2) else 1)

    def open(self) -> Any:
        import ezdxf

        try:
            return ezdxf.readfile(str(self.path))
        except OSError as exc:
            raise self.fail(f"cannot read DXF file ({exc.strerror or exc})", None) from exc
        except ValueError as exc:  # a NUL character in the name
            raise self.fail("cannot read DXF file (its name contains a NUL character)", None) from exc
        except Exception as exc:  # ezdxf.DXFStructureError and friends: a malformed file
            msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise self.fail(f"not a readable DXF file: {msg}", "header") from exc

    def where(self, e: Any) -> str:
        return f"layer {e.dxf.layer}, handle {e.dxf.handle}"

    def centre(self, e: Any, k: float) -> Point | None:
        t = e.dxftype()
        if t in ("INSERT", "TEXT", "MTEXT"):
            p = e.dxf.insert
        elif t == "POINT":
            p = e.dxf.location
        elif t in ("CIRCLE", "ARC"):
            p = e.dxf.center
        elif t == "LINE":
            a, b = e.dxf.start, e.dxf.end
            return ((a[0] + b[0]) / 2 * k, (a[1] + b[1]) / 2 * k)
        elif t in ("LWPOLYLINE", "POLYLINE"):
            pts = self.points(e)
            if not pts:
                return None
            return (sum(x for x, _ in pts) / len(pts) * k, sum(y for _, y in pts) / len(pts) * k)
        else:
            return None
        return (float(p[0]) * k, float(p[1]) * k)

    def points(self, e: Any) -> list[Point]:
        if e.dxftype() == "LWPOLYLINE":
            return [(float(x), float(y)) for x, y in e.get_points("xy")]
        return [(float(v.dxf.location[0]), float(v.dxf.location[1])) for v in e.vertices]

    def read(self) -> Plan:
        doc = self.open()
        msp = doc.modelspace()
        k = self.scale
        units_note = None
        if k is None:
            code = int(doc.header.get("$INSUNITS", 0) or 0)
            k = INSUNITS.get(code, 1.0)
            if code not in INSUNITS:
                units_note = f"drawing units not set ($INSUNITS {code}): lengths taken as metres"
        plan = Plan(name=self.path.stem, file=self.file, format="dxf")
        if units_note:
            plan.notes.append(units_note)
        labels: list[tuple[int, Point, str, str]] = []
        open_lines: list[str] = []
        n = 0
        for e in msp:
            n += 1
            if n > MAX_ENTITIES:
                raise self.fail(f"more than {MAX_ENTITIES:,} entities in model space", "ENTITIES")
            role = self.role(str(e.dxf.layer))
            if role is None:
                continue
            t = e.dxftype()
            ref = self.where(e)
            if role.role == "space":
                if t not in ("LWPOLYLINE", "POLYLINE"):
                    continue
                pts = self.points(e)
                if not e.closed and not (len(pts) > 3 and pts[0] == pts[-1]):
                    open_lines.append(ref)
                    continue
                if len(pts) > 1 and pts[0] == pts[-1]:
                    pts = pts[:-1]
                pts = [(x * k, y * k) for x, y in pts]
                if len(set(pts)) < 3 or Polygon(pts).area <= 0:
                    raise self.fail("a space outline needs at least 3 corners enclosing an area", ref)
                plan.spaces.append(
                    PlanSpace(ref=ref, name=f"space {e.dxf.handle}", floor=role.floor, polygon=pts)
                )
            elif role.role == "label":
                if t in ("TEXT", "MTEXT"):
                    text = e.plain_text() if t == "MTEXT" else str(e.dxf.text)
                    p = self.centre(e, k)
                    if p is not None and text.strip():
                        labels.append((role.floor, p, text.strip(), ref))
            else:
                p = self.centre(e, k)
                if p is None:
                    continue
                if role.role == "stair":
                    plan.stairs.append(PlanStair(ref=ref, name="stair", floors=[role.floor], point=p))
                else:
                    ext = True if role.role == "exit" else None
                    door = PlanDoor(
                        ref=ref, name=f"door {e.dxf.handle}", floor=role.floor, point=p, external=ext
                    )
                    plan.doors.append(door)
        if not plan.spaces:
            layers = sorted({r for r, v in self.map.items() if v.role == "space"}) or ["SPACE", "SPACE-<n>"]
            raise self.fail(
                "no closed polylines on the space layer(s): draw each room as a closed polyline"
                + (f" ({len(open_lines)} open ones found, e.g. {open_lines[0]})" if open_lines else ""),
                f"layer {', '.join(layers)}",
            )
        if open_lines:
            plan.notes.append(f"open polylines on space layers, skipped: {', '.join(open_lines[:6])}")
        self.name_spaces(plan, labels)
        return plan

    def name_spaces(self, plan: Plan, labels: list[tuple[int, Point, str, str]]) -> None:
        polys = [Polygon(s.polygon) for s in plan.spaces]
        for floor, p, text, ref in labels:
            hit = [i for i, s in enumerate(plan.spaces) if s.floor == floor and polys[i].contains(ShPoint(p))]
            if not hit:
                plan.notes.append(f"label {text[:40]!r} ({ref}) is inside no space: ignored")
                continue
            sp = plan.spaces[hit[0]]
            m = _KIND.search(text)
            if m:
                kind = m.group(1).lower()
                if kind not in KINDS:
                    raise self.fail(f"unknown kind [{kind}] in label {text[:60]!r} (one of "
                                    f"{', '.join(sorted(KINDS))})", ref)  # fmt: skip
                sp.kind = kind
                text = text[: m.start()].strip()
            sp.name = text[:80] or sp.name
            sp.ref = f"{sp.ref} {sp.name!r}"


def read_dxf(path: Path, layer_map: Path | None = None) -> Plan:
    """Read a DXF floor plan; any problem raises ``BuildingImportError`` naming the layer and handle."""
    return _Reader(Path(path), layer_map).read()
