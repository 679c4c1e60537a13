"""The web app's access to the DuckDB results store: one connection, used under one lock.

DuckDB connections are not meant to be shared between threads, so every operation holds the lock. The
connection stays open while the server runs (opening the file costs ~0.2 s, which under load serialised
every request behind it); DuckDB then keeps other processes from writing the same file, so give
``responsesim run --out`` another file while the server runs. Runs are immutable once written, so a
run's outcomes are cached (a few runs, least recently used first out).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import json
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from responsesim.params import CalibratedParams, CalibrationError, parse_calibration
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import Scenario, loads
from responsesim.store import ResultStore, RunMeta, StoreError

if TYPE_CHECKING:
    from responsesim.api import RunResult

__all__ = ["RUN_ID_PATTERN", "RunNotFoundError", "RunStore", "valid_run_id"]

RUN_ID_PATTERN = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")


class RunNotFoundError(LookupError):
    """No run with that id (or the id is malformed)."""


def valid_run_id(run_id: str) -> bool:
    """Whether ``run_id`` has the store's form ``YYYYMMDD-HHMMSS-xxxxxxxx``."""
    return bool(RUN_ID_PATTERN.match(run_id))


def _clean(v: Any) -> Any:
    """JSON-safe scalar: NaN/NaT -> None, numpy scalars -> Python, timestamps -> ISO text (UTC)."""
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat() + "Z"
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def deaths_fields(summary: dict[str, Any]) -> dict[str, Any]:
    """Mean deaths per replication and its 95% interval from a stored run summary (None when absent)."""
    d = (summary.get("metrics") or {}).get("deaths") or {}
    return {
        "deaths_mean": d.get("mean"),
        "deaths_ci_low": d.get("ci_low"),
        "deaths_ci_high": d.get("ci_high"),
    }


class RunStore:
    """Thread-safe reads and writes of runs in one DuckDB file."""

    def __init__(self, path: Path, cache_runs: int = 8) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._outcomes: collections.OrderedDict[str, pd.DataFrame] = collections.OrderedDict()
        self._cache_runs = cache_runs
        self._rows: list[dict[str, Any]] | None = None
        self._by_id: dict[str, dict[str, Any]] = {}
        self._headers: collections.OrderedDict[str, tuple[RunMeta, dict[str, Any]]] = (
            collections.OrderedDict()
        )
        self._store: ResultStore | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _open(self) -> Iterator[ResultStore]:
        """The open store (opened on first use; caller holds the lock). A database error closes it so
        the next operation reopens the file."""
        if self._store is None:
            self._store = ResultStore(self.path)
        try:
            yield self._store
        except StoreError:
            raise
        except Exception:
            self.close_unlocked()
            raise

    def close_unlocked(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close()
            self._store = None
        self._rows = None

    def close(self) -> None:
        """Close the connection (the next operation reopens it)."""
        with self._lock:
            self.close_unlocked()

    # ------------------------------------------------------------------------------------------ writing
    def write_run(self, result: RunResult, summary: dict[str, Any]) -> str:
        """Store a finished run in one transaction; returns its run id."""
        meta = result.meta()
        with self._lock, self._open() as store:
            run_id = store.write_run(meta, result.outcomes, summary)
            self._rows = None  # re-read the listing (with the stored created_at) on the next request
            return run_id

    # ------------------------------------------------------------------------------------------ reading
    def _index(self, store: ResultStore) -> list[dict[str, Any]]:
        """The listing rows, newest first (read from the file once, again after each write; caller holds
        the lock). The server's connection is the only writer while it runs, so the copy stays exact."""
        if self._rows is not None:
            return self._rows
        frame = store.list_runs()
        rows: list[dict[str, Any]] = []
        for rec in frame.iloc[::-1].to_dict("records"):
            try:
                summary = json.loads(rec.get("summary_json") or "{}")
            except json.JSONDecodeError:
                summary = {}
            rows.append(
                {
                    "run_id": rec["run_id"],
                    "created_at": _clean(rec["created_at"]),
                    "scenario_name": _clean(rec["scenario_name"]),
                    "replications": _clean(rec["replications"]),
                    "seed": _clean(rec["seed"]),
                    "backend": _clean(rec["backend"]),
                    "label": summary.get("label"),
                    "levers": summary.get("levers"),
                    "base_scenario": summary.get("base_scenario"),
                    **deaths_fields(summary),
                }
            )
        self._rows = rows
        self._by_id = {r["run_id"]: r for r in rows}
        return rows

    def list_runs(self) -> list[dict[str, Any]]:
        """``GET /api/runs`` rows, newest first."""
        with self._lock, self._open() as store:
            return [dict(r) for r in self._index(store)]

    def _check(self, run_id: str) -> None:
        if not valid_run_id(run_id):
            raise RunNotFoundError(f"no run {run_id!r} (run ids look like 20260101-120000-1a2b3c4d)")

    def header(self, run_id: str) -> tuple[RunMeta, dict[str, Any], str]:
        """(metadata, stored summary, created_at ISO text) of a run; ``RunNotFoundError`` if unknown."""
        self._check(run_id)
        with self._lock, self._open() as store:
            self._index(store)
            row = self._by_id.get(run_id)
            if row is None:
                raise RunNotFoundError(f"no run {run_id!r} in {self.path.name}")
            cached = self._headers.get(run_id)
            if cached is None:
                try:
                    cached = (store.load_meta(run_id), store.load_summary(run_id))
                except StoreError as exc:
                    raise RunNotFoundError(f"no run {run_id!r} in {self.path.name}") from exc
                self._headers[run_id] = cached
                while len(self._headers) > 8 * self._cache_runs:
                    self._headers.popitem(last=False)
            else:
                self._headers.move_to_end(run_id)
        meta, summary = cached
        return meta, copy.deepcopy(summary), str(row["created_at"])

    def outcomes(self, run_id: str) -> pd.DataFrame:
        """The per-replication outcomes of a run (cached; do not modify the frame)."""
        self._check(run_id)
        with self._lock:
            if run_id in self._outcomes:
                self._outcomes.move_to_end(run_id)
                return self._outcomes[run_id]
            with self._open() as store:
                try:
                    frame = store.load_outcomes(run_id)
                except StoreError as exc:
                    raise RunNotFoundError(f"no run {run_id!r} in {self.path.name}") from exc
            self._outcomes[run_id] = frame
            while len(self._outcomes) > self._cache_runs:
                self._outcomes.popitem(last=False)
            return frame

    def scenario(self, run_id: str) -> Scenario:
        """The scenario a run ran (its stored TOML, seed and replications, and calibration if stored)."""
        meta, _, _ = self.header(run_id)
        cal: CalibratedParams | None = None
        cal_text = getattr(meta, "calibration_toml", None)
        if cal_text:
            try:
                cal = parse_calibration(cal_text, f"run {run_id} calibration")
            except CalibrationError:
                cal = None
        try:
            sc = loads(meta.scenario_toml, meta.scenario_name, cal)
        except ScenarioError as exc:
            stored = _with_stored_building(meta, cal)
            if stored is None:
                raise RunNotFoundError(f"run {run_id}: its stored scenario no longer loads ({exc})") from exc
            return stored
        return sc.with_run_settings(int(meta.replications), int(meta.seed))


def _with_stored_building(meta: RunMeta, cal: CalibratedParams | None) -> Scenario | None:
    """A scenario whose ``[building] file`` does not resolve from here (a run of ``responsesim run FILE
    --out``): rebuilt as ``responsesim reproduce`` does, from the building text stored with the run or the
    file beside the scenario's recorded folder; None when that fails too."""
    from responsesim.params import load_calibration
    from responsesim.reproduce import ReproduceError
    from responsesim.reproduce import _scenario as stored_scenario

    try:
        with stored_scenario(meta, cal or load_calibration(), []) as sc:
            return sc
    except (ReproduceError, ScenarioError):
        return None


def meta_json(meta: RunMeta) -> dict[str, Any]:
    """A run's provenance as JSON (every ``RunMeta`` field)."""
    return {k: _clean(v) for k, v in dataclasses.asdict(meta).items()}
