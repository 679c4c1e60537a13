"""`reproduce`: a stored run re-runs to exactly the stored numbers, from the stored texts alone.

Real runs of a small scenario (elementary wing, 24 replications) written to real DuckDB files; mismatches
are made by editing the stored numbers, not by mocking the engine.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import responsesim.api as api
from responsesim.engine.run import OUTCOME_COLUMNS
from responsesim.params import default_calibration_text, load_calibration
from responsesim.reproduce import (
    MAX_CELL_DIFFS,
    ReproduceError,
    compare_outcomes,
    list_runs,
    reproduce,
    reproduce_command,
)
from responsesim.scenario.load import load_scenario, loads

SCENARIO = 'name = "repro test"\nhorizon_s = 600\n[building]\ntemplate = "elementary_wing"\n'
REPS, SEED = 24, 5

BUILDING = {
    "name": "small",
    "spaces": [
        {"id": "exit_a", "kind": "exit", "floor": 1},
        {"id": "hall", "kind": "corridor", "floor": 1},
        {"id": "room_1", "kind": "classroom", "floor": 1, "capacity": 30, "occupants": 20},
        {"id": "room_2", "kind": "office", "floor": 1, "occupants": 3},
        {"id": "exit_b", "kind": "exit", "floor": 1},
    ],
    "edges": [
        {"a": "exit_a", "b": "hall", "length_m": 5},
        {"a": "hall", "b": "room_1", "length_m": 4},
        {"a": "hall", "b": "room_2", "length_m": 6},
        {"a": "hall", "b": "exit_b", "length_m": 7},
    ],
    "default_entry": "exit_a",
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real run (chunks of 7 replications) saved to a store: (store path, run id)."""
    path = tmp_path_factory.mktemp("repro") / "runs.duckdb"
    res = api.run(loads(SCENARIO, "repro.toml"), replications=REPS, seed=SEED, chunk_size=7)
    return path, res.save(path)


def copy_store(stored: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "copy.duckdb"
    shutil.copy(stored[0], path)
    return path, stored[1]


def sql(path: Path, statement: str, params: list[object] | None = None) -> None:
    con = duckdb.connect(str(path))
    con.execute(statement, params or [])
    con.close()


def text_console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, color_system=None), buf


def test_stored_provenance_is_complete(stored: tuple[Path, str]) -> None:
    path, run_id = stored
    from responsesim.store import ResultStore

    with ResultStore(path, read_only=True) as store:
        m = store.load_meta(run_id)
    commit, dirty = api.git_revision()
    assert m.git_commit == commit and m.git_dirty == dirty
    assert m.code_version == api.code_version()
    if commit is not None:  # running from a checkout: version carries the commit
        assert f"+git.{commit[:12]}" in m.code_version and m.code_version.endswith("+dirty") == bool(dirty)
    assert (m.python_version, m.numpy_version, m.platform) == tuple(api.environment().values())
    assert m.calibration_toml == default_calibration_text()
    assert m.calibration_version == load_calibration().version
    assert (m.chunk_size, m.backend, m.seed, m.replications) == (7, "numba", SEED, REPS)
    assert m.scenario_toml == SCENARIO and m.scenario_source == "repro.toml"
    assert m.input_files_json is None  # a template, no referenced files


def test_reproduce_matches_exactly(stored: tuple[Path, str]) -> None:
    path, run_id = stored
    rep = reproduce(path, run_id)
    assert rep.match, rep.to_json()
    assert rep.rows_stored == rep.rows_reproduced == REPS
    # every outcome column except rep (and draw, for posterior runs)
    n_cols = len(OUTCOME_COLUMNS) - 1 + (1 if "draw" in rep.columns_compared else 0)
    assert len(rep.columns_compared) == n_cols and rep.cells_compared == REPS * n_cols
    assert rep.cells_differing == 0 and not rep.first_differences and not rep.missing_columns
    assert [d.field for d in rep.provenance] == []  # same code, calibration and machine
    json.dumps(rep.to_json(), allow_nan=False)
    console, buf = text_console()
    assert reproduce_command(run_id, path, workers=1, console=console) == 0
    assert "MATCH" in buf.getvalue() and f"{REPS * len(rep.columns_compared):,} cells" in buf.getvalue()


def test_changed_numbers_are_reported(stored: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = copy_store(stored, tmp_path)
    sql(path, "UPDATE replications SET deaths = deaths + 1 WHERE rep = 3")
    sql(path, "UPDATE replications SET first_shot_s = NULL WHERE rep = 1")  # a value became missing
    sql(path, "UPDATE replications SET end_reason = 'nonsense' WHERE rep >= 0")  # every row of one column
    rep = reproduce(path, run_id)
    assert not rep.match
    assert rep.differing_columns == {"deaths": 1, "first_shot_s": 1, "end_reason": REPS}
    assert rep.cells_differing == REPS + 2
    first = rep.first_differences
    assert len(first) == MAX_CELL_DIFFS
    expected = [(0, "end_reason"), (1, "end_reason"), (1, "first_shot_s")]  # by rep, then column order
    assert [(d.rep, d.column) for d in first[:3]] == expected
    assert first[2].stored is None and isinstance(first[2].reproduced, float)
    deaths = next(d for d in first if d.column == "deaths")
    assert deaths.rep == 3 and deaths.stored == deaths.reproduced + 1
    console, buf = text_console()
    assert reproduce_command(run_id, path, console=console) == 1
    out = buf.getvalue()
    assert "MISMATCH" in out and "deaths 1" in out and "first differing cells" in out


def test_missing_rows_and_columns_are_mismatches(stored: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = copy_store(stored, tmp_path)
    sql(path, "DELETE FROM replications WHERE rep = 23")
    sql(path, "ALTER TABLE replications ADD COLUMN retired_outcome DOUBLE")
    rep = reproduce(path, run_id)
    assert not rep.match and rep.cells_differing == 0
    assert rep.missing_reps == (23,) and rep.missing_columns == ("retired_outcome",)
    assert rep.rows_stored == REPS - 1 and rep.rows_reproduced == REPS


def test_run_reproduces_after_calibration_and_building_files_change(tmp_path: Path) -> None:
    """A custom calibration and a building file by relative path: both deleted afterwards, the run still
    re-runs exactly from the texts stored with it."""
    cal_path = tmp_path / "my_calibration.toml"
    own = re.sub(r"^posterior(_sha256)? = .*\n", "", default_calibration_text(), flags=re.M)  # no posterior
    cal_path.write_text(own.replace('version = "', 'version = "custom-'), "utf-8")
    cal_text = cal_path.read_text("utf-8")
    changed = cal_text.replace("p_hit = ", "p_hit = 0.3  # was ").replace("  # fitted", "")
    cal_path.write_text(changed, "utf-8")
    sdir = tmp_path / "scenarios"
    sdir.mkdir()
    (sdir / "plan.json").write_text(json.dumps(BUILDING), "utf-8")
    (sdir / "s.toml").write_text('name = "own building"\nhorizon_s = 600\n[building]\nfile = "plan.json"\n')
    sc = load_scenario(sdir / "s.toml", calibration=load_calibration(cal_path))
    assert sc.calibration.values["p_hit"] == 0.3
    store = tmp_path / "runs.duckdb"
    run_id = api.run(sc, replications=REPS, seed=SEED).save(store)
    shutil.rmtree(sdir)
    cal_path.unlink()
    rep = reproduce(store, run_id)
    assert rep.match, rep.to_json()
    assert any("shipped calibration has changed" in n for n in rep.notes)
    assert [d.field for d in rep.provenance] == ["calibration_hash"]
    # without the stored building text (a run stored before it was recorded), the missing file is an error
    sql(store, "UPDATE runs SET input_files_json = NULL")
    with pytest.raises(ReproduceError, match=r"building file 'plan.json'.*not stored with the run and is"):
        reproduce(store, run_id)
    console, _ = text_console()
    assert reproduce_command(run_id, store, console=console) == 2


def test_old_run_without_calibration_text(stored: tuple[Path, str], tmp_path: Path) -> None:
    """A run stored before calibration text was recorded re-runs with the shipped file if its hash matches."""
    path, run_id = copy_store(stored, tmp_path)
    sql(path, "UPDATE runs SET calibration_toml = NULL, chunk_size = NULL, git_commit = NULL")
    rep = reproduce(path, run_id)
    assert rep.match
    assert any("same hash" in n for n in rep.notes)
    assert "git_commit" in [d.field for d in rep.provenance] or api.git_revision()[0] is None


def test_bad_input(stored: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = copy_store(stored, tmp_path)
    with pytest.raises(ReproduceError, match=rf"no run 'nope' \(1 run\(s\); newest: {run_id}\).*--store"):
        reproduce(path, "nope")
    with pytest.raises(ReproduceError, match="does not exist"):
        reproduce(tmp_path / "absent.duckdb", run_id)
    sql(path, "UPDATE runs SET backend = 'fortran'")
    with pytest.raises(ReproduceError, match="backend 'fortran'"):
        reproduce(path, run_id)
    console, buf = text_console()
    assert reproduce_command("nope", path, console=console) == 2
    assert reproduce_command(run_id, tmp_path / "absent.duckdb", console=console) == 2
    assert "error:" in buf.getvalue()


def test_list_runs(stored: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = stored
    runs = list_runs(path)
    assert runs["run_id"].tolist() == [run_id] and int(runs["replications"][0]) == REPS
    console, buf = text_console()
    assert reproduce_command(None, path, console=console) == 0
    assert run_id in buf.getvalue()
    with pytest.raises(ReproduceError, match="does not exist"):
        list_runs(tmp_path / "absent.duckdb")


def test_compare_outcomes_is_exact() -> None:
    a = pd.DataFrame(
        {
            "rep": [0, 1, 2],
            "x": [1.0, np.nan, 3.0],
            "flag": [True, False, True],
            "s": ["a", None, "c"],
            "n": [1, 2, 3],
        }
    )
    b = a.copy()
    b["s"] = ["a", np.nan, "c"]  # missing string as NaN: same as None
    b["n"] = b["n"].astype(float)  # 2 == 2.0: the same number
    cols, cells, diff, *_ = compare_outcomes(a, b)
    assert (cols, cells, diff) == (("x", "flag", "s", "n"), 12, 0)
    b.loc[2, "x"] = math.nextafter(3.0, 4.0)  # one ulp is a difference
    b["flag"] = b["flag"].astype(object)
    b.loc[1, "flag"] = 0  # a number is not a boolean
    b.loc[0, "x"] = np.nan
    _, _, diff, per_col, first, missing, new, one_side = compare_outcomes(a, b.assign(extra=1))
    assert diff == 3 and per_col == {"x": 2, "flag": 1}
    assert [(d.rep, d.column) for d in first] == [(0, "x"), (1, "flag"), (2, "x")]
    assert first[0].reproduced is None and (missing, new, one_side) == ([], ["extra"], [])
