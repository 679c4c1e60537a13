"""Time of the exercise debrief per decision: 1,000 branches per choice from saved moments.

    python benchmarks/bench_exercise.py [--moments 12] [--branches 1000]

For the first ``--moments`` replications of each scenario in which the first patrol officer arrives while
the attack goes on, the arrival moment's choices (enter now, wait for the next officer, wait for N, hold
the perimeter) are run ``--branches`` times each, with the posterior where the calibration has one.
Prints wall and processor seconds per decision (median and maximum).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import responsesim as rs
from responsesim.exercise.branching import run_branches
from responsesim.exercise.session import Exercise
from responsesim.exercise.uncertainty import branch_parameters

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("examples/barricade_breach_vs_contain.toml", "examples/solo_entry_rescue_task_force.toml")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moments", type=int, default=12)
    ap.add_argument("--branches", type=int, default=1000)
    args = ap.parse_args()
    for name in SCENARIOS:
        sc = rs.load_scenario(ROOT / name)
        wall, cpu, r, found = [], [], 0, 0
        mode = ""
        while found < args.moments:
            ex = Exercise(sc, replication=r)
            r += 1
            p = ex.advance()
            if p is None:
                continue
            found += 1
            t0, c0 = time.perf_counter(), time.process_time()
            par = branch_parameters(sc, p.moment, args.branches)
            run_branches(p.moment, sc, p.choices, args.branches, sim=ex.sim, thetas=par.theta)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            mode = par.mode
        print(f"{name} ({mode}; {args.moments} arrival moments, {args.branches:,} branches per choice): "
              f"wall median {statistics.median(wall):.2f} s, max {max(wall):.2f} s; "
              f"processor median {statistics.median(cpu):.2f} s, max {max(cpu):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
