"""Self-contained HTML report page of a review (the swimlane PNG embedded as base64)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from responsesim.review.findings import Review, fmt_duration

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
.critical{color:#b00}.major{color:#c60}.minor{color:#880}.approx{background:#fff3cd}
.finding{border-left:4px solid #ccc;padding-left:1em;margin:1.5em 0}
img{max-width:100%}
"""


def _e(x: object) -> str:
    return escape(str(x))


def render_html(rv: Review, png: Path | None, extra: str = "") -> str:
    """The page; ``extra`` is an already escaped HTML section appended (the counterfactual's)."""
    tl = rv.timeline
    out: list[str] = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Review: {_e(Path(tl.file).name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>After-action review of {_e(Path(tl.file).name)}</h1>",
        f"<p>Protocol: <b>{_e(rv.protocol.name)}</b> ({_e(rv.protocol.file)}); "
        f"{len(tl.rows)} timeline rows, {tl.start:%Y-%m-%d %H:%M:%S} to {tl.end:%H:%M:%S}.</p>",
    ]
    if rv.active is not None:
        a = rv.active
        end = "" if a.end_recorded else " (no end recorded: to the last row)"
        out.append(f"<p>Attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}{end}.</p>")
    for n in rv.notes:
        out.append(f"<p><i>{_e(n)}</i></p>")
    out.append(
        "<p>Rows whose time is <span class='approx'>approximate</span> are used, and every finding "
        "resting on one is flagged. Absence of a row is absence from the timeline, not necessarily from "
        "the incident.</p>"
    )
    if png is not None:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        out.append(f"<img alt='swimlane chart' src='data:image/png;base64,{data}'>")
    out.append(f"<h2>Findings ({len(rv.findings)})</h2>")
    out.append(
        "<table><tr><th>rule</th><th>severity</th><th>actor</th><th>start</th><th>end</th>"
        "<th>duration</th><th>shots meanwhile</th><th>approximate</th></tr>"
    )
    for f in rv.findings:
        end = f"{f.end:%H:%M:%S}" + (" (timeline end)" if f.open_ended else "")
        out.append(
            f"<tr><td>{_e(f.rule_id)}</td><td class='{_e(f.severity)}'>{_e(f.severity)}</td>"
            f"<td>{_e(f.actor)} ({_e(f.role)})</td><td>{f.start:%H:%M:%S}</td><td>{end}</td>"
            f"<td>{fmt_duration(f.duration_s)}</td><td>{f.shots_fired}</td>"
            f"<td>{'yes' if f.approximate else ''}</td></tr>"
        )
    out.append("</table>")
    for f in rv.findings:
        out.append(f"<div class='finding'><h3>{_e(f.rule_id)}: {_e(f.actor)}</h3>")
        out.append(f"<p>{_e(f.summary)}</p>")
        if f.responsible and f.responsible != f.actor:
            out.append(f"<p>Had to act: {_e(f.responsible)}.</p>")
        out.append(f"<blockquote>{_e(f.rule_text)}<br><small>{_e(f.source)}</small></blockquote>")
        if f.killed is not None:
            out.append(f"<p>Recorded casualties meanwhile: {f.killed} killed, {f.wounded} wounded.</p>")
        if f.meanwhile:
            out.append("<p>Meanwhile:</p><ul>" + "".join(f"<li>{_e(m)}</li>" for m in f.meanwhile) + "</ul>")
        for n in f.notes:
            out.append(f"<p><i>{_e(n)}</i></p>")
        out.append(
            "<table><tr><th>line</th><th>time</th><th>actor</th><th>event</th><th>location</th>"
            "<th>detail</th><th>certainty</th><th>source</th><th>shows</th></tr>"
        )
        for ev in f.evidence:
            cls = " class='approx'" if ev.flagged else ""
            out.append(
                f"<tr{cls}><td>{ev.line}</td><td>{ev.time:%H:%M:%S}</td><td>{_e(ev.actor)}</td>"
                f"<td>{_e(ev.event)}</td><td>{_e(ev.location)}</td><td>{_e(ev.detail)}</td>"
                f"<td>{_e(ev.certainty)}</td><td>{_e(ev.source)}</td><td>{_e(ev.why)}</td></tr>"
            )
        out.append("</table></div>")
    if extra:
        out.append(extra)
    out.append("</body></html>")
    return "\n".join(out)
