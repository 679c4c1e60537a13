"""Peak memory and time of a 5,000-space campus: compile the building and run 50 replications.

Run (from the repository root):

    python benchmarks/bench_campus.py [--spaces N] [--replications R] [--repeats K]
                                      [--before-src DIR] [--table CSV] [--no-write]

Each measurement is a fresh process that generates the campus (``scenario/campus.py``: copies of the
three-floor school joined by walkways), then, timed: compiles the building (``compile_building``), the
scenario (the default scenario's people, responders and doctrine on the campus), and runs R replications
on 2 worker threads (``simulate``, which lays out the engine's arrays and runs the compiled rules). Its
peak resident memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end (Python, NumPy, Numba,
pandas and everything the run allocated). A first process compiles the engine if needed (not timed).

``--before-src DIR`` also measures another checkout's engine (e.g. ``git worktree add /tmp/old HEAD``,
then ``--before-src /tmp/old/src``) on the same campus and seeds, and checks the two outcome tables are
identical. Writes the ``benchmarks/bench_campus.py`` section of docs/benchmarks.md. Target (issue 17):
under 1 GB peak for 5,000 spaces.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from doc_section import write_section

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- benchmarks/bench_campus.py: start -->"
END = "<!-- benchmarks/bench_campus.py: end -->"
TARGET_MB = 1024.0
CAMPUS_PY = ROOT / "src" / "responsesim" / "scenario" / "campus.py"


def child(n_spaces: int, reps: int, table: str | None) -> None:
    """One measurement (in a fresh process): print a JSON line."""
    import importlib.util
    import resource
    import time

    # the campus generator of this checkout, so an older engine (``--before-src``) runs the same campus
    spec_ = importlib.util.spec_from_file_location("_campus", CAMPUS_PY)
    assert spec_ is not None and spec_.loader is not None
    mod = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(mod)

    from responsesim.engine.arrays import engine_input
    from responsesim.engine.run import simulate
    from responsesim.params import load_calibration
    from responsesim.scenario.building import compile_building
    from responsesim.scenario.compile import compile_params
    from responsesim.scenario.load import default_scenario_text, parse_text

    bspec = mod.campus(n_spaces)
    sspec = parse_text(default_scenario_text())
    cal = load_calibration()
    t0 = time.perf_counter()
    graph = compile_building(bspec)
    params = compile_params(sspec, graph, cal)
    t1 = time.perf_counter()
    df = simulate(params, reps, chunk_size=max(1, (reps + 1) // 2), workers=2)
    t2 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if table:
        df.to_csv(table, index=False, float_format="%.17g")
    nbytes = sum(getattr(v, "nbytes", 0) for v in engine_input(params).building)
    print(json.dumps({
        "spaces": len(bspec.spaces), "edges": len(bspec.edges), "exits": len(graph.exits),
        "occupants": int(params.n_occupants), "compile_s": t1 - t0, "run_s": t2 - t1, "total_s": t2 - t0,
        "rss_mb": rss_mb, "building_mb": nbytes / 2**20, "deaths": float(df["deaths"].mean()),
    }))  # fmt: skip


def measure(src: Path, n_spaces: int, reps: int, table: str | None = None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, __file__, "--child", "--spaces", str(n_spaces), "--replications", str(reps)]
    if table:
        cmd += ["--table", table]
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def series(label: str, src: Path, a: argparse.Namespace, table: str | None) -> tuple[str, dict[str, float]]:
    measure(src, 200, 2)  # compile the engine of this checkout if needed; not timed
    runs = [measure(src, a.spaces, a.replications, table if k == 0 else None) for k in range(a.repeats)]
    m = runs[0]
    tot = [r["total_s"] for r in runs]
    comp = statistics.median(r["compile_s"] for r in runs)
    run = statistics.median(r["run_s"] for r in runs)
    row = (
        f"| {label} | {max(r['rss_mb'] for r in runs):,.0f} | {m['building_mb']:,.0f} | {comp:.1f} | "
        f"{run:.1f} | {statistics.median(tot):.1f} ({min(tot):.1f} - {max(tot):.1f}) |"
    )
    print(row, flush=True)
    return row, m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spaces", type=int, default=5000)
    ap.add_argument("--replications", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before-src", type=Path, default=None, help="src/ of the checkout to compare with")
    ap.add_argument("--before-label", default="before (dense [S, S] tables)")
    ap.add_argument("--table", default=None, help="write the outcome table here (child: this run)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.spaces, a.replications, a.table)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_campus_"))
    rows: list[str] = []
    same = ""
    if a.before_src is not None:
        row, _ = series(a.before_label, a.before_src, a, str(tmp / "before.csv"))
        rows.append(row)
    row, m = series("this checkout", ROOT / "src", a, str(tmp / "after.csv"))
    rows.append(row)
    if a.before_src is not None:
        equal = (tmp / "before.csv").read_bytes() == (tmp / "after.csv").read_bytes()
        same = (
            f"\nThe two outcome tables ({a.replications} replications, same seeds) are "
            f"{'identical' if equal else 'DIFFERENT'}.\n"
        )
        if not equal:
            print("outcome tables differ:", tmp, file=sys.stderr)
    met = "met" if all(float(r.split("|")[2].replace(",", "")) < TARGET_MB for r in rows[-1:]) else "not met"
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    cpu_name = platform.processor() or platform.machine()
    table = "\n".join(rows)
    text = f"""{START}
## Campus: {m["spaces"]:,} spaces, compile + {a.replications} replications (benchmarks/bench_campus.py)

{when}, {platform.system()} {platform.machine()} ({cpu_name}), {os.cpu_count()} cores, Python
{platform.python_version()}; engine already compiled (cached). A generated campus of three-floor schools
joined by walkways ({m["spaces"]:,} spaces, {m["edges"]:,} edges, {m["exits"]} exits,
{m["occupants"]:,} occupants) with the default scenario's responders and doctrine. Each row: {a.repeats}
fresh processes; peak memory is the process's `ru_maxrss` (everything: Python, Numba, pandas, the
building tables and the run); "building" is the engine's `Building` arrays. Time: compile the building
and the scenario, then {a.replications} replications on 2 threads. Target: under {TARGET_MB:,.0f} MB
peak ({met}). Regenerate with `python benchmarks/bench_campus.py` (add `--before-src DIR` to compare
with another checkout).

| engine | peak memory (MB) | building arrays (MB) | compile (s) | {a.replications} replications (s) | total (s), median (range) |
|---|---|---|---|---|---|
{table}
{same}{END}
"""  # noqa: E501
    print(text)
    if a.no_write:
        return
    write_section(START, END, text)


if __name__ == "__main__":
    main()
