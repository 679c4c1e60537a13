"""Running sweeps: local == distributed, interrupted sweeps resume to the same tables, no chunk twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from responsesim.engine.run import simulate
from responsesim.sweep import SweepStore, load_sweep, run_sweep, sweep_command, sweep_summary


@pytest.fixture(scope="module")
def reference(small_reference):
    sweep, path = small_reference
    return sweep, tables(path, sweep.sweep_id)


def tables(path: Path, sweep_id: str) -> dict[str, pd.DataFrame]:
    with SweepStore(path, read_only=True) as s:
        chunks = s.chunks(sweep_id).drop(columns=["done_at"])
        return {
            "sweeps": s.con.execute(
                # not code_version: it names the git commit, which may move while the test runs
                "SELECT sweep_id, name, spec_toml, spec_hash, seed FROM sweeps WHERE sweep_id = ?",
                [sweep_id],
            ).df(),
            "points": s.points(sweep_id),
            "chunks": chunks,
            "replications": s.replications(sweep_id),
        }


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


def test_results_equal_a_plain_simulation(reference):
    sweep, ref = reference
    reps = ref["replications"]
    assert len(reps) == 4 * 6 and not ref["chunks"].duplicated(["point_id", "chunk_index"]).any()
    for p in sweep.points:
        direct = simulate(p.scenario.params, 6, chunk_size=6)
        got = reps[reps.point_id == p.point_id].drop(columns=["point_id"]).reset_index(drop=True)
        for col in direct.columns:
            assert list(got[col].astype(object).where(got[col].notna(), None)) == list(
                direct[col].astype(object).where(direct[col].notna(), None)
            ), col


def test_local_process_pool_equals_distributed_cluster(sweep_dir, reference):
    distributed = pytest.importorskip("distributed")
    sweep, ref = reference
    sw = load_sweep(sweep_dir / "small.toml")
    assert sw.sweep_id == sweep.sweep_id  # same content + seed, different directory
    run_sweep(sw, sweep_dir / "local.duckdb", workers=2)
    local = tables(sweep_dir / "local.duckdb", sw.sweep_id)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = run_sweep(sw, sweep_dir / "dist.duckdb", client=client)
        assert res.complete and res.ran == 8
        # the scheduler address path as used by --scheduler
        res2 = run_sweep(
            load_sweep(sweep_dir / "small.toml"),
            sweep_dir / "dist2.duckdb",
            scheduler=cluster.scheduler_address,
        )
        assert res2.complete
    dist = tables(sweep_dir / "dist.duckdb", sw.sweep_id)
    assert_same(local, ref)
    assert_same(dist, ref)
    assert_same(tables(sweep_dir / "dist2.duckdb", sw.sweep_id), ref)


def test_partial_run_then_resume(sweep_dir, reference):
    _, ref = reference
    out = sweep_dir / "r.duckdb"
    sw = load_sweep(sweep_dir / "small.toml")
    first = run_sweep(sw, out, workers=1, max_chunks=3)
    assert first.ran == 3 and not first.complete
    second = run_sweep(sw, out, workers=2)
    assert second.resumed and second.already_done == 3 and second.ran == 5 and second.complete
    third = run_sweep(sw, out, workers=1)
    assert third.ran == 0 and third.complete
    assert_same(tables(out, sw.sweep_id), ref)


def test_chunk_is_never_stored_twice(sweep_dir):
    sw = load_sweep(sweep_dir / "small.toml")
    out = sweep_dir / "d.duckdb"
    run_sweep(sw, out, workers=1, max_chunks=1)
    with SweepStore(out) as s:
        reps = s.replications(sw.sweep_id)
        again = reps.drop(columns=["point_id"])
        assert s.write_chunk(sw.sweep_id, 0, 0, 0, again) is False
        assert len(s.replications(sw.sweep_id)) == len(reps)
        assert len(s.chunks(sw.sweep_id)) == 1
        # a failure inside the transaction leaves neither the chunk row nor its replications
        with pytest.raises(duckdb.Error):
            s.write_chunk(sw.sweep_id, 0, 1, 3, again)  # same reps again: replications primary key
        assert len(s.chunks(sw.sweep_id)) == 1 and len(s.replications(sw.sweep_id)) == len(reps)


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from responsesim.sweep import load_sweep, run_sweep

    sw = load_sweep(Path(sys.argv[1]))

    def on_chunk(task, done, total):
        print("stored", done, flush=True)

    run_sweep(sw, Path(sys.argv[2]), workers=1, on_chunk=on_chunk)
    print("finished", flush=True)
    """
)


def test_sigkill_then_resume(sweep_dir, reference):
    _, ref = reference
    out = sweep_dir / "k.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(sweep_dir / "small.toml"), str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("stored 3"):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    sw = load_sweep(sweep_dir / "small.toml")
    with SweepStore(out, read_only=True) as s:
        stored = s.chunks(sw.sweep_id)
        assert 3 <= len(stored) < 8
        assert len(s.replications(sw.sweep_id)) == int(stored["n"].sum())  # whole chunks only
    res = run_sweep(sw, out, workers=1)
    assert res.resumed and res.complete and res.already_done == len(stored)
    assert_same(tables(out, sw.sweep_id), ref)


def test_summary_and_command(sweep_dir, reference, capsys):
    sweep, ref = reference
    out = sweep_dir / "c.duckdb"
    assert sweep_command(sweep_dir / "small.toml", out, workers=1, as_json=True) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["complete"] and obj["chunks_run"] == 8 and len(obj["points"]) == 4
    assert Path(obj["plot"]).stat().st_size > 1000
    p0 = obj["points"][0]
    assert p0["doctrine.kind"] == "hesitate" and p0["doctrine.delay_s"] == 0 and p0["n"] == 6
    reps = ref["replications"]
    fired = reps.point_id.eq(0) & reps.first_shot_s.notna()  # figures are over incidents
    assert p0["deaths_mean"] == pytest.approx(reps[fired]["deaths"].mean())
    assert p0["incidents"] == int(fired.sum())
    assert p0["deaths_ci_low"] <= p0["deaths_mean"] <= p0["deaths_ci_high"]
    frame = sweep_summary(out, sweep.sweep_id)
    assert list(frame["point_id"]) == [0, 1, 2, 3]
    # resume: nothing to run, same summary; table output
    assert sweep_command(sweep_dir / "small.toml", out, workers=1) == 0
    assert "0 chunks run now, 8 already stored" in capsys.readouterr().out.replace("\n", " ")
    # bad input -> 2
    bad = sweep_dir / "bad.toml"
    bad.write_text(
        '[sweep]\nname = "b"\nreplications_per_point = 0\n[[parameter]]\npath="horizon_s"\nvalues=[1]\n'
    )
    assert sweep_command(bad, out) == 2
    assert "bad.toml:3: sweep.replications_per_point" in capsys.readouterr().err.replace("\n", "")
    assert sweep_command(sweep_dir / "small.toml", sweep_dir / "no" / "x.duckdb") == 2
    assert sweep_command(sweep_dir / "missing.toml", out) == 2
    assert sweep_command(sweep_dir / "small.toml", sweep_dir / "s.duckdb", scheduler="no-port") == 2
    assert "cannot connect to scheduler 'no-port'" in capsys.readouterr().err.replace("\n", "")


def test_resume_under_another_calibration_or_model_is_refused_then_recomputed(reference, sweep_dir, capsys):
    """Issue 13 item 6: chunks stored under another calibration or model version are never mixed in."""
    from responsesim.engine.version import model_version
    from responsesim.sweep.run import StaleResultsError

    sweep, ref = reference
    out = sweep_dir / "stale.duckdb"
    run_sweep(sweep, out, workers=1, max_chunks=3)
    with SweepStore(out, read_only=True) as s:
        ch = s.chunks(sweep.sweep_id)
    assert {k.split("|")[0] for k in ch.calibration_key} == {sweep.points[0].scenario.calibration.key}
    assert set(ch.model_version) == {model_version()}
    # two chunks as an earlier calibration left them, one as a file from before chunks were labelled
    with duckdb.connect(str(out)) as con:
        con.execute("UPDATE chunks SET calibration_key = 'old-fit:0123456789abcdef' WHERE chunk_index = 0")
        con.execute("UPDATE chunks SET model_version = NULL WHERE point_id = 0 AND chunk_index = 1")
        bad_before = con.execute("SELECT count(*) FROM replications").fetchone()
    with pytest.raises(StaleResultsError) as e:
        run_sweep(sweep, out, workers=1)
    msg = str(e.value)
    assert "old-fit:0123456789abcdef" in msg and "not recorded" in msg and "--recompute-stale" in msg
    assert f"of the {sweep.n_chunks} chunks" in msg
    with duckdb.connect(str(out), read_only=True) as con:  # nothing was written by the refused resume
        assert con.execute("SELECT count(*) FROM replications").fetchone() == bad_before
    # the command line says the same and exits 2
    assert sweep_command(sweep_dir / "small.toml", out, workers=1) == 2
    assert "--recompute-stale" in capsys.readouterr().err.replace("\n", " ")
    # recomputing gives exactly the tables of an uninterrupted fresh run
    res = run_sweep(sweep, out, workers=1, recompute_stale=True)
    assert res.complete
    got = tables(out, sweep.sweep_id)
    for name in ("points", "replications"):
        pd.testing.assert_frame_equal(got[name], ref[name], check_exact=True, obj=name)
    keys = {k.split("|")[0] for k in got["chunks"].calibration_key}
    assert keys == {sweep.points[0].scenario.calibration.key}
