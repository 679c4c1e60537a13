"""Import time of a generated 300-space IFC building, and 1,000 replications on it.

Run (from the repository root, after the engine has been compiled once):

    python benchmarks/bench_building_import.py [--repeats K] [--no-write]

The building: 5 storeys, each a 100 m corridor of 20 segments (joined by openings) with 40 classrooms
(5 x 8 m each) off it, a stair at each end linking the storeys and two exterior doors on the
ground floor: 300 spaces, 297 doors, 8 stairs. Each repeat is a fresh process running ``responsesim
building import FILE --out building.toml`` (Python start, imports, IFC parse, geometry, inference,
writing). Then 1,000 replications of the default scenario on the imported building (``responsesim.run``,
in process, engine compiled). Writes the medians with the machine and the date as the
``benchmarks/bench_building_import.py`` section of docs/benchmarks.md. Targets (issue 17): import under
10 s; 1,000 replications under 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from doc_section import write_section

START = "<!-- benchmarks/bench_building_import.py: start -->"
END = "<!-- benchmarks/bench_building_import.py: end -->"
IMPORT_TARGET_S = 10.0
RUN_TARGET_S = 5.0
FLOORS, SEGMENTS, SEG_M, ROOM_DEPTH, STOREY_M = 5, 20, 5.0, 8.0, 3.5


def generate(path: Path) -> int:
    """Write the benchmark building as IFC4 (metres); returns its number of spaces."""
    import ifcopenshell.api
    from ifcopenshell.util.shape_builder import ShapeBuilder

    run = ifcopenshell.api.run
    f = run("project.create_file", version="IFC4")
    project = run("root.create_entity", f, ifc_class="IfcProject", name="bench")
    run("unit.assign_unit", f, length={"is_metric": True, "raw": "METERS"})
    model = run("context.add_context", f, context_type="Model")
    body = run("context.add_context", f, context_type="Model", context_identifier="Body",
               target_view="MODEL_VIEW", parent=model)  # fmt: skip
    site = run("root.create_entity", f, ifc_class="IfcSite", name="site")
    bldg = run("root.create_entity", f, ifc_class="IfcBuilding", name="Generated school")
    run("aggregate.assign_object", f, relating_object=project, products=[site])
    run("aggregate.assign_object", f, relating_object=site, products=[bldg])
    sb = ShapeBuilder(f)

    def body_of(product: Any, x0: float, y0: float, x1: float, y1: float, z: float, h: float) -> None:
        m = np.eye(4)
        m[2, 3] = z
        run("geometry.edit_object_placement", f, product=product, matrix=m)
        solid = sb.extrude(sb.profile(sb.polyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], closed=True)), h)
        run(
            "geometry.assign_representation",
            f,
            product=product,
            representation=sb.get_representation(body, [solid]),
        )

    def door(
        storey: Any, name: str, x: float, y: float, z: float, across_x: bool, external: bool = False
    ) -> None:
        d = run("root.create_entity", f, ifc_class="IfcDoor", name=name)
        run("spatial.assign_container", f, relating_structure=storey, products=[d])
        dx, dy = (0.1, 0.45) if across_x else (0.45, 0.1)
        body_of(d, x - dx, y - dy, x + dx, y + dy, z, 2.0)
        if external:
            pset = run("pset.add_pset", f, product=d, name="Pset_DoorCommon")
            run("pset.edit_pset", f, pset=pset, properties={"IsExternal": True})

    n = 0
    for fl in range(FLOORS):
        z = fl * STOREY_M
        storey = run("root.create_entity", f, ifc_class="IfcBuildingStorey", name=f"Level {fl + 1}")
        storey.Elevation = z
        run("aggregate.assign_object", f, relating_object=bldg, products=[storey])
        spaces = []
        for i in range(SEGMENTS):
            x0 = i * SEG_M
            hall = run("root.create_entity", f, ifc_class="IfcSpace", name=f"C{fl + 1}.{i:02d}")
            hall.LongName = "Corridor"
            spaces.append(hall)
            body_of(hall, x0, 0.0, x0 + SEG_M - 0.05, 3.0, z, 3.0)
            if i:
                door(storey, f"O{fl + 1}.{i:02d}", x0 - 0.025, 1.5, z, across_x=True)
            for side, (y0, y1) in enumerate(((3.2, 3.2 + ROOM_DEPTH), (-0.2 - ROOM_DEPTH, -0.2))):
                room = run("root.create_entity", f, ifc_class="IfcSpace", name=f"{fl + 1}{i:02d}{'NS'[side]}")
                room.LongName = "Classroom"
                spaces.append(room)
                body_of(room, x0, y0, x0 + SEG_M - 0.05, y1, z, 3.0)
                door(
                    storey,
                    f"D{fl + 1}.{i:02d}{'NS'[side]}",
                    x0 + SEG_M / 2,
                    3.1 if side == 0 else -0.1,
                    z,
                    False,
                )
        run("aggregate.assign_object", f, relating_object=storey, products=spaces)
        n += len(spaces)
        if fl == 0:
            door(storey, "Main entrance", -0.1, 1.5, z, across_x=True, external=True)
            door(storey, "East exit", SEGMENTS * SEG_M - 0.05 + 0.1, 1.5, z, across_x=True, external=True)
        if fl < FLOORS - 1:
            for sx in (1.5, SEGMENTS * SEG_M - 1.5):
                st = run("root.create_entity", f, ifc_class="IfcStair", name="Stair")
                run("spatial.assign_container", f, relating_structure=storey, products=[st])
                body_of(st, sx - 0.6, 0.5, sx + 0.6, 2.5, z, STOREY_M)
    f.write(str(path))
    return n


def import_once(ifc: Path, out: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    # the console script's entry point (``python -m responsesim.cli`` runs the app before the building
    # sub-commands are added at the end of cli.py)
    cmd = [sys.executable, "-c", "from responsesim.cli import app; app()", "building", "import", str(ifc)]
    subprocess.run(
        [*cmd, "--out", str(out)], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    import responsesim as rs

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ifc = d / "generated.ifc"
        n_spaces = generate(ifc)
        size_mb = ifc.stat().st_size / 1e6
        out = d / "building.toml"
        import_once(ifc, out)  # warm the file cache: not timed
        walls = [import_once(ifc, out) for _ in range(a.repeats)]
        spec_text = out.read_text()
        graph_spaces = spec_text.count("[[spaces]]")
        (d / "scenario.toml").write_text('name = "bench 300"\n[building]\nfile = "building.toml"\n')
        sc = rs.load_scenario(d / "scenario.toml")
        rs.run(sc, replications=100, seed=1)  # compile / warm: not timed
        runs = []
        for k in range(a.repeats):
            t = time.perf_counter()
            rs.run(sc, replications=1000, seed=2 + k)
            runs.append(time.perf_counter() - t)
    imp, rep = statistics.median(walls), statistics.median(runs)
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    cpu_name = platform.processor() or platform.machine()
    text = f"""{START}
## Building import: a 300-space IFC building (benchmarks/bench_building_import.py)

{when}, {platform.system()} {platform.machine()} ({cpu_name}), {os.cpu_count()} cores, Python
{platform.python_version()}; engine already compiled (cached). A generated IFC4 school ({n_spaces} spaces on
{FLOORS} storeys, {size_mb:.1f} MB: corridors of {SEGMENTS} segments joined by openings, 40 classrooms a
floor, 8 stairs, 2 exterior doors) -> {graph_spaces} spaces in the building file. Import: {a.repeats} fresh
processes of `responsesim building import FILE --out building.toml`. Replications: `responsesim.run` of
the default scenario on the imported building, in process, with posterior draws. Regenerate with
`python benchmarks/bench_building_import.py`.

| step | wall time (s), median (range) | target |
|---|---|---|
| import (fresh process) | {imp:.1f} ({min(walls):.1f} - {max(walls):.1f}) | {IMPORT_TARGET_S:g} s: {"met" if imp < IMPORT_TARGET_S else "not met"} |
| 1,000 replications | {rep:.1f} ({min(runs):.1f} - {max(runs):.1f}) | {RUN_TARGET_S:g} s: {"met" if rep < RUN_TARGET_S else "not met"} |
{END}
"""  # noqa: E501
    print(text)
    if a.no_write:
        return
    write_section(START, END, text)


if __name__ == "__main__":
    main()
