"""CLI body of ``responsesim review TIMELINE PROTOCOL [--json] [--report PATH] [--vocabulary TOML]``."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import Review, review
from responsesim.review.protocol import load_protocol
from responsesim.review.timeline import load_timeline, load_vocabulary

if TYPE_CHECKING:
    from responsesim.review.counterfactual import CounterfactualResult

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "review_command", "run_review", "write_report"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def run_review(timeline: Path, protocol: Path, vocabulary: Path | None = None) -> Review:
    """Load (vocabulary, then protocol, then timeline) and review; raises ``ReviewInputError``."""
    vocab = load_vocabulary(vocabulary)
    proto, vocab = load_protocol(protocol, vocab)
    tl = load_timeline(timeline, vocab)
    return review(tl, proto)


def write_report(rv: Review, report: Path, cf: CounterfactualResult | None = None) -> list[Path]:
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
        extra = ""
        if cf is not None:
            from responsesim.review.counterfactual_report import curve_png, render_section

            extra = render_section(cf, curve_png(cf, tmp / "curve.png"))
        html_tmp = tmp / "report.html"
        html_tmp.write_text(render_html(rv, png_tmp, extra), encoding="utf-8")
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
        # fits 80 columns: long names fold onto the next line instead of being cut
        for col, width in (("#", 2), ("rule", 16), ("actor", 13), ("from/to", 8), ("lasted", 7),
                           ("shots", 5), ("appr.", 5)):  # fmt: skip
            table.add_column(col, overflow="fold", min_width=width)
        for k, f in enumerate(rv.findings, 1):
            secs = round(f.duration_s)
            table.add_row(
                str(k),
                f"{f.rule_id}\n{f.severity}",
                f"{f.actor}\n({f.role})",
                f"{f.start:%H:%M:%S}\n{f.end:%H:%M:%S}" + ("\n(end of\nrecord)" if f.open_ended else ""),
                f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}",
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


def print_counterfactual(cf: CounterfactualResult) -> None:
    """The counterfactual as tables and a paragraph (fits 80 columns)."""
    from rich.console import Console
    from rich.table import Table

    from responsesim.review.counterfactual import ASSUMPTIONS

    c = Console()
    t = Table(title=f"counterfactual on the record: {cf.change}")
    for col in ("outcome", "mean", "95% of draws"):
        t.add_column(col)
    for label, iv in (
        (f"lives saved (of {cf.record.killed} killed)", cf.lives_saved),
        ("  not shot", cf.not_shot),
        ("  survived with earlier care", cf.survived_care),
        (f"wounded not shot (of {cf.record.wounded})", cf.wounded_not_shot),
    ):
        t.add_row(label, f"{iv.mean:.2f}", f"{iv.low:.0f} to {iv.high:.0f}")
    for label, p in (
        ("at least one life saved", cf.p_any_saved),
        (f"stopped before {cf.record.clock(cf.record.end_s)} (recorded end)", cf.p_stopped_earlier),
        ("the responder shot", cf.p_officer_shot),
    ):
        t.add_row(label, f"{100 * p.p:.0f}%", f"{100 * p.low:.1f}-{100 * p.high:.1f}% (exact)")
    c.print(t)
    eng = cf.parameters["engine"]
    c.print(
        f"{cf.n:,} paired draws (seed {cf.seed}): parameters ({eng['mode']}), times inside windows and "
        f"chance together; calibration {cf.calibration}",
        highlight=False,
    )
    for r in cf.stopped_before.to_dict("records"):
        c.print(f"recorded shot at {r['time']}: attack already stopped in {100 * r['protocol']:.1f}% of "
                "draws (record: 0%)", highlight=False)  # fmt: skip
    curve = Table(title="lives saved and the responder's risk against the delay")
    for col in ("delay", "lives saved", "95% of draws", "not shot", "care", "shot"):
        curve.add_column(col, justify="right")
    for r in cf.curve.to_dict("records"):
        curve.add_row(f"{r['delay_s']:.0f} s", f"{r['lives_saved']:.2f}", f"{r['low']:.0f}-{r['high']:.0f}",
                      f"{r['not_shot']:.2f}", f"{r['survived_care']:.2f}",
                      f"{100 * r['p_officer_shot']:.0f}%")  # fmt: skip
    c.print(curve)
    rows = Table(title="per casualty row (mean over draws)")
    for col in ("line", "who", "window", "not shot", "care", "care time"):
        rows.add_column(col)
    for r in cf.rows.to_dict("records"):
        window = r["window"] + (" *" if r["flagged"] else "")
        rows.add_row(str(r["line"]), f"{r['count']} {r['outcome']}", window,
                     f"{r['not_shot']:.2f}", f"{r['survived_care']:.2f}",
                     "assumed" if r["care_assumed"] else "recorded")  # fmt: skip
    c.print(rows)
    c.print("* time uncertain (a window or an approximate time)", highlight=False)
    for u in cf.units:
        spans = cf.conduct.get(u.actor, [])
        c.print(f"{u.actor} as recorded: " + "; ".join(f"{s['time']} {s['state']}" for s in spans),
                highlight=False, markup=False)  # fmt: skip
    c.print()
    c.print(cf.summary(), highlight=False, markup=False)
    c.print("assumptions:\n- " + "\n- ".join(ASSUMPTIONS), highlight=False, markup=False)
