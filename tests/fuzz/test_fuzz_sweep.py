"""Fuzz sweep files: they load (every point a sane scenario, parse time linear in the number of points) or
raise a clear ``SweepError`` (or, for a fault inside the base scenario file, a clear ``ScenarioError``
naming that file)."""

from __future__ import annotations

import contextlib
import time
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
from hypothesis import assume, given
from hypothesis import strategies as st

from responsesim.scenario.errors import ScenarioError
from responsesim.sweep.spec import MAX_POINTS, Sweep, SweepFile, load_sweep

#: the small built-in sweeps (protection_levers.toml, 128 points, takes ~2 s to load: left out)
SEEDS = tuple(
    (REPO / "examples/sweeps" / n).read_text(encoding="utf-8")
    for n in ("entry_delay.toml", "sro_lockdown.toml", "go_wait.toml")
)
BASE = 'name = "fuzz base"\nhorizon_s = 600\n[building]\ntemplate = "elementary_wing"\n'
PER_POINT_S = 0.1
"""Upper bound on the load time per point (s): each point compiles one scenario (about 12 ms measured)."""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fuzz-sweep")
    (d / "base.toml").write_text(BASE, encoding="utf-8")
    return d


def _estimated_points(doc: dict[str, Any]) -> float:
    """Grid size implied by a generated document (1 if it cannot tell), to keep generated sweeps small."""
    n = 1.0
    for p in doc.get("parameter", []) if isinstance(doc.get("parameter"), list) else []:
        if not isinstance(p, dict):
            continue
        values, rng, step = p.get("values"), p.get("range"), p.get("step")
        if isinstance(values, list):
            n *= max(1, len(values))
        elif isinstance(rng, list) and len(rng) == 2 and isinstance(step, int | float) and step > 0:
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                n *= max(1.0, (float(rng[1]) - float(rng[0])) / step + 1)
    sampling = doc.get("sampling")
    if isinstance(sampling, dict) and isinstance(sampling.get("n"), int):
        n *= max(1, sampling["n"])
    return n


def _load(path: Path, data: bytes) -> None:
    write_input(path, data)
    started = time.perf_counter()

    def sane(sweep: Sweep) -> None:
        elapsed = time.perf_counter() - started
        assert 1 <= len(sweep.points) <= MAX_POINTS
        assert elapsed <= 1.0 + PER_POINT_S * len(sweep.points), (
            f"{elapsed:.1f} s for {len(sweep.points)} points"
        )
        assert (
            sweep.chunk_ranges()
            and sum(n for _, _, n in sweep.chunk_ranges()) == sweep.replications_per_point
        )
        for point in sweep.points[:5]:
            assert_scenario_sane(point.scenario)

    check_parse(
        "sweep",
        lambda: load_sweep(path),
        ScenarioError,  # SweepError is a ScenarioError; a fault in the base scenario names that file
        lambda exc: assert_clear_input_error(exc, (str(path), str(path.parent / "base.toml")), decoded(data)),
        sane,
        guard_s=120.0,
    )


@fuzz_settings(40, deadline_ms=None)
@given(data=st.sampled_from(SEEDS).flatmap(mutated_toml))
def test_mutated_sweeps(workdir: Path, data: bytes) -> None:
    _load(workdir / "sweep.toml", data)


@fuzz_settings(40)
@given(data=random_toml_inputs())
def test_random_sweeps(workdir: Path, data: bytes) -> None:
    _load(workdir / "random_sweep.toml", data)


SWEEP_HINTS: dict[str, st.SearchStrategy[Any]] = {
    "path": st.sampled_from(
        [
            "doctrine.delay_s",
            "doctrine.kind",
            "doctrine.n",
            "alerting.lockdown_at_s",
            "responders.sro.armed",
            "responders.sro.doctrine.kind",
            "responders.patrol.count",
            "occupants.p_lockdown",
            "model.p_hit",
            "seed",
            "building.template",
            "nope.x",
            "doctrine.kind.x",
        ]
    ),
    "base": st.sampled_from(["", "base.toml", "missing.toml", ".", "/dev/null"]),
}


@fuzz_settings(40, deadline_ms=None)
@given(doc=model_documents(SweepFile, SWEEP_HINTS))
def test_generated_sweeps(workdir: Path, doc: dict[str, Any]) -> None:
    assume(_estimated_points(doc) <= 200)  # keep CI fast; the load time per point is checked in `sane`
    _load(workdir / "generated_sweep.toml", toml_dumps(doc).encode("utf-8"))
