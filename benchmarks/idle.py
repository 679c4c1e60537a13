"""Wait for the machine to be idle before a timing, so another program's work does not land in it.

Timings on a shared machine are only comparable when nothing else runs: a run on two threads that shares
its cores with another program takes up to twice as long. ``wait_for_idle`` samples the CPU's idle share
(Linux: ``/proc/stat``) once a second until it has stayed at least ``IDLE_SHARE`` for ``QUIET_SECONDS``
seconds, or ``max_wait`` seconds have passed (then the timing goes ahead: the benchmarks record their CPU
time or the load average, so a busy machine shows). Elsewhere it returns at once.
"""

from __future__ import annotations

import time
from pathlib import Path

IDLE_SHARE = 0.95  # of all cores
QUIET_SECONDS = 2


def _idle_total() -> tuple[int, int] | None:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    return ticks[3] + ticks[4], sum(ticks)  # idle + iowait, all


def wait_for_idle(max_wait: float, quiet_seconds: int = QUIET_SECONDS) -> float:
    """Wait until the machine is idle for ``quiet_seconds`` (see the module); returns the seconds waited."""
    t0 = time.monotonic()
    last = _idle_total()
    if last is None or max_wait <= 0:
        return 0.0
    quiet = 0
    while quiet < quiet_seconds and time.monotonic() - t0 < max_wait:
        time.sleep(1.0)
        now = _idle_total()
        if now is None:
            break
        idle, total = now[0] - last[0], now[1] - last[1]
        last = now
        quiet = quiet + 1 if total > 0 and idle / total >= IDLE_SHARE else 0
    return time.monotonic() - t0
