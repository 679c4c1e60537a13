"""Tests for scenario error reporting: TOML line lookup and conversion of pydantic/TOML errors."""

from __future__ import annotations

import tomllib
from textwrap import dedent

import pytest
from pydantic import ValidationError

from responsesim.scenario.errors import (
    ScenarioError,
    format_loc,
    from_toml_decode_error,
    from_validation_error,
    locate_toml_line,
)
from responsesim.scenario.schema import ScenarioSpec


def scenario_error(text: str, file: str | None = "x.toml") -> ScenarioError:
    """Validate a TOML text as a scenario and return the converted error (fails if it validates)."""
    with pytest.raises(ValidationError) as info:
        ScenarioSpec.model_validate(tomllib.loads(text))
    return from_validation_error(info.value, file, text)


# ------------------------------------------------------------------------------------ ScenarioError


def test_str_full_and_partial() -> None:
    err = ScenarioError("Input should be greater than 0", file="examples/x.toml", field="a.b", line=12)
    assert str(err) == "examples/x.toml:12: a.b: Input should be greater than 0"
    assert str(ScenarioError("bad", file="x.toml")) == "x.toml: bad"
    assert str(ScenarioError("bad", field="a.b")) == "a.b: bad"
    assert str(ScenarioError("bad", line=3)) == "line 3: bad"
    assert str(ScenarioError("bad")) == "bad"
    assert isinstance(err, Exception)


def test_format_loc() -> None:
    assert format_loc(("building", "spaces", 1, "id")) == "building.spaces[1].id"
    assert format_loc(("replications",)) == "replications"
    assert format_loc(()) is None


# ------------------------------------------------------------------------------------ validation errors


def test_unknown_key_in_nested_table() -> None:
    text = dedent(
        """\
        name = "x"

        [responders.patrol]
        count = 4
        fist_median_s = 120   # typo
        """
    )
    err = scenario_error(text)
    assert err.field == "responders.patrol.fist_median_s"
    assert err.line == 5
    assert "unknown key" in err.message
    assert str(err).startswith("x.toml:5: responders.patrol.fist_median_s: unknown key")


def test_wrong_type_top_level() -> None:
    text = 'name = "x"\n# replications = 10\nreplications = "many"\n'
    err = scenario_error(text)
    assert (err.field, err.line) == ("replications", 3)
    assert "whole number" in err.message


def test_negative_time() -> None:
    text = dedent(
        """\
        [occupants]
        reaction_median_s = 12.0

        [alerting]
        hear_hops = 2
        lockdown_at_s = -5
        """
    )
    err = scenario_error(text, file="examples/x.toml")
    assert (err.field, err.line) == ("alerting.lockdown_at_s", 6)
    assert err.message == 'must be >= 0 seconds (or "never")'  # "Value error, " prefix removed
    assert str(err) == 'examples/x.toml:6: alerting.lockdown_at_s: must be >= 0 seconds (or "never")'


def test_array_of_tables_index_and_several_errors() -> None:
    text = dedent(
        """\
        [building]
        template = "three_floor_school"

        [[building.spaces]]
        id = "room_101"
        lockable = true

        [[building.spaces]]
        id = "room_102"
        occupants = -3

        [[building.spaces]]
        lockable = false
        """
    )
    err = scenario_error(text)
    assert (err.field, err.line) == ("building.spaces[1].occupants", 10)
    assert err.message.endswith("(and 1 more problem)")
    # the second error: a missing key points at the header of its table
    assert locate_toml_line(text, ("building", "spaces", 2, "id")) == 12
    assert locate_toml_line(text, ("building", "spaces", 0, "lockable")) == 6


def test_inline_table() -> None:
    text = dedent(
        """\
        [responders]
        officer_speed_mps = 1.5
        sro = { present = true, armed = 3 }
        """
    )
    err = scenario_error(text)
    assert (err.field, err.line) == ("responders.sro.armed", 3)


def test_dotted_key() -> None:
    text = 'name = "x"\nresponders.patrol.first_median_s = 0\n'
    err = scenario_error(text)
    assert (err.field, err.line) == ("responders.patrol.first_median_s", 2)
    assert err.message == "must be more than 0"


def test_model_level_error_points_at_table() -> None:
    text = '# two sources\n[building]\ntemplate = "x"\nfile = "y.json"\n'
    err = scenario_error(text)
    assert (err.field, err.line) == ("building", 2)
    assert "either" in err.message


def test_no_text_no_line() -> None:
    with pytest.raises(ValidationError) as info:
        ScenarioSpec.model_validate({"replications": 0})
    err = from_validation_error(info.value, None, None)
    assert (err.file, err.field, err.line) == (None, "replications", None)


# ------------------------------------------------------------------------------------ locate_toml_line


TRICKY = dedent(
    """\
    # [alerting] in a comment
    name = "a # not a comment = [x]"   # comment with = and [brackets]
    description = '''
    lockdown_at_s = 1
    [alerting]
    '''
    model = { "quoted.key" = 1.5, b = [1, 2] }

    [ responders . patrol ]   # spaced header
    count = 3
    'call_delay_median_s' = 30

    [alerting]
    fire_alarm_at_s = [
      # an element comment, with ] and {
      "x]",
      1979-05-27T07:32:00Z,
      { nested = "}" },
    ]
    lockdown_at_s = "never"

    [[building.spaces]]
    id = "a"
    [building.spaces.extra]
    k = 1
    [[building.spaces]]
    id = "b"
    """
)


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("name",), 2),
        (("description",), 3),
        (("model", "quoted.key"), 7),
        (("model", "b", 1), 7),
        (("responders",), 9),
        (("responders", "patrol"), 9),
        (("responders", "patrol", "count"), 10),
        (("responders", "patrol", "call_delay_median_s"), 11),
        (("responders", "patrol", "missing_key"), 9),
        (("alerting",), 13),
        (("alerting", "fire_alarm_at_s"), 14),
        (("alerting", "fire_alarm_at_s", 0), 16),
        (("alerting", "fire_alarm_at_s", 1), 17),
        (("alerting", "fire_alarm_at_s", 2, "nested"), 18),
        (("alerting", "lockdown_at_s"), 20),
        (("alerting", "lockdown_at_s", "float"), 20),  # union tag appended by pydantic
        (("building", "spaces", 0, "id"), 23),
        (("building", "spaces", 0, "extra", "k"), 25),
        (("building", "spaces", 1, "id"), 27),
        (("building", "spaces", 1), 26),
        (("building",), 22),
        (("nowhere",), None),
        ((), None),
    ],
)
def test_locate_tricky(loc: tuple[str | int, ...], line: int | None) -> None:
    tomllib.loads(TRICKY)  # the fixture is valid TOML
    assert locate_toml_line(TRICKY, loc) == line


def test_explicit_table_preferred_over_implicit() -> None:
    text = "[a.b]\nx = 1\n[a]\ny = 2\n"
    assert locate_toml_line(text, ("a",)) == 3
    assert locate_toml_line(text, ("a", "b")) == 1


def test_nested_arrays_of_tables_restart_per_parent() -> None:
    text = "[[a]]\n[[a.b]]\nx = 1\n[[a]]\n[[a.b]]\nx = 2\n[[a.b]]\nx = 3\n"
    data = tomllib.loads(text)
    assert data["a"][1]["b"][1]["x"] == 3
    assert locate_toml_line(text, ("a", 1, "b", 1, "x")) == 8
    assert locate_toml_line(text, ("a", 0, "b", 0, "x")) == 3


def test_malformed_text_does_not_raise() -> None:
    for text in ["[a\nb = ", 'x = "unterminated\ny = 1', "= = =", "[[", "a = {b = [1, {", "'''"]:
        locate_toml_line(text, ("a", "b"))
    assert locate_toml_line('x = "unterminated\ny = 1', ("y",)) == 2


# ------------------------------------------------------------------------------------ TOML syntax errors


def test_toml_decode_error_line() -> None:
    text = 'name = "x"\n[alerting]\nlockdown_at_s = \n'
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    err = from_toml_decode_error(info.value, "x.toml")
    assert err.line == 3
    assert err.field is None
    assert err.message.startswith("TOML syntax error: Invalid value")
    assert "(column" in err.message and "at line" not in err.message
    assert str(err).startswith("x.toml:3: TOML syntax error")


def test_toml_decode_error_end_of_document() -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads("a = [1,\n")
    err = from_toml_decode_error(info.value, None)
    assert err.line is None
    assert "end of the file" in err.message


def test_toml_decode_error_end_of_document_gets_the_last_line(tmp_path) -> None:
    """Regression (fuzzing): a file truncated inside a table header, ``...\\n[r``, had no line number."""
    from responsesim.scenario.load import load_scenario

    text = 'name = "x"\n\n[responders.patrol]\ncount = 6\n\n[r'
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    err = from_toml_decode_error(info.value, "x.toml", text)
    assert err.line == 6
    assert str(err).startswith("x.toml:6: TOML syntax error")
    path = tmp_path / "truncated.toml"
    path.write_text('name = "x"\nseed = [1,\n\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as loaded:
        load_scenario(path)
    assert loaded.value.line == 2 and "end of the file" in loaded.value.message
