"""The review in the terminal: per part, a findings table that fits 80 columns and one line per finding."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from responsesim.review.findings import Finding
from responsesim.review.sections import IncidentReview, Section

__all__ = ["print_review"]


def _lasted(f: Finding) -> str:
    secs = round(f.duration_s)
    if f.days:
        return f"{secs // 86400} d"
    return f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}"


def _incident_table(sec: Section, title: str) -> Table:
    table = Table(title=title)
    # fits 80 columns: long names fold onto the next line instead of being cut
    third = "shots" if sec.key == "police" else "people"
    for col, width in (("#", 2), ("rule", 16), ("actor", 13), ("from/to", 8), ("lasted", 7),
                       (third, 5), ("appr.", 5)):  # fmt: skip
        table.add_column(col, overflow="fold", min_width=width)
    for k, f in enumerate(sec.findings, 1):
        people = "" if f.killed is None else str((f.killed or 0) + (f.wounded or 0))
        table.add_row(
            str(k),
            f"{f.rule_id}\n{f.severity}",
            f"{f.actor}\n({f.role})",
            f"{f.start:%H:%M:%S}\n{f.end:%H:%M:%S}" + ("\n(end of\nrecord)" if f.open_ended else ""),
            _lasted(f),
            str(f.shots_fired) if sec.key == "police" else people,
            "yes" if f.approximate else "",
        )
    return table


def _pre_attack_table(sec: Section, title: str) -> Table:
    table = Table(title=title)
    # fits 80 columns; an approximate date is marked under the date
    for col, width in (("#", 2), ("rule", 14), ("tip", 12), ("by", 12), ("date", 10), ("days\nbefore", 6)):
        table.add_column(col, overflow="fold", min_width=width)
    for k, f in enumerate(sec.findings, 1):
        agency = f.agency if f.agency and f.agency != f.actor else f.role
        table.add_row(
            str(k),
            f"{f.rule_id}\n{f.severity}",
            f.tip or "",
            f"{f.actor}\n({agency})",
            f"{f.start:%Y-%m-%d}" + ("\napprox." if f.approximate else ""),
            "" if f.days_before_attack is None else str(f.days_before_attack),
        )
    return table


def print_review(rv: IncidentReview, console: Console) -> None:
    """Every part: its heading, the attacker's active window or the attack date, notes, table, summaries."""
    files = rv.timeline.file.split(" + ")
    names = " + ".join(Path(f).name for f in files)
    for sec in rv.sections:
        if len(rv.sections) > 1:
            console.rule(f"[bold]{sec.title}[/]")
        protos = " + ".join(r.protocol.name for r in sec.reviews)
        if sec.days:
            if sec.attack is not None:
                console.print(f"attack began {sec.attack.when} ({sec.attack.file} line {sec.attack.line})",
                              highlight=False)  # fmt: skip
        else:
            a = sec.reviews[0].active
            if a is not None:
                console.print(
                    f"attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}"
                    + ("" if a.end_recorded else " (no end recorded)"),
                    highlight=False,
                )
        for n in sec.notes:
            console.print(f"[italic]{n}[/]", highlight=False)
        title = f"{len(sec.findings)} finding(s): {names} vs {protos}"
        console.print(_pre_attack_table(sec, title) if sec.days else _incident_table(sec, title))
        for k, f in enumerate(sec.findings, 1):
            lines = [f"{Path(e.file).name}:{e.line}" if len(files) > 1 else str(e.line)
                     for e in f.evidence if e.flagged]  # fmt: skip
            flag = " [approximate times: lines " + ", ".join(lines) + "]" if f.approximate else ""
            console.print(f"{k}. {f.rule_id}: {f.summary}{flag}", highlight=False, markup=False)
