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


def _png_size(png: Path) -> tuple[int, int]:
    head = png.read_bytes()[16:24]  # IHDR: width, height
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")


def test_show_draws_more_than_three_floors_two_a_row(tmp_path: Path) -> None:
    """Five floors of a 40 m x 10 m hall (like the KIT institute's): three rows of two, not one strip."""
    text = 'name = "five floors"\ndefault_entry = "exit_main"\n'
    text += '[[spaces]]\nid = "exit_main"\nkind = "exit"\nfloor = 1\nx = 20.0\ny = -3.0\n'
    for f in range(1, 6):
        text += (
            f'[[spaces]]\nid = "hall_{f}"\nkind = "corridor"\nfloor = {f}\nx = 20.0\ny = 5.0\n'
            "polygon = [[0.0, 0.0], [40.0, 0.0], [40.0, 10.0], [0.0, 10.0]]\n"
        )
    pairs = [("exit_main", "hall_1"), *((f"hall_{f}", f"hall_{f + 1}") for f in range(1, 5))]
    text += "".join(f'[[edges]]\na = "{a}"\nb = "{b}"\nlength_m = 6.0\n' for a, b in pairs)
    (tmp_path / "five.toml").write_text(text)
    png, two = tmp_path / "five.png", tmp_path / "two.png"
    for src, out in ((tmp_path / "five.toml", png), (write_geojson(tmp_path / "p.geojson"), two)):
        res = runner.invoke(app, ["building", "show", str(src), "--png", str(out)])
        assert res.exit_code == 0, res.output
    w, h = _png_size(png)
    assert h > w / 1.5, (w, h)  # one strip of five would be about 6 x wider than tall
    w2, h2 = _png_size(two)
    assert w2 > 1.5 * h2, (w2, h2)  # two floors stay side by side


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
