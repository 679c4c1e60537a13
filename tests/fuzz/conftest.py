"""Fuzz-suite plumbing: a CPU-time cap per test module and the count of inputs tried, per parser.

Counting works with and without pytest-xdist:

- one process: ``pytest_terminal_summary`` prints the counts;
- ``pytest -n 2 tests/fuzz``: this conftest is loaded on the controller too; each worker sends its counts
  in ``workeroutput`` and the controller adds them up (``pytest_testnodedown``) and prints them;
- ``pytest -n 2`` over the whole suite: the controller never loads this file (it does not collect), so
  each worker writes its counts to a file in the run's shared temporary directory under a lock, and the
  worker that finishes last (it sees every worker's file) reports the totals as a warning (shown
  under "fuzz counts") in the warnings summary.
"""

from __future__ import annotations

import fcntl
import json
import signal
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_strategies import COUNTS, HEAVY, MULTIPLIER

MODULE_CPU_CAP_S = 120.0 * MULTIPLIER
"""CPU seconds one fuzz test module may use in one process before it is stopped (a hang guard)."""

_TOTALS: dict[str, Counter[str]] = {}


class ModuleCpuCapExceeded(BaseException):
    """A fuzz test module used more than ``MODULE_CPU_CAP_S`` CPU seconds."""


@pytest.fixture(autouse=True, scope="module")
def _module_cpu_cap() -> Iterator[None]:
    """Stop a fuzz module that runs away (SIGPROF after ``MODULE_CPU_CAP_S`` CPU seconds)."""

    def _stop(signum: int, frame: object) -> None:
        raise ModuleCpuCapExceeded(f"fuzz module used more than {MODULE_CPU_CAP_S:g} CPU seconds")

    old = signal.signal(signal.SIGPROF, _stop)
    signal.setitimer(signal.ITIMER_PROF, MODULE_CPU_CAP_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def _merge(into: dict[str, Counter[str]], counts: dict[str, dict[str, int]]) -> None:
    for parser, c in counts.items():
        into.setdefault(parser, Counter()).update(c)


def format_counts(counts: dict[str, Counter[str]] | dict[str, dict[str, int]]) -> list[str]:
    """One line per parser: ``fuzz: scenario 1200 inputs (840 rejected with a clear error, 360 loaded)``."""
    lines = []
    total = 0
    for parser in sorted(counts):
        c = counts[parser]
        n = sum(c.values())
        total += n
        lines.append(
            f"fuzz: {parser} {n} inputs ({c.get('rejected', 0)} rejected with a clear error, "
            f"{c.get('loaded', 0)} loaded)"
        )
    mode = "heavy (x20, random)" if HEAVY else "default (derandomized)"
    lines.append(f"fuzz: {total} inputs in all, {mode}; failures are reported as test failures")
    return lines


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller with this conftest loaded: tell workers it will print the totals itself."""
    node.workerinput["fuzz_controller_reports"] = True


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    raw = getattr(node, "workeroutput", {}).get("fuzz_counts")
    if raw:
        _merge(_TOTALS, json.loads(raw))


def _shared_dir(config: pytest.Config) -> Path:
    """The run's temporary root, shared by the xdist workers (each has ``<root>/popen-gwN``)."""
    factory = config._tmp_path_factory  # type: ignore[attr-defined]
    return Path(factory.getbasetemp()).parent / "fuzz-counts"


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        _merge(_TOTALS, {k: dict(v) for k, v in COUNTS.items()})
        return
    mine = {k: dict(v) for k, v in COUNTS.items()}
    config.workeroutput["fuzz_counts"] = json.dumps(mine)  # type: ignore[attr-defined]
    if workerinput.get("fuzz_controller_reports"):
        return
    shared = _shared_dir(config)
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (shared / f"{workerinput['workerid']}.json").write_text(json.dumps(mine))
        files = sorted(shared.glob("gw*.json"))
        if len(files) < int(workerinput.get("workercount", 1)):
            return  # another worker is still running: it will report
        totals: dict[str, Counter[str]] = {}
        for f in files:
            _merge(totals, json.loads(f.read_text()))
    if totals:
        # a builtin category: the xdist controller re-imports a warning's class by module name, and it
        # cannot import this conftest
        message = "\n".join(format_counts(totals))
        warnings.warn_explicit(message, UserWarning, filename="fuzz counts", lineno=0)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _TOTALS:
        terminalreporter.section("fuzz inputs tried")
        for line in format_counts(_TOTALS):
            terminalreporter.write_line(line)
