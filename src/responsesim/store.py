"""Results store: one DuckDB file holding runs and their per-replication outcomes.

Tables:

* ``runs``: one row per run (``run_id``, ``created_at`` in UTC, scenario name/hash/TOML text, seed,
  replications, backend, code and calibration versions, the summary as JSON).
* ``replications``: one row per replication (``run_id``, ``rep`` = 0-based replication index, then one
  column per outcome column). Created from the first outcomes frame written; later frames must have
  exactly the same columns (matched by name).

Crash safety: ``write_run`` writes the run row and all replication rows in ONE transaction; any failure
rolls it back, so the file never holds a half-written run.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

__all__ = ["ResultStore", "RunMeta", "StoreError", "new_run_id"]

_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    scenario_name VARCHAR,
    scenario_hash VARCHAR,
    scenario_toml VARCHAR,
    seed BIGINT,
    replications INTEGER,
    backend VARCHAR,
    code_version VARCHAR,
    calibration_hash VARCHAR,
    summary_json VARCHAR
)
"""
# Provenance columns added after the first release: nullable, so files written before them keep opening
# (ALTER ... IF NOT EXISTS on every writable open; reads treat a missing column as NULL).
_PROVENANCE_COLUMNS: dict[str, str] = {
    "git_commit": "VARCHAR",
    "git_dirty": "BOOLEAN",
    "python_version": "VARCHAR",
    "numpy_version": "VARCHAR",
    "platform": "VARCHAR",
    "calibration_version": "VARCHAR",
    "calibration_toml": "VARCHAR",
    "chunk_size": "INTEGER",
    "scenario_source": "VARCHAR",
    "scenario_dir": "VARCHAR",
    "input_files_json": "VARCHAR",
    "calibration_key": "VARCHAR",
    "model_version": "VARCHAR",
    "parameter_draws_json": "VARCHAR",
}
_ALTER_DDL = tuple(
    f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in _PROVENANCE_COLUMNS.items()
)
_RESERVED = ("run_id", "rep")
#: outcome columns added after the first release: a store without them gains them (older rows NULL)
_ADDABLE_COLUMNS: dict[str, str] = {"draw": "BIGINT"}
_VIEW = "_responsesim_outcomes"
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}
_FRACTIONAL_TYPES = {"FLOAT", "DOUBLE"}


def _quote(name: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


class StoreError(Exception):
    """The store cannot be opened, read or written (the message names the file)."""


def new_run_id() -> str:
    """A short, unique id that sorts by creation time: ``YYYYMMDD-HHMMSS-`` (UTC) + 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True, kw_only=True)
class RunMeta:
    """What identifies a run: ``seed`` of the master RNG, ``replications`` count, ``backend`` name,
    ``scenario_hash``/``calibration_hash`` digests and ``code_version`` for reproducibility.

    Provenance (None when unknown, e.g. runs stored before these fields existed): ``git_commit`` and
    ``git_dirty`` of the checkout that ran it, interpreter/numpy/platform versions, the calibration's
    ``version`` and full text ``calibration_toml`` (so the run can be re-run after the shipped file
    changes), ``chunk_size`` (replications per chunk; results never depend on it), where the scenario came
    from (``scenario_source`` file, ``scenario_dir`` against which relative paths resolved) and
    ``input_files_json`` (files the scenario refers to: path as written -> resolved path, sha256, text),
    ``calibration_key`` and ``model_version`` (the calibration values and the engine rules that made it).
    """

    scenario_name: str
    scenario_hash: str
    scenario_toml: str
    seed: int
    replications: int
    backend: str
    code_version: str
    calibration_hash: str
    run_id: str = field(default_factory=new_run_id)
    git_commit: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    numpy_version: str | None = None
    platform: str | None = None
    calibration_version: str | None = None
    calibration_toml: str | None = None
    chunk_size: int | None = None
    scenario_source: str | None = None
    scenario_dir: str | None = None
    input_files_json: str | None = None
    calibration_key: str | None = None  # version and hash of the calibration's values (CalibratedParams.key)
    model_version: str | None = None  # the engine's model rules (engine.version.model_version)
    parameter_draws_json: str | None = None  # the posterior draws the replications ran at (None: point)


_META_COLUMNS = [f.name for f in fields(RunMeta)]


def connect_store(path: Path, read_only: bool, ddl: Sequence[str]) -> duckdb.DuckDBPyConnection:
    """Open (or create) a DuckDB results file with clear errors; runs ``ddl`` unless read-only."""
    if read_only and not path.exists():
        raise StoreError(f"results store {path} does not exist")
    if not path.parent.is_dir():
        raise StoreError(f"cannot create results store {path}: directory {path.parent} does not exist")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open results store {path}: {exc}") from exc
    if not read_only:
        try:
            for statement in ddl:
                con.execute(statement)
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot initialise results store {path}: {exc}") from exc
    return con


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the current schema has a table or view called ``name``."""
    rows = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
        [name],
    ).fetchall()
    return bool(rows)


class ResultStore:
    """A DuckDB results file. Use as a context manager, or call ``close()``.

    ``read_only=True`` opens an existing file without taking the write lock; otherwise the file is
    created if needed (its directory must exist).
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._con = connect_store(self.path, read_only, (_RUNS_DDL, *_ALTER_DDL))

    # ------------------------------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ helpers
    def _has_table(self, name: str) -> bool:
        return has_table(self._con, name)

    def _column_types(self, relation: str) -> dict[str, str]:
        """Column name -> DuckDB type of a table or view, in order."""
        rows = self._con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def _create_replications(self) -> None:
        """Create ``replications`` from the registered frame's schema; all-null columns become VARCHAR."""
        self._con.execute(
            "CREATE TABLE replications AS SELECT CAST(NULL AS VARCHAR) AS run_id, "
            f"CAST(NULL AS INTEGER) AS rep, * EXCLUDE (rep) FROM {_VIEW} LIMIT 0"
        )
        for name, kind in self._column_types("replications").items():
            if kind == '"NULL"' or kind.upper() == "NULL":
                self._con.execute(f"ALTER TABLE replications ALTER COLUMN {_quote(name)} TYPE VARCHAR")

    def _check_columns(self) -> None:
        """The registered frame must have the stored columns, and no integer column may lose a fraction."""
        stored = {c: t for c, t in self._column_types("replications").items() if c not in _RESERVED}
        given = {c: t for c, t in self._column_types(_VIEW).items() if c != "rep"}
        for c in [c for c in given if c not in stored and c in _ADDABLE_COLUMNS]:
            kind = _ADDABLE_COLUMNS[c]
            self._con.execute(f"ALTER TABLE replications ADD COLUMN IF NOT EXISTS {_quote(c)} {kind}")
            stored[c] = _ADDABLE_COLUMNS[c]
        missing = [c for c in stored if c not in given and c not in _ADDABLE_COLUMNS]
        extra = [c for c in given if c not in stored]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing: {', '.join(missing)}")
            if extra:
                parts.append(f"not in the store: {', '.join(extra)}")
            raise StoreError(
                f"results store {self.path}: outcome columns differ from the stored table "
                f"({'; '.join(parts)}); nothing was written"
            )
        for name, kind in stored.items():
            if kind in _INTEGER_TYPES and given[name] in _FRACTIONAL_TYPES:
                col = _quote(name)
                (bad,) = self._con.execute(
                    f"SELECT count(*) FROM {_VIEW} WHERE {col} IS NOT NULL AND {col} <> round({col})"
                ).fetchone() or (0,)
                if bad:
                    raise StoreError(
                        f"results store {self.path}: column {name!r} is stored as {kind} but "
                        f"{bad} value(s) have a fraction; nothing was written"
                    )

    def _error(self, what: str, exc: Exception) -> StoreError:
        return StoreError(f"results store {self.path}: {what}: {exc}")

    # ------------------------------------------------------------------------------------------ writing
    def write_run(self, meta: RunMeta, outcomes: pd.DataFrame, summary: dict[str, Any]) -> str:
        """Store one run atomically and return its ``run_id``.

        ``outcomes``: one row per replication; a ``rep`` column is used as the replication index if
        present, else rows are numbered 0, 1, ...; a ``run_id`` column is not allowed. ``summary``:
        JSON-serialisable (e.g. from ``analysis.summary_json``). Raises ``StoreError`` (nothing written)
        for a read-only store, a duplicate run id, columns that differ from the stored table, or any
        database error.
        """
        if self.read_only:
            raise StoreError(f"results store {self.path} is open read-only")
        if "run_id" in outcomes.columns:
            raise StoreError("outcomes may not have a 'run_id' column (it is added by the store)")
        if not all(isinstance(c, str) for c in outcomes.columns):
            raise StoreError("outcome column names must be strings")
        if outcomes.columns.duplicated().any():
            raise StoreError("outcome column names must be unique")
        try:
            summary_text = json.dumps(summary, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"summary is not JSON-serialisable: {exc}") from exc

        frame = outcomes.reset_index(drop=True)
        if "rep" not in frame.columns:
            frame.insert(0, "rep", range(len(frame)))
        created = datetime.now(UTC).replace(tzinfo=None)
        con = self._con
        con.begin()
        try:
            values: dict[str, Any] = {name: getattr(meta, name) for name in _META_COLUMNS}
            values.update(seed=int(meta.seed), replications=int(meta.replications))
            values.update(created_at=created, summary_json=summary_text)
            con.execute(
                f"INSERT INTO runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()),
            )
            con.register(_VIEW, frame)
            if not self._has_table("replications"):
                self._create_replications()
            self._check_columns()
            con.execute(f"INSERT INTO replications BY NAME SELECT ? AS run_id, * FROM {_VIEW}", [meta.run_id])
            con.commit()
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, duckdb.ConstraintException):
                raise self._error(f"run {meta.run_id!r} cannot be written", exc) from exc
            if isinstance(exc, duckdb.Error):
                raise self._error(f"writing run {meta.run_id!r} failed, nothing was written", exc) from exc
            raise
        finally:
            con.unregister(_VIEW)
        return meta.run_id

    # ------------------------------------------------------------------------------------------ reading
    def _select(self, columns: list[str]) -> str:
        """A SELECT list of ``runs`` columns; columns an older file lacks read as NULL."""
        present = set(self._column_types("runs"))
        return ", ".join(c if c in present else f"NULL AS {c}" for c in columns)

    def list_runs(self) -> pd.DataFrame:
        """All runs, oldest first: the columns of the ``runs`` table (empty frame if there are none)."""
        columns = ["created_at", *_META_COLUMNS, "summary_json"]
        if not self._has_table("runs"):
            return pd.DataFrame(columns=columns)
        return self._con.execute(f"SELECT {self._select(columns)} FROM runs ORDER BY created_at, run_id").df()

    def _run_row(self, run_id: str, columns: list[str]) -> tuple[Any, ...]:
        row = None
        if self._has_table("runs"):
            row = self._con.execute(
                f"SELECT {self._select(columns)} FROM runs WHERE run_id = ?", [run_id]
            ).fetchone()
        if row is None:
            raise StoreError(f"results store {self.path}: no run {run_id!r}")
        return tuple(row)

    def load_meta(self, run_id: str) -> RunMeta:
        """The ``RunMeta`` of a run; ``StoreError`` if there is no such run."""
        row = self._run_row(run_id, _META_COLUMNS)
        return RunMeta(**dict(zip(_META_COLUMNS, row, strict=True)))

    def load_summary(self, run_id: str) -> dict[str, Any]:
        """The summary stored with a run (parsed JSON)."""
        (text,) = self._run_row(run_id, ["summary_json"])
        result: dict[str, Any] = json.loads(text)
        return result

    def load_outcomes(self, run_id: str) -> pd.DataFrame:
        """The replications of a run: column ``rep`` then the outcome columns, ordered by ``rep``.

        SQL NULL comes back as NaN (numbers) or missing (strings); ``StoreError`` if there is no such run.
        """
        self._run_row(run_id, ["run_id"])
        if not self._has_table("replications"):
            return pd.DataFrame(columns=["rep"])
        return self._con.execute(
            "SELECT * EXCLUDE (run_id) FROM replications WHERE run_id = ? ORDER BY rep", [run_id]
        ).df()
