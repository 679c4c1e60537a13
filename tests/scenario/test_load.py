"""Tests for loading scenarios (scenario/load.py): one clear ScenarioError per bad input, and happy paths.

Every error case checks ``err.file``, ``err.field`` and ``err.line`` exactly and the rendered
``file:line: field: message`` text. Line numbers are computed from the test's own TOML text (``line_of``)
rather than written by hand, so a test states *which* line is meant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from responsesim.codes import ROLE_PATROL, ROLE_SRO, ROLE_TACTICAL
from responsesim.scenario.building import KIND_CODES, template
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import DEFAULT_NAME, Scenario, load_scenario, loads

# ------------------------------------------------------------------------------------------- helpers


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the nth line of ``text`` containing ``needle``."""
    hits = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    assert len(hits) >= nth, f"{needle!r} not in text"
    return hits[nth - 1]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, name: str = "scenario.toml") -> tuple[ScenarioError, Path]:
    """Write ``text`` as a scenario file, load it and return the ScenarioError (fails if it loads)."""
    path = write(tmp_path / name, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value, path


def assert_error(
    err: ScenarioError, file: Path | str, field: str | None, line: int | None, *needles: str
) -> None:
    assert err.file == str(file)
    assert err.field == field
    assert err.line == line
    prefix = str(file) if line is None else f"{file}:{line}"
    if field is not None:
        prefix += f": {field}"
    text = str(err)
    assert text.startswith(prefix + ": "), text
    assert text == f"{prefix}: {err.message}"
    for needle in needles:
        assert needle in err.message, (needle, err.message)


def tiny_building(**changes: Any) -> dict[str, Any]:
    """exit_a - hall - room_1 (20 occupants), hall - exit_b."""
    data: dict[str, Any] = {
        "name": "tiny",
        "default_entry": "exit_a",
        "spaces": [
            {"id": "exit_a", "kind": "exit", "floor": 1},
            {"id": "hall", "kind": "corridor", "floor": 1},
            {"id": "room_1", "kind": "classroom", "floor": 1, "occupants": 20, "hard_corner": True},
            {"id": "exit_b", "kind": "exit", "floor": 1},
        ],
        "edges": [
            {"a": "exit_a", "b": "hall", "length_m": 5},
            {"a": "hall", "b": "room_1", "length_m": 4},
            {"a": "hall", "b": "exit_b", "length_m": 6},
        ],
    }
    data.update(changes)
    return data


TINY_UNREACHABLE_TOML = """\
name = "tiny"
default_entry = "exit_a"

[[spaces]]
id = "exit_a"
kind = "exit"
floor = 1

[[spaces]]
id = "room_1"
kind = "classroom"
floor = 1
occupants = 20

[[spaces]]
id = "island"
kind = "office"
floor = 1
occupants = 2

[[edges]]
a = "exit_a"
b = "room_1"
length_m = 4
"""

TINY_NO_EXIT_TOML = """\
name = "tiny"
default_entry = "door"

[[spaces]]
id = "door"
kind = "corridor"
floor = 1

[[spaces]]
id = "room_1"
kind = "classroom"
floor = 1
occupants = 20

[[edges]]
a = "door"
b = "room_1"
length_m = 4
"""


def scenario_with_building_file(name: str) -> str:
    return f'name = "uses a building file"\nseed = 7\n\n[building]\nfile = "{name}"\n'


# ------------------------------------------------------------------------------------------- bad input


def test_unknown_key(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[occupants]\nreaction_median_s = 5\nbogus = 1\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "occupants.bogus", line_of(text, "bogus"), "unknown key")


def test_several_problems_give_one_error(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[attacker]\ncolour = "red"\n\n[occupants]\nbogus = 1\n'
    err, path = load_error(tmp_path, text)
    # one error, naming one of the two problems (pydantic's order) with its own line, and counting the rest
    assert err.field in ("attacker.colour", "occupants.bogus")
    key = err.field.split(".")[-1]
    assert_error(err, path, err.field, line_of(text, key), "unknown key", "(and 1 more problem)")


def test_unknown_top_level_table(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[respondres.patrol]\ncount = 3\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "respondres", line_of(text, "[respondres.patrol]"), "unknown key")


@pytest.mark.parametrize(
    ("section", "key", "value", "field"),
    [
        ("responders.patrol", "count", '"six"', "responders.patrol.count"),
        ("responders.sro", "present", '"maybe"', "responders.sro.present"),
        ("occupants", "p_lockdown", "[0.5]", "occupants.p_lockdown"),
        ("attacker", "weapon", '"bazooka"', "attacker.weapon"),
    ],
)
def test_wrong_type(tmp_path: Path, section: str, key: str, value: str, field: str) -> None:
    text = f'name = "x"\nseed = 3\n\n[{section}]\n{key} = {value}\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, field, line_of(text, f"{key} ="))


def test_wrong_type_top_level(tmp_path: Path) -> None:
    text = 'name = "x"\nseed = "abc"\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "seed", 2, "whole number")


def test_negative_time(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[alerting]\nhear_hops = 3\nlockdown_at_s = -5\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "alerting.lockdown_at_s", line_of(text, "lockdown_at_s"), ">= 0", "never")


def test_time_must_be_number_or_never(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[alerting]\nfire_alarm_at_s = "soon"\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "alerting.fire_alarm_at_s", line_of(text, "fire_alarm_at_s"), "never")


def test_unknown_template(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[building]\nhard_corners = true\ntemplate = "castle"\n'
    err, path = load_error(tmp_path, text)
    assert_error(
        err,
        path,
        "building.template",
        line_of(text, "template"),
        "'castle'",
        "three_floor_school",
        "office_floor",
    )


UNREACHABLE_JSON = json.dumps(
    tiny_building(
        spaces=[*tiny_building()["spaces"], {"id": "island", "kind": "office", "floor": 1, "occupants": 2}]
    ),
    indent=2,
)
NO_EXIT_JSON = json.dumps(
    tiny_building(
        spaces=[
            {"id": "door", "kind": "corridor", "floor": 1},
            {"id": "room_1", "kind": "classroom", "floor": 1, "occupants": 20},
        ],
        edges=[{"a": "door", "b": "room_1", "length_m": 4}],
        default_entry="door",
    ),
    indent=2,
)


@pytest.mark.parametrize(
    ("filename", "content", "needles"),
    [
        ("unreachable.json", UNREACHABLE_JSON, ("not reachable", "'island'")),
        ("no_exit.json", NO_EXIT_JSON, ("no exit",)),
        ("unreachable.toml", TINY_UNREACHABLE_TOML, ("not reachable", "'island'")),
        ("no_exit.toml", TINY_NO_EXIT_TOML, ("no exit",)),
    ],
)
def test_bad_building_file(tmp_path: Path, filename: str, content: str, needles: tuple[str, ...]) -> None:
    building = write(tmp_path / filename, content)
    text = scenario_with_building_file(filename)
    err, path = load_error(tmp_path, text)
    # the error names the scenario file and the line of its `file = ...`, and the building file in the message
    assert_error(
        err, path, "building.file", line_of(text, "file ="), "building file", str(building), *needles
    )


def test_bad_toml_building_file_names_the_line_in_the_building_file(tmp_path: Path) -> None:
    building = write(tmp_path / "b.toml", TINY_UNREACHABLE_TOML)
    err, _ = load_error(tmp_path, scenario_with_building_file("b.toml"))
    # the unreachable space is the third [[spaces]] table
    assert f"{building}:{line_of(TINY_UNREACHABLE_TOML, '[[spaces]]', 3)}:" in err.message


def test_missing_building_file(tmp_path: Path) -> None:
    text = scenario_with_building_file("nowhere.json")
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "building.file", line_of(text, "file ="), "nowhere.json", "cannot read")


def test_entry_space_does_not_exist(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[attacker]\nweapon = "rifle"\nentry_space = "roof_hatch"\n'
    err, path = load_error(tmp_path, text)
    assert_error(
        err,
        path,
        "attacker.entry_space",
        line_of(text, "entry_space"),
        "'roof_hatch'",
        "exit_east",
        "main_entrance",
    )


def test_entry_space_is_not_an_exit(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[attacker]\nentry_space = "room_101"\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "attacker.entry_space", line_of(text, "entry_space"), "'room_101'", "not an exit")


def test_unknown_model_override(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[model]\np_hit = 0.3\nfire_rate_bazooka = 2.0\n'
    err, path = load_error(tmp_path, text)
    assert_error(
        err,
        path,
        "model.fire_rate_bazooka",
        line_of(text, "fire_rate_bazooka"),
        "unknown model parameter",
        "p_hit",
    )


def test_invalid_model_override_value(tmp_path: Path) -> None:
    text = 'name = "x"\n\n[model]\np_hit = 0.3\nfire_rate_handgun = -1.0\n'
    err, path = load_error(tmp_path, text)
    assert_error(err, path, "model.fire_rate_handgun", line_of(text, "fire_rate_handgun"), ">= 0")
    text = 'name = "x"\n\n[model]\np_hit = 1.5\n'
    err, path = load_error(tmp_path, text, "prob.toml")
    assert_error(err, path, "model.p_hit", line_of(text, "p_hit"), "probability")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name = "x"\n\n[attacker\nweapon = "rifle"\n', "[attacker"),
        ('name = "x"\nseed = \nreplications = 10\n', "seed ="),
        ('name = "x"\nname = "y"\n', 'name = "y"'),
    ],
)
def test_toml_syntax_error(tmp_path: Path, text: str, needle: str) -> None:
    err, path = load_error(tmp_path, text)
    assert_error(err, path, None, line_of(text, needle), "TOML syntax error")
    assert "column" in err.message


def test_toml_syntax_error_from_loads() -> None:
    with pytest.raises(ScenarioError) as info:
        loads('name = "x"\nseed = = 3\n', "inline.toml")
    assert_error(info.value, "inline.toml", None, 2, "TOML syntax error")


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    assert_error(info.value, missing, None, None, "cannot read")
    directory = tmp_path / "a_directory.toml"
    directory.mkdir()
    with pytest.raises(ScenarioError) as info:
        load_scenario(directory)
    assert_error(info.value, directory, None, None, "cannot read")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "école"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(latin1)
    assert_error(info.value, latin1, None, None, "UTF-8")


def test_loads_reports_the_given_source() -> None:
    with pytest.raises(ScenarioError) as info:
        loads('name = "x"\n[occupants]\nbogus = 1\n', "my scenario")
    assert_error(info.value, "my scenario", "occupants.bogus", 3, "unknown key")


# ------------------------------------------------------------------------------------------- happy paths


@pytest.fixture(scope="module")
def default() -> Scenario:
    return load_scenario()


def test_default_scenario(default: Scenario) -> None:
    p = default.params
    b = default.building
    assert default.source == DEFAULT_NAME
    assert 850 <= p.n_occupants <= 950
    assert p.n_occupants == int(b.occupants.sum()) == int(p.group_size.sum())
    assert int((b.kind == KIND_CODES["classroom"]).sum()) == 30
    roles = p.unit_role.tolist()
    assert roles == [ROLE_SRO] + [ROLE_PATROL] * 6 + [ROLE_TACTICAL] * 4
    assert p.unit_armed.all()
    assert p.lockdown_t == math.inf  # announced by the SRO on arrival instead
    assert p.sro_calls_lockdown
    assert p.fire_alarm_t == math.inf
    assert p.horizon_s == 3600
    assert p.seed == default.spec.seed
    assert b.space_ids[p.attacker_entry] == "exit_east"
    assert len(default.sha256) == 64
    assert (p.group_size <= default.spec.occupants.group_size_max).all()


def test_loads_minimal_toml() -> None:
    sc = loads('name = "mini"\n\n[building]\ntemplate = "elementary_wing"\n')
    p = sc.params
    assert p.name == "mini"
    assert p.n_occupants == sum(s.occupants for s in template("elementary_wing").spaces)
    assert sc.building.name == "elementary_wing"
    # unspecified values take the schema defaults
    assert p.lockdown_t == sc.spec.alerting.lockdown_at_s == 60.0
    assert p.unit_role.tolist() == [ROLE_SRO] + [ROLE_PATROL] * 6 + [ROLE_TACTICAL] * 4
    assert sc.source == "<text>"
    # an empty text is a valid scenario too (every default)
    assert loads("").params.n_occupants == load_scenario().params.n_occupants


def test_never_and_numeric_times() -> None:
    p = loads('[alerting]\nlockdown_at_s = "never"\nfire_alarm_at_s = "never"\n').params
    assert p.lockdown_t == math.inf and p.fire_alarm_t == math.inf
    p = loads("[alerting]\nlockdown_at_s = 0\nfire_alarm_at_s = 90\n").params
    assert p.lockdown_t == 0.0 and p.fire_alarm_t == 90.0


def test_building_file_resolves_relative_to_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "scenarios"
    write(folder / "tiny.json", json.dumps(tiny_building()))
    scen = write(folder / "s.toml", scenario_with_building_file("tiny.json"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the scenario's folder
    sc = load_scenario(scen)
    assert sc.building.name == "tiny"
    assert sc.params.n_occupants == 20
    assert sc.building.space_ids[sc.params.attacker_entry] == "exit_a"
    # a relative path to the scenario works the same
    monkeypatch.chdir(tmp_path)
    assert load_scenario(Path("scenarios/s.toml")).building.name == "tiny"
    # loads() resolves against the working directory
    monkeypatch.chdir(folder)
    assert loads(scenario_with_building_file("tiny.json")).building.name == "tiny"
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ScenarioError) as info:
        loads(scenario_with_building_file("tiny.json"))
    assert info.value.field == "building.file"


def test_toml_building_file(tmp_path: Path) -> None:
    good = TINY_UNREACHABLE_TOML + '\n[[edges]]\na = "room_1"\nb = "island"\nlength_m = 3\n'
    write(tmp_path / "b.toml", good)
    sc = load_scenario(write(tmp_path / "s.toml", scenario_with_building_file("b.toml")))
    assert sc.building.space_ids == ("exit_a", "room_1", "island")
    assert sc.params.n_occupants == 22


def test_entry_space_override() -> None:
    sc = loads('[attacker]\nentry_space = "main_entrance"\n')
    assert sc.building.space_ids[sc.params.attacker_entry] == "main_entrance"


SCHOOL = '[building]\ntemplate = "three_floor_school"\n'


def test_building_overrides_apply(default: Scenario) -> None:
    b0 = default.building
    assert b0.hard_corner[b0.lockable].any()
    off = loads(SCHOOL + "hard_corners = false\n").building
    assert not off.hard_corner.any()
    np.testing.assert_array_equal(off.lockable, b0.lockable)
    on = loads(SCHOOL + "hard_corners = true\n").building
    np.testing.assert_array_equal(on.hard_corner, on.lockable)
    nowin = loads(SCHOOL + "door_windows = false\n").building
    assert not nowin.door_window.any()
    sc = loads(
        SCHOOL + 'occupants_per_classroom = 10\n\n[[building.spaces]]\nid = "f1_office"\n'
        "hard_corner = false\noccupants = 0\n"
    )
    classrooms = sc.building.kind == KIND_CODES["classroom"]
    assert (sc.building.occupants[classrooms] == 10).all()
    office = sc.building.index("f1_office")
    assert not sc.building.hard_corner[office]
    assert sc.building.occupants[office] == 0
    others = sum(s.occupants for s in template("three_floor_school").spaces if s.kind != "classroom")
    expected = 10 * int(classrooms.sum()) + others - int(b0.occupants[office])
    assert sc.params.n_occupants == int(sc.building.occupants.sum()) == expected


def test_hard_corner_override_reaches_the_engine_params() -> None:
    p = loads(SCHOOL + "hard_corners = false\n").params
    assert not p.building.hard_corner.any()


def test_unknown_space_override(tmp_path: Path) -> None:
    text = (
        'name = "x"\n\n[building]\ntemplate = "elementary_wing"\n\n'
        '[[building.spaces]]\nid = "gym"\nlockable = true\n'
    )
    err, path = load_error(tmp_path, text)
    assert_error(
        err, path, "building.spaces", line_of(text, "[[building.spaces]]"), "'gym'", "elementary_wing"
    )


def test_building_table_with_only_overrides_uses_default_template() -> None:
    sc = loads('name = "x"\n\n[building]\nhard_corners = false\n')
    assert sc.spec.building.template == "three_floor_school"
    assert not sc.building.hard_corner.any()
    assert sc.building.lockable.sum() >= 30


def test_model_overrides_apply() -> None:
    p = loads("[model]\np_hit = 0.5\nfire_rate_handgun = 2.0\n").params
    assert p.p_hit == 0.5 and p.fire_rate == 2.0
    assert loads("").params.p_hit != 0.5


def test_responder_entry_space_must_exist_and_be_an_exit(tmp_path: Path) -> None:
    text = '[responders]\nentry_space = "roof_hatch"\n'
    err, _path = load_error(tmp_path, text)
    assert err.field == "responders.entry_space" and err.line == 2 and "roof_hatch" in str(err)
    sc = loads('[responders]\nentry_space = "exit_west"\n')
    assert sc.params.officer_entry == sc.building.index("exit_west")
    assert loads("").params.officer_entry == -1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[occupants]\nreaction_median_s = inf\n", "occupants.reaction_median_s"),
        ("[care]\nems_access_median_s = inf\n", "care.ems_access_median_s"),
        ("[model]\nfire_rate_handgun = inf\n", "model.fire_rate_handgun"),
        ("[alerting]\nlockdown_at_s = inf\n", "alerting.lockdown_at_s"),
        ("[alerting]\nfire_alarm_at_s = nan\n", "alerting.fire_alarm_at_s"),
    ],
)
def test_infinite_numbers_are_rejected(text: str, field: str) -> None:
    """Regression (fuzzing): ``inf`` passed every ``gt=0`` bound and reached Params as an infinite median."""
    with pytest.raises(ScenarioError) as exc:
        loads(text, "inf.toml")
    assert exc.value.field == field and exc.value.line == 2
    assert "finite" in exc.value.message


def test_huge_integer_time_is_an_error_not_a_traceback() -> None:
    """Regression (fuzzing): ``lockdown_at_s = 1`` followed by 400 zeros raised OverflowError."""
    with pytest.raises(ScenarioError) as exc:
        loads("[alerting]\nlockdown_at_s = 1" + "0" * 400 + "\n", "big.toml")
    assert exc.value.field == "alerting.lockdown_at_s" and exc.value.line == 2


def test_nul_in_file_names_is_a_clear_error() -> None:
    """Regression (fuzzing): 'file = "a\\u0000b.json"' and a scenario path with a NUL raised ValueError."""
    with pytest.raises(ScenarioError) as exc:
        loads('[building]\nfile = "a\\u0000b.json"\n', "nul.toml")
    assert exc.value.field == "building.file" and exc.value.line == 2 and "NUL" in exc.value.message
    with pytest.raises(ScenarioError, match="NUL character"):
        load_scenario("x\x00.toml")


def test_tiny_tick_is_rejected_not_a_run_that_never_ends() -> None:
    """Regression: 'tick_s = 1e-6' loaded and `responsesim run` then did not finish (6e8 ticks)."""
    with pytest.raises(ScenarioError) as exc:
        loads("horizon_s = 600\ntick_s = 1e-6\n", "tick.toml")
    assert exc.value.field == "tick_s" and exc.value.line == 2 and "ticks" in exc.value.message
    assert loads("horizon_s = 86400\ntick_s = 0.5\n", "ok.toml").params.dt == 0.5
