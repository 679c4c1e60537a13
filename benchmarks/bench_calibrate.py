"""Wall time of the full calibration fit, `responsesim calibrate` with its defaults, as a user runs it.

Run (from the repository root, after the engine has been compiled once; about 5-10 minutes):

    python benchmarks/bench_calibrate.py [--no-write]

One fresh process of ``responsesim calibrate --dry-run --output TMP/calibration.toml`` (1,000 particles,
at most 6 ABC-SMC generations of 150 ensemble attempts per particle, pyabc's multicore sampler on 2
workers, then the 4,000-attempt validation; ``--dry-run`` leaves the shipped calibration alone), after
waiting for an idle machine. Records the wall and CPU time, the peak memory, the generations and
simulations pyabc reports and the targets inside, with the machine and the date, as the
``benchmarks/bench_calibrate.py`` section of docs/benchmarks.md. Target (issue 13): under 10 minutes on
2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc_section import write_section
from idle import wait_for_idle

START = "<!-- benchmarks/bench_calibrate.py: start -->"
END = "<!-- benchmarks/bench_calibrate.py: end -->"
TARGET_S = 600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    waited = wait_for_idle(120.0)
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "responsesim.cli", "calibrate", "--dry-run", "--output",
             str(Path(tmp) / "calibration.toml")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mib = after.ru_maxrss / 1024
    gens = re.findall(r"generation (\d+): epsilon ([0-9.]+), (\d+) simulations", res.stderr)
    sims = sum(int(g[2]) for g in gens)
    inside = re.search(r"calibration: (\d+) of (\d+) targets inside", res.stdout)
    met = "met" if wall < TARGET_S else "**not met**"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""{START}
## Calibration fit: `responsesim calibrate` with its defaults (benchmarks/bench_calibrate.py)

{stamp}, {platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};
engine already compiled (cached); one fresh process after {waited:.0f} s waiting for an idle machine.
`responsesim calibrate --dry-run --output TMP`: 1,000 particles, pyabc's multicore sampler on 2
workers, then the 4,000-attempt validation. Regenerate with `python benchmarks/bench_calibrate.py`.

| what | value |
|---|---|
| wall time | {int(wall // 60)} min {wall % 60:.0f} s |
| CPU time (user + system, all processes) | {int(cpu // 60)} min {cpu % 60:.0f} s |
| peak memory of a process | {peak_mib:.0f} MiB |
| generations; simulations of 150 attempts | {len(gens)}; {sims:,} |
| final epsilon | {gens[-1][1] if gens else "-"} |
| targets inside at the fit | {f"{inside[1]} of {inside[2]}" if inside else "-"} |

Target: under 10 minutes on 2 cores: {met}. Each fit draws its own random numbers (pyabc's multicore
sampler), so the targets inside vary a little from fit to fit; this run's calibration is not shipped.
{END}
"""
    print(text)
    if not a.no_write:
        write_section(START, END, text)


if __name__ == "__main__":
    main()
