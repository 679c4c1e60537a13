"""Re-run a stored run and check that every stored number comes out the same (``responsesim reproduce``).

A run in a results store holds what is needed to run it again: the scenario TOML text, the seed, the
replication count, the backend, the calibration file's text (since provenance was added) and the text of
files the scenario refers to (a building ``file``). ``reproduce`` rebuilds the scenario from those stored
texts -- never from the files on disk, which may have changed -- re-runs it, and compares every
replication row of every stored outcome column exactly (NaN equals NaN, no tolerance). It also lists how
the provenance of the run differs from the code running now (git commit, calibration, backend, versions).

Exit codes of ``reproduce_command``: 0 all numbers match, 1 some differ, 2 bad input (no such store or
run, a referenced file that was not stored and is missing, a backend that is not available).
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from responsesim.api import DEFAULT_CHUNK_SIZE, ParameterDraws, code_version, environment, git_revision, run
from responsesim.params import CalibratedParams, CalibrationError, load_calibration, parse_calibration
from responsesim.scenario.building import BuildingFileError
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import Scenario, build, parse_text
from responsesim.store import ResultStore, RunMeta, StoreError

__all__ = [
    "CellDiff",
    "ProvenanceDiff",
    "ReproduceError",
    "ReproduceReport",
    "list_runs",
    "reproduce",
    "reproduce_command",
]

EXIT_MATCH, EXIT_MISMATCH, EXIT_BAD_INPUT = 0, 1, 2
MAX_CELL_DIFFS = 20  # differing cells kept in the report (all are counted)
_LIST_COLUMNS = ["run_id", "created_at", "scenario_name", "replications", "seed", "backend", "code_version"]


class ReproduceError(Exception):
    """The run cannot be re-run: no such store or run, a missing input file, an unavailable backend."""


@dataclass(frozen=True)
class CellDiff:
    """One differing cell: replication index, outcome column, stored and re-run values (None = missing)."""

    rep: int
    column: str
    stored: Any
    reproduced: Any


@dataclass(frozen=True)
class ProvenanceDiff:
    """A provenance field whose stored value differs from the current one (``None``: not recorded)."""

    field: str
    stored: Any
    current: Any


@dataclass(frozen=True)
class ReproduceReport:
    """Outcome of ``reproduce``: ``match`` is True only if every stored cell was reproduced exactly."""

    run_id: str
    store: Path
    replications: int
    seed: int
    backend: str
    rows_stored: int
    rows_reproduced: int
    columns_compared: tuple[str, ...]
    cells_compared: int
    cells_differing: int
    differing_columns: dict[str, int]  # column -> number of differing rows
    first_differences: tuple[CellDiff, ...]
    missing_columns: tuple[str, ...]  # stored, but the current engine does not produce them
    new_columns: tuple[str, ...]  # produced now, not in the store (not compared)
    missing_reps: tuple[int, ...]  # replication indices present on one side only
    provenance: tuple[ProvenanceDiff, ...]
    notes: tuple[str, ...] = field(default=())
    elapsed_s: float = 0.0

    @property
    def match(self) -> bool:
        return (
            self.cells_differing == 0
            and not self.missing_columns
            and not self.missing_reps
            and self.rows_stored == self.rows_reproduced == self.replications
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the report (values as plain Python, NaN as None)."""
        return {
            "run_id": self.run_id,
            "store": str(self.store),
            "match": self.match,
            "replications": self.replications,
            "seed": self.seed,
            "backend": self.backend,
            "rows_stored": self.rows_stored,
            "rows_reproduced": self.rows_reproduced,
            "columns_compared": list(self.columns_compared),
            "cells_compared": self.cells_compared,
            "cells_differing": self.cells_differing,
            "differing_columns": self.differing_columns,
            "first_differences": [d.__dict__ for d in self.first_differences],
            "missing_columns": list(self.missing_columns),
            "new_columns": list(self.new_columns),
            "missing_reps": list(self.missing_reps),
            "provenance": [d.__dict__ for d in self.provenance],
            "notes": list(self.notes),
            "elapsed_s": self.elapsed_s,
        }


# ------------------------------------------------------------------------------------------------ listing
def list_runs(store_path: Path) -> pd.DataFrame:
    """The runs of a results store, oldest first (run id, time, scenario, replications, seed, backend,
    code version); ``ReproduceError`` if the store does not exist or cannot be opened."""
    try:
        with ResultStore(Path(store_path), read_only=True) as store:
            runs = store.list_runs()
    except StoreError as exc:
        raise ReproduceError(str(exc)) from exc
    return runs[_LIST_COLUMNS].reset_index(drop=True)


def _how_to_list(store_path: Path) -> str:
    return f"list the run ids with `responsesim reproduce --store {store_path}` (no RUN_ID)"


# --------------------------------------------------------------------------------------------- comparison
def _plain(v: Any) -> Any:
    """A cell as plain Python for exact comparison: NA/NaN -> None, numpy scalars -> Python scalars."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _same(a: Any, b: Any) -> bool:
    """Exact equality of plain cells; None (NULL/NaN) equals only None; booleans equal only booleans."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def compare_outcomes(
    stored: pd.DataFrame, fresh: pd.DataFrame
) -> tuple[tuple[str, ...], int, int, dict[str, int], list[CellDiff], list[str], list[str], list[int]]:
    """Compare two outcome tables by replication index (``rep``), cell by cell, exactly.

    Returns (columns compared, cells compared, cells differing, differing rows per column, the first
    ``MAX_CELL_DIFFS`` differing cells in (rep, column) order, stored columns missing from ``fresh``,
    ``fresh`` columns not stored, replication indices present on one side only)."""
    s = stored.set_index("rep")
    f = fresh.set_index("rep")
    s_reps = [int(r) for r in s.index]
    f_reps = [int(r) for r in f.index]
    common_reps = sorted(set(s_reps) & set(f_reps))
    one_side = sorted(set(s_reps) ^ set(f_reps))
    missing = [c for c in s.columns if c not in f.columns]
    new = [c for c in f.columns if c not in s.columns]
    columns = tuple(c for c in s.columns if c in f.columns)
    s_rows = s.loc[common_reps]
    f_rows = f.loc[common_reps]
    n_diff = 0
    per_column: dict[str, int] = {}
    cells: list[tuple[int, int, CellDiff]] = []
    for ci, col in enumerate(columns):
        for rep, a, b in zip(common_reps, s_rows[col].tolist(), f_rows[col].tolist(), strict=True):
            pa, pb = _plain(a), _plain(b)
            if not _same(pa, pb):
                n_diff += 1
                per_column[col] = per_column.get(col, 0) + 1
                if per_column[col] <= MAX_CELL_DIFFS:  # enough to find the first ones in (rep, column) order
                    cells.append((rep, ci, CellDiff(rep, col, pa, pb)))
    first = [c for _, _, c in sorted(cells, key=lambda t: (t[0], t[1]))[:MAX_CELL_DIFFS]]
    return columns, len(common_reps) * len(columns), n_diff, per_column, first, missing, new, one_side


# ------------------------------------------------------------------------------------------ rebuilding
def _calibration(meta: RunMeta, notes: list[str]) -> CalibratedParams:
    """The calibration the run used: its stored text, else the shipped file if its hash matches."""
    current = load_calibration()
    if meta.calibration_toml:
        try:
            cal = parse_calibration(meta.calibration_toml, f"calibration stored with run {meta.run_id}")
        except CalibrationError as exc:
            raise ReproduceError(f"run {meta.run_id}: stored calibration text is invalid: {exc}") from exc
        if current.sha256 != meta.calibration_hash:
            notes.append(
                f"the shipped calibration has changed since the run ({meta.calibration_version or '?'} "
                f"sha256 {meta.calibration_hash[:12]} -> {current.version} sha256 {current.sha256[:12]}); "
                "re-ran with the calibration text stored with the run"
            )
        if cal.sha256 != meta.calibration_hash:
            notes.append(
                "the stored calibration text was rebuilt from the run's parameter values (its file could "
                "not be read when the run was saved); the values are exact, the file hash is not"
            )
        return cal
    if current.sha256 == meta.calibration_hash:
        notes.append("the run predates stored calibration text; the shipped calibration has the same hash")
        return current
    notes.append(
        f"the run predates stored calibration text and the shipped calibration differs (sha256 "
        f"{meta.calibration_hash[:12]} stored, {current.sha256[:12]} now): re-ran with the shipped one, so "
        "numbers that depend on calibrated parameters will differ"
    )
    return current


@contextmanager
def _scenario(meta: RunMeta, cal: CalibratedParams, notes: list[str]) -> Iterator[Scenario]:
    """The run's scenario rebuilt from the stored TOML; a stored building file is written to a temporary
    directory for the duration (so neither a moved scenario nor an edited building file matters)."""
    source = f"scenario stored with run {meta.run_id}" + (
        f" (from {meta.scenario_source})" if meta.scenario_source else ""
    )
    try:
        spec = parse_text(meta.scenario_toml, source)
    except ScenarioError as exc:
        raise ReproduceError(f"run {meta.run_id}: stored scenario cannot be parsed: {exc}") from exc
    stored_files: dict[str, dict[str, str]] = json.loads(meta.input_files_json or "{}")
    bfile = spec.building.file
    with tempfile.TemporaryDirectory(prefix="responsesim-reproduce-") as tmp:
        base_dir = Path(meta.scenario_dir) if meta.scenario_dir else None
        if bfile is not None:
            entry = stored_files.get(bfile)
            if entry and entry.get("text"):
                target = Path(tmp) / ("building" + Path(bfile).suffix)
                target.write_text(entry["text"], encoding="utf-8")
                building = spec.building.model_copy(update={"file": str(target)})
                spec = spec.model_copy(update={"building": building})
            else:
                path = Path(bfile)
                if not path.is_absolute():
                    if base_dir is None:
                        raise ReproduceError(
                            f"run {meta.run_id}: the scenario refers to building file {bfile!r} by a "
                            "relative path and the run did not record its directory or its text"
                        )
                    path = base_dir / path
                if not path.is_file():
                    raise ReproduceError(
                        f"run {meta.run_id}: the scenario refers to building file {bfile!r}, which was "
                        f"not stored with the run and is missing ({path})"
                    )
                notes.append(
                    f"building file {bfile!r} was not stored with the run; used {path} as it is now "
                    "(if it changed since the run, the numbers will differ)"
                )
        try:
            sc = build(spec, source, meta.scenario_toml, cal, base_dir=base_dir)
            sc = sc.with_run_settings(meta.replications, meta.seed)
        except (ScenarioError, BuildingFileError, CalibrationError) as exc:
            raise ReproduceError(f"run {meta.run_id}: stored scenario cannot be built now: {exc}") from exc
        if sc.sha256 != meta.scenario_hash:
            notes.append(
                f"scenario text hash {sc.sha256[:12]} differs from the stored {meta.scenario_hash[:12]}"
            )
        yield sc


def _provenance(meta: RunMeta, cal: CalibratedParams) -> list[ProvenanceDiff]:
    """Stored provenance fields that differ from the code and machine running now."""
    commit, dirty = git_revision()
    current_cal = load_calibration()
    now: dict[str, Any] = {
        "code_version": code_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "calibration_hash": current_cal.sha256,
        **environment(),
    }
    diffs = [ProvenanceDiff(k, getattr(meta, k), v) for k, v in now.items() if getattr(meta, k) != v]
    if meta.calibration_toml and hashlib.sha256(meta.calibration_toml.encode()).hexdigest() != cal.sha256:
        diffs.append(ProvenanceDiff("calibration_toml", "stored text", "does not parse to its own hash"))
    return diffs


# ---------------------------------------------------------------------------------------------- reproduce
def reproduce(store_path: Path, run_id: str, workers: int = 1) -> ReproduceReport:
    """Re-run run ``run_id`` of the results store at ``store_path`` and compare every stored cell.

    Uses the stored scenario text, seed, replication count, backend, chunk size and calibration text;
    ``workers`` local processes (the numbers never depend on it). ``ReproduceError`` for a missing store,
    an unknown run id, a referenced file that is missing, or a backend this engine cannot run."""
    store_path = Path(store_path)
    t0 = time.perf_counter()
    try:
        with ResultStore(store_path, read_only=True) as store:
            try:
                meta = store.load_meta(run_id)
            except StoreError as exc:
                runs = store.list_runs()
                ids = runs["run_id"].tolist()
                newest = ", ".join(ids[-5:][::-1]) if ids else "none"
                raise ReproduceError(
                    f"results store {store_path} has no run {run_id!r} ({len(ids)} run(s); "
                    f"newest: {newest}); " + _how_to_list(store_path)
                ) from exc
            stored = store.load_outcomes(run_id)
    except StoreError as exc:
        raise ReproduceError(str(exc)) from exc

    notes: list[str] = []
    cal = _calibration(meta, notes)
    chunk_size = meta.chunk_size or DEFAULT_CHUNK_SIZE
    backend = meta.backend
    if backend == "numpy":  # the former NumPy engine gave the compiled engine's tables exactly
        backend = "numba"
        notes.append("made with the former NumPy engine (removed); re-run on the compiled engine, which gave "
                     "identical tables")  # fmt: skip
    with _scenario(meta, cal, notes) as sc:
        try:
            draws = (
                ParameterDraws.from_stored(meta.parameter_draws_json, np.arange(sc.spec.replications))
                if meta.parameter_draws_json
                else None
            )
            res = run(sc, workers=workers, chunk_size=chunk_size, backend=backend, draws=draws,
                      uncertainty="posterior" if draws is not None else "point")  # fmt: skip
        except (ValueError, ImportError, NotImplementedError) as exc:
            raise ReproduceError(
                f"run {run_id} used backend {meta.backend!r}, which cannot run here: {exc}"
            ) from exc
    fresh = res.outcomes
    columns, n_cells, n_diff, per_col, first, missing, new, one_side = compare_outcomes(stored, fresh)
    if meta.git_dirty:
        notes.append("the run was made from a checkout with uncommitted source changes (+dirty)")
    return ReproduceReport(
        run_id=run_id,
        store=store_path,
        replications=meta.replications,
        seed=meta.seed,
        backend=meta.backend,
        rows_stored=len(stored),
        rows_reproduced=len(fresh),
        columns_compared=columns,
        cells_compared=n_cells,
        cells_differing=n_diff,
        differing_columns=per_col,
        first_differences=tuple(first),
        missing_columns=tuple(missing),
        new_columns=tuple(new),
        missing_reps=tuple(one_side[:MAX_CELL_DIFFS]),
        provenance=tuple(_provenance(meta, cal)),
        notes=tuple(notes),
        elapsed_s=time.perf_counter() - t0,
    )


# ------------------------------------------------------------------------------------------------ command
def _fmt(v: Any) -> str:
    return "missing" if v is None else repr(v) if isinstance(v, str) else str(v)


def runs_table(runs: pd.DataFrame, store_path: Path) -> Table:
    """A rich table of ``list_runs`` output."""
    t = Table(title=f"runs in {store_path}", box=box.SIMPLE_HEAD, pad_edge=False)
    # (header, min width, max width) of each column; narrow terminals truncate scenario and code version
    # the run id starts with its UTC creation time (YYYYMMDD-HHMMSS), so no separate time column
    layout = [("run id", 24, None), ("scenario", 8, 18), ("reps", 4, None),
              ("seed", 4, None), ("backend", 7, None), ("code version", 5, 30)]  # fmt: skip
    for name, low, high in layout:
        t.add_column(
            name,
            justify="right" if name in ("reps", "seed") else "left",
            no_wrap=True,
            overflow="ellipsis",
            min_width=low,
            max_width=high,
        )
    for row in runs.drop(columns=["created_at"]).itertuples(index=False):
        t.add_row(*(str(v) for v in row))
    return t


def reproduce_command(
    run_id: str | None, store: Path, workers: int = 1, console: Console | None = None
) -> int:
    """``responsesim reproduce [RUN_ID] --store FILE [--workers W]``: print the report, return the exit
    code (0 match, 1 mismatch, 2 bad input). Without a run id, list the store's runs (exit 0)."""
    out = console or Console()
    err = Console(stderr=True) if console is None else console
    try:
        if not run_id:
            runs = list_runs(store)
            if runs.empty:
                out.print(f"results store {store} holds no runs", highlight=False)
            else:
                out.print(runs_table(runs, store))
            return EXIT_MATCH
        rep = reproduce(store, run_id, workers=workers)
    except ReproduceError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    for note in rep.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    if rep.provenance:
        t = Table(title="provenance: stored run vs now")
        t.add_column("field")
        t.add_column("stored")
        t.add_column("now")
        for d in rep.provenance:
            t.add_row(d.field, _fmt(d.stored), _fmt(d.current))
        out.print(t)
    what = (
        f"run {rep.run_id}: {rep.rows_stored:,} stored replications x {len(rep.columns_compared)} columns "
        f"({rep.cells_compared:,} cells), seed {rep.seed}, backend {rep.backend}, "
        f"re-run in {rep.elapsed_s:.1f} s"
    )
    out.print(what, highlight=False)
    if rep.match:
        out.print("[bold green]MATCH[/]: every stored number was reproduced exactly", highlight=False)
        if rep.new_columns:
            out.print(f"(not stored, so not compared: {', '.join(rep.new_columns)})", highlight=False)
        return EXIT_MATCH
    out.print(f"[bold red]MISMATCH[/]: {rep.cells_differing:,} cell(s) differ", highlight=False)
    if rep.rows_stored != rep.rows_reproduced:
        out.print(f"rows: {rep.rows_stored} stored, {rep.rows_reproduced} re-run", highlight=False)
    if rep.missing_columns:
        out.print(f"stored columns the engine no longer produces: {', '.join(rep.missing_columns)}")
    if rep.missing_reps:
        out.print(f"replications on one side only: {', '.join(map(str, rep.missing_reps))}")
    if rep.differing_columns:
        out.print(
            "differing rows per column: " + ", ".join(f"{k} {v}" for k, v in rep.differing_columns.items()),
            highlight=False,
        )
    if rep.first_differences:
        t = Table(title="first differing cells")
        t.add_column("rep", justify="right")
        t.add_column("column")
        t.add_column("stored", justify="right")
        t.add_column("re-run", justify="right")
        for cell in rep.first_differences:
            t.add_row(str(cell.rep), cell.column, _fmt(cell.stored), _fmt(cell.reproduced))
        out.print(t)
    return EXIT_MISMATCH
