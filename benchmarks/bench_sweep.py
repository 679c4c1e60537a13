"""Benchmark: the entry-delay sweep (21 points x 2,000 replications) on this machine's cores.

Run: ``python benchmarks/bench_sweep.py [--replications 2000] [--workers 2] [--no-write]``. Writes the
sweep to a temporary DuckDB file (deleted afterwards) and appends a row to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from bench_run import machine

from responsesim.api import code_version
from responsesim.sweep import sweep_command

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = """
## `benchmarks/bench_sweep.py`: entry-delay sweep (21 points)

| date (UTC) | machine | cores | replications per point | workers | wall time (s) | replications/s | code |
|---|---|---|---|---|---|---|---|
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    text = (ROOT / "examples" / "sweeps" / "entry_delay.toml").read_text()
    text = text.replace("replications_per_point = 1000", f"replications_per_point = {args.replications}")
    text = text.replace("chunk_size = 250", "chunk_size = 1000")
    with tempfile.TemporaryDirectory() as d:
        sweep = Path(d) / "entry_delay.toml"
        sweep.write_text(text)
        t0 = time.perf_counter()
        code = sweep_command(sweep, Path(d) / "s.duckdb", workers=args.workers, plot=Path(d) / "p.png")
        wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(code)
    total = 21 * args.replications
    row = (
        f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {machine()} | {os.cpu_count()} "
        f"| {args.replications:,} | {args.workers} | {wall:.1f} | {total / wall:,.0f} | {code_version()} |\n"
    )
    print(row, end="")
    if not args.no_write:
        doc = DOC.read_text()
        if "bench_sweep.py" not in doc:
            doc += SECTION
        DOC.write_text(doc + row)


if __name__ == "__main__":
    main()
