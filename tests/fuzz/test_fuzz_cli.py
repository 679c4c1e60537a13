"""Fuzz the command line: a bad file given to ``responsesim run | review | sweep`` exits with code 2 and
prints the parser's message (``file:line: field: message``) with no traceback. Inputs that load are not
simulated (that is the engine's job, not the parser's); they are counted as loaded.

``read_input_text`` (the reader behind scenario and sweep files) is fuzzed here too, with random bytes and
random file names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_strategies import (
    REPO,
    any_bytes,
    count,
    decoded,
    fuzz_settings,
    hang_guard,
    mutated_csv,
    mutated_toml,
    write_input,
)
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.errors import InputError, read_input_text
from responsesim.params import load_calibration
from responsesim.review.errors import ReviewInputError
from responsesim.review.timeline import load_timeline
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import load_scenario
from responsesim.sweep.spec import load_sweep

CAL = load_calibration()
SCENARIOS = tuple(p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.toml")))
SWEEPS = ((REPO / "examples/sweeps/sro_lockdown.toml").read_text(encoding="utf-8"),)
TIMELINE = (REPO / "examples/parkland/timeline.csv").read_text(encoding="utf-8")
PROTOCOL = REPO / "examples/protocols/post1999_doctrine.toml"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cli")


def _squash(s: str) -> str:
    """Without whitespace: rich wraps long messages to the terminal width (80 columns under CliRunner)."""
    return re.sub(r"\s+", "", s)


def assert_cli_rejects(args: list[str], message: str) -> None:
    """The command exits with code 2, prints ``message`` and no traceback."""
    with hang_guard(60):
        result = CliRunner().invoke(app, args)
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert isinstance(result.exception, SystemExit), f"{result.exception!r} for {args}: {out[-2000:]}"
    assert result.exit_code == 2, f"exit code {result.exit_code}: {out[-2000:]}"
    assert "Traceback" not in out, out[-2000:]
    assert _squash(message) in _squash(out), f"expected {message!r} in {out[-2000:]!r}"


@fuzz_settings(40)
@given(data=st.sampled_from(SCENARIOS).flatmap(mutated_toml))
def test_cli_run_bad_scenarios(workdir: Path, data: bytes) -> None:
    path = write_input(workdir / "scenario.toml", data)
    try:
        with hang_guard(20):
            load_scenario(path, CAL)
    except ScenarioError as exc:
        assert_cli_rejects(["run", str(path)], str(exc))
        count("cli run", "rejected")
    else:
        count("cli run", "loaded")


@fuzz_settings(30, deadline_ms=None)
@given(data=st.sampled_from(SWEEPS).flatmap(mutated_toml))
def test_cli_sweep_bad_files(workdir: Path, data: bytes) -> None:
    path = write_input(workdir / "sweep.toml", data)
    store = workdir / "never_written.duckdb"
    try:
        with hang_guard(60):
            load_sweep(path)
    except ScenarioError as exc:
        assert_cli_rejects(["sweep", str(path), "--store", str(store)], str(exc))
        assert not store.exists(), "a rejected sweep wrote its store"
        count("cli sweep", "rejected")
    else:
        count("cli sweep", "loaded")


@fuzz_settings(40)
@given(data=mutated_csv(TIMELINE))
def test_cli_review_bad_timelines(workdir: Path, data: bytes) -> None:
    path = write_input(workdir / "timeline.csv", data)
    try:
        with hang_guard(20):
            load_timeline(path)
    except ReviewInputError as exc:
        assert_cli_rejects(["review", str(path), "--protocol", str(PROTOCOL)], str(exc))
        count("cli review", "rejected")
    else:
        count("cli review", "loaded")


@fuzz_settings(100)
@given(data=any_bytes, name=st.one_of(st.just("input.toml"), st.text(min_size=1, max_size=300)))
def test_read_input_text(workdir: Path, data: bytes, name: str) -> None:
    """The UTF-8 text of the file, or an ``InputError`` naming it: never another exception."""
    path = workdir / "read" / name
    try:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        written = True
    except (OSError, ValueError):  # a name the file system refuses: reading it must fail cleanly too
        written = False
    try:
        text = read_input_text(path, "test file")
    except InputError as exc:
        assert exc.file is not None and str(exc).startswith(exc.file) and "test file" in exc.message
        assert not written or decoded(data) is None, str(exc)
        count("read_input_text", "rejected")
    else:
        raw = decoded(data)
        assert written and raw is not None
        assert text == raw.replace("\r\n", "\n").replace("\r", "\n")  # text mode: universal newlines
        count("read_input_text", "loaded")


def test_cli_bad_file_in_a_real_process(tmp_path: Path) -> None:
    """One real process (not CliRunner): exit code 2, the message on stderr, no traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'name = "x"\n[alerting]\nlockdown_at_s = "soon"\n\x00')
    proc = subprocess.run(
        [sys.executable, "-m", "responsesim.cli", "run", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and str(bad) in _squash(proc.stderr)
    count("cli run (process)", "rejected")


def test_cli_message_with_markup_characters(tmp_path: Path) -> None:
    """Found by reading the CLI while writing the fuzz tests: a message quoting '[/x]' is rich markup."""
    bad = tmp_path / "markup.toml"
    bad.write_text('"[/x]" = 1\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(bad, CAL)
    assert_cli_rejects(["run", str(bad)], str(exc.value))
