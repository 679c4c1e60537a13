"""The `responsesim run` command end to end: table, JSON keys, DuckDB output, bad input (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.engine.run import OUTCOME_COLUMNS

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
METRICS = {
    "median_time_to_care_s",
    "killed",
    "died_awaiting_care",
    "deaths",
    "wounded",
    "evacuated",
    "attack_duration_s",
    "first_entry_s",
    "officers_shot",
    "ended_before_police",
}


def test_run_default_prints_table() -> None:
    res = runner.invoke(app, ["run", "-n", "60", "--workers", "1"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for label in (
        "killed at once",
        "died awaiting care",
        "attack duration",
        "officers shot",
        "95% interval",
        "MC only",
        "IQR",
    ):
        assert label in res.output
    assert "parameter uncertainty" in res.output  # the shipped calibration has a posterior
    args = ["run", "-n", "60", "--workers", "1", "--point-estimate"]
    point = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert point.exit_code == 0 and "95% CI" in point.output and "MC only" not in point.output
    assert "chance only" in point.output


def test_run_json_has_documented_keys_and_out_writes_rows(tmp_path: Path) -> None:
    out = tmp_path / "runs.duckdb"
    res = runner.invoke(
        app, ["run", "-n", "80", "--seed", "5", "--json", "--out", str(out), "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert set(obj["metrics"]) == METRICS
    for m in obj["metrics"].values():
        assert {"mean", "ci_low", "ci_high", "median", "q25", "q75", "n", "n_missing"} <= set(m)
    assert obj["replications"] == 80 and obj["seed"] == 5
    assert abs(sum(v["share"] for v in obj["end_reasons"].values()) - 1) < 1e-9
    with duckdb.connect(str(out), read_only=True) as con:
        n = con.execute("select count(*) from replications where run_id = ?", [obj["run_id"]]).fetchone()
        cols = [r[0] for r in con.execute("describe replications").fetchall()]
        deaths_mean = con.execute(
            "select avg(deaths) from replications where first_shot_s is not null"
        ).fetchone()
    assert n is not None and n[0] == 80
    assert set(OUTCOME_COLUMNS) <= set(cols)
    assert deaths_mean is not None
    assert abs(deaths_mean[0] - obj["metrics"]["deaths"]["mean"]) < 1e-9  # incidents only (a shot fired)
    assert obj["attempts"] == 80 and obj["incidents"] + obj["no_shot_fired"]["count"] == 80
    assert obj["metrics"]["deaths"]["n"] == obj["incidents"]


def test_same_seed_same_json_whatever_workers() -> None:
    a = runner.invoke(app, ["run", "-n", "120", "--json", "--workers", "1", "--chunk-size", "50"])
    b = runner.invoke(app, ["run", "-n", "120", "--json", "--workers", "2", "--chunk-size", "40"])
    assert a.exit_code == 0 and b.exit_code == 0
    assert json.loads(a.stdout)["metrics"] == json.loads(b.stdout)["metrics"]


#: modules ``responsesim run`` must not import: each costs 0.05-1 s of start-up (issue 12: the whole run of
#: 10,000 replications should take under 1.5 s); Numba and LLVM stay out once the native engine is built
HEAVY = ("pandas", "scipy", "matplotlib", "duckdb", "numba", "llvmlite")


def test_run_command_imports_no_heavy_module() -> None:
    code = f"""
import sys
from typer.testing import CliRunner
from responsesim.cli import app
for args in (["--json"], [], ["--point-estimate", "--json"]):
    res = CliRunner().invoke(app, ["run", "-n", "60", *args])
    assert res.exit_code == 0, res.output
print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {HEAVY!r})))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"imported by `responsesim run`: {out.stdout}"


def test_examples_run() -> None:
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 4
    for f in files:
        res = runner.invoke(app, ["run", str(f), "-n", "30", "--json", "--workers", "1"])
        assert res.exit_code == 0, (f, res.output)


def test_bad_scenario_exits_2_names_file_field_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n\n[alerting]\nlockdown_at_s = -5\n')
    out = tmp_path / "out.duckdb"
    res = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    msg = " ".join(res.output.split())
    assert f"{bad}:4" in msg and "alerting.lockdown_at_s" in msg
    assert not out.exists()


def test_unknown_key_and_bad_entry_space(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[responders.patrol]\ncount = 3\nspeed = 2\n")
    res = runner.invoke(app, ["run", str(bad)])
    assert res.exit_code == 2
    assert "responders.patrol.speed" in res.output and "unknown key" in res.output
    bad.write_text('[attacker]\nentry_space = "roof"\n')
    res = runner.invoke(app, ["run", str(bad)])
    assert res.exit_code == 2
    assert "attacker.entry_space" in res.output and ":2" in res.output


def test_bad_replications_exit_2() -> None:
    res = runner.invoke(app, ["run", "-n", "0"])
    assert res.exit_code == 2
    assert "replications" in res.output


def test_compare_command_wired(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["compare", "-d", "solo_entry", "-d", "no_entry", "-n", "60", "--json", "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert "no_entry" in json.dumps(obj)
    bad = runner.invoke(app, ["compare", "-d", "solo_entry", "-d", "sometimes:3", "-n", "10"])
    assert bad.exit_code == 2


def test_sweep_command_wired_and_resumes(tmp_path: Path) -> None:
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[sweep]\nname = "t"\nbase = ""\nreplications_per_point = 20\nseed = 3\nchunk_size = 10\n\n'
        '[[parameter]]\npath = "doctrine.kind"\nvalues = ["solo_entry", "no_entry"]\n'
    )
    out = tmp_path / "r.duckdb"
    first = runner.invoke(app, ["sweep", str(sweep), "--store", str(out), "--workers", "1", "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["sweep", str(sweep), "--store", str(out), "--workers", "1", "--json"])
    assert again.exit_code == 0, again.output
    with duckdb.connect(str(out), read_only=True) as con:
        row = con.execute("select count(*), count(distinct (point_id, rep)) from replications").fetchone()
    assert row is not None and row[0] == row[1] == 40


def test_bad_command_line_values_exit_2_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 7: an unknown sensitivity metric, a negative worker count, missing reference data."""
    res = runner.invoke(app, ["sensitivity", "--metric", "nonsense", "--outdir", str(tmp_path / "s")])
    assert res.exit_code == 2
    assert "unknown outcome 'nonsense'" in res.output and "deaths" in res.output
    assert "Traceback" not in res.output
    for cmd in (["run", "-n", "5"], ["compare", "-d", "solo_entry", "-d", "no_entry"], ["sensitivity"]):
        res = runner.invoke(app, [*cmd, "--workers", "-1"])
        assert res.exit_code == 2, (cmd, res.output)
        assert "--workers" in res.output and "Traceback" not in res.output
    monkeypatch.setenv("RESPONSESIM_REFERENCE", str(tmp_path / "nowhere"))
    res = runner.invoke(app, ["calibrate", "--dry-run"])
    assert res.exit_code == 2
    assert "reference data not found" in res.output and "RESPONSESIM_REFERENCE" in res.output
    assert not isinstance(res.exception, FileNotFoundError)


def test_first_run_on_a_machine_builds_the_engine_and_says_so(tmp_path: Path) -> None:
    """With an empty cache, `responsesim run` builds the engine once, saying so on stderr (a plain line when
    stderr is not a terminal), then runs; the next run starts from the cache, silently, with the same
    numbers."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "RESPONSESIM_ENGINE")}
    env["RESPONSESIM_CACHE_DIR"] = str(tmp_path)
    cmd = [sys.executable, "-m", "responsesim.cli", "run", "-n", "40", "--json", "--workers", "1"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=1200)
    assert first.returncode == 0, first.stderr
    said = " ".join(first.stderr.split())
    assert "compiling the simulation engine (about 60 s, once per machine; cached in" in said
    assert str(tmp_path / "native") in said.replace(" ", "")
    assert "engine compiled and cached; later runs start at once" in said
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert second.returncode == 0 and "compiling" not in second.stderr
    assert json.loads(first.stdout)["metrics"] == json.loads(second.stdout)["metrics"]
    assert list((tmp_path / "native").glob("*/responsesim_engine_*"))  # the module, not Numba's cache


def test_calibrate_refuses_a_missing_output_directory_before_fitting(tmp_path: Path) -> None:
    """A fit takes minutes: a --output whose directory does not exist is refused at once (exit 2), not
    after the fit when its files cannot be written."""
    target = tmp_path / "absent" / "calibration.toml"
    res = runner.invoke(app, ["calibrate", "--output", str(target)], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    assert "does not exist" in res.output and str(target.parent) in " ".join(res.output.split())
    assert not target.parent.exists()
