"""Fuzz building files (JSON and TOML): they load into a connected graph or raise a clear
``BuildingFileError``; through a scenario's ``[building] file`` they raise a clear ``ScenarioError``."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fuzz_strategies import (
    any_bytes,
    assert_clear_input_error,
    check_parse,
    decoded,
    fuzz_settings,
    model_documents,
    mutated_toml,
    random_toml_inputs,
    toml_dumps,
    write_input,
)
from hypothesis import given
from hypothesis import strategies as st

from responsesim.params import load_calibration
from responsesim.scenario.building import (
    BuildingFileError,
    BuildingSpec,
    compile_building,
    load_building_file,
    template,
)
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import load_scenario

CAL = load_calibration()
TEMPLATE_DOCS = [template(n).model_dump() for n in ("elementary_wing", "office_floor")]
JSON_SEEDS = tuple(json.dumps(d, indent=2) for d in TEMPLATE_DOCS)
TOML_SEEDS = tuple(toml_dumps(d) for d in TEMPLATE_DOCS)
SPACE_IDS = sorted({s["id"] for d in TEMPLATE_DOCS for s in d["spaces"]})
#: a message that names what is wrong: a field path (spaces[3] ..., edges[0] ..., default_entry) or a
#: whole-building rule (no exit, unreachable spaces)
_NAMES_A_FIELD = re.compile(r"\b(spaces|edges|default_entry|name|description|exit|space)\b")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-building")


def assert_clear_building_error(exc: BuildingFileError, path: Path, text: str | None) -> None:
    """``file[:line]: message``; syntax errors give the line; others name the field or rule broken."""
    s = str(exc)
    assert exc.path == path and s.startswith(str(path)), s
    assert exc.message.strip() and "Traceback" not in s, s
    if "syntax error" in exc.message:
        assert exc.line is not None, f"syntax error without a line: {s}"
    elif not any(w in exc.message for w in ("cannot read", "top level must be an object")):
        # JSON validation errors have no line: the message starts with the key path (``spaces[3] (id
        # 'x').kind: ...``, ``unknown_key: unknown key ...``) or states the whole-building rule broken
        prefix = exc.message.split(": ", 1)[0]
        names_key = text is not None and len(prefix) < len(exc.message) and prefix in text
        named = names_key or _NAMES_A_FIELD.search(exc.message)
        assert exc.line is not None or named, f"no line or field: {s}"
    if exc.line is not None and text is not None:
        assert 1 <= exc.line <= text.count("\n") + 2, s


def assert_building_sane(spec: BuildingSpec) -> None:
    """A loaded building compiles: finite distances, at least one exit, the default entry an exit."""
    g = compile_building(spec)
    assert np.isfinite(g.dist).all() and len(g.exits) >= 1
    assert g.default_entry in set(g.exits.tolist())
    assert all(math.isfinite(v) for v in g.xy.ravel())


def _load(path: Path, data: bytes) -> None:
    write_input(path, data)
    check_parse(
        "building",
        lambda: load_building_file(path),
        BuildingFileError,
        lambda exc: assert_clear_building_error(exc, path, decoded(data)),
        assert_building_sane,
    )


@st.composite
def mutated_json(draw: Any) -> bytes:
    """A template's JSON with structural faults (a value replaced, a key dropped or added) and/or line,
    character and byte mutations."""
    doc = json.loads(draw(st.sampled_from(JSON_SEEDS)))
    doc = draw(st.builds(_json_faults, st.just(doc), st.integers(0, 2**32 - 1), st.integers(0, 3)))
    text = json.dumps(doc, indent=2)
    if draw(st.booleans()):
        return draw(mutated_toml(text, max_ops=2))
    return text.encode("utf-8")


def _json_faults(doc: dict[str, Any], seed: int, n: int) -> dict[str, Any]:
    from fuzz_strategies import _corrupt

    return _corrupt(doc, BuildingSpec, seed, n)


@fuzz_settings(60)
@given(data=mutated_json())
def test_mutated_building_json(workdir: Path, data: bytes) -> None:
    _load(workdir / "building.json", data)


@fuzz_settings(80)
@given(data=st.sampled_from(TOML_SEEDS).flatmap(mutated_toml))
def test_mutated_building_toml(workdir: Path, data: bytes) -> None:
    _load(workdir / "building.toml", data)


@fuzz_settings(60)
@given(data=st.one_of(random_toml_inputs(), any_bytes), suffix=st.sampled_from([".json", ".toml"]))
def test_random_building_files(workdir: Path, data: bytes, suffix: str) -> None:
    _load(workdir / f"random{suffix}", data)


BUILDING_HINTS = {
    "id": st.sampled_from([*SPACE_IDS, "x"]),
    "a": st.sampled_from(SPACE_IDS),
    "b": st.sampled_from(SPACE_IDS),
    "default_entry": st.sampled_from(["exit_west", "exit_main", "lobby", "nowhere"]),
}


@fuzz_settings(60)
@given(doc=model_documents(BuildingSpec, BUILDING_HINTS), as_json=st.booleans())
def test_generated_buildings(workdir: Path, doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _load(workdir / "generated.json", json.dumps(doc).encode("utf-8"))
    else:
        _load(workdir / "generated.toml", toml_dumps(doc).encode("utf-8"))


@fuzz_settings(60)
@given(data=mutated_json())
def test_mutated_building_through_a_scenario(workdir: Path, data: bytes) -> None:
    """The scenario names the building file: its error is a ScenarioError at ``building.file``."""
    write_input(workdir / "b.json", data)
    scenario = workdir / "uses_building.toml"
    scenario.write_text('name = "fuzz"\n[building]\nfile = "b.json"\n', encoding="utf-8")

    def clear(exc: ScenarioError) -> None:
        assert_clear_input_error(exc, (str(scenario),), scenario.read_text(encoding="utf-8"))
        if "building file error" in exc.message:
            assert exc.field == "building.file" and exc.line == 3, str(exc)

    from fuzz_strategies import assert_scenario_sane

    check_parse(
        "building via scenario",
        lambda: load_scenario(scenario, CAL),
        ScenarioError,
        clear,
        assert_scenario_sane,
    )
