"""Swimlane chart of a reviewed timeline: one lane per actor, gunfire marks, deviations shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from responsesim.review.findings import Review

__all__ = ["swimlane_png"]

_SEVERITY_COLOR = {"critical": "#d62728", "major": "#ff7f0e", "minor": "#bcbd22", "info": "#7f7f7f"}
_EVENT_MARK = {
    "shots_fired": ("x", "#d62728"),
    "entered_building": ("^", "#2ca02c"),
    "moved_toward_threat": (">", "#2ca02c"),
    "engaged_attacker": ("*", "#2ca02c"),
    "took_cover": ("s", "#9467bd"),
    "held_position": ("s", "#9467bd"),
    "set_perimeter": ("s", "#9467bd"),
    "arrived_on_scene": ("o", "#1f77b4"),
    "radio": ("d", "#8c564b"),
    "casualty_care_started": ("P", "#17becf"),
}


def swimlane_png(rv: Review, path: Path, *, dpi: int = 110) -> None:
    """Write the chart to ``path`` (PNG). The figure is closed afterwards."""
    tl = rv.timeline
    actors = list(tl.actors())
    lane = {a: k for k, a in enumerate(actors)}
    fig, ax = plt.subplots(figsize=(12, 1.2 + 0.55 * len(actors)))
    try:
        for f in rv.findings:  # deviations: shaded span in the actor's lane
            y = lane.get(f.actor)
            if y is None:
                continue
            color = _SEVERITY_COLOR.get(f.severity, "#7f7f7f")
            x0, x1 = mdates.date2num(f.start), mdates.date2num(f.end)
            ax.broken_barh(
                [(x0, max(x1 - x0, 1e-5))],
                (y - 0.4, 0.8),
                facecolors=color,
                alpha=0.18,
                edgecolor=color,
                hatch="//" if f.approximate else None,
            )
        if rv.active is not None:
            ax.axvspan(
                mdates.date2num(rv.active.start),
                mdates.date2num(rv.active.end),
                color="#d62728",
                alpha=0.05,
                lw=0,
            )
        for r in tl.rows:
            if r.event == "shots_fired":
                ax.axvline(mdates.date2num(r.time), color="#d62728", lw=0.8, alpha=0.6, ls=":")
            marker, color = _EVENT_MARK.get(r.event, ("o", "#555555"))
            face = "none" if r.flagged else color
            ax.plot(
                [mdates.date2num(r.time)],
                [lane[r.actor]],
                marker=marker,
                ms=8,
                mec=color,
                mfc=face,
                ls="none",
            )
            ax.annotate(
                r.event,
                (mdates.date2num(r.time), lane[r.actor]),
                xytext=(3, 6),
                textcoords="offset points",
                fontsize=6.5,
                rotation=20,
            )
        ax.set_yticks(range(len(actors)))
        ax.set_yticklabels([f"{a} ({tl.actors()[a]})" for a in actors], fontsize=8)
        ax.set_ylim(len(actors) - 0.4, -0.8)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(f"{Path(tl.file).name} reviewed against {rv.protocol.name}", fontsize=10)
        handles = [
            Patch(facecolor=c, alpha=0.3, label=f"{s} deviation")
            for s, c in _SEVERITY_COLOR.items()
            if any(f.severity == s for f in rv.findings)
        ]
        handles.append(Patch(facecolor="#d62728", alpha=0.08, label="attacker active"))
        handles.append(
            Patch(facecolor="white", edgecolor="black", label="hollow mark / hatched: approximate")
        )
        ax.legend(handles=handles, fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
