"""CLI body of ``responsesim review TIMELINE... --protocol TOML... [--json] [--report PATH]``.

Several timeline files are merged by time; several protocols each review their part (police, medical,
pre-attack: ``review/sections.py``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from responsesim.review.errors import ReviewInputError
from responsesim.review.protocol import Protocol, load_protocol
from responsesim.review.sections import IncidentReview, review_incident
from responsesim.review.timeline import load_timelines, load_vocabulary

if TYPE_CHECKING:
    from rich.console import Console

    from responsesim.review.counterfactual import CounterfactualResult

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "review_command", "run_review", "write_report"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2


Paths = Path | Sequence[Path]


def _paths(p: Paths) -> list[Path]:
    return [Path(p)] if isinstance(p, (str, Path)) else [Path(x) for x in p]


def run_review(timeline: Paths, protocol: Paths, vocabulary: Path | None = None) -> IncidentReview:
    """Load (vocabulary, then each protocol, then the timelines, merged) and review every part; raises
    ``ReviewInputError``."""
    vocab = load_vocabulary(Path(vocabulary) if vocabulary is not None else None)
    protos: list[Protocol] = []
    files = _paths(protocol)
    if not files:
        raise ReviewInputError(None, None, "--protocol", "no protocol file given")
    for path in files:
        proto, vocab = load_protocol(path, vocab)
        protos.append(proto)
    tl = load_timelines(_paths(timeline), vocab)
    return review_incident(tl, protos)


def _chart_path(report: Path, key: str, first: bool) -> Path:
    """``<stem>.png`` for the first part's chart (``<stem>.swimlane.png`` if the report is a .png), else
    ``<stem>.<part>.png``."""
    if first:
        png = report.with_suffix(".png")
        return report.with_name(report.stem + ".swimlane.png") if png == report else png
    return report.with_name(f"{report.stem}.{key}.png")


def write_report(rv: IncidentReview, report: Path, cf: CounterfactualResult | None = None) -> list[Path]:
    """Write ``report`` (HTML, charts embedded) and one swimlane PNG per part beside it: ``<stem>.png`` for
    the first part (``<stem>.swimlane.png`` if ``report`` itself ends in ``.png``), ``<stem>.<part>.png``
    for the others.

    All are written in a temporary directory next to ``report`` and renamed into place at the end, so
    an error leaves no partial report. Returns the paths written.
    """
    from responsesim.review.report import render_html
    from responsesim.review.swimlane import section_png

    report = Path(report)
    parent = report.parent if str(report.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".review-", dir=parent))
    try:
        charts: dict[str, Path] = {}
        for sec in rv.sections:
            charts[sec.key] = tmp / f"{sec.key}.png"
            section_png(rv, sec, charts[sec.key])
        extra = ""
        if cf is not None:
            from responsesim.review.counterfactual_report import curve_png, render_section

            extra = render_section(cf, curve_png(cf, tmp / "curve.png"))
        html_tmp = tmp / "report.html"
        html_tmp.write_text(render_html(rv, charts, extra), encoding="utf-8")
        written = []
        for k, (key, png_tmp) in enumerate(charts.items()):
            png = _chart_path(report, key, k == 0)
            os.replace(png_tmp, png)
            written.append(png)
        os.replace(html_tmp, report)
        return [report, *written]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def review_command(
    timeline: Paths, protocol: Paths, as_json: bool, report: Path | None, vocabulary: Path | None = None
) -> int:
    """Print the findings of each part (rich tables, or JSON); write the HTML report if asked; 0, or 2 on bad
    input (one message with file, line and field; nothing written)."""
    from rich.console import Console

    from responsesim.review.printing import print_review

    err = Console(stderr=True)
    try:
        rv = run_review(timeline, protocol, Path(vocabulary) if vocabulary is not None else None)
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
        print_review(rv, Console())
    for p in written:
        err.print(f"wrote {p}", highlight=False)
    return EXIT_OK


def _print_headline(cf: CounterfactualResult, c: Console) -> None:
    """The figures of a counterfactual that changes something: means and ranges, then the split."""
    from rich.table import Table

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
        ("the responder killed", cf.p_officer_killed),
    ):
        t.add_row(label, f"{100 * p.p:.0f}%", f"{100 * p.low:.1f}-{100 * p.high:.1f}% (exact)")
    c.print(t)
    split = Table(title="stopped early or not: the draws apart")
    for col in ("draws", "share", "lives saved", "95% of draws", "shot", "killed"):
        split.add_column(col, justify="right")
    parts = cf.split()
    for key, label in (("stopped", "stopped before the end"), ("not_stopped", "not stopped")):
        d = parts[key]
        ls, shot, killed = d["lives_saved"], d["p_officer_shot"], d["p_officer_killed"]
        if ls is None:
            split.add_row(label, "0%", "-", "-", "-", "-")
            continue
        split.add_row(label, f"{100 * d['share']['p']:.0f}%", f"{ls['mean']:.2f}",
                      f"{ls['low']:.0f}-{ls['high']:.0f}", f"{100 * shot['p']:.0f}%",
                      f"{100 * killed['p']:.0f}%")  # fmt: skip
    c.print(split)
    hist = ", ".join(f"{h['lives']}: {100 * h['share']:.0f}%" for h in parts["lives_saved_histogram"])
    c.print(f"lives saved, share of draws: {hist}", highlight=False)
    eng = cf.parameters["engine"]
    c.print(
        f"{cf.n:,} paired draws (seed {cf.seed}): parameters ({eng['mode']}), times inside windows and "
        f"chance together; calibration {cf.calibration}",
        highlight=False,
    )


def print_counterfactual(cf: CounterfactualResult) -> None:
    """The counterfactual as tables and a paragraph (fits 80 columns)."""
    from rich.console import Console
    from rich.table import Table

    c = Console()
    if not cf.units and cf.medical is not None:
        _print_medical(cf, c)
        c.print()
        c.print(cf.summary(), highlight=False, markup=False)
        c.print("assumptions:\n- " + "\n- ".join(cf.to_json()["assumptions"]), highlight=False, markup=False)
        return
    if not cf.changed:
        c.print(f"[bold]counterfactual on the record: {escape(cf.change)}[/]", highlight=False)
        c.print(f"[bold yellow]No change:[/] {escape(cf.no_change or '')}.", highlight=False)
        c.print("The protocol arm is the record: no lives saved, no added risk.", highlight=False)
    else:
        _print_headline(cf, c)
    for r in cf.stopped_before.to_dict("records") if cf.changed else []:
        c.print(f"recorded shot at {r['time']}: attack already stopped in {100 * r['protocol']:.1f}% of "
                "draws (record: 0%)", highlight=False)  # fmt: skip
    curve = Table(title="lives saved and the responder's risk against the delay")
    for col in ("delay", "lives saved", "95% of draws", "not shot", "care", "stopped", "shot"):
        curve.add_column(col, justify="right")
    for r in cf.curve.to_dict("records"):
        curve.add_row(f"{r['delay_s']:.0f} s", f"{r['lives_saved']:.2f}", f"{r['low']:.0f}-{r['high']:.0f}",
                      f"{r['not_shot']:.2f}", f"{r['survived_care']:.2f}", f"{100 * r['p_stopped']:.0f}%",
                      f"{100 * r['p_officer_shot']:.0f}%")  # fmt: skip
    c.print(curve)
    rows = Table(title="per casualty row (mean over draws)")
    for col in ("line", "who", "window", "not shot", "care", "care time"):
        rows.add_column(col)
    for r in cf.rows.to_dict("records"):
        window = r["window"] + (" *" if r["flagged"] else "")
        rows.add_row(str(r["line"]), f"{r['count']} {r['outcome']}", window,
                     f"{r['not_shot']:.2f}", f"{r['survived_care']:.2f}",
                     "assumed" if r["care_assumed"] else f"{r['care']} (line {r['care_line']})")  # fmt: skip
    c.print(rows)
    c.print("* time uncertain (a window or an approximate time)", highlight=False)
    for u in cf.units:
        spans = cf.conduct.get(u.actor, [])
        c.print(f"{u.actor} as recorded: " + "; ".join(f"{s['time']} {s['state']}" for s in spans),
                highlight=False, markup=False)  # fmt: skip
    if cf.medical is not None:
        _print_medical(cf, c)
    c.print()
    c.print(cf.summary(), highlight=False, markup=False)
    c.print("assumptions:\n- " + "\n- ".join(cf.to_json()["assumptions"]), highlight=False, markup=False)


def _print_medical(cf: CounterfactualResult, c: Console) -> None:
    """The care side's change: its figures, its delay curve, and both answers side by side."""
    from rich.table import Table

    m = cf.medical
    assert m is not None
    c.print(f"[bold]stopping the dying: {escape(m.text)}[/]", highlight=False)
    if not m.changed:
        c.print(f"[bold yellow]No change:[/] {escape(m.no_change or '')}.", highlight=False)
    both = Table(title="lives saved, side by side (the same paired draws)")
    for col in ("counterfactual", "mean", "95% of draws", "at least one"):
        both.add_column(col)
    if cf.units:
        ls = cf.lives_saved
        both.add_row(f"stopping the killing: {cf.change}", f"{ls.mean:.2f}", f"{ls.low:.0f} to {ls.high:.0f}",
                     f"{100 * cf.p_any_saved.p:.0f}%")  # fmt: skip
    ls = m.lives_saved
    both.add_row(f"stopping the dying: {m.text}", f"{ls.mean:.2f}", f"{ls.low:.0f} to {ls.high:.0f}",
                 f"{100 * m.p_any_saved.p:.0f}%")  # fmt: skip
    c.print(both)
    curve = Table(title="lives saved against the time care reached the casualties after the attack ended")
    for col in ("after the end", "lives saved", "95% of draws", "at least one"):
        curve.add_column(col, justify="right")
    for r in m.curve.to_dict("records"):
        curve.add_row(f"{r['delay_s']:.0f} s", f"{r['lives_saved']:.2f}", f"{r['low']:.0f}-{r['high']:.0f}",
                      f"{100 * r['p_any']:.0f}%")  # fmt: skip
    c.print(curve)
