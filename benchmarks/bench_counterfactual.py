"""End-to-end time of the review counterfactual (2,000 paired posterior draws and the 10-delay curve).

Run (from the repository root, after the engine has been compiled once):

    python benchmarks/bench_counterfactual.py [--repeats K] [--no-write]

Each repeat is a fresh process running ``responsesim review TIMELINE --protocol post1999 --incident
INCIDENT --json`` for the Parkland and the Uvalde examples: Python start, imports, the review, the record,
11 engine runs of 2,000 replications (the change and each delay of the curve) and the JSON. Writes the
median and range with the machine and the date as the ``benchmarks/bench_counterfactual.py`` section of
docs/benchmarks.md. Target (issue 16): under 15 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from doc_section import write_section

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- benchmarks/bench_counterfactual.py: start -->"
END = "<!-- benchmarks/bench_counterfactual.py: end -->"
TARGET_S = 15.0
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"
CASES = {
    "Parkland (SRO:entered_building@+30s)": ("parkland", "record.csv"),
    "Uvalde (UPD-FIRST-OFFICERS:no_withdrawal)": ("uvalde", "timeline.csv"),
}


def one(example: str, timeline: str) -> float:
    """Wall seconds of one review + counterfactual in a fresh process."""
    d = ROOT / "examples" / example
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "responsesim.cli", "review", str(d / timeline), "--protocol", str(PROTOCOL),
         "--incident", str(d / "incident.toml"), "--json"],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    rows = []
    for label, (ex, tl) in CASES.items():
        one(ex, tl)  # compile (first time only) and warm the file cache: not timed
        walls = [one(ex, tl) for _ in range(a.repeats)]
        med = statistics.median(walls)
        rows.append(f"| {label} | {med:.1f} ({min(walls):.1f} - {max(walls):.1f}) | "
                    f"{'met' if med < TARGET_S else 'not met'} |")  # fmt: skip
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    cpu_name = platform.processor() or platform.machine()
    table = "\n".join(rows)
    text = f"""{START}
## Review counterfactual: 2,000 paired draws + 10-delay curve (benchmarks/bench_counterfactual.py)

{when}, {platform.system()} {platform.machine()} ({cpu_name}), {os.cpu_count()} cores, Python
{platform.python_version()}; engine already compiled (cached). {a.repeats} fresh processes per example,
`responsesim review ... --incident ... --json` (the review, the change and 10 delays: 11 engine runs of
2,000 replications, each at its own posterior draw). Regenerate with
`python benchmarks/bench_counterfactual.py`.

| example | wall time (s), median (range) | target {TARGET_S:g} s |
|---|---|---|
{table}
{END}
"""
    print(text)
    if a.no_write:
        return
    write_section(START, END, text)


if __name__ == "__main__":
    main()
