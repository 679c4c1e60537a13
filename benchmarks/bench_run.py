"""Benchmark: the default scenario at 10,000 replications, wall time and peak memory.

Run: ``python benchmarks/bench_run.py [--replications N] [--workers W] [--chunk-size C] [--backend B]
[--no-write]``. ``--backend`` names the engine (numba, the only one; noted in the code column); the untimed
warm-up call also pays the numba backend's one-off compile (or cache load).
Appends a row to docs/benchmarks.md with the machine and the date. Peak memory is the maximum resident
set size of this process and of its worker processes (``resource.getrusage``), in MiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from responsesim.api import code_version
from responsesim.engine.backend import BACKENDS
from responsesim.engine.run import simulate
from responsesim.scenario.load import load_scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Written by the scripts in `benchmarks/` (each row: one run of the script on the machine named). Targets
(issue 2): default scenario, 10,000 replications, under 30 s on 2 cores, peak memory under 2 GiB.

## `benchmarks/bench_run.py`: default scenario

| date (UTC) | machine | cores | replications | workers | chunk | wall time (s) | replications/s \
| peak RSS parent / worker (MiB) | deaths mean | code |
|---|---|---|---|---|---|---|---|---|---|---|
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    py = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {cpu}, Python {py}, numpy {np.__version__}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunk-size", type=int, default=2500)
    ap.add_argument("--backend", choices=BACKENDS, default="numba")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    sc = load_scenario()
    simulate(sc.params, 50, workers=1, backend=args.backend)  # warm-up (imports, caches, numba compile)
    t0 = time.perf_counter()
    df = simulate(
        sc.params, args.replications, workers=args.workers, chunk_size=args.chunk_size, backend=args.backend
    )
    wall = time.perf_counter() - t0
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row = (
        f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {machine()} | {os.cpu_count()} "
        f"| {args.replications:,} | "
        f"{args.workers} | {args.chunk_size} | {wall:.1f} | {args.replications / wall:,.0f} | "
        f"{self_mib:.0f} / {child_mib:.0f} | {df.deaths.mean():.2f} "
        f"| {code_version()}, {args.backend} backend |\n"
    )
    print(row, end="")
    if not args.no_write:
        doc = DOC.read_text() if DOC.exists() else HEADER
        marker = "\n## `benchmarks/bench_sweep.py`"
        # rows of this benchmark go at the end of its own table, before any later section
        i = doc.find(marker)
        doc = doc + row if i < 0 else doc[:i].rstrip("\n") + "\n" + row + doc[i:]
        DOC.write_text(doc)


if __name__ == "__main__":
    main()
