"""End-to-end time of ``responsesim run --replications N`` on the default scenario, as a user runs it.

Run (from the repository root, after the engine has been compiled once):

    python benchmarks/bench_cli.py [--replications N] [--repeats K] [--no-write]

Each repeat is a fresh process (``python -m responsesim.cli run --replications N --json``): Python start,
imports, loading the compiled engine from the cache, the run on all cores and the report. Reports the
median, minimum and maximum wall time and the median CPU time (user + system), and writes them with the
machine and the date as the ``benchmarks/bench_cli.py`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

from doc_section import write_section

START = "<!-- benchmarks/bench_cli.py: start -->"
END = "<!-- benchmarks/bench_cli.py: end -->"
TARGET_S = 1.5  # issue 12: end to end on 2 cores, 10,000 replications


def one(n: int) -> tuple[float, float]:
    """Wall and CPU seconds of one CLI run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # as on a user's machine, Python may cache compiled modules (some sandboxes forbid it by default)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "responsesim.cli", "run", "--replications", str(n), "--json"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    one(10)  # compile (first time only) and warm the file cache: not timed
    runs = [one(a.replications) for _ in range(a.repeats)]
    floor = [one(10) for _ in range(3)]
    walls = [w for w, _ in runs]
    med, cpu = statistics.median(walls), statistics.median(c for _, c in runs)
    start_up = statistics.median(w for w, _ in floor)
    verdict = "met" if med < TARGET_S else "not met"
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    cpu_name = platform.processor() or platform.machine()
    text = f"""{START}
## End to end: `responsesim run --replications {a.replications:,}` (benchmarks/bench_cli.py)

{when}, {platform.system()} {platform.machine()} ({cpu_name}), {os.cpu_count()} cores, Python
{platform.python_version()}; engine already compiled (cached). {a.repeats} fresh processes, default scenario,
all cores, `--json` output. Regenerate with `python benchmarks/bench_cli.py`.

| what | wall time (s) |
|---|---|
| `run --replications {a.replications:,}`, median (range) | {med:.2f} ({min(walls):.2f} - {max(walls):.2f}) |
| CPU time of that run, median (user + system) | {cpu:.2f} |
| start-up floor: `run --replications 10`, median of 3 | {start_up:.2f} |

Target: under {TARGET_S} s end to end: **{verdict}**. The start-up floor (Python, the command line, the
scenario's validation, Numba and the compiled engine's code, pandas and SciPy for the report) is most of it;
the 10,000 replications themselves take about {max(med - start_up, 0):.2f} s more.
{END}
"""
    print(text)
    if a.no_write:
        return
    write_section(START, END, text)


if __name__ == "__main__":
    main()
