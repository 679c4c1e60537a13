from __future__ import annotations

from pathlib import Path

import pytest

BASE = 'name = "small base"\nhorizon_s = 600\n'

SMALL_SWEEP = """\
[sweep]
name = "small"
base = "base.toml"
replications_per_point = 6
seed = 11
chunk_size = 3

[[parameter]]
path = "doctrine.kind"
values = ["hesitate", "no_entry"]

[[parameter]]
path = "doctrine.delay_s"
values = [0, 300]
"""


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "small.toml").write_text(SMALL_SWEEP)
    return tmp_path


@pytest.fixture(scope="session")
def small_reference(tmp_path_factory):
    """The small sweep run uninterrupted in this process: (sweep, path of its DuckDB file)."""
    from responsesim.sweep import load_sweep, run_sweep

    d = tmp_path_factory.mktemp("ref")
    (d / "base.toml").write_text(BASE)
    (d / "small.toml").write_text(SMALL_SWEEP)
    sweep = load_sweep(d / "small.toml")
    res = run_sweep(sweep, d / "ref.duckdb", workers=1)
    assert res.complete and res.ran == 8 and not res.resumed
    return sweep, d / "ref.duckdb"
