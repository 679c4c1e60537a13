"""CLI body of ``responsesim sweep``: run (or resume) a sweep file into a DuckDB file, then summarise."""

from __future__ import annotations

import json
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from rich.markup import escape

from responsesim.sanity import sweep_warnings
from responsesim.store import StoreError
from responsesim.sweep.run import SchedulerError, Task, run_sweep
from responsesim.sweep.spec import SweepError, load_sweep
from responsesim.sweep.summary import plot_sweep, summary_records, sweep_summary

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def sweep_command(
    sweep_path: Path,
    out: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    seed: int | None = None,
    as_json: bool = False,
    plot: Path | None = None,
    backend: str = "numba",
    recompute_stale: bool = False,
) -> int:
    """Run or resume the sweep in ``sweep_path``, storing results in ``out`` (DuckDB).

    Prints the per-point summary as a table (or JSON) and writes a PNG plot (``plot``, default
    ``<out without suffix>-<sweep_id>.png``). Returns 0; 2 on bad input (sweep file, base scenario,
    store, scheduler address); 1 if a local worker process died and 130 when interrupted (in both cases the
    finished chunks are kept: re-run the same command to resume).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    err = Console(stderr=True)

    def fail(msg: str) -> int:
        err.print(f"[bold red]error:[/] {escape(str(msg))}", highlight=False)
        return EXIT_BAD_INPUT

    try:
        sweep = load_sweep(sweep_path, seed=seed)
    except SweepError as exc:
        return fail(str(exc))
    except Exception as exc:  # the base scenario file (ScenarioError, building/calibration errors)
        from responsesim.params import CalibrationError
        from responsesim.scenario.building import BuildingFileError
        from responsesim.scenario.errors import ScenarioError

        if isinstance(exc, ScenarioError | BuildingFileError | CalibrationError):
            return fail(str(exc))
        raise
    if not out.parent.exists():
        return fail(f"--out {out}: directory {out.parent} does not exist")
    if scheduler is not None and not scheduler.strip():
        return fail("--scheduler: empty address")
    with Progress(
        TextColumn(f"[bold]sweep {sweep.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
        disable=not err.is_terminal,
    ) as progress:
        bar = progress.add_task("sweep", total=sweep.n_chunks)

        def on_chunk(_t: Task, done: int, _total: int) -> None:
            progress.update(bar, completed=done)

        try:
            res = run_sweep(
                sweep,
                out,
                workers=workers,
                scheduler=scheduler,
                on_chunk=on_chunk,
                backend=backend,
                recompute_stale=recompute_stale,
            )
        except (StoreError, SchedulerError) as exc:
            return fail(str(exc))
        except KeyboardInterrupt:
            err.print(
                f"interrupted: finished chunks are stored in {out}; run the same command to resume",
                highlight=False,
            )
            return EXIT_INTERRUPTED
        except BrokenProcessPool as exc:
            err.print(
                f"[bold red]error:[/] a worker process died ({exc}); finished chunks are stored in {out}; "
                "run the same command to resume",
                highlight=False,
            )
            return EXIT_FAILED
    frame = sweep_summary(out, sweep.sweep_id)
    png = plot or out.with_name(f"{out.stem}-{sweep.sweep_id}.png")
    plot_sweep(frame, list(sweep.parameters), png, title=sweep.name)
    if as_json:
        obj = {
            "sweep_id": sweep.sweep_id,
            "name": sweep.name,
            "out": str(out),
            "plot": str(png),
            "seed": sweep.seed,
            "replications_per_point": sweep.replications_per_point,
            "parameters": list(sweep.parameters),
            "chunks_total": res.total_chunks,
            "chunks_already_done": res.already_done,
            "chunks_run": res.ran,
            "complete": res.complete,
            "warnings": sweep_warnings(sweep.points),
            "points": summary_records(frame),
        }
        sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")
        return EXIT_OK
    console = Console()
    per_point = sweep.replications_per_point
    table = Table(title=f"{escape(sweep.name)} (sweep {sweep.sweep_id}, {per_point} reps/point)")
    for p in sweep.parameters:
        table.add_column(p)
    table.add_column("n", justify="right")
    for m in ("deaths", "died_awaiting_care", "attack_duration_s"):
        table.add_column(f"{m} (95% CI)", justify="right")
    for rec in summary_records(frame):
        cells = ["never" if rec.get(p) is None else str(rec.get(p)) for p in sweep.parameters]
        cells.append(str(rec["n"]))
        for m in ("deaths", "died_awaiting_care", "attack_duration_s"):
            mean, lo, hi = rec.get(f"{m}_mean"), rec.get(f"{m}_ci_low"), rec.get(f"{m}_ci_high")
            cells.append("-" if mean is None else f"{mean:.2f} [{_f(lo)}, {_f(hi)}]")
        table.add_row(*cells)
    console.print(table)
    for w in sweep_warnings(sweep.points):
        console.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False)
    state = "resumed" if res.resumed else "new"
    console.print(
        f"{state} sweep: {res.ran} chunks run now, {res.already_done} already stored, "
        f"{res.total_chunks} in all -> {out}; plot {png}",
        highlight=False,
    )
    return EXIT_OK


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"
