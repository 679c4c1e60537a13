"""Side-by-side scaling benchmark: the Mesa peer, the per-agent reference and the compiled engine.

Run (from the repository root; ``--quick`` finishes in about 3 minutes, the full run in about 5-15):

    python benchmarks/run.py [--quick] [--workers W] [--budget S] [--note TEXT] [--no-write]

In one run on one machine it times every implementation on the default scenario at 1, 100, 1,000 and
10,000 replications (about 900 occupants), and at about 300, 900 and 3,000 occupants (the default
scenario with ``[building] occupants_per_classroom`` = 10, 30, 100; the actual counts are reported). Each
measurement runs in a fresh subprocess (``--measure``), which first warms up (imports, caches, Numba
compilation: one replication in-process, then a few through a pool if the timed run uses one) and then
times the run itself (wall and CPU time, pool workers included); peak memory is that subprocess's peak
resident set size (``VmHWM``) and the largest of its pool workers' (``RUSAGE_CHILDREN``), in MiB. Every
implementation gets the same ``--workers`` (default: all cores): the engine through ``simulate(workers=W)``
(threads; chunks as ``responsesim run`` cuts them, at most 1,000 replications and four a worker or
more), the Mesa peer and the reference through a process pool over blocks of replications (four a
worker). For the two slow implementations (the Mesa peer and the
reference) a replication count is skipped, and marked "not run", when the time predicted from their last
measurement (cost linear in replications) exceeds ``--budget`` seconds (default 200, so that the Mesa
peer runs 10,000 replications too and every count is compared at equal counts; 20 with ``--quick``);
the engines run every count.

Prints the tables and the speed ratios (engine replications per second divided by the Mesa peer's), and
writes them, with the machine and the date, as the ``benchmarks/run.py`` section of docs/benchmarks.md
(replacing that section from an earlier run) and the log-log plot docs/benchmarks_scaling.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idle import wait_for_idle

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks_scaling.png"
START = "<!-- benchmarks/run.py: start -->"
END = "<!-- benchmarks/run.py: end -->"

IMPLS = ("mesa", "reference", "numba")
LABELS = {
    "mesa": "Mesa 3 peer",
    "reference": "per-agent reference",
    "numba": "compiled engine",
}
SLOW = ("mesa", "reference")
OCCUPANTS_PER_CLASSROOM = (10, 30, 100)  # about 300, 900 and 3,000 occupants in the three-floor school
DEFAULT_PER_CLASSROOM = 30  # the default scenario's classrooms (926 occupants)
REPEATS = 5  # timed runs per measurement at most (median reported) ...
REPEAT_BUDGET_S = 10.0  # ... while the runs so far took less than this in all
TARGET_RATIO = 300.0  # issue 7: engine replications per second over the Mesa peer's


# ------------------------------------------------------------------------------------------ one measurement


def scenario_params(per_classroom: int) -> Any:
    """The default scenario with every classroom holding ``per_classroom`` occupants."""
    from responsesim.scenario.load import default_scenario_text, loads

    text = default_scenario_text()
    anchor = '[building]\ntemplate = "three_floor_school"\n'
    if anchor not in text:
        raise SystemExit("the default scenario's [building] section changed; update scenario_params()")
    text = text.replace(anchor, f"{anchor}occupants_per_classroom = {per_classroom}\n")
    return loads(text, f"default scenario, {per_classroom} per classroom").params


def _reference_block(args: tuple[Any, int, int]) -> Any:
    from responsesim.engine.reference import simulate_reference

    params, start, n = args
    return simulate_reference(params, n, first_rep=start)


def blocks(first: int, n: int, workers: int) -> list[tuple[int, int]]:
    """``(start, count)`` blocks of replications, a few per worker (balances the long attacks)."""
    k = max(1, min(n, 4 * workers))
    edges = [first + (n * i) // k for i in range(k + 1)]
    return [(a, b - a) for a, b in itertools.pairwise(edges) if b > a]


def run_impl(impl: str, params: Any, n: int, workers: int, first_rep: int = 0) -> Any:
    """Run ``n`` replications with one implementation; returns the outcome table (a DataFrame)."""
    import pandas as pd

    if impl == "mesa":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from peer_mesa import simulate_mesa

        return simulate_mesa(params, n, first_rep=first_rep, workers=workers)
    if impl == "reference":
        from responsesim.engine.reference import simulate_reference

        if workers <= 1 or n < 2:
            return simulate_reference(params, n, first_rep=first_rep)
        tasks = [(params, a, c) for a, c in blocks(first_rep, n, workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return pd.concat(list(pool.map(_reference_block, tasks)), ignore_index=True)
    from responsesim.engine.run import simulate

    return simulate(params, n, first_rep=first_rep, workers=workers)  # chunked as ``responsesim run``


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident set size (MiB) of this process and of the largest finished child process."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    except OSError:
        pass
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished child processes (pool workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(impl: str, n: int, per_classroom: int, workers: int, idle_wait: float = 0.0) -> dict[str, Any]:
    """Time one implementation in this (fresh) process; the result as a JSON-able dict."""
    params = scenario_params(per_classroom)
    out: dict[str, Any] = {"impl": impl, "n": n, "occupants": int(params.n_occupants), "workers": workers}
    try:
        # warm-up on replications outside the timed range: in this process (imports, caches, Numba's
        # compilation) and, when the timed run uses a pool, once through a pool (so that a worker that has
        # to load or compile the Numba kernel does it now and leaves it in Numba's on-disk cache)
        run_impl(impl, params, 1, 1, first_rep=10**6)
        if workers > 1 and n > 1:
            run_impl(impl, params, 2 * workers, workers, first_rep=10**6)
    except Exception as exc:  # an unavailable backend (not built, Numba missing): reported, not fatal
        out["status"] = f"unavailable: {type(exc).__name__}: {exc}"
        return out
    # the same rule for every implementation: repeat the timed run up to REPEATS times while the runs so far
    # took under REPEAT_BUDGET_S in all, and report the median (a single long run is one sample)
    walls: list[float] = []
    cpus: list[float] = []
    while len(walls) < REPEATS and sum(walls) < REPEAT_BUDGET_S:
        wait_for_idle(idle_wait, quiet_seconds=1)
        c0, t0 = cpu_seconds(), time.perf_counter()
        df = run_impl(impl, params, n, workers)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    wall = float(statistics.median(walls))
    out["repeats"] = len(walls)
    parent, worker = peak_rss_mib()
    if len(df) != n:
        raise SystemExit(f"{impl}: {len(df)} rows for {n} replications")
    out.update(
        status="ok",
        wall_s=wall,
        cpu_s=float(statistics.median(cpus)),
        rss_parent_mib=parent,
        rss_worker_mib=worker,
        deaths_mean=float(df["deaths"].mean()),
    )
    return out


# ------------------------------------------------------------------------------------------ the whole run


@dataclass
class Result:
    """One measurement (or a skipped one) as read back from its subprocess."""

    impl: str
    n: int
    per_classroom: int
    status: str
    occupants: int = 0
    wall_s: float = math.nan
    cpu_s: float = math.nan  # CPU time of the timed run (median), pool workers included
    rss_parent_mib: float = math.nan
    rss_worker_mib: float = math.nan
    deaths_mean: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def rate(self) -> float:
        """Replications per second."""
        return self.n / self.wall_s if self.ok and self.wall_s > 0 else math.nan


@functools.cache
def occupants_of(per_classroom: int) -> int:
    return int(scenario_params(per_classroom).n_occupants)


def run_subprocess(
    impl: str, n: int, per_classroom: int, workers: int, timeout: float, idle_wait: float = 0.0
) -> Result:
    wait_for_idle(idle_wait)  # another program's work on the cores would land in this measurement
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", impl, str(n), str(per_classroom)]
    cmd += ["--workers", str(workers), "--idle-wait", str(idle_wait)]
    # its own session, so that on a timeout its pool workers are killed with it
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Result(impl, n, per_classroom, f"timed out after {timeout:.0f} s", occupants_of(per_classroom))
    except BaseException:  # interrupted: take the measurement's processes down too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    if proc.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
        return Result(impl, n, per_classroom, f"failed: {tail[0]}", occupants_of(per_classroom))
    d = json.loads(stdout.strip().splitlines()[-1])
    return Result(
        impl,
        n,
        per_classroom,
        d["status"],
        occupants=d["occupants"],
        wall_s=d.get("wall_s", math.nan),
        cpu_s=d.get("cpu_s", math.nan),
        rss_parent_mib=d.get("rss_parent_mib", math.nan),
        rss_worker_mib=d.get("rss_worker_mib", math.nan),
        deaths_mean=d.get("deaths_mean", math.nan),
    )


def timeout_for(budget: float) -> float:
    """A measurement's time limit (s): three budgets for the slow peers, 15 minutes for the engines."""
    return max(3 * budget, 120.0) if math.isfinite(budget) else 900.0


def series(
    impl: str,
    counts: list[int],
    per_classroom: int,
    workers: int,
    budget: float,
    log: Any,
    idle_wait: float = 0.0,
) -> list[Result]:
    """Measure ``impl`` at increasing replication counts; skip a count predicted to exceed ``budget``."""
    out: list[Result] = []
    last: Result | None = None
    for n in counts:
        if last is not None and not last.ok:
            out.append(
                Result(
                    impl,
                    n,
                    per_classroom,
                    last.status if "unavailable" in last.status else "not run",
                    occupants_of(per_classroom),
                )
            )
            continue
        if last is not None and last.n >= 100:  # predict from a count large enough to be linear
            predicted = last.wall_s * n / last.n
            if predicted > budget:
                out.append(
                    Result(
                        impl,
                        n,
                        per_classroom,
                        f"not run (predicted {predicted:.0f} s > {budget:.0f} s)",
                        occupants_of(per_classroom),
                    )
                )
                log(f"{LABELS[impl]:>20} {n:>6} reps: skipped, predicted {predicted:.0f} s")
                continue
        r = run_subprocess(impl, n, per_classroom, workers, timeout=timeout_for(budget), idle_wait=idle_wait)
        log(describe(r))
        out.append(r)
        last = r
    return out


def describe(r: Result) -> str:
    if not r.ok:
        return f"{LABELS[r.impl]:>20} {r.n:>6} reps, {r.occupants:>5} occupants: {r.status}"
    return (
        f"{LABELS[r.impl]:>20} {r.n:>6} reps, {r.occupants:>5} occupants: {r.wall_s:8.2f} s "
        f"{r.rate:9.1f} reps/s  CPU/wall {r.cpu_s / r.wall_s:.1f}  "
        f"peak RSS {r.rss_parent_mib:.0f} / {r.rss_worker_mib:.0f} MiB  "
        f"deaths {r.deaths_mean:.2f}"
    )


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x) (1 = linear growth)."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx if sxx > 0 else math.nan


# ------------------------------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}"]
    for mod in ("numpy", "mesa", "numba"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} missing")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "os": f"{platform.system()} {platform.machine()}",
        "software": ", ".join(versions),
    }


def fmt(x: float, digits: int = 1) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.{digits}f}"


def rate_fmt(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def ratios(rep_results: list[Result]) -> tuple[list[str], list[str]]:
    """Markdown rows of engine/Mesa speed ratios, and plain-text summary lines."""
    mesa = {r.n: r for r in rep_results if r.impl == "mesa" and r.ok}
    rows, lines = [], []
    if not mesa:
        return rows, ["no Mesa measurement: no ratios"]
    mesa_best = max(mesa.values(), key=lambda r: r.n)
    for impl in ("reference", "numba"):
        mine = {r.n: r for r in rep_results if r.impl == impl and r.ok}
        if not mine:
            rows.append(f"| {LABELS[impl]} | - | - | - | not measured |")
            continue
        top = max(mine.values(), key=lambda r: r.n)
        for n in sorted(mine):
            if n in mesa and not (n == top.n == mesa_best.n):  # that one is the bold row below
                ratio = mine[n].rate / mesa[n].rate
                rows.append(
                    f"| {LABELS[impl]} | {n:,} | {n:,} | {ratio:,.1f} | "
                    f"{rate_fmt(mine[n].rate)} vs {rate_fmt(mesa[n].rate)} reps/s |"
                )
        ratio = top.rate / mesa_best.rate
        met = "meets" if ratio >= TARGET_RATIO else "below"
        rows.append(
            f"| {LABELS[impl]} | {top.n:,} | {mesa_best.n:,} | **{ratio:,.1f}** | "
            f"largest runs of each: {rate_fmt(top.rate)} vs {rate_fmt(mesa_best.rate)} reps/s "
            f"({met} the {TARGET_RATIO:.0f}x target) |"
        )
        lines.append(
            f"{LABELS[impl]}: {ratio:,.1f}x the Mesa peer's replications/s "
            f"({top.n:,} vs {mesa_best.n:,} replications; target {TARGET_RATIO:.0f}x: {met})"
        )
    return rows, lines


def target_lines(rep_results: list[Result], workers: int) -> list[str]:
    """Plain words under the ratio table: at which equal replication counts the compiled engine meets the
    target, and what its time is made of where it does not."""
    mesa = {r.n: r for r in rep_results if r.impl == "mesa" and r.ok}
    mine = {r.n: r for r in rep_results if r.impl == "numba" and r.ok}
    both = sorted(set(mesa) & set(mine))
    if not both:
        return []
    top, one = mine[max(mine)], mine.get(1)
    ratio = {n: mine[n].rate / mesa[n].rate for n in both}
    below = [n for n in both if ratio[n] < TARGET_RATIO]
    # what a run below the target is made of: mostly the fixed cost of a call (the time of a one-replication
    # run is half of it or more), too little work to keep the workers busy, or replications
    fixed = [n for n in below if one is not None and one.wall_s >= 0.5 * mine[n].wall_s]
    idle = [n for n in below if n not in fixed and mine[n].cpu_s < 0.8 * workers * mine[n].wall_s]
    per_rep = [n for n in below if n not in fixed and n not in idle]

    def counts(ns: list[int]) -> str:
        return ", ".join(f"{n:,} ({ratio[n]:,.0f}x)" for n in ns)

    met = [n for n in both if n not in below]
    out = [
        f"Compiled engine at equal replication counts: the {TARGET_RATIO:.0f}x target is "
        + (f"met at {counts(met)}." if met else "not met at any count.")
    ]
    if fixed and one is not None:
        out.append(
            f"Below it at {counts(fixed)}, where a run is mostly the engine's fixed cost per call (its "
            f"containers, the call into the compiled loop, the outcome table: {1000 * one.wall_s:.2f} ms "
            "for one replication)."
        )
    if idle:
        busy = ", ".join(f"{mine[n].cpu_s / mine[n].wall_s:.1f}" for n in idle)
        out.append(
            f"Below it at {counts(idle)}, where a run is too short to keep {workers} cores busy (CPU / wall "
            f"{busy}: a few chunks, and the workers' start)."
        )
    if per_rep:
        need = TARGET_RATIO * max(mesa[n].rate for n in per_rep)
        out.append(
            f"Below it at {counts(per_rep)}, where a run is replications: the target needs about "
            f"{need:,.0f} replications/s, the engine gives {top.rate:,.0f} at {top.n:,} "
            f"({1e6 * top.cpu_s / top.n:.0f} us of CPU per replication, {top.cpu_s / top.wall_s:.1f} "
            "cores busy); at these counts both rates are set by the cost of a replication, so only a "
            "faster compiled kernel (engine/rules.py, engine/kernel.py) closes the gap."
        )
    return [" ".join(out), ""]


def slopes(rep_results: list[Result], occ_results: list[Result]) -> list[str]:
    """Markdown rows: log-log slopes of time vs replications (between the two largest counts measured,
    where fixed costs such as starting the process pool no longer dominate) and vs occupants."""
    rows = []
    for impl in IMPLS:
        reps = [r for r in rep_results if r.impl == impl and r.ok and r.n >= 100][-2:]
        occ = [r for r in occ_results if r.impl == impl and r.ok]
        s_rep = loglog_slope([r.n for r in reps], [r.wall_s for r in reps]) if len(reps) >= 2 else math.nan
        s_occ = (
            loglog_slope([r.occupants for r in occ], [r.wall_s / r.n for r in occ])
            if len(occ) >= 2
            else math.nan
        )
        span_r = f"{reps[0].n:,}-{reps[-1].n:,}" if len(reps) >= 2 else "-"
        span_o = f"{occ[0].occupants:,}-{occ[-1].occupants:,}" if len(occ) >= 2 else "-"
        rows.append(f"| {LABELS[impl]} | {fmt(s_rep, 2)} ({span_r}) | {fmt(s_occ, 2)} ({span_o}) |")
    return rows


def plot(rep_results: list[Result], occ_results: list[Result], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    markers = {"mesa": "o", "reference": "s", "numba": "D"}
    for impl in IMPLS:
        rs = [r for r in rep_results if r.impl == impl and r.ok]
        if rs:
            ax1.plot([r.n for r in rs], [r.wall_s for r in rs], marker=markers[impl], label=LABELS[impl])
        os_ = [r for r in occ_results if r.impl == impl and r.ok]
        if os_:
            ax2.plot(
                [r.occupants for r in os_],
                [1000 * r.wall_s / r.n for r in os_],
                marker=markers[impl],
                label=f"{LABELS[impl]} ({os_[0].n:,} reps)",
            )
    ax1.set(xscale="log", yscale="log", xlabel="replications", ylabel="wall time (s)")
    ax1.set_title("time vs replications (default scenario)")
    ax2.set(xscale="log", yscale="log", xlabel="occupants", ylabel="wall time per replication (ms)")
    ax2.set_title("time per replication vs occupants")
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(textwrap.fill(title, 150), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section(
    rep_results: list[Result],
    occ_results: list[Result],
    info: dict[str, str],
    args: argparse.Namespace,
    when: str,
) -> str:
    ratio_rows, _ = ratios(rep_results)
    occupants = next((r.occupants for r in rep_results if r.ok), 0)
    cmd = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    note = f" **{args.note}**" if args.note else ""
    lines = [
        START,
        "## `benchmarks/run.py`: Mesa peer, reference and compiled engine side by side",
        "",
        f"Command: `{cmd}` ({'quick' if args.quick else 'full'} run; `--quick` takes about 3 minutes, "
        "the full run 5-15). Every implementation runs the same model (docs/model.md) on the same scenario, "
        "each measurement in a fresh process after a warm-up (so Numba's compilation is not "
        f"timed) and, before it and before each timed run, after waiting up to {args.idle_wait:g} s for "
        "the machine to be idle (so as not to time other programs' work; the CPU's speed on a shared "
        f"virtual machine still varies by about 10 %), with the same {args.workers} workers (processes; "
        "threads for "
        "the Numba engine, whose "
        "kernel releases the GIL). Each timed run is repeated up to "
        f"{REPEATS} times while the runs so far took under {REPEAT_BUDGET_S:g} s, and the median is "
        "reported (the same rule for every implementation; a long run is one sample). CPU / wall: the "
        "timed run's CPU time (pool workers included) over its wall time, about the number of cores it "
        f"kept busy: well under {args.workers} for a parallel run means it waited (other load on the "
        "machine, or a serial part). Peak memory: peak "
        "RSS of the measuring process / of its largest pool worker process (0 when it uses none). "
        "The Mesa peer (`benchmarks/peer_mesa/`) is checked to "
        "agree with the engine in distribution by `tests/benchmarks/test_peer_mesa.py`.",
        "",
        f"- Date: {when} UTC.{note}",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; "
        f"{info['software']}.",
        f"- Budget: a Mesa or reference run predicted (linear in replications) to take over "
        f"{args.budget:.0f} s is not run; the engines run every count.",
        "",
        f"### Time vs replications (default scenario, {occupants:,} occupants)",
        "",
        "| implementation | replications | wall time (s) | replications/s | CPU / wall "
        "| peak RSS parent / worker (MiB) | deaths mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rep_results:
        if r.ok:
            lines.append(
                f"| {LABELS[r.impl]} | {r.n:,} | {fmt(r.wall_s, 2)} | {rate_fmt(r.rate)} | "
                f"{fmt(r.cpu_s / r.wall_s, 1)} | {fmt(r.rss_parent_mib, 0)} / {fmt(r.rss_worker_mib, 0)} | "
                f"{fmt(r.deaths_mean, 2)} |"
            )
        else:
            lines.append(f"| {LABELS[r.impl]} | {r.n:,} | {r.status} | - | - | - | - |")
    lines += [
        "",
        "### Time vs occupants (default scenario with 10, 30, 100 occupants per classroom)",
        "",
        "| implementation | occupants | replications | wall time (s) | ms per replication "
        "| peak RSS parent / worker (MiB) | deaths mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in occ_results:
        if r.ok:
            lines.append(
                f"| {LABELS[r.impl]} | {r.occupants:,} | {r.n:,} | {fmt(r.wall_s, 2)} | "
                f"{fmt(1000 * r.wall_s / r.n, 2)} | {fmt(r.rss_parent_mib, 0)} / "
                f"{fmt(r.rss_worker_mib, 0)} | {fmt(r.deaths_mean, 2)} |"
            )
        else:
            lines.append(f"| {LABELS[r.impl]} | {r.occupants:,} | {r.n:,} | {r.status} | - | - | - |")
    lines += [
        "",
        "### Speed ratios: replications per second over the Mesa peer's",
        "",
        "At equal replication counts, and (bold) each implementation's largest run against the Mesa peer's "
        "largest run (the Mesa peer's cost is linear in replications, so its rate at its largest run "
        f"stands for larger counts). Target (issue 7): at least {TARGET_RATIO:.0f}x.",
        "",
        "| implementation | its replications | Mesa replications | ratio | rates |",
        "|---|---|---|---|---|",
        *ratio_rows,
        "",
        *target_lines(rep_results, args.workers),
        "### Growth (log-log slope: 1 = linear; replications: between the two largest counts run)",
        "",
        "| implementation | time vs replications (range) | time per replication vs occupants (range) |",
        "|---|---|---|",
        *slopes(rep_results, occ_results),
        "",
        f"![scaling]({PLOT.name})",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(text: str) -> None:
    """Put the section after the page's introduction (before the first '## '), replacing an earlier one.

    It goes before the other scripts' sections because ``bench_run.py`` inserts its rows before the
    ``bench_sweep.py`` heading and ``bench_sweep.py`` appends its rows at the end of the page.
    """
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if START in doc and END in doc:
        a, b = doc.index(START), doc.index(END) + len(END)
        doc = doc[:a] + text.rstrip("\n") + doc[b:]
    else:
        i = doc.find("\n## ")
        doc = doc.rstrip("\n") + "\n\n" + text if i < 0 else doc[: i + 1] + text + "\n" + doc[i + 1 :]
    DOC.write_text(doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer and smaller runs (about 3 minutes)")
    ap.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for every implementation"
    )
    ap.add_argument("--budget", type=float, default=None, help="skip runs predicted to take longer (s)")
    ap.add_argument("--note", default="", help="a remark printed with the date (e.g. a shared machine)")
    ap.add_argument(
        "--idle-wait",
        type=float,
        default=60.0,
        help="before each measurement, wait up to this many seconds for the machine to be idle (0: never)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    ap.add_argument("--measure", nargs=3, metavar=("IMPL", "N", "PER_CLASSROOM"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.measure:
        impl, n, per_classroom = args.measure[0], int(args.measure[1]), int(args.measure[2])
        print(json.dumps(measure(impl, n, per_classroom, args.workers, args.idle_wait)))
        return

    if args.budget is None:
        args.budget = 20.0 if args.quick else 200.0
    rep_counts = [1, 100, 1000] if args.quick else [1, 100, 1000, 10_000]
    occ_reps = {"mesa": 50, "reference": 50, "numba": 200} if args.quick else {
        "mesa": 100, "reference": 100, "numba": 1000,
    }  # fmt: skip
    t_start = time.perf_counter()
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.0f} s] {msg}", flush=True)

    rep_results: list[Result] = []
    for impl in IMPLS:
        budget = args.budget if impl in SLOW else math.inf
        rep_results += series(
            impl, rep_counts, DEFAULT_PER_CLASSROOM, args.workers, budget, log, args.idle_wait
        )
    occ_results: list[Result] = []
    for impl in IMPLS:
        # an unavailable backend, or one that already timed out, is not tried again
        failed = [r.status for r in rep_results if r.impl == impl and r.status.startswith(("unav", "timed"))]
        broken = failed[0] if failed else ""
        for k in OCCUPANTS_PER_CLASSROOM:
            if broken:
                status = broken if broken.startswith("unav") else "not run (an earlier run timed out)"
                occ_results.append(Result(impl, occ_reps[impl], k, status, occupants_of(k)))
                continue
            budget = args.budget if impl in SLOW else math.inf
            r = run_subprocess(
                impl, occ_reps[impl], k, args.workers, timeout=timeout_for(budget), idle_wait=args.idle_wait
            )
            log(describe(r))
            occ_results.append(r)
            if r.status.startswith("timed"):
                broken = r.status

    _, summary = ratios(rep_results)
    print()
    for line in summary:
        print(line)
    print(f"total {time.perf_counter() - t_start:.0f} s")
    if args.no_write:
        return
    info = machine()
    write_doc(section(rep_results, occ_results, info, args, when))
    title = f"{when} UTC, {info['cpu']}, {info['cores']} cores, {args.workers} workers" + (
        f" ({args.note})" if args.note else ""
    )
    plot(rep_results, occ_results, PLOT, title)
    print(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
