"""The debrief as a printable HTML page (Jinja2, ``templates/debrief.html.j2``)."""

from __future__ import annotations

import math
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from responsesim.exercise.debrief import Debrief, DecisionDebrief
from responsesim.exercise.knowledge import officer_names

__all__ = ["render_html", "write_html"]

_ENV = Environment(
    loader=PackageLoader("responsesim.exercise", "templates"), autoescape=select_autoescape(["j2", "html"])
)


def _clock(s: float | None) -> str:
    """Seconds as m:ss ("-" when unknown)."""
    if s is None or not math.isfinite(s):
        return "-"
    return f"{int(s // 60)}:{int(s % 60):02d}"


def _minutes(s: float) -> str:
    return f"{s / 60:.1f} min" if math.isfinite(s) else "-"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _label(x: DecisionDebrief, alt_id: str | None) -> str:
    for a in x.alternatives:
        if a.id == alt_id:
            return a.label
    return alt_id or ""


def render_html(d: Debrief) -> str:
    """The debrief page."""
    unit_name = officer_names([d.unit])[0]  # "SRO" or "Patrol officer 1"
    return _ENV.get_template("debrief.html.j2").render(
        d=d, unit_name=unit_name, clock=_clock, minutes=_minutes, pct=_pct, label=_label
    )


def write_html(d: Debrief, path: Path | str) -> Path:
    """Write the debrief page to ``path``; returns it."""
    path = Path(path)
    path.write_text(render_html(d), encoding="utf-8")
    return path
