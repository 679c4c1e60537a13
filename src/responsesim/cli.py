"""Command line: ``responsesim run`` (and later ``compare``, ``sweep``, ``calibrate``, ``review``, ``serve``).

Bad input exits with code 2 and one message naming the file, the field and the line.
"""

from __future__ import annotations

import json
import math
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from responsesim.analysis.summary import Summary
    from responsesim.api import RunResult

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Simulate active-shooter incident response."
)
err = Console(stderr=True)
EXIT_BAD_INPUT = 2


def _workers_option(help_text: str) -> typer.models.OptionInfo:
    """A ``--workers`` option that refuses negative counts with a plain message (exit code 2)."""
    return typer.Option("--workers", min=0, help=help_text)


# the engine backend option shared by run, compare, sweep and calibrate (validated by _check_backend)
BackendOption = Annotated[str, typer.Option("--backend", help="engine: numba (the one compiled engine)")]


@app.callback()
def main() -> None:
    """responsesim: what does each response doctrine, and each minute of delay, cost in lives?"""
    from responsesim.engine import native

    native.announce = _announce_build  # any command that builds the engine says so, with a spinner


def _announce_build() -> AbstractContextManager[Any]:
    """Around the engine's one build on a machine (about a minute): a live spinner, or in a log a line."""
    from responsesim.engine import native

    if not err.is_terminal:
        err.print(native.build_message() + " ...", highlight=False)
    return err.status(native.build_message(), spinner="dots")


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _check_backend(name: str) -> None:
    """Exit 2 with the list of choices for an unknown backend name."""
    from responsesim.engine.backend import check_backend

    try:
        check_backend(name)
    except ValueError as exc:
        _fail(f"--backend: {exc}")


def _fmt(v: float, unit: str, kind: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if kind == "share":
        return f"{100 * v:.1f}%"
    if unit == "s":
        return f"{v:.0f} s"
    return f"{v:.2f}"


def _span(lo: float, hi: float, unit: str, kind: str) -> str:
    """An interval with its unit once ("775-1274 s", "0.35-2.75", "16.2-44.6%"), to fit 80 columns."""
    a, b = _fmt(lo, unit, kind), _fmt(hi, unit, kind)
    for suffix in (" s", "%"):
        if a.endswith(suffix) and b.endswith(suffix):
            return f"{a.removesuffix(suffix)}-{b}"
    return f"{a}-{b}"


def _table(res: RunResult) -> Table:
    sc = res.scenario
    t = Table(
        title=f"{escape(sc.spec.name)}\n{res.attempts.incidents:,} incidents "
        f"({res.replications:,} simulated attempts), seed {res.seed}",
    )
    total = any(s.interval == "total" for s in res.summaries)
    t.add_column("outcome", min_width=16, ratio=1)
    t.add_column("mean", justify="right", no_wrap=True)
    t.add_column("95% interval" if total else "95% CI", justify="right", no_wrap=True)
    if total:
        t.add_column("MC only", justify="right", overflow="fold")
    t.add_column("median", justify="right", no_wrap=True)
    t.add_column("IQR", justify="right", overflow="fold")
    for s in res.summaries:
        row = _row(s)
        if total:
            row.insert(3, _span(s.mc_low, s.mc_high, s.unit, s.kind))
        t.add_row(*row)
    return t


def _notes(res: RunResult) -> list[str]:
    """What the table's figures are, and what produced them (printed under it, wrapped)."""
    from responsesim.analysis.summary import MIN_RELIABLE_N

    sc = res.scenario
    fitted = "fitted" if sc.calibration.fitted else "prior values, not yet fitted"
    draws = res.draws
    if draws is not None and draws.mode == "posterior":
        what = (
            f"Mean with its 95% interval covering the calibration's parameter uncertainty and chance "
            f"({draws.n_draws} draws from the posterior {draws.posterior_version}); 'MC only' is the Monte "
            "Carlo part alone (chance, at those draws)."
        )
    else:
        why = draws.reason if draws is not None else "every replication at the calibration's values"
        what = (
            "Mean with the 95% confidence interval of the mean (Wilson interval for shares): chance only, "
            f"not the calibration's own uncertainty ({why})."
        )
    rough = [
        f"Only {res.attempts.incidents:,} incidents: with fewer than {MIN_RELIABLE_N} the intervals are "
        "rough (they assume a roughly normal mean); run at least 1,000 replications before quoting a figure."
    ] if 0 < res.attempts.incidents < MIN_RELIABLE_N else []  # fmt: skip
    return [
        *rough,
        what + " Median and interquartile range (IQR) of the incidents. Times are from the first shot; "
        "n = incidents with a value, where some have none.",
        res.attempts.sentence() + ".",
        f"Calibration {sc.calibration.version} ({fitted}); scenario {sc.source}, sha256 {sc.sha256[:12]}.",
    ]


def _row(s: Summary) -> list[str]:
    label = s.label + (f" ({s.unit})" if s.unit and s.unit != "s" else "")
    if s.n_missing:
        label += f" [n = {s.n:,}]"
    ci = _span(s.ci_low, s.ci_high, s.unit, s.kind)
    iqr = "" if s.kind == "share" else _span(s.q25, s.q75, s.unit, s.kind)
    return [
        escape(label),
        _fmt(s.mean, s.unit, s.kind),
        ci,
        "" if s.kind == "share" else _fmt(s.median, s.unit, s.kind),
        iqr,
    ]


def _compile_engine_once() -> None:
    """On the engine's first use on this machine, compile it, saying so with a live spinner (about 25 s)."""
    from responsesim.engine import warmup

    if warmup.is_compiled():
        return
    from responsesim.engine import native

    if native.wanted() and not native.has_failed():
        warmup.warm()  # the native build says so itself (native.announce, set in ``main``)
    else:
        if not err.is_terminal:  # no spinner in a log: say it in plain words first
            err.print(warmup.compile_message() + " ...", highlight=False)
        with err.status(warmup.compile_message(), spinner="dots"):
            warmup.warm()
    err.print("engine compiled and cached; later runs start at once", highlight=False)


@app.command("run")
def run_cmd(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario TOML file (default: the built-in three-floor school)")
    ] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", help="number of replications")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed (default: the scenario's)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON object instead of the table")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="write one row per replication to this DuckDB file")
    ] = None,
    workers: Annotated[int, _workers_option("local worker threads (0 = all cores)")] = 0,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="replications per chunk")] = 1000,
    backend: BackendOption = "numba",
    point_estimate: Annotated[
        bool,
        typer.Option(
            "--point-estimate",
            help="run every replication at the calibration's values (intervals: chance only), instead of "
            "drawing the model parameters from the calibration's posterior",
        ),
    ] = False,
) -> None:
    """Simulate a scenario many times and report outcomes with confidence intervals."""
    _check_backend(backend)
    from responsesim.params import CalibrationError
    from responsesim.scenario.building import BuildingFileError
    from responsesim.scenario.errors import ScenarioError
    from responsesim.scenario.load import load_scenario

    try:
        sc = load_scenario(scenario).with_run_settings(replications, seed)
    except (ScenarioError, BuildingFileError, CalibrationError) as exc:
        _fail(str(exc))
        return
    if out is not None and not out.parent.exists():
        _fail(f"--out {out}: directory {out.parent} does not exist")
    n = sc.spec.replications
    from responsesim.api import parameter_draws

    try:
        draws = parameter_draws(sc, n, "point" if point_estimate else "posterior")
    except CalibrationError as exc:
        _fail(str(exc))
        return
    _compile_engine_once()
    from responsesim.engine.run import start

    # the chunks run on worker threads (the compiled loop releases the GIL) while the report's modules load
    running = start(sc.params, n, chunk_size=chunk_size, workers=workers, theta=draws.theta)
    from responsesim.api import finish_run

    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=as_json,
        disable=not err.is_terminal and as_json,
    ) as progress:
        task = progress.add_task("run", total=n)
        res = finish_run(
            sc,
            running,
            chunk_size=chunk_size,
            progress=lambda k: progress.advance(task, k),
            backend=backend,
            draws=draws,
        )
    run_id = None
    if out is not None:
        from responsesim.store import StoreError

        try:
            run_id = res.save(out)
        except StoreError as exc:
            _fail(str(exc))
    obj = res.to_json()
    if as_json:
        if run_id is not None:
            obj["run_id"] = run_id
            obj["out"] = str(out)
        sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")
        return
    console = Console()
    console.print(_table(res))
    for note in _notes(res):
        console.print(escape(note), highlight=False)
    for w in obj["warnings"]:
        console.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False)
    shares = obj["end_reasons"]
    console.print(
        "how the attack ended: "
        + ", ".join(f"{k.replace('_', ' ')} {100 * v['share']:.1f}%" for k, v in shares.items()),
        highlight=False,
    )
    long10, barr = obj["long_attacks"]["lasted_10min_plus"], obj["long_attacks"]["barricaded"]
    console.print(
        f"long attacks: {100 * long10['share']:.1f}% lasted 10 minutes or more (95% CI "
        f"{100 * long10['ci_low']:.1f}-{100 * long10['ci_high']:.1f}%); the attacker barricaded itself in a "
        f"room in {100 * barr['share']:.1f}%",
        highlight=False,
    )
    if run_id is not None:
        console.print(f"wrote {n:,} replications to {out} (run {run_id})", highlight=False)


@app.command("compare")
def compare_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="scenario TOML (default: the built-in one)")] = None,
    doctrine: Annotated[
        list[str] | None,
        typer.Option(
            "--doctrine",
            "-d",
            help="doctrine to compare, repeatable; the first is the baseline (e.g. solo_entry, perimeter, "
            "no_entry, backup_eta_rule:60, wait_for_n:3, hesitate:120)",
        ),
    ] = None,
    replications: Annotated[int, typer.Option("--replications", "-n", min=2)] = 1000,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    workers: Annotated[int, _workers_option("0 = all cores")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    backend: BackendOption = "numba",
    point_estimate: Annotated[
        bool, typer.Option("--point-estimate", help="every replication at the calibration's values")
    ] = False,
) -> None:
    """One scenario under several doctrines, common random numbers, paired differences with 95% CIs."""
    from responsesim.compare import compare_command

    _check_backend(backend)
    code = compare_command(
        scenario,
        list(doctrine or []),
        replications,
        seed,
        as_json,
        workers=workers or None,
        backend=backend,
        point_estimate=point_estimate,
    )
    raise typer.Exit(code)


@app.command("sweep")
def sweep_cmd(
    sweep_file: Annotated[Path, typer.Argument(help="sweep TOML (see examples/sweeps/)")],
    store: Annotated[Path, typer.Option("--store", "--out", help="DuckDB results file")] = Path(
        "results.duckdb"
    ),
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler, tcp://HOST:8786")
    ] = None,
    workers: Annotated[int, _workers_option("local processes (0 = all cores)")] = 0,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG path for the sweep plot")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="also draw the sweep's figure + HTML page into DIR")
    ] = None,
    backend: BackendOption = "numba",
    recompute_stale: Annotated[
        bool,
        typer.Option(
            "--recompute-stale",
            help="recompute stored chunks made under another calibration or model version "
            "(without it, resuming such a store is refused)",
        ),
    ] = False,
) -> None:
    """Run a parameter sweep (resumable; locally or on a Dask cluster); results in one DuckDB file."""
    from responsesim.sweep import sweep_command

    _check_backend(backend)
    code = sweep_command(
        sweep_file,
        store,
        scheduler=scheduler,
        workers=workers or None,
        seed=seed,
        as_json=as_json,
        plot=plot,
        backend=backend,
        recompute_stale=recompute_stale,
    )
    if code == 0 and report is not None:
        from responsesim.sweep.report import report_sweep

        report_sweep(sweep_file, store, report, workers=workers or None, seed=seed)
        err.print(f"report: {report / 'index.html'}", highlight=False)
    raise typer.Exit(code)


@app.command("sensitivity")
def sensitivity_cmd(
    outdir: Annotated[Path, typer.Option("--outdir", help="plot and JSON folder")] = Path("sensitivity"),
    n: Annotated[int, typer.Option("--n", help="Saltelli base sample size (a power of 2)")] = 64,
    replications: Annotated[int, typer.Option("--replications", "-r", min=2, help="per point")] = 32,
    metric: Annotated[str, typer.Option("--metric", help="a numeric outcome column, e.g. deaths")] = "deaths",
    scenario: Annotated[Path | None, typer.Option("--scenario")] = None,
    workers: Annotated[int, _workers_option("0 = all cores")] = 0,
    seed: Annotated[int, typer.Option("--seed")] = 20260101,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    factors: Annotated[
        str,
        typer.Option(
            "--factors",
            help="posterior (default: scenario parameters + the model drawn from the posterior as one "
            "factor), point (scenario parameters only), model-ranges (each fitted parameter over its "
            "whole range)",
        ),
    ] = "posterior",
    point_estimate: Annotated[
        bool, typer.Option("--point-estimate", help="the model at the calibration's values (--factors point)")
    ] = False,
) -> None:
    """Sobol sensitivity indices (SALib) of an outcome over the uncertain inputs."""
    from responsesim.sweep.sensitivity import sensitivity_command

    if point_estimate and factors not in ("posterior", "point"):
        _fail(f"--point-estimate and --factors {factors} ask for two different analyses; give one")

    code = sensitivity_command(
        outdir,
        n=n,
        replications=replications,
        metric=metric,
        scenario=scenario,
        workers=workers or None,
        seed=seed,
        as_json=as_json,
        factors="point" if point_estimate else factors,
    )
    raise typer.Exit(code)


@app.command("review")
def review_cmd(
    timeline: Annotated[
        list[Path],
        typer.Argument(
            help="timeline CSV(s) (time, actor, role, event, location, ...); several files are merged by time"
        ),
    ],
    protocol: Annotated[
        list[Path],
        typer.Option(
            "--protocol",
            help="protocol TOML (rules as data); repeat for several: each reviews its part (police, "
            "medical, pre_attack)",
        ),
    ],
    report: Annotated[Path | None, typer.Option("--report", help="write an HTML report (+ PNG) here")] = None,
    vocabulary: Annotated[Path | None, typer.Option("--vocabulary", help="TOML adding events/roles")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
    incident: Annotated[
        Path | None,
        typer.Option(
            "--incident", help="incident TOML: casualty timeline, building, locations, counterfactual"
        ),
    ] = None,
    counterfactual: Annotated[
        list[str] | None,
        typer.Option(
            "--counterfactual",
            help='e.g. "SRO:entered_building@+30s" or "OFFICER-1:no_withdrawal"; repeat to change several '
            "responders at once",
        ),
    ] = None,
    what_if: Annotated[
        bool,
        typer.Option(
            "--what-if",
            help="instead: re-simulate the occupants on the model building (a planning what-if, not an "
            "estimate about the real victims)",
        ),
    ] = False,
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=2, help="paired draws")
    ] = None,
    workers: Annotated[int, _workers_option("0 = all cores")] = 0,
) -> None:
    """Check a real incident timeline against protocols: every deviation with its evidence, in three parts
    (initial police response, medical response, pre-attack warnings) by each protocol's section.

    With --incident, also estimate what the protocol's conduct would likely have changed for the people in
    the record: lives saved (not shot, survived with earlier care) and the responder's risk, with 95% ranges
    over posterior parameter draws, uncertain times and chance, and the curve against the entry delay."""
    from responsesim.review.command import print_counterfactual, review_command, run_review, write_report
    from responsesim.review.errors import ReviewInputError

    if incident is None:
        if counterfactual or what_if:
            _fail("--counterfactual and --what-if need --incident (casualty timeline, building, spaces)")
        raise typer.Exit(review_command(timeline, protocol, as_json, report, vocabulary))
    if what_if:
        if len(timeline) > 1 or len(protocol) > 1:
            _fail("--what-if takes one timeline and one protocol")
        _review_what_if(timeline[0], protocol[0], report, vocabulary, as_json, incident, counterfactual,
                        replications, workers)  # fmt: skip
        return
    from responsesim.review.counterfactual import run_counterfactual

    try:
        rv = run_review(timeline, protocol, vocabulary)
        cf = run_counterfactual(incident, counterfactual or None, replications, workers=workers or None)
    except ReviewInputError as exc:
        _fail(str(exc))
        return
    written = []
    if report is not None:
        try:
            written = write_report(rv, report, cf)
        except OSError as exc:
            _fail(f"cannot write report {report}: {exc}")
    if as_json:
        obj = {"review": rv.to_json(), "counterfactual": cf.to_json()}
        sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    else:
        code = review_command(timeline, protocol, False, None, vocabulary)
        if code:
            raise typer.Exit(code)
        print_counterfactual(cf)
    for p in written:
        Console(stderr=True).print(f"wrote {p}", highlight=False)


def _review_what_if(
    timeline: Path,
    protocol: Path,
    report: Path | None,
    vocabulary: Path | None,
    as_json: bool,
    incident: Path,
    counterfactual: list[str] | None,
    replications: int | None,
    workers: int,
) -> None:
    """``review --incident --what-if``: the planning re-simulation on the model building (whatif.py)."""
    from responsesim.review.command import review_command, run_review, write_report
    from responsesim.review.errors import ReviewInputError
    from responsesim.review.whatif import ASSUMPTIONS, WHAT_IF_NOTE, run_counterfactual

    try:
        rv = run_review(timeline, protocol, vocabulary)
        cf = run_counterfactual(incident, counterfactual[0] if counterfactual else None, replications,
                                workers=workers or None)  # fmt: skip
    except ReviewInputError as exc:
        _fail(str(exc))
        return
    if as_json:
        if report is not None:
            write_report(rv, report)
        obj = {"review": rv.to_json(), "what_if": cf.to_json()}
        sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
        return
    code = review_command(timeline, protocol, False, report, vocabulary)
    if code:
        raise typer.Exit(code)
    c = Console()
    c.print(f"[bold]{WHAT_IF_NOTE}[/]", highlight=False)
    t = Table(
        title=f"what-if on the model building: {cf.spec.actor} {cf.spec.event} {cf.spec.delay_s:g} s after "
        f"arriving ({cf.replications:,} paired replications, seed {cf.seed})"
    )
    for col in ("outcome", "observed response", "protocol response", "difference", "95% CI"):
        t.add_column(col)
    for r in cf.differences.to_dict("records"):
        t.add_row(str(r["metric"]), f"{r['observed_mean']:.2f}", f"{r['protocol_mean']:.2f}",
                  f"{r['difference']:+.2f}", f"{r['ci_low']:+.2f} to {r['ci_high']:+.2f}")  # fmt: skip
    c.print(t)
    for w in cf.warnings:
        c.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False)
    c.print("assumptions:\n- " + "\n- ".join(ASSUMPTIONS), highlight=False)
    c.print(f"calibration {cf.replay.scenario.calibration.version}", highlight=False)


@app.command("calibrate")
def calibrate_cmd(
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=20, help="incidents simulated per parameter point")
    ] = 150,
    points: Annotated[
        int, typer.Option("--points", "--particles", min=10, help="ABC-SMC population size (particles)")
    ] = 1000,
    rounds: Annotated[
        int, typer.Option("--rounds", "--generations", min=1, max=20, help="most ABC-SMC generations")
    ] = 6,
    validation: Annotated[
        int, typer.Option("--validation", min=100, help="incidents in the check at the fitted point")
    ] = 4000,
    seed: Annotated[int, typer.Option("--seed")] = 2024,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="run the fit's simulations on this Dask cluster (tcp://HOST:8786)"),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="write the HTML + PNG report here (with --check: check.html; with --predictive: "
            "predictive.html)",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="calibration file to write (default: the one `run` uses)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="fit and report, write no calibration file")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print targets: observed, simulated, inside")
    ] = False,
    backend: BackendOption = "numba",
    check_only: Annotated[
        bool,
        typer.Option(
            "--check",
            help="re-evaluate the shipped calibration (or --calibration FILE) against every target "
            "without refitting (--validation attempts)",
        ),
    ] = False,
    calibration: Annotated[
        Path | None, typer.Option("--calibration", help="with --check: the calibration file to check")
    ] = None,
    predictive: Annotated[
        bool,
        typer.Option(
            "--predictive",
            help="with --check: posterior predictive check (simulated data sets of the observed size, one "
            "posterior draw each)",
        ),
    ] = False,
    draws: Annotated[int, typer.Option("--draws", min=20, help="with --predictive: posterior draws")] = 200,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            help="with --check: check at NAME=VALUE instead of the calibration's value (repeatable), e.g. "
            "--at officer_hit_h=0.06: is a point inside the posterior closer to the data?",
        ),
    ] = None,
) -> None:
    """Fit the model to the FBI 2000-2013 incidents (ABC), check it on 2014-2019, write the calibration."""
    from responsesim.calibrate.pipeline import Settings, calibrate, write_calibration
    from responsesim.calibrate.reference import ReferenceDataError
    from responsesim.params import default_calibration_path
    from responsesim.report.calibration import write_report

    _check_backend(backend)
    if predictive and not check_only:
        _fail("--predictive goes with --check")
    if at and (not check_only or predictive):
        _fail("--at goes with --check (without --predictive)")
    if check_only and predictive:
        _predictive_check(calibration, draws, workers, as_json, report)
        return
    if check_only:
        _calibration_check(calibration, validation, seed, workers, as_json, at or [], report)
        return
    settings = Settings(points, replications, rounds, 0.02, validation, seed, workers, backend, scheduler)
    target = output or default_calibration_path()
    if not dry_run and not target.parent.is_dir():  # before the fit's minutes, not after
        _fail(f"--output {target}: the directory {target.parent} does not exist")
        return
    try:
        out = calibrate(settings, progress=lambda m: err.print(m, highlight=False))
    except (ReferenceDataError, FileNotFoundError) as exc:  # data missing or malformed: exit 2
        _fail(str(exc))
        return
    if not dry_run:
        if out.posterior_text:  # the particles first: the calibration file names their hash
            write_calibration(out.posterior_text, target.with_name("posterior.csv"))
        write_calibration(out.calibration_text, target)
        err.print(f"wrote {target} and {target.with_name('posterior.csv')}", highlight=False)
    if report is not None:
        page = write_report(out, report)
        err.print(f"report: {page}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(out.to_json(), indent=2, allow_nan=False) + "\n")
        return
    t = Table(
        title=f"calibration: {int(out.comparison['inside'].sum())} of {len(out.comparison)} targets inside"
    )
    for col in ("set", "target", "observed", "95% CI", "simulated", "inside"):
        t.add_column(col)
    for r in out.comparison.to_dict("records"):
        ci = f"{r['ci_low']:.3g} - {r['ci_high']:.3g}"
        inside = "yes" if r["inside"] else "[red]no"
        t.add_row(str(r["set"]), str(r["name"]), f"{r['observed']:.3g}", ci, f"{r['simulated']:.3g}", inside)
    Console().print(t)


def _at_values(at: list[str]) -> dict[str, float]:
    """``--at NAME=VALUE`` options as a dict (exit 2 on a malformed one)."""
    out: dict[str, float] = {}
    for item in at:
        name, eq, value = item.partition("=")
        try:
            if not eq or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            _fail(f"--at {item!r}: expected NAME=VALUE with a number, e.g. --at officer_hit_h=0.06")
    return out


def _calibration_check(
    path: Path | None,
    n: int,
    seed: int,
    workers: int,
    as_json: bool,
    at: list[str] | None = None,
    report: Path | None = None,
) -> None:
    """``calibrate --check``: the table (or JSON) of every target against the calibration, no fit, with
    the documented reason of every miss (``calibrate/misses.py``)."""
    import textwrap

    from responsesim.calibrate.misses import explain
    from responsesim.calibrate.pipeline import check
    from responsesim.calibrate.reference import ReferenceDataError
    from responsesim.params import CalibrationError, load_calibration

    try:
        cal = load_calibration(path)
        if at:
            cal = cal.with_overrides(_at_values(at), where="--at")
        with err.status(f"simulating {n:,} ensemble attempts at calibration {cal.version}", spinner="dots"):
            res = check(cal, n, seed, workers=workers)
    except (ReferenceDataError, FileNotFoundError, CalibrationError) as exc:
        _fail(str(exc))
        return
    if report is not None:
        from responsesim.report.calibration import write_check_report

        err.print(f"wrote {write_check_report(res, Path(report))}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(res.to_json(), indent=2, allow_nan=False) + "\n")
        return
    inside = int(res.comparison["inside"].sum())
    t = Table(title=f"calibration {escape(cal.version)}: {inside} of {len(res.comparison)} targets inside "
              "the data's 95% interval")  # fmt: skip
    for col in ("set", "target", "observed (95% CI)", "simulated (95% CI)", "inside"):
        t.add_column(col, overflow="fold")
    for r in res.comparison.to_dict("records"):
        obs = f"{r['observed']:.3g} ({r['ci_low']:.3g}-{r['ci_high']:.3g})"
        sim = f"{r['simulated']:.3g} ({r['sim_low']:.3g}-{r['sim_high']:.3g})"
        t.add_row(str(r["set"]), str(r["name"]), obs, sim, "yes" if r["inside"] else "[red]no")
    Console().print(t)
    Console().print(
        f"{n:,} simulated ensemble attempts (incidents: those with a shot fired), seed {seed}; "
        "simulated intervals are Monte Carlo intervals at the calibration's values"
        + (f" ({', '.join(at)})" if at else "")
        + ".",
        highlight=False,
    )
    misses = explain(res.comparison)
    if misses:
        width = min(Console().width, 100)
        print("\nWhy the misses:")
        for (set_, name), m in misses.items():
            head = f"- {name} ({set_}), {m.cause}: "
            print(textwrap.fill(head + m.text, width=width, subsequent_indent="  "))


def _predictive_check(
    path: Path | None, draws: int, workers: int, as_json: bool, report: Path | None
) -> None:
    """``calibrate --check --predictive``: observed vs the posterior predictive distribution per target."""
    from responsesim.calibrate.pipeline import predictive_check
    from responsesim.calibrate.reference import ReferenceDataError
    from responsesim.params import CalibrationError, load_calibration

    try:
        cal = load_calibration(path)
        with err.status(f"simulating {draws} data sets at posterior draws of {cal.version}", spinner="dots"):
            res = predictive_check(cal, draws, workers=workers)
    except (ReferenceDataError, FileNotFoundError, CalibrationError) as exc:
        _fail(str(exc))
        return
    if report is not None:
        from responsesim.report.calibration import write_predictive_report

        err.print(f"wrote {write_predictive_report(res, Path(report))}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(res.to_json(), indent=2, allow_nan=False) + "\n")
        return
    t = res.table
    inside = int(t.inside.sum())
    table = Table(title=f"posterior predictive check of {escape(cal.version)}: {inside} of {len(t)} observed "
                  "values inside the predictive 95% interval")  # fmt: skip
    for col in ("set", "target", "observed", "predictive 95%", "p"):
        table.add_column(col, overflow="fold")
    for r in t.to_dict("records"):
        table.add_row(str(r["set"]), str(r["name"]), f"{r['observed']:.3g}",
                      f"{r['pp_low']:.3g}-{r['pp_high']:.3g}" + ("" if r["inside"] else " [red]outside"),
                      f"{r['p_value']:.2f}")  # fmt: skip
    Console().print(table)
    Console().print(
        f"{draws} simulated data sets, each as large as the observed set (training or held out) and at its "
        "own posterior draw: the interval covers the parameters' uncertainty, chance and the data's size.",
        highlight=False,
    )


@app.command("params")
def params_cmd(
    as_markdown: Annotated[bool, typer.Option("--markdown", help="print a Markdown table")] = False,
) -> None:
    """List every model parameter with its default, unit and source (or 'assumption')."""
    from responsesim.report.parameters import markdown, parameter_rows

    rows = parameter_rows()
    if as_markdown:
        sys.stdout.write(markdown(rows))
        return
    t = Table(title="model parameters")
    for col in ("parameter", "default", "unit", "source"):
        t.add_column(col)
    for r in rows:
        t.add_row(r.name, r.value, r.unit, r.source)
    Console().print(t)


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="address to listen on (loopback only by default)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    store: Annotated[Path, typer.Option("--store", help="DuckDB results file (past runs)")] = Path(
        "results.duckdb"
    ),
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="uploads and charts folder (default: beside --store)")
    ] = None,
    max_replications: Annotated[int, typer.Option("--max-replications", min=1)] = 20000,
    max_upload_bytes: Annotated[int, typer.Option("--max-upload-bytes", min=1024)] = 1024 * 1024,
    max_concurrent_jobs: Annotated[int, typer.Option("--max-concurrent-jobs", min=1)] = 1,
    max_queued_jobs: Annotated[int, typer.Option("--max-queued-jobs", min=0)] = 8,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="allow a non-loopback --host (no authentication!)")
    ] = False,
    backend: Annotated[
        str, typer.Option("--backend", help="engine for the page's runs: numba (the compiled engine)")
    ] = "numba",
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="a host name the page may be opened by (repeat); others get 421"),
    ] = None,
) -> None:
    """Start the local web page: build a scenario, run it, replay it, compare runs, review a timeline."""
    from responsesim.web.serve import RemoteRefusedError, serve

    if not store.parent.exists():
        _fail(f"--store {store}: directory {store.parent} does not exist")
    try:
        serve(
            host,
            port,
            store,
            data_dir,
            max_replications=max_replications,
            max_upload_bytes=max_upload_bytes,
            max_concurrent_jobs=max_concurrent_jobs,
            max_queued_jobs=max_queued_jobs,
            allow_remote=allow_remote,
            backend=backend,
            allowed_hosts=tuple(allowed_host or ()),
        )
    except (RemoteRefusedError, ValueError) as exc:
        _fail(str(exc))


@app.command("reproduce")
def reproduce_cmd(
    run_id: Annotated[str | None, typer.Argument(help="run id (omit to list the store's runs)")] = None,
    store: Annotated[Path, typer.Option("--store", help="DuckDB results file")] = Path("results.duckdb"),
    workers: Annotated[int, _workers_option("0 = all cores")] = 1,
) -> None:
    """Re-run a stored run from its stored scenario, calibration and seed; check every number matches.

    Exit 0 when every replication matches exactly, 1 on any difference, 2 on bad input."""
    from responsesim.reproduce import reproduce_command

    raise typer.Exit(reproduce_command(run_id, store, workers=workers or 0))


from responsesim.buildings.cli import building_app  # noqa: E402  (the building sub-commands)

app.add_typer(building_app, name="building")


if __name__ == "__main__":  # pragma: no cover
    app()
