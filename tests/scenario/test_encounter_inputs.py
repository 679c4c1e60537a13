"""Bad input to the encounter's scenario keys (issue 24 item 11): an unknown barricade doctrine, a negative
tactical-team time, a door with an unknown lock type. Each gives one line ``file:line: field: what is wrong``,
exit code 2 on the CLI, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.scenario.load import loads

runner = CliRunner()

BUILDING = {
    "name": "two rooms",
    "default_entry": "door",
    "spaces": [
        {"id": "door", "kind": "exit", "floor": 1},
        {"id": "hall", "kind": "corridor", "floor": 1},
        {"id": "room", "kind": "classroom", "floor": 1, "occupants": 20, "door_lock": "LOCK"},
    ],
    "edges": [{"a": "door", "b": "hall", "length_m": 10}, {"a": "hall", "b": "room", "length_m": 5}],
}


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ('name = "x"\n\n[doctrine]\nkind = "solo_entry"\nbarricade = "negotiate"\n', 5, "doctrine.barricade",
         ("breach", "contain")),
        ('name = "x"\n\n[responders.tactical]\nmedian_s = -600\n', 4, "responders.tactical.median_s",
         ("must be", "0")),
        ('name = "x"\n\n[responders.breach]\nstandard_s = -1\n', 4, "responders.breach.standard_s",
         ("must be at least 0",)),
        ('name = "x"\n\n[responders.search]\nlocation_info_s = -3\n', 4, "responders.search.location_info_s",
         ("never",)),
        ('name = "x"\n\n[[building.spaces]]\nid = "f1_c01"\ndoor_lock = "deadbolt"\n', 5,
         "building.spaces[0].door_lock", ("none", "standard", "reinforced")),
    ],
)  # fmt: skip
def test_bad_encounter_input_exits_2_with_one_line(
    tmp_path: Path, text: str, line: int, field: str, words: tuple[str, ...]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out = tmp_path / "out.duckdb"
    res = runner.invoke(app, ["run", str(bad), "--out", str(out)], env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert f"{bad}:{line}: {field}:" in msg, msg
    assert all(w in msg for w in words), msg
    assert "Traceback" not in res.output and not out.exists()


def test_unknown_door_lock_in_a_building_file(tmp_path: Path) -> None:
    """A building file's space with an unknown lock: the building file and the space are named."""
    (tmp_path / "b.json").write_text(json.dumps(BUILDING))
    sc = tmp_path / "s.toml"
    sc.write_text('name = "x"\n[building]\nfile = "b.json"\n')
    res = runner.invoke(app, ["run", str(sc)], env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert "b.json" in msg and "door_lock" in msg and "reinforced" in msg, msg


def test_door_lock_sets_the_breach_time() -> None:
    """A space's lock picks its median time to force the door from ``[responders.breach]``."""
    from responsesim.engine.arrays import building

    params = loads(
        '[building]\ntemplate = "elementary_wing"\n'
        '[[building.spaces]]\nid = "room_01"\ndoor_lock = "reinforced"\n'
        "[responders.breach]\nreinforced_s = 777\nstandard_s = 55\n"
    ).params
    b = building(params)
    ids = params.building.space_ids
    assert b.breach_median_s[ids.index("room_01")] == 777
    others = [b.breach_median_s[k] for k, s in enumerate(ids) if s != "room_01"]
    assert set(others) == {55.0}
