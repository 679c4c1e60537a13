"""Tests for the DuckDB results store, on real files in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from responsesim.store import ResultStore, RunMeta, StoreError, new_run_id


def meta(run_id: str | None = None, seed: int = 42) -> RunMeta:
    extra = {"run_id": run_id} if run_id is not None else {}
    return RunMeta(
        scenario_name="demo",
        scenario_hash="abc123",
        scenario_toml='name = "demo"\nreplications = 3\n',
        seed=seed,
        replications=3,
        backend="numba",
        code_version="0.1.0+test",
        calibration_hash="cal456",
        **extra,
    )


def outcomes(n: int = 3, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "killed": np.arange(n, dtype=np.int64) + offset,
            "first_entry_s": [np.nan, 12.5, 300.0][:n],
            "ended_before_police": [True, False, True][:n],
            "end_reason": ["stopped", None, "suicide"][:n],
        }
    )


def count(store_path: Path, sql: str) -> int:
    with ResultStore(store_path, read_only=True) as store:
        (n,) = store._con.execute(sql).fetchone() or (0,)
        return int(n)


def test_new_run_id_unique_and_sortable() -> None:
    ids = [new_run_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{8}", i) for i in ids)
    assert sorted(i[:15] for i in ids) == [i[:15] for i in ids]  # the timestamp part never decreases


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    df = outcomes()
    summary = {"metrics": {"killed": {"mean": 1.0, "ci_low": None}}, "confidence": 0.95}
    with ResultStore(path) as store:
        run_id = store.write_run(meta("r1"), df, summary)
    assert run_id == "r1"

    with ResultStore(path) as store:
        got = store.load_outcomes("r1")
        assert list(got.columns) == ["rep", *df.columns]
        assert got["rep"].tolist() == [0, 1, 2]
        assert got["killed"].tolist() == [0, 1, 2]
        assert got["killed"].dtype == np.int64
        assert got["first_entry_s"].dtype == np.float64
        assert np.isnan(got["first_entry_s"][0])
        assert got["first_entry_s"][1:].tolist() == [12.5, 300.0]
        assert got["ended_before_police"].dtype == bool
        assert got["ended_before_police"].tolist() == [True, False, True]
        assert got["end_reason"][0] == "stopped" and got["end_reason"][2] == "suicide"
        assert pd.isna(got["end_reason"][1])
        pd.testing.assert_frame_equal(got.drop(columns="rep"), df, check_dtype=False)

        assert store.load_meta("r1") == meta("r1")
        assert store.load_summary("r1") == summary
        runs = store.list_runs()
        assert runs["run_id"].tolist() == ["r1"]
        assert runs.loc[0, "seed"] == 42 and runs.loc[0, "backend"] == "numba"
        assert isinstance(runs.loc[0, "created_at"], pd.Timestamp)


def test_rep_column_is_used_and_order_restored(tmp_path: Path) -> None:
    df = outcomes().assign(rep=[2, 0, 1])
    with ResultStore(tmp_path / "r.duckdb") as store:
        store.write_run(meta("r1"), df, {})
        got = store.load_outcomes("r1")
    assert got["rep"].tolist() == [0, 1, 2]
    assert got["killed"].tolist() == [1, 2, 0]


def test_two_runs_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        a = store.write_run(meta(), outcomes(), {"n": 1})
        b = store.write_run(meta(seed=7), outcomes(offset=10), {"n": 2})
    assert a != b
    with ResultStore(path, read_only=True) as store:
        assert set(store.list_runs()["run_id"]) == {a, b}
        assert store.load_outcomes(a)["killed"].tolist() == [0, 1, 2]
        assert store.load_outcomes(b)["killed"].tolist() == [10, 11, 12]
        assert store.load_meta(b).seed == 7
        assert store.load_summary(b) == {"n": 2}
    assert count(path, "SELECT count(*) FROM replications") == 6


def state(path: Path) -> tuple[list[str], int]:
    with ResultStore(path, read_only=True) as store:
        runs = sorted(store.list_runs()["run_id"])
        (n,) = store._con.execute("SELECT count(*) FROM replications").fetchone() or (0,)
        (orphans,) = store._con.execute(
            "SELECT count(*) FROM replications WHERE run_id NOT IN (SELECT run_id FROM runs)"
        ).fetchone() or (0,)
    assert orphans == 0
    return runs, int(n)


def test_extra_column_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        store.write_run(meta("r1"), outcomes(), {})
        with pytest.raises(StoreError, match=r"not in the store: surprise"):
            store.write_run(meta("r2"), outcomes().assign(surprise=1.0), {})
        with pytest.raises(StoreError, match=r"missing: end_reason"):
            store.write_run(meta("r3"), outcomes().drop(columns="end_reason"), {})
        # the store is still usable afterwards
        store.write_run(meta("r4"), outcomes(), {})
    assert state(path) == (["r1", "r4"], 6)


def test_failure_during_insert_rolls_back(tmp_path: Path) -> None:
    """A conversion error half-way through the INSERT leaves neither the run row nor any replication."""
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        store.write_run(meta("r1"), outcomes(), {})
        bad = outcomes().astype({"killed": object})
        bad.loc[2, "killed"] = "not a number"
        with pytest.raises(StoreError, match="nothing was written"):
            store.write_run(meta("r2"), bad, {})
    assert state(path) == (["r1"], 3)


def test_fraction_into_integer_column_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        store.write_run(meta("r1"), outcomes(), {})
        store.write_run(meta("r2"), outcomes().astype({"killed": float}), {})  # integral floats are fine
        with pytest.raises(StoreError, match="killed"):
            store.write_run(meta("r3"), outcomes().assign(killed=[0.0, 1.5, 2.0]), {})
    assert state(path) == (["r1", "r2"], 6)


def test_failed_first_run_creates_no_table(tmp_path: Path) -> None:
    """The replications table is created inside the transaction: a failed first run leaves no schema."""
    path = tmp_path / "results.duckdb"
    bad = outcomes().assign(rep=["0", "1", "two"])  # fails when cast to INTEGER, after CREATE TABLE
    with ResultStore(path) as store:
        with pytest.raises(StoreError, match="nothing was written"):
            store.write_run(meta("r1"), bad, {})
        assert not store._has_table("replications")
        # a different schema is accepted now, since none was kept
        store.write_run(meta("r1"), outcomes().assign(other=1.0), {})
        with pytest.raises(StoreError, match="'r1' cannot be written"):  # duplicate run id
            store.write_run(meta("r1"), outcomes().assign(other=2.0), {})
    assert state(path) == (["r1"], 3)


def test_all_null_column_stored_as_text(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        store.write_run(meta("r1"), outcomes().assign(stopped_by=None), {})
        store.write_run(meta("r2"), outcomes().assign(stopped_by=["sro", None, "patrol"]), {})
        assert store.load_outcomes("r2")["stopped_by"].tolist()[::2] == ["sro", "patrol"]


def test_read_only(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        store.write_run(meta("r1"), outcomes(), {})
    with ResultStore(path, read_only=True) as store:
        assert store.list_runs()["run_id"].tolist() == ["r1"]
        with pytest.raises(StoreError, match="read-only"):
            store.write_run(meta("r2"), outcomes(), {})
        with pytest.raises(StoreError, match="no run 'nope'"):
            store.load_outcomes("nope")
        with pytest.raises(StoreError, match="no run"):
            store.load_meta("nope")


def test_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    with ResultStore(path) as store:
        assert store.list_runs().empty
        assert "run_id" in store.list_runs().columns
    with ResultStore(path, read_only=True) as store:
        assert store.list_runs().empty


def test_open_errors(tmp_path: Path) -> None:
    missing_dir = tmp_path / "no" / "such" / "results.duckdb"
    with pytest.raises(StoreError, match=re.escape(str(missing_dir))):
        ResultStore(missing_dir)
    not_db = tmp_path / "notes.duckdb"
    not_db.write_text("this is not a database\n" * 200)
    for read_only in (False, True):
        with pytest.raises(StoreError, match=re.escape(str(not_db))):
            ResultStore(not_db, read_only=read_only)
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "absent.duckdb").exists()


def test_bad_inputs(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "r.duckdb") as store:
        with pytest.raises(StoreError, match="run_id"):
            store.write_run(meta("r1"), outcomes().assign(run_id="x"), {})
        with pytest.raises(StoreError, match="JSON"):
            store.write_run(meta("r1"), outcomes(), {"x": object()})
        assert store.list_runs().empty


# The runs table as the first release created it (before the provenance columns).
_OLD_RUNS_DDL = """
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, scenario_name VARCHAR, scenario_hash VARCHAR,
    scenario_toml VARCHAR, seed BIGINT, replications INTEGER, backend VARCHAR, code_version VARCHAR,
    calibration_hash VARCHAR, summary_json VARCHAR
)
"""


def old_store(path: Path) -> None:
    """A results file written by the first release: old runs table, one run with 2 replications."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(_OLD_RUNS_DDL)
    con.execute(
        "INSERT INTO runs VALUES ('old1', TIMESTAMP '2026-01-02 03:04:05', 'demo', 'abc123', "
        "'name = \"demo\"', 42, 2, 'numpy', '0.1.0', 'cal456', '{}')"
    )
    con.execute(
        "CREATE TABLE replications (run_id VARCHAR, rep INTEGER, killed BIGINT, first_entry_s DOUBLE, "
        "ended_before_police BOOLEAN, end_reason VARCHAR)"
    )
    con.execute(
        "INSERT INTO replications VALUES ('old1', 0, 3, NULL, true, 'fled'), ('old1', 1, 4, 9.5, false, NULL)"
    )
    con.close()


def test_old_store_opens_read_only_with_missing_provenance(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old_store(path)
    with ResultStore(path, read_only=True) as store:
        m = store.load_meta("old1")
        assert (m.seed, m.replications, m.code_version) == (42, 2, "0.1.0")
        assert m.git_commit is None and m.calibration_toml is None and m.chunk_size is None
        runs = store.list_runs()
        assert runs["run_id"].tolist() == ["old1"] and runs["platform"].isna().all()
        assert store.load_outcomes("old1")["killed"].tolist() == [3, 4]


def test_old_store_gains_columns_and_takes_new_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old_store(path)
    full = RunMeta(
        **{**meta("new1").__dict__, "git_commit": "f" * 40, "git_dirty": False, "python_version": "3.11.7",
           "numpy_version": "2.0", "platform": "Linux", "calibration_version": "v1",
           "calibration_toml": "version = 'v1'\n", "chunk_size": 50, "scenario_source": "x.toml",
           "scenario_dir": "/tmp", "input_files_json": '{"b.json": {}}'}
    )  # fmt: skip
    with ResultStore(path) as store:  # a writable open adds the provenance columns
        store.write_run(full, outcomes(2), {"n": 1})
    with ResultStore(path, read_only=True) as store:
        assert store.load_meta("new1") == full
        assert store.load_meta("old1").git_dirty is None
        assert store.load_outcomes("old1")["killed"].tolist() == [3, 4]
        assert set(store.list_runs()["run_id"]) == {"old1", "new1"}
    with ResultStore(path) as store:  # and opening it again changes nothing
        assert len(store.list_runs()) == 2


def test_old_sweep_store_gains_provenance_columns(tmp_path: Path) -> None:
    """A sweeps table without the provenance columns opens; a new sweep stores them, the old one has NULLs."""
    import duckdb

    from responsesim.sweep.store import PROVENANCE_COLUMNS, SweepStore

    path = tmp_path / "sweeps.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE sweeps (sweep_id VARCHAR PRIMARY KEY, name VARCHAR, spec_toml VARCHAR, "
        "spec_hash VARCHAR, code_version VARCHAR, seed BIGINT, created_at TIMESTAMP)"
    )
    con.execute("INSERT INTO sweeps VALUES ('s-old', 'old', '', 'h', '0.1.0', 1, TIMESTAMP '2026-01-01')")
    con.close()
    prov = {"git_commit": "a" * 40, "git_dirty": True, "backend": "numba", "calibration_toml": "x = 1\n",
            "replications_per_point": 6, "chunk_size": 3}  # fmt: skip
    with SweepStore(path) as store:
        assert store.register("s-new", "new", "spec", "h2", "0.2.0", 5, [(0, "{}", "sh")], prov) is False
        with pytest.raises(ValueError, match="unknown sweep provenance field"):
            store.register("s-bad", "bad", "spec", "h3", "0.2.0", 5, [], {"nonsense": 1})
    with SweepStore(path, read_only=True) as store:
        cols = ", ".join(PROVENANCE_COLUMNS)
        rows = store.con.execute(f"SELECT sweep_id, {cols} FROM sweeps ORDER BY sweep_id").df()
    assert rows["sweep_id"].tolist() == ["s-new", "s-old"]
    new, old = rows.iloc[0], rows.iloc[1]
    for k, v in prov.items():
        assert new[k] == v
    assert old[list(PROVENANCE_COLUMNS)].isna().all()
