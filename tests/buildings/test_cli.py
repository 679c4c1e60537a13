"""``responsesim building import|check|show``: output, exit codes, nothing written on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.buildings.plans import write_dxf, write_geojson
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.scenario.building import load_building_file

runner = CliRunner()


def test_import_writes_a_loadable_file_and_reports(tmp_path: Path) -> None:
    plan = write_geojson(tmp_path / "plan.geojson")
    out = tmp_path / "building.toml"
    res = runner.invoke(app, ["building", "import", str(plan), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "inferred:" in res.output and "spaces with no door or stair: store" in res.output
    spec = load_building_file(out)
    assert spec.default_entry.startswith("exit_")
    res = runner.invoke(app, ["building", "check", str(out)])
    assert res.exit_code == 0 and res.output.startswith("ok: ")


def test_check_imports_a_model_in_memory(tmp_path: Path) -> None:
    res = runner.invoke(app, ["building", "check", str(write_dxf(tmp_path / "plan.dxf"))])
    assert res.exit_code == 0, res.output
    assert "could not infer" in res.output and "ok: " in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.dxf"]


def test_show_draws_a_png(tmp_path: Path) -> None:
    png = tmp_path / "plan.png"
    res = runner.invoke(
        app, ["building", "show", str(write_geojson(tmp_path / "p.geojson")), "--png", str(png)]
    )
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "shp"], "unknown format 'shp'"),
        (["--layers", "map.toml"], "--layers applies to DXF files only"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path: Path, args: list[str], words: str) -> None:
    plan = write_geojson(tmp_path / "plan.geojson")
    out = tmp_path / "building.toml"
    res = runner.invoke(app, ["building", "import", str(plan), "--out", str(out), *args])
    assert res.exit_code == 2 and words in res.output and str(plan) in res.output
    assert not out.exists()


def test_bad_file_exits_2_names_the_feature_and_keeps_the_old_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"feature_type": "unit"}]}')
    out = tmp_path / "building.toml"
    out.write_text("old")
    res = runner.invoke(app, ["building", "import", str(bad), "--out", str(out)])
    assert res.exit_code == 2 and "features[0]" in res.output and "Traceback" not in res.output
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.geojson", "building.toml"]


def test_check_of_a_broken_graph_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "b.toml"
    bad.write_text('name = "x"\ndefault_entry = "e"\nspaces = []\nedges = []\n')
    res = runner.invoke(app, ["building", "check", str(bad)])
    assert res.exit_code == 2 and str(bad) in res.output


def test_out_must_be_toml_in_an_existing_directory(tmp_path: Path) -> None:
    plan = write_geojson(tmp_path / "plan.geojson")
    for out in (tmp_path / "b.json", tmp_path / "nope" / "b.toml"):
        res = runner.invoke(app, ["building", "import", str(plan), "--out", str(out)])
        assert res.exit_code == 2 and "--out" in res.output
