"""Profile the engine on the default scenario: self time per function, sampled by pyinstrument.

Run: ``python -m responsesim.engine.profiling [--backend numba] [--replications N]``. One untimed
warm-up call first pays imports and the numba backend's compile or cache load; then ``simulate`` runs
``N`` replications on one worker under pyinstrument (1 ms sampling) and the top functions by self time
(time in the function itself, not in functions it calls) are printed as a Markdown table, as in
docs/profile.md. pyinstrument is a development tool, imported only here.

With ``--timing --workers W`` nothing is profiled: the run is timed, wall clock and CPU time (this process
plus its worker processes), so that runs on a shared machine can still be compared by CPU time.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import defaultdict
from typing import Any

from responsesim.engine.backend import BACKENDS
from responsesim.engine.run import simulate
from responsesim.scenario.load import load_scenario


def self_times(root: Any) -> dict[str, float]:
    """Seconds of self time per function label in a pyinstrument frame tree (its "[self]" pseudo-frames
    are counted in their parent)."""
    out: dict[str, float] = defaultdict(float)

    def walk(f: Any) -> None:
        kids = [c for c in f.children if c.function != "[self]"]
        label = f"{f.function} ({f.file_path_short}:{f.line_no})" if f.file_path_short else f.function
        out[label] += f.time - sum(c.time for c in kids)
        for c in kids:
            walk(c)

    walk(root)
    return dict(out)


def timed_run(backend: str, replications: int, workers: int) -> tuple[float, float]:
    """Wall time and CPU time (s; this process and its finished worker processes) of one ``simulate``."""
    params = load_scenario().params

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    simulate(params, replications, workers=workers, backend=backend)
    return time.perf_counter() - t0, cpu() - c0


def main(argv: list[str] | None = None) -> None:
    from pyinstrument import Profiler

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", choices=BACKENDS, default="numba")
    ap.add_argument("--replications", type=int, default=2500)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--timing", action="store_true", help="time the run (wall and CPU), no profile")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (with --timing)")
    args = ap.parse_args(argv)
    params = load_scenario().params
    simulate(params, 50, workers=1, backend=args.backend)  # imports, compile or cache load: not profiled
    if args.timing:
        wall, cpu = timed_run(args.backend, args.replications, args.workers)
        print(
            f"backend={args.backend} replications={args.replications} workers={args.workers}: "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU (parent + workers)"
        )
        return
    prof = Profiler(interval=0.001)
    prof.start()
    simulate(params, args.replications, workers=1, backend=args.backend)
    prof.stop()
    session = prof.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None
    total = root.time
    print(
        f"backend={args.backend} replications={args.replications}: {total:.2f} s sampled wall time, "
        f"{session.cpu_time:.2f} s CPU"
    )
    print("| function (self time) | s | % |\n|---|---|---|")
    ranked = sorted(self_times(root).items(), key=lambda kv: -kv[1])
    for name, t in ranked[: args.top]:
        print(f"| `{name}` | {t:.2f} | {100 * t / total:.1f} |")


if __name__ == "__main__":
    main()
