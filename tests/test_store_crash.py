"""Crash safety of the DuckDB stores under real SIGKILL.

A child process writes runs (``ResultStore.write_run``) or sweep chunks (``SweepStore.write_chunk``, and a
whole ``run_sweep``) to a real file and prints ``begin ID`` before and ``committed ID`` after each write,
flushing each line. The parent kills it with SIGKILL at random moments (fixed seeds), several times on the
same file, each new child appending to / resuming what the killed one left. After every kill the store
must open, hold only whole runs and chunks (no orphan replication rows), hold every write that was
acknowledged before the kill (zero results lost), and take new writes. A write in flight when the kill
landed may be present or absent, but only whole.

The written frames are real simulation outcomes (a small scenario) tiled to 10,000 rows so that one
write takes a noticeable time (0.1-1 s depending on load). Each kill lands ``U(0, 1.5 w)`` after the
1st or 2nd write of a child began, ``w`` being the time one such write takes on this machine (measured
first), so most kills land inside a write (or the checkpoint at close) and some between writes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import responsesim.api as api
from responsesim.scenario.load import loads
from responsesim.store import ResultStore, RunMeta
from responsesim.sweep import SweepStore, load_sweep, run_sweep
from responsesim.sweep.store import PROVENANCE_COLUMNS

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

SCENARIO = 'name = "crash test"\nhorizon_s = 600\n[building]\ntemplate = "elementary_wing"\n'
ROWS = 10_000  # replication rows per write
KILLS = 4  # faults injected per test


@dataclass
class Faults:
    """What the kills did: faults injected, how many landed while a write was in flight, what was lost."""

    injected: int = 0
    during_write: int = 0
    acknowledged: set[str] = field(default_factory=set)
    in_flight_kept: int = 0
    in_flight_dropped: int = 0
    kept: set[str] = field(default_factory=set)  # writes in flight at a kill that were committed

    def record(self, stored: set[str], pending: str | None) -> None:
        """Check the stored ids after a kill: every acknowledged write is there, nothing else but writes
        that were in flight at a kill; count what happened to the one in flight now."""
        assert self.acknowledged <= stored, f"lost: {sorted(self.acknowledged - stored)}"
        assert stored - self.acknowledged <= self.kept | {pending}, "a write that never began is stored"
        if pending is not None:
            self.in_flight_kept += pending in stored
            self.in_flight_dropped += pending not in stored
            self.kept |= {pending} & stored

    def line(self, what: str, lost: int) -> str:
        return (
            f"{what}: {self.injected} SIGKILLs, {self.during_write} during a write, "
            f"{len(self.acknowledged)} acknowledged writes, {lost} lost; writes in flight at a kill: "
            f"{self.in_flight_kept} kept whole, {self.in_flight_dropped} rolled back"
        )


@dataclass(frozen=True)
class Frame:
    """The pickled frame every write stores, the sum of its deaths column, and one write's duration (s)."""

    path: Path
    checksum: int
    write_s: float


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> Frame:
    """Real outcomes of 20 replications tiled to ROWS rows (rep 0..ROWS-1), pickled; one write timed."""
    res = api.run(loads(SCENARIO, "crash.toml"), replications=20, seed=9)
    df = pd.concat([res.outcomes] * (ROWS // 20), ignore_index=True)
    df["rep"] = np.arange(len(df), dtype=np.int64)
    d = tmp_path_factory.mktemp("crash")
    df.to_pickle(d / "frame.pkl")
    t0 = time.perf_counter()
    with ResultStore(d / "timing.duckdb") as store:
        store.write_run(meta("timing", len(df)), df, {})
    return Frame(d / "frame.pkl", int(df["deaths"].sum()), time.perf_counter() - t0)


def meta(run_id: str, n: int) -> RunMeta:
    return RunMeta(
        scenario_name="crash", scenario_hash="h", scenario_toml="", seed=0, replications=n,
        backend="numba", code_version="test", calibration_hash="c", run_id=run_id,
    )  # fmt: skip


def kill_child(
    code: str, args: list[str], target_begin: int, delay_s: float
) -> tuple[list[list[str]], list[str]]:
    """Run ``code`` in a child; SIGKILL it ``delay_s`` after its ``target_begin``-th ``begin`` line (0-based).

    Returns every line it printed before it died (split into words) and the ids it acknowledged."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[list[str]] = []
    begins = 0
    try:
        for raw in proc.stdout:
            lines.append(raw.split())
            if raw.startswith("begin"):
                if begins == target_begin:
                    time.sleep(delay_s)
                    break
                begins += 1
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()  # lines flushed before the kill landed
        errors = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"child ended by itself ({proc.returncode}): {errors}"
    lines += [r.split() for r in rest.splitlines()]
    return lines, [w[1] for w in lines if w and w[0] == "committed"]


def in_flight(lines: list[list[str]]) -> str | None:
    """The id of a write that had begun but was not acknowledged when the child died."""
    begun = [w[1] for w in lines if w and w[0] == "begin"]
    done = {w[1] for w in lines if w and w[0] == "committed"}
    return begun[-1] if begun and begun[-1] not in done else None


def kill_repeatedly(
    code: str,
    args: Callable[[int], list[str]],
    seed: int,
    write_s: float,
    check: Callable[[Faults, str | None], None],
) -> Faults:
    """KILLS children (arguments ``args(i)`` for the i-th) on the same store, each SIGKILLed
    ``U(0, 1.5 write_s)`` after its 1st or 2nd write began; ``check`` after every kill."""
    rng = random.Random(seed)
    faults = Faults()
    for i in range(KILLS):
        lines, acked = kill_child(code, args(i), rng.randint(0, 1), rng.uniform(0.0, 1.5 * write_s))
        faults.injected += 1
        faults.acknowledged.update(acked)
        pending = in_flight(lines)
        faults.during_write += pending is not None
        check(faults, pending)
    return faults


# ------------------------------------------------------------------------------------------------ runs
_RUN_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pandas as pd
    from responsesim.store import ResultStore, RunMeta

    store, frame = Path(sys.argv[1]), pd.read_pickle(sys.argv[2])
    prefix = sys.argv[3]
    print("ready", flush=True)
    for i in range(10**6):
        run_id = f"{prefix}-{i:04d}"
        meta = RunMeta(scenario_name="crash", scenario_hash="h", scenario_toml="", seed=i,
                       replications=len(frame), backend="numba", code_version="test",
                       calibration_hash="c", run_id=run_id)
        print("begin", run_id, flush=True)
        with ResultStore(store) as s:  # as RunResult.save: open, write in one transaction, close
            s.write_run(meta, frame, {"run": run_id})
        print("committed", run_id, flush=True)
    """
)


def check_runs(path: Path, checksum: int) -> set[str]:
    """The store opens for writing (replaying its log), holds only whole runs: returns the stored ids."""
    with ResultStore(path):
        pass
    with ResultStore(path, read_only=True) as store:
        con = store._con
        runs = dict(con.execute("SELECT run_id, replications FROM runs").fetchall())
        if not runs:
            return set()
        per_run = {
            r[0]: (r[1], r[2], r[3])
            for r in con.execute(
                "SELECT run_id, count(*), count(DISTINCT rep), sum(deaths) FROM replications GROUP BY run_id"
            ).fetchall()
        }
        (orphans,) = con.execute(
            "SELECT count(*) FROM replications WHERE run_id NOT IN (SELECT run_id FROM runs)"
        ).fetchone() or (0,)
    assert orphans == 0
    for run_id, n in runs.items():
        assert per_run.get(run_id) == (n, n, checksum), f"run {run_id} is not whole"
    return set(runs)


def report(line: str) -> None:
    """Print a figure line (``-s``) and append it to $RESPONSESIM_CRASH_LOG if set (docs/reliability.md)."""
    print("\n" + line)
    log = os.environ.get("RESPONSESIM_CRASH_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def test_runs_survive_sigkill_during_writes(tmp_path: Path, frame: Frame) -> None:
    store = tmp_path / "runs.duckdb"

    def check(faults: Faults, pending: str | None) -> None:
        faults.record(check_runs(store, frame.checksum), pending)

    args = lambda i: [str(store), str(frame.path), f"k{i}"]  # noqa: E731 - unique run ids per child
    faults = kill_repeatedly(_RUN_CHILD, args, 20261123, frame.write_s, check)
    stored = check_runs(store, frame.checksum)
    lost = len(faults.acknowledged - stored)
    report(faults.line(f"ResultStore.write_run ({ROWS:,} rows, {frame.write_s:.2f} s a write)", lost))
    assert lost == 0 and faults.injected == KILLS
    assert faults.during_write >= 1, "no kill landed while a write was in flight"
    # the store still takes a new run, and returns it whole
    df = pd.read_pickle(frame.path)
    with ResultStore(store) as s:
        s.write_run(meta("after-crashes", len(df)), df, {})
        got = s.load_outcomes("after-crashes")
    pd.testing.assert_frame_equal(got, df, check_dtype=False)
    assert check_runs(store, frame.checksum) == stored | {"after-crashes"}


# ------------------------------------------------------------------------------------- sweep chunks
_CHUNK_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pandas as pd
    from responsesim.sweep.store import SweepStore

    store, frame = Path(sys.argv[1]), pd.read_pickle(sys.argv[2])
    n = len(frame)
    with SweepStore(store) as s:  # one long-lived connection, as run_sweep
        s.register("crash", "crash", "spec", "h", "test", 1, [(0, "{}", "p0"), (1, "{}", "p1")])
        done = s.done_chunks("crash")
        print("ready", flush=True)
        for k in range(10**6):
            for point in (0, 1):
                if (point, k) in done:
                    continue
                print("begin", f"{point}:{k}", flush=True)
                s.write_chunk("crash", point, k, k * n, frame.assign(rep=frame["rep"] + k * n))
                print("committed", f"{point}:{k}", flush=True)
    """
)


def check_chunks(path: Path, n: int) -> set[str]:
    """The sweep store opens, each chunk row has exactly its n replication rows and no row is outside a
    chunk; returns the stored chunks as ``point:chunk``."""
    with SweepStore(path):
        pass
    with SweepStore(path, read_only=True) as store:
        chunks = store.chunks("crash")
        if chunks.empty:
            return set()
        reps = store.replications("crash")
    assert (chunks["n"] == n).all() and (chunks["first_rep"] == chunks["chunk_index"] * n).all()
    counts = reps.assign(chunk_index=reps["rep"] // n).groupby(["point_id", "chunk_index"]).size()
    got = {(int(p), int(k)): int(c) for (p, k), c in counts.items()}
    keys = zip(chunks["point_id"], chunks["chunk_index"], chunks["n"], strict=True)
    expected = {(int(p), int(k)): int(c) for p, k, c in keys}
    assert got == expected  # every chunk whole, no replication row outside a stored chunk
    return {f"{p}:{k}" for p, k in expected}


def test_sweep_chunks_survive_sigkill_during_writes(tmp_path: Path, frame: Frame) -> None:
    store = tmp_path / "sweep.duckdb"

    def check(faults: Faults, pending: str | None) -> None:
        faults.record(check_chunks(store, ROWS), pending)

    faults = kill_repeatedly(_CHUNK_CHILD, lambda i: [str(store), str(frame.path)], 8, frame.write_s, check)
    stored = check_chunks(store, ROWS)
    lost = len(faults.acknowledged - stored)
    report(faults.line(f"SweepStore.write_chunk ({ROWS:,} rows a chunk)", lost))
    assert lost == 0 and faults.injected == KILLS and faults.during_write >= 1
    # resumed writers fill chunks in order: per point, the stored chunk indices are 0..m without gaps
    for point in (0, 1):
        ks = sorted(int(c.split(":")[1]) for c in stored if c.startswith(f"{point}:"))
        assert ks == list(range(len(ks)))


# ---------------------------------------------------------------------------------- a whole sweep
SWEEP = """\
[sweep]
name = "crash sweep"
base = "base.toml"
replications_per_point = 8
seed = 3
chunk_size = 2

[[parameter]]
path = "doctrine.kind"
values = ["solo_entry", "no_entry"]
"""

_SWEEP_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from responsesim.sweep import load_sweep, run_sweep

    sw = load_sweep(Path(sys.argv[1]))
    print("begin start", flush=True)

    def on_chunk(task, done, total):
        print("committed", f"{task.point_id}:{task.chunk_index}", flush=True)
        print("begin", "next", flush=True)

    run_sweep(sw, Path(sys.argv[2]), workers=1, on_chunk=on_chunk)
    print("finished", flush=True)
    import time
    time.sleep(600)  # wait for the kill
    """
)


def sweep_tables(path: Path, sweep_id: str) -> dict[str, pd.DataFrame]:
    with SweepStore(path, read_only=True) as s:
        # the code version may change between the runs (others commit to this checkout meanwhile)
        keep = ", ".join(c for c in PROVENANCE_COLUMNS if c not in ("git_commit", "git_dirty"))
        return {
            "sweeps": s.con.execute(
                f"SELECT sweep_id, name, spec_toml, spec_hash, seed, {keep} FROM sweeps"
            ).df(),
            "points": s.points(sweep_id),
            "chunks": s.chunks(sweep_id).drop(columns=["done_at"]),
            "replications": s.replications(sweep_id),
        }


def test_sweep_killed_repeatedly_resumes_to_the_uninterrupted_tables(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(SCENARIO)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    sweep = load_sweep(tmp_path / "sweep.toml")
    assert sweep.n_chunks == 8
    ref = tmp_path / "ref.duckdb"
    assert run_sweep(sweep, ref, workers=1).complete
    out = tmp_path / "killed.duckdb"
    rng = random.Random(4)
    faults = Faults()
    finished = False
    for _ in range(KILLS):
        lines, acked = kill_child(
            _SWEEP_CHILD, [str(tmp_path / "sweep.toml"), str(out)], rng.randint(0, 2), rng.uniform(0.0, 1.0)
        )
        faults.injected += 1
        faults.acknowledged.update(acked)
        with SweepStore(out, read_only=True) as s:
            chunks = s.chunks(sweep.sweep_id)
            assert len(s.replications(sweep.sweep_id)) == int(chunks["n"].sum())  # whole chunks only
        stored = {f"{p}:{k}" for p, k in zip(chunks["point_id"], chunks["chunk_index"], strict=True)}
        assert faults.acknowledged <= stored
        if any(w == ["finished"] for w in lines):
            finished = True
            break
    res = run_sweep(sweep, out, workers=1)
    assert res.complete and res.resumed
    report(
        f"run_sweep: {faults.injected} SIGKILLs, {len(faults.acknowledged)} acknowledged chunks, 0 lost; "
        f"{res.ran} of {sweep.n_chunks} chunks left to the final resume (finished under kills: {finished})"
    )
    a, b = sweep_tables(ref, sweep.sweep_id), sweep_tables(out, sweep.sweep_id)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
