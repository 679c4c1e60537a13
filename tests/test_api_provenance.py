"""Provenance helpers of the API: git revision, calibration text, referenced input files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import responsesim.api as api
from responsesim.params import default_calibration_text, load_calibration, parse_calibration
from responsesim.scenario.load import load_scenario, loads

SHA_A = "a" * 40
SHA_B = "b" * 40


def test_read_head_from_git_files(tmp_path: Path) -> None:
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA_A + "\n")
    assert api._read_head(tmp_path) == SHA_A
    (git / "refs" / "heads" / "main").unlink()  # after `git gc` the ref is only in packed-refs
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA_B} refs/heads/main\n")
    assert api._read_head(tmp_path) == SHA_B
    (git / "HEAD").write_text(SHA_A + "\n")  # detached HEAD
    assert api._read_head(tmp_path) == SHA_A
    assert api._read_head(tmp_path / "nowhere") is None


def test_code_version_names_the_checkout_commit() -> None:
    commit, dirty = api.git_revision()
    version = api.code_version()
    assert api.git_revision() is api.git_revision()  # cached: git runs once per process
    if commit is None:  # an installed package, not a checkout
        assert version == api.package_version() and api._checkout_root() is None
        return
    assert version == f"{api.package_version()}+git.{commit[:12]}" + ("+dirty" if dirty else "")
    root = api._checkout_root()
    assert root is not None and (root / "src" / "responsesim" / "api.py").is_file()
    if shutil.which("git"):
        cmd = ["git", "-C", str(root), "cat-file", "-t", commit]
        kind = subprocess.run(cmd, capture_output=True, text=True)
        assert kind.stdout.strip() == "commit"


def test_calibration_text_is_the_file_or_an_exact_rebuild(tmp_path: Path) -> None:
    shipped = load_calibration()
    assert api.calibration_text(shipped) == (default_calibration_text(), True)
    path = tmp_path / "cal.toml"
    path.write_text(default_calibration_text())
    own = load_calibration(path).with_overrides({"p_hit": 0.123456789012345}, where="model")
    path.write_text("changed since it was loaded\n")
    text, exact = api.calibration_text(own)
    assert not exact
    rebuilt = parse_calibration(text, "rebuilt")
    assert dict(rebuilt.values) == dict(own.values)  # every value to the last bit
    assert rebuilt.version == shipped.version and rebuilt.fitted == shipped.fitted


def test_input_files_store_the_building_text(tmp_path: Path) -> None:
    plan = {
        "name": "tiny",
        "spaces": [
            {"id": "exit_a", "kind": "exit", "floor": 1},
            {"id": "hall", "kind": "corridor", "floor": 1},
            {"id": "room_1", "kind": "classroom", "floor": 1, "occupants": 10},
        ],
        "edges": [{"a": "exit_a", "b": "hall", "length_m": 5}, {"a": "hall", "b": "room_1", "length_m": 4}],
        "default_entry": "exit_a",
    }
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.json").write_text(json.dumps(plan))
    (tmp_path / "s.toml").write_text('name = "x"\n[building]\nfile = "plans/p.json"\n')
    files = api.input_files(load_scenario(tmp_path / "s.toml"))
    assert list(files) == ["plans/p.json"]
    entry = files["plans/p.json"]
    assert json.loads(entry["text"]) == plan
    assert entry["path"] == str((tmp_path / "plans" / "p.json").resolve())
    assert api.input_files(loads('name = "t"\n[building]\ntemplate = "office_floor"\n')) == {}


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="fortran"):
        api.run(loads('name = "t"\nhorizon_s = 60\n'), replications=1, backend="fortran")
