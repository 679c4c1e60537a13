"""CLI body of ``responsesim review TIMELINE PROTOCOL [--json] [--report PATH] [--vocabulary TOML]``."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from rich.markup import escape

from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import Review, fmt_duration, review
from responsesim.review.protocol import load_protocol
from responsesim.review.timeline import load_timeline, load_vocabulary

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "review_command", "run_review", "write_report"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def run_review(timeline: Path, protocol: Path, vocabulary: Path | None = None) -> Review:
    """Load (vocabulary, then protocol, then timeline) and review; raises ``ReviewInputError``."""
    vocab = load_vocabulary(vocabulary)
    proto, vocab = load_protocol(protocol, vocab)
    tl = load_timeline(timeline, vocab)
    return review(tl, proto)


def write_report(rv: Review, report: Path) -> list[Path]:
    """Write ``report`` (HTML, PNG embedded) and the PNG beside it (``<stem>.png``; ``<stem>.swimlane.png``
    if ``report`` itself ends in ``.png``).

    Both are written in a temporary directory next to ``report`` and renamed into place at the end, so
    an error leaves no partial report. Returns the paths written.
    """
    from responsesim.review.report import render_html
    from responsesim.review.swimlane import swimlane_png

    report = Path(report)
    parent = report.parent if str(report.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".review-", dir=parent))
    try:
        png_tmp = tmp / "swimlane.png"
        swimlane_png(rv, png_tmp)
        html_tmp = tmp / "report.html"
        html_tmp.write_text(render_html(rv, png_tmp), encoding="utf-8")
        png = report.with_suffix(".png")
        if png == report:  # asked for "x.png": keep the chart beside the page, not over it
            png = report.with_name(report.stem + ".swimlane.png")
        os.replace(png_tmp, png)
        os.replace(html_tmp, report)
        return [report, png]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def review_command(
    timeline: Path, protocol: Path, as_json: bool, report: Path | None, vocabulary: Path | None = None
) -> int:
    """Print the findings (a rich table, or JSON); write the HTML report if asked; 0, or 2 on bad input."""
    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    try:
        rv = run_review(Path(timeline), Path(protocol), Path(vocabulary) if vocabulary is not None else None)
    except ReviewInputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        return EXIT_BAD_INPUT
    written: list[Path] = []
    if report is not None:
        try:
            written = write_report(rv, Path(report))
        except OSError as exc:
            err.print(f"[bold red]error:[/] cannot write report {report}: {exc}", highlight=False)
            return EXIT_BAD_INPUT
    if as_json:
        sys.stdout.write(json.dumps(rv.to_json(), indent=2) + "\n")
    else:
        console = Console()
        a = rv.active
        if a is not None:
            console.print(
                f"attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}"
                + ("" if a.end_recorded else " (no end recorded)"),
                highlight=False,
            )
        for n in rv.notes:
            console.print(f"[italic]{n}[/]", highlight=False)
        table = Table(title=f"{len(rv.findings)} finding(s): {Path(timeline).name} vs {rv.protocol.name}")
        for col in ("#", "rule", "severity", "actor", "start", "end", "duration", "shots", "approx."):
            table.add_column(col)
        for k, f in enumerate(rv.findings, 1):
            table.add_row(
                str(k),
                f.rule_id,
                f.severity,
                f"{f.actor} ({f.role})",
                f"{f.start:%H:%M:%S}",
                f"{f.end:%H:%M:%S}" + (" (timeline end)" if f.open_ended else ""),
                fmt_duration(f.duration_s),
                str(f.shots_fired),
                "yes" if f.approximate else "",
            )
        console.print(table)
        for k, f in enumerate(rv.findings, 1):
            flag = (
                " [approximate times: lines " + ", ".join(str(e.line) for e in f.evidence if e.flagged) + "]"
                if f.approximate
                else ""
            )
            console.print(f"{k}. {f.rule_id}: {f.summary}{flag}", highlight=False, markup=False)
    for p in written:
        err.print(f"wrote {p}", highlight=False)
    return EXIT_OK
