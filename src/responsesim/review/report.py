"""Self-contained HTML report page of a review: one section per part, each with its swimlane (PNG embedded
as base64), its findings table and each finding with its evidence."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from responsesim.review.findings import Finding, fmt_duration
from responsesim.review.sections import IncidentReview, Section

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
.critical{color:#b00}.major{color:#c60}.minor{color:#880}.approx{background:#fff3cd}
.finding{border-left:4px solid #ccc;padding-left:1em;margin:1.5em 0}
section.part{border-top:2px solid #888;margin-top:2em}
img{max-width:100%}
"""


def _e(x: object) -> str:
    return escape(str(x))


def _at(f: Finding, which: str) -> str:
    t = getattr(f, which)
    return f"{t:%Y-%m-%d}" if f.days else f"{t:%H:%M:%S}"


def _table(sec: Section) -> list[str]:
    if sec.days:
        out = ["<table><tr><th>rule</th><th>severity</th><th>tip</th><th>by (agency)</th><th>date</th>"
               "<th>until</th><th>days before the attack</th><th>approximate</th></tr>"]  # fmt: skip
        for f in sec.findings:
            days = "" if f.days_before_attack is None else str(f.days_before_attack)
            out.append(
                f"<tr><td>{_e(f.rule_id)}</td><td class='{_e(f.severity)}'>{_e(f.severity)}</td>"
                f"<td>{_e(f.tip or '')}</td><td>{_e(f.actor)} ({_e(f.agency or f.role)})</td>"
                f"<td>{_at(f, 'start')}</td><td>{_at(f, 'end')}{' (attack)' if f.open_ended else ''}</td>"
                f"<td>{days}</td><td>{'yes' if f.approximate else ''}</td></tr>"
            )
        return [*out, "</table>"]
    third = "shots meanwhile" if sec.key == "police" else "people"
    out = ["<table><tr><th>rule</th><th>severity</th><th>actor</th><th>start</th><th>end</th>"
           f"<th>duration</th><th>{third}</th><th>approximate</th></tr>"]  # fmt: skip
    for f in sec.findings:
        end = _at(f, "end") + (" (timeline end)" if f.open_ended else "")
        people = "" if f.killed is None else str((f.killed or 0) + (f.wounded or 0))
        out.append(
            f"<tr><td>{_e(f.rule_id)}</td><td class='{_e(f.severity)}'>{_e(f.severity)}</td>"
            f"<td>{_e(f.actor)} ({_e(f.role)})</td><td>{_at(f, 'start')}</td><td>{end}</td>"
            f"<td>{fmt_duration(f.duration_s)}</td>"
            f"<td>{f.shots_fired if sec.key == 'police' else people}</td>"
            f"<td>{'yes' if f.approximate else ''}</td></tr>"
        )
    return [*out, "</table>"]


def _finding(f: Finding) -> list[str]:
    out = [f"<div class='finding'><h3>{_e(f.rule_id)}: {_e(f.actor)}</h3>", f"<p>{_e(f.summary)}</p>"]
    if f.responsible and f.responsible != f.actor:
        out.append(f"<p>Had to act: {_e(f.responsible)}.</p>")
    out.append(f"<blockquote>{_e(f.rule_text)}<br><small>{_e(f.source)}</small></blockquote>")
    if f.killed is not None:
        out.append(f"<p>Recorded casualties: {f.killed} killed, {f.wounded} wounded.</p>")
    if f.meanwhile:
        out.append("<p>Meanwhile:</p><ul>" + "".join(f"<li>{_e(m)}</li>" for m in f.meanwhile) + "</ul>")
    for n in f.notes:
        out.append(f"<p><i>{_e(n)}</i></p>")
    out.append(
        "<table><tr><th>file</th><th>line</th><th>time</th><th>actor</th><th>event</th><th>location</th>"
        "<th>detail</th><th>certainty</th><th>source</th><th>shows</th></tr>"
    )
    for ev in f.evidence:
        cls = " class='approx'" if ev.flagged else ""
        out.append(
            f"<tr{cls}><td>{_e(Path(ev.file).name)}</td><td>{ev.line}</td><td>{_e(ev.clock)}</td>"
            f"<td>{_e(ev.actor)}</td><td>{_e(ev.event)}</td><td>{_e(ev.location)}</td><td>{_e(ev.detail)}</td>"
            f"<td>{_e(ev.certainty)}</td><td>{_e(ev.source)}</td><td>{_e(ev.why)}</td></tr>"
        )
    out.append("</table></div>")
    return out


def _section(sec: Section, png: Path | None, parts: int) -> list[str]:
    protos = ", ".join(f"<b>{_e(r.protocol.name)}</b> ({_e(r.protocol.file)})" for r in sec.reviews)
    out = [f"<section class='part' id='{_e(sec.key)}'>"]
    if parts > 1:
        out.append(f"<h2>{_e(sec.title)}</h2>")
    out.append(f"<p>Protocol: {protos}; {len(sec.timeline.rows)} rows.</p>")
    if sec.days:
        if sec.attack is not None:
            out.append(f"<p>The attack began {_e(sec.attack.when)}; times are dates (a scale of days).</p>")
    elif sec.reviews[0].active is not None:
        a = sec.reviews[0].active
        end = "" if a.end_recorded else " (no end recorded: to the last row)"
        out.append(f"<p>Attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}{end}.</p>")
    for n in sec.notes:
        out.append(f"<p><i>{_e(n)}</i></p>")
    if png is not None:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        out.append(f"<img alt='swimlane chart: {_e(sec.title)}' src='data:image/png;base64,{data}'>")
    out.append(f"<h3>Findings ({len(sec.findings)})</h3>")
    out.extend(_table(sec))
    for f in sec.findings:
        out.extend(_finding(f))
    out.append("</section>")
    return out


def render_html(rv: IncidentReview, charts: dict[str, Path] | None = None, extra: str = "") -> str:
    """The page; ``charts``: part -> swimlane PNG; ``extra`` is an already escaped HTML section appended
    (the counterfactual's)."""
    tl = rv.timeline
    name = " + ".join(Path(f).name for f in tl.file.split(" + "))
    out: list[str] = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Review: {_e(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>After-action review of {_e(name)}</h1>",
        f"<p>Protocols: <b>{_e(rv.protocol_names)}</b>; {len(tl.rows)} timeline rows, "
        f"{_e(tl.rows[0].when)} to {tl.end:%Y-%m-%d %H:%M:%S}.</p>",
        "<p>Rows whose time is <span class='approx'>approximate</span> are used, and every finding "
        "resting on one is flagged. Absence of a row is absence from the timeline, not necessarily from "
        "the incident.</p>",
    ]
    if len(rv.sections) > 1:
        out.append("<p>Parts: " + ", ".join(f"<a href='#{s.key}'>{_e(s.title)}</a> ({len(s.findings)} "
                                            "findings)" for s in rv.sections) + "</p>")  # fmt: skip
    for sec in rv.sections:
        out.extend(_section(sec, (charts or {}).get(sec.key), len(rv.sections)))
    if extra:
        out.append(extra)
    out.append("</body></html>")
    return "\n".join(out)
