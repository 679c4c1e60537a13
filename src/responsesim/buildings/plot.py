"""Draw a building floor by floor (matplotlib): outlines coloured by kind, doors as edges, exits.

Spaces without an outline (exits, hand-written graphs) are drawn as dots at their (x, y); edges between
floors (stairs) as a ring around the space on each floor they join.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from responsesim.buildings.toml_out import file_mode
from responsesim.scenario.building import BuildingSpec

COLOURS = {
    "classroom": "#8ecae6",
    "office": "#b8e0a8",
    "lounge": "#ffd6a5",
    "restroom": "#d9d9d9",
    "corridor": "#f4f1de",
    "stairwell": "#cdb4db",
    "open_area": "#fff3b0",
    "exit": "#e63946",
}

MAX_COLUMNS = 3
"""Floors drawn side by side up to this many; a taller building is drawn two floors a row."""


def save_plan(spec: BuildingSpec, png: Path, labels: bool = True, dpi: int = 130) -> None:
    """Write the plan of ``spec`` to ``png`` (through a temporary file and a rename)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.patches import Polygon as MplPolygon

    floors = sorted({s.floor for s in spec.spaces})
    by_id = {s.id: s for s in spec.spaces}
    xs = [p[0] for s in spec.spaces for p in (s.polygon or [(s.x, s.y)])]
    ys = [p[1] for s in spec.spaces for p in (s.polygon or [(s.x, s.y)])]
    w, h = max(xs) - min(xs) or 1.0, max(ys) - min(ys) or 1.0
    panel = min(7.0, max(3.5, 5.0 * w / h))
    cols = len(floors) if len(floors) <= MAX_COLUMNS else 2  # more floors: rows of two, one below the other
    rows = -(-len(floors) // cols)
    row_h = 5.6 if rows == 1 else min(5.6, max(2.8, panel * h / w + 1.4))
    size = (panel * cols, row_h * rows + (0.6 if rows > 1 else 0.0))
    fig, grid = plt.subplots(rows, cols, figsize=size, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(floors) :]:
        ax.set_visible(False)
    for ax, floor in zip(axes, floors, strict=False):
        here = [s for s in spec.spaces if s.floor == floor]
        for s in here:
            colour = COLOURS.get(s.kind, "#eeeeee")
            if s.polygon:
                ax.add_patch(
                    MplPolygon(s.polygon, closed=True, facecolor=colour, edgecolor="#444444", lw=0.6)
                )
            else:
                ax.plot(s.x, s.y, marker="^" if s.kind == "exit" else "o", color=colour, ms=9, mec="#222222")
            if labels:
                ax.annotate(s.id, (s.x, s.y), fontsize=5.5, ha="center", va="center", color="#222222")
        for e in spec.edges:
            a, b = by_id[e.a], by_id[e.b]
            if a.floor == floor and b.floor == floor:
                ax.plot([a.x, b.x], [a.y, b.y], color="#1d3557", lw=0.8, alpha=0.7, zorder=3)
            elif floor in (a.floor, b.floor):
                s = a if a.floor == floor else b
                other = b if s is a else a
                ax.plot(s.x, s.y, marker="o", mfc="none", mec="#6a4c93", ms=14, mew=1.5, zorder=4)
                ax.annotate(
                    f"stair to {other.floor}",
                    (s.x, s.y),
                    xytext=(0, -12),
                    textcoords="offset points",
                    fontsize=6,
                    ha="center",
                    color="#6a4c93",
                )
        ax.set_title(f"floor {floor}: {sum(1 for s in here if s.kind != 'exit')} spaces, "
                     f"{sum(s.occupants for s in here)} occupants", fontsize=9)  # fmt: skip
        ax.set_aspect("equal")
        pad = 0.06 * max(w, h)
        ax.set_xlim(min(xs) - pad, max(xs) + pad)  # one scale on every floor
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("x (m)", fontsize=8)
    for row in grid:
        row[0].set_ylabel("y (m)", fontsize=8)
    kinds = sorted({s.kind for s in spec.spaces})
    fig.legend(
        handles=[Patch(facecolor=COLOURS.get(k, "#eeeeee"), edgecolor="#444444", label=k) for k in kinds],
        loc="lower center",
        ncol=len(kinds),
        fontsize=7,
        frameon=False,
    )
    fig.suptitle(f"{spec.name}: {len(spec.spaces)} spaces, {len(spec.edges)} edges", fontsize=10)
    fig.tight_layout(rect=(0, 0.05 / rows, 1, 1 - 0.03 / rows))
    png = Path(png)
    fd, tmp = tempfile.mkstemp(prefix=f".{png.name}.", suffix=".png", dir=png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi)
        os.chmod(tmp, file_mode())
        os.replace(tmp, png)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
