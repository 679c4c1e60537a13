"""Fuzz the scenario loader: files either load into sane ``Params`` or raise a clear ``ScenarioError``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz_strategies import (
    REPO,
    assert_clear_input_error,
    assert_scenario_sane,
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
from responsesim.scenario.building import TEMPLATES, template
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import load_scenario, loads
from responsesim.scenario.schema import ScenarioSpec

DEFAULT = REPO / "src/responsesim/data/default_scenario.toml"
SEED_FILES = [*sorted((REPO / "examples").glob("*.toml")), DEFAULT]
SEEDS: tuple[str, ...] = tuple(p.read_text(encoding="utf-8") for p in SEED_FILES)
SPACE_IDS = sorted({s.id for name in TEMPLATES for s in template(name).spaces})
CAL = load_calibration()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-scenario")


def _load_file(path: Path, data: bytes) -> None:
    write_input(path, data)
    text = decoded(data)
    check_parse(
        "scenario",
        lambda: load_scenario(path, calibration=CAL),
        ScenarioError,
        lambda exc: assert_clear_input_error(exc, (str(path),), text),
        assert_scenario_sane,
    )


@fuzz_settings(120)
@given(data=st.sampled_from(SEEDS).flatmap(mutated_toml))
def test_mutated_scenario_files(workdir: Path, data: bytes) -> None:
    _load_file(workdir / "mutated.toml", data)


@fuzz_settings(60)
@given(data=random_toml_inputs())
def test_random_scenario_files(workdir: Path, data: bytes) -> None:
    _load_file(workdir / "random.toml", data)


def scenario_hints() -> dict[str, st.SearchStrategy[Any]]:
    """Field-name hints so generated documents reach past "unknown name" into the deeper checks."""
    return {
        "template": st.sampled_from([*TEMPLATES, "castle"]),
        "file": st.sampled_from(["missing.json", "building.json", "/dev/null", ""]),
        "entry_space": st.sampled_from([*SPACE_IDS, "nowhere"]),
        "id": st.sampled_from([*SPACE_IDS, "nowhere"]),
        "model.key": st.sampled_from([*CAL.values, "not_a_parameter"]),
    }


@fuzz_settings(60)
@given(doc=model_documents(ScenarioSpec, scenario_hints()))
def test_generated_scenarios(doc: dict[str, Any]) -> None:
    text = toml_dumps(doc)
    check_parse(
        "scenario",
        lambda: loads(text, "generated.toml", CAL),
        ScenarioError,
        lambda exc: assert_clear_input_error(exc, ("generated.toml",), text),
        assert_scenario_sane,
    )
