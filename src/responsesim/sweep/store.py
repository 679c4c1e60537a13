"""Sweep results in a DuckDB file.

Tables: ``sweeps(sweep_id, name, spec_toml, spec_hash, code_version, seed, created_at, <provenance>)``,
``points(sweep_id, point_id, params_json, scenario_hash)``,
``chunks(sweep_id, point_id, chunk_index, first_rep, n, done_at, calibration_key, model_version)`` and
``replications(sweep_id, point_id, rep, <outcome columns>)``.

Each finished chunk (its ``chunks`` row and its replication rows) is written in ONE transaction, and
``chunks`` has the primary key (sweep_id, point_id, chunk_index): a chunk is stored whole or not at all,
and never twice. An interrupted sweep resumes by running only the chunks not in ``chunks``.

Provenance columns of ``sweeps`` (``PROVENANCE_COLUMNS``; nullable, added with ``ALTER TABLE ... IF NOT
EXISTS`` so older files keep opening) record the git commit, backend, interpreter/numpy/platform, the
calibration text and the base scenario text of the call that registered the sweep.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from responsesim.store import StoreError, connect_store, has_table

_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS sweeps (
        sweep_id VARCHAR PRIMARY KEY, name VARCHAR, spec_toml VARCHAR, spec_hash VARCHAR,
        code_version VARCHAR, seed BIGINT, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS points (
        sweep_id VARCHAR, point_id INTEGER, params_json VARCHAR, scenario_hash VARCHAR,
        PRIMARY KEY (sweep_id, point_id))""",
    """CREATE TABLE IF NOT EXISTS chunks (
        sweep_id VARCHAR, point_id INTEGER, chunk_index INTEGER, first_rep BIGINT, n INTEGER,
        done_at TIMESTAMP, PRIMARY KEY (sweep_id, point_id, chunk_index))""",
)
PROVENANCE_COLUMNS: dict[str, str] = {
    "git_commit": "VARCHAR",
    "git_dirty": "BOOLEAN",
    "backend": "VARCHAR",
    "python_version": "VARCHAR",
    "numpy_version": "VARCHAR",
    "platform": "VARCHAR",
    "calibration_version": "VARCHAR",
    "calibration_hash": "VARCHAR",
    "calibration_toml": "VARCHAR",
    "base_scenario_source": "VARCHAR",
    "base_scenario_toml": "VARCHAR",
    "input_files_json": "VARCHAR",
    "replications_per_point": "INTEGER",
    "chunk_size": "INTEGER",
}
#: what produced each chunk: the calibration (version and a hash of its values) and the model version
#: (engine.version.model_version); NULL in files written before they were recorded
CHUNK_PROVENANCE: dict[str, str] = {"calibration_key": "VARCHAR", "model_version": "VARCHAR"}
_DDL = (
    *_DDL,
    *(f"ALTER TABLE sweeps ADD COLUMN IF NOT EXISTS {n} {t}" for n, t in PROVENANCE_COLUMNS.items()),
    *(f"ALTER TABLE chunks ADD COLUMN IF NOT EXISTS {n} {t}" for n, t in CHUNK_PROVENANCE.items()),
)
_VIEW = "_sweep_chunk"


def _sql_type(dtype: object) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"i": "BIGINT", "u": "BIGINT", "f": "DOUBLE", "b": "BOOLEAN"}.get(kind, "VARCHAR")


class SweepStore:
    """The sweep tables of one DuckDB file (created if needed). Use as a context manager."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.con = connect_store(self.path, read_only, _DDL)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _has_table(self, name: str) -> bool:
        return has_table(self.con, name)

    # ------------------------------------------------------------------------------------- registration
    def register(
        self,
        sweep_id: str,
        name: str,
        spec_toml: str,
        spec_hash: str,
        code_version: str,
        seed: int,
        points: list[tuple[int, str, str]],
        provenance: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record the sweep and its points (``(point_id, params_json, scenario_hash)``) unless present.

        ``provenance``: values of ``PROVENANCE_COLUMNS`` (others are refused, missing ones stay NULL).
        Returns True if the sweep was already there (a resume); ``StoreError`` if its stored points differ.
        """
        extra = dict(provenance or {})
        unknown = sorted(set(extra) - set(PROVENANCE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown sweep provenance field(s): {', '.join(unknown)}")
        con = self.con
        con.begin()
        try:
            row = con.execute("SELECT spec_hash FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchone()
            if row is None:
                row_values: dict[str, Any] = {
                    "sweep_id": sweep_id,
                    "name": name,
                    "spec_toml": spec_toml,
                    "spec_hash": spec_hash,
                    "code_version": code_version,
                    "seed": seed,
                    "created_at": _now(),
                    **extra,
                }
                marks = ", ".join("?" * len(row_values))
                con.execute(
                    f"INSERT INTO sweeps ({', '.join(row_values)}) VALUES ({marks})",
                    list(row_values.values()),
                )
                con.executemany("INSERT INTO points VALUES (?, ?, ?, ?)", [[sweep_id, *p] for p in points])
                con.commit()
                return False
            stored = con.execute(
                "SELECT point_id, params_json, scenario_hash FROM points "
                "WHERE sweep_id = ? ORDER BY point_id",
                [sweep_id],
            ).fetchall()
            con.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise
        if [tuple(r) for r in stored] != [tuple(p) for p in points]:
            raise StoreError(
                f"results store {self.path}: sweep {sweep_id} is stored with different points "
                "(different code or base scenario?); use another --out file"
            )
        return True

    def done_chunks(self, sweep_id: str) -> set[tuple[int, int]]:
        rows = self.con.execute(
            "SELECT point_id, chunk_index FROM chunks WHERE sweep_id = ?", [sweep_id]
        ).fetchall()
        return {(int(a), int(b)) for a, b in rows}

    def stale_chunks(
        self, sweep_id: str, calibration_key: str, model_version: str
    ) -> list[tuple[int, int, str | None, str | None]]:
        """Stored chunks made under another calibration or model version (or before either was
        recorded): ``(point_id, chunk_index, their calibration_key, their model_version)``."""
        rows = self.con.execute(
            "SELECT point_id, chunk_index, calibration_key, model_version FROM chunks WHERE sweep_id = ? "
            "AND (calibration_key IS DISTINCT FROM ? OR model_version IS DISTINCT FROM ?) "
            "ORDER BY point_id, chunk_index",
            [sweep_id, calibration_key, model_version],
        ).fetchall()
        return [(int(a), int(b), c, d) for a, b, c, d in rows]

    def drop_chunks(
        self, sweep_id: str, keys: list[tuple[int, int]], chunk_ranges: dict[int, tuple[int, int]]
    ) -> None:
        """Delete chunks (``(point_id, chunk_index)``) and their replications in one transaction;
        ``chunk_ranges[chunk_index] = (first_rep, n)``."""
        con = self.con
        con.begin()
        try:
            for point_id, k in keys:
                first, n = chunk_ranges[k]
                con.execute(
                    "DELETE FROM chunks WHERE sweep_id = ? AND point_id = ? AND chunk_index = ?",
                    [sweep_id, point_id, k],
                )
                if self._has_table("replications"):
                    con.execute(
                        "DELETE FROM replications WHERE sweep_id = ? AND point_id = ? "
                        "AND rep >= ? AND rep < ?",
                        [sweep_id, point_id, first, first + n],
                    )
            con.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise

    # ------------------------------------------------------------------------------------------ writing
    def write_chunk(
        self,
        sweep_id: str,
        point_id: int,
        chunk_index: int,
        first_rep: int,
        outcomes: pd.DataFrame,
        calibration_key: str | None = None,
        model_version: str | None = None,
    ) -> bool:
        """Store one chunk and its replications in one transaction, with the calibration and model
        version that produced it; False if it was already stored."""
        frame = outcomes.reset_index(drop=True)
        con = self.con
        con.begin()
        try:
            try:
                con.execute(
                    "INSERT INTO chunks (sweep_id, point_id, chunk_index, first_rep, n, done_at, "
                    "calibration_key, model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [sweep_id, point_id, chunk_index, first_rep, len(frame), _now(), calibration_key,
                     model_version],
                )  # fmt: skip
            except duckdb.ConstraintException:
                con.rollback()
                return False
            con.register(_VIEW, frame)
            if not self._has_table("replications"):
                cols = ", ".join(f'"{c}" {_sql_type(t)}' for c, t in frame.dtypes.items() if c != "rep")
                con.execute(
                    "CREATE TABLE replications (sweep_id VARCHAR, point_id INTEGER, rep BIGINT, "
                    f"{cols}, PRIMARY KEY (sweep_id, point_id, rep))"
                )
            con.execute(
                f"INSERT INTO replications BY NAME SELECT ? AS sweep_id, ? AS point_id, * FROM {_VIEW}",
                [sweep_id, point_id],
            )
            con.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                con.unregister(_VIEW)
        return True

    # ------------------------------------------------------------------------------------------ reading
    def points(self, sweep_id: str) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM points WHERE sweep_id = ? ORDER BY point_id", [sweep_id]).df()

    def chunks(self, sweep_id: str) -> pd.DataFrame:
        return self.con.execute(
            "SELECT * FROM chunks WHERE sweep_id = ? ORDER BY point_id, chunk_index", [sweep_id]
        ).df()

    def replications(self, sweep_id: str) -> pd.DataFrame:
        if not self._has_table("replications"):
            return pd.DataFrame(columns=["point_id", "rep"])
        return self.con.execute(
            "SELECT * EXCLUDE (sweep_id) FROM replications WHERE sweep_id = ? ORDER BY point_id, rep",
            [sweep_id],
        ).df()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
