"""Swimlane chart of a reviewed timeline: one lane per actor, gunfire marks, deviations shaded.

A part of a review (``section_png``) draws only its actors; the pre-attack part is on a scale of days,
with the attack's date marked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from responsesim.review.findings import Review

if TYPE_CHECKING:
    from responsesim.review.sections import IncidentReview, Section

__all__ = ["section_png", "swimlane_png"]

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
    "hemorrhage_control": ("P", "#17becf"),
    "requested_entry": ("v", "#1f77b4"),
    "entry_refused": ("X", "#d62728"),
    "entered_warm_zone": ("^", "#17becf"),
    "tip_received": ("o", "#1f77b4"),
    "tip_assessed": ("D", "#2ca02c"),
    "tip_forwarded": (">", "#2ca02c"),
    "tip_closed": ("X", "#7f7f7f"),
    "visit": ("s", "#9467bd"),
    "warning_sign": ("*", "#d62728"),
}


def section_png(rv: IncidentReview, sec: Section, path: Path, *, dpi: int = 110) -> None:
    """One part's chart: its actors, its findings; the pre-attack part on a scale of days."""
    merged = Review(sec.timeline, sec.reviews[0].protocol, sec.reviews[0].active, sec.findings, sec.notes)
    protos = " + ".join(r.protocol.name for r in sec.reviews)
    swimlane_png(merged, path, dpi=dpi, lanes=sec.lanes(), days=sec.days,
                 title=f"{sec.title}: {Path(rv.timeline.file).name} reviewed against {protos}")  # fmt: skip


def swimlane_png(
    rv: Review,
    path: Path,
    *,
    dpi: int = 110,
    lanes: list[str] | None = None,
    days: bool = False,
    title: str | None = None,
) -> None:
    """Write the chart to ``path`` (PNG): ``lanes`` (default: every actor); ``days``: a date axis, without the
    zoom on the active period. The figure is closed afterwards."""
    tl = rv.timeline
    roles = tl.actors()
    actors = list(roles) if lanes is None else [a for a in roles if a in lanes]
    # a deadline that any actor of some roles had to meet gets its own lane, unless its trigger actor
    # was one of them (then it is shaded in the trigger actor's lane)
    shared = [
        f.responsible
        for f in rv.findings
        if f.responsible.startswith("any ") and roles.get(f.actor) not in f.responsible[4:].split("/")
    ]
    shared = list(dict.fromkeys(shared))
    lanes = actors + shared
    lane = {a: k for k, a in enumerate(lanes)}
    zoom = not days and rv.active is not None and (tl.end - tl.start) > 3 * (rv.active.end - rv.active.start)
    nrows = 2 if zoom else 1
    height = 1.0 + 0.5 * len(lanes)
    fig, axes = plt.subplots(nrows, 1, figsize=(12, nrows * height + 0.6), squeeze=False)
    try:
        ax = axes[0][0]
        _draw(ax, rv, lanes, lane, shared, days)
        if zoom and rv.active is not None:
            z = axes[1][0]
            _draw(z, rv, lanes, lane, shared, days)
            pad = (rv.active.end - rv.active.start) * 0.8
            z.set_xlim(mdates.date2num(rv.active.start - pad), mdates.date2num(rv.active.end + pad))
            z.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=6, maxticks=14))
            z.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
            z.set_title("zoom: the attacker's active period", fontsize=9)
        ax.set_title(title or f"{Path(tl.file).name} reviewed against {rv.protocol.name}", fontsize=10)
        handles = [
            Patch(facecolor=c, alpha=0.3, label=f"{s} deviation")
            for s, c in _SEVERITY_COLOR.items()
            if any(f.severity == s for f in rv.findings)
        ]
        handles.append(Patch(facecolor="#d62728", alpha=0.08, label="attack" if days else "attacker active"))
        handles.append(
            Patch(facecolor="white", edgecolor="black", label="hollow mark / hatched: approximate")
        )
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)


def _draw(
    ax: Axes, rv: Review, lanes: list[str], lane: dict[str, int], shared: list[str], days: bool
) -> None:
    tl = rv.timeline
    roles = tl.actors()
    actors = [a for a in lanes if a not in shared]
    min_width = 1.0 if days else 1e-5  # a day, or about a second (matplotlib dates are in days)
    for f in rv.findings:  # deviations: shaded span in the actor's lane
        y = lane.get(f.responsible) if f.responsible in shared else lane.get(f.actor)
        if y is None:
            continue
        color = _SEVERITY_COLOR.get(f.severity, "#7f7f7f")
        x0, x1 = mdates.date2num(f.start), mdates.date2num(f.end)
        ax.broken_barh(
            [(x0, max(x1 - x0, min_width))],
            (y - 0.4, 0.8),
            facecolors=color,
            alpha=0.18,
            edgecolor=color,
            hatch="//" if f.approximate else None,
        )
    attack = next((r for r in tl.rows if r.role == "attacker" and r.event == "shots_fired"), None)
    if days and attack is not None:
        ax.axvline(mdates.date2num(attack.time), color="#d62728", lw=1.5)
    elif rv.active is not None:
        ax.axvspan(
            mdates.date2num(rv.active.start),
            mdates.date2num(rv.active.end),
            color="#d62728",
            alpha=0.05,
            lw=0,
        )
    # on a scale of days: the three years before the attack (older rows sit at the left edge, dated),
    # and one label per lane and month (markers closer than that share it)
    left = None
    if days and attack is not None:
        first = min(r.time for r in tl.rows if r.actor in lane)
        left = max(first, attack.time - timedelta(days=3 * 365)) - timedelta(days=30)
        ax.set_xlim(mdates.date2num(left), mdates.date2num(attack.time + timedelta(days=45)))
    last_label: dict[str, float] = {}
    for r in tl.rows:
        if r.actor not in lane:
            continue
        if r.event == "shots_fired" and not days:
            ax.axvline(mdates.date2num(r.time), color="#d62728", lw=0.8, alpha=0.6, ls=":")
        marker, color = _EVENT_MARK.get(r.event, ("o", "#555555"))
        face = "none" if r.flagged else color
        older = left is not None and r.time < left
        x = mdates.date2num(left if older and left is not None else r.time)
        ax.plot([x], [lane[r.actor]], marker=marker, ms=8, mec=color, mfc=face, ls="none")
        tip = r.tokens().get("tip")
        text = r.event + (f" {tip}" if tip and days else "")
        if older:
            text = f"< {r.time:%Y-%m} {text}"
        if days and x - last_label.get(r.actor, -1e9) < 30:
            continue  # a label this month already: the marker shows, the rows are in the findings
        last_label[r.actor] = x
        ax.annotate(text, (x, lane[r.actor]), xytext=(3, 6), textcoords="offset points", fontsize=6.5,
                    rotation=20)  # fmt: skip
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([f"{a} ({roles[a]})" for a in actors] + shared, fontsize=8)
    ax.set_ylim(len(lanes) - 0.4, -0.8)
    if days:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m" if days else "%H:%M"))
    ax.grid(axis="x", alpha=0.3)
