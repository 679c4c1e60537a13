"""Counterfactual re-simulation: the replay follows the observed history, both arms agree until the
actor's conduct diverges, bad input is refused with file and field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.engine.run import run_chunk
from responsesim.engine.types import State
from responsesim.review.errors import ReviewInputError
from responsesim.review.whatif import compile_replay, parse_counterfactual, run_counterfactual
from responsesim.scenario.compile import Params

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = ROOT / "examples" / "parkland" / "incident.toml"
TIMELINE = ROOT / "examples" / "parkland" / "timeline.csv"
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"
SPEC = parse_counterfactual("SRO:entered_building@+30s")


def _states_at(params: Params, ticks: set[int], reps: np.ndarray) -> dict[int, State]:
    seen: dict[int, State] = {}

    def obs(s: State, p: Params) -> None:
        tick = int(s.tick[0])  # every replication of an observed batch is at the same tick
        if tick in ticks:
            seen[tick] = s.copy()

    run_chunk(params, reps, observer=obs)
    return seen


def test_replay_puts_the_attacker_where_the_timeline_does() -> None:
    rp, _ = compile_replay(INCIDENT, SPEC)
    p = rp.observed
    f = p.forcing
    assert f is not None
    # waypoints before any officer is inside (observed arm: the first entry is after the attacker left)
    # the attacker must be exactly there in every replication
    first_entry = float(np.min(f.entry_t))
    before = [
        (int(t), int(sp)) for t, sp in zip(f.wp_t, f.wp_space, strict=True) if t < min(first_entry, f.end_t)
    ]
    assert len(before) >= 3
    # the state after the step of tick k shows the position set during that step
    states = _states_at(p, {k + 1 for k, _ in before}, np.arange(60))
    for k, sp in before:
        s = states[k + 1]
        alive = s.a_active
        assert alive.all()
        assert (s.a_space[alive] == sp).all(), (k, p.building.space_ids[sp])
    # the observed arm ends when the attacker left, as in the timeline (no officer entered before)
    df = run_chunk(p, np.arange(60))
    assert (df.end_reason == "fled").all()
    assert np.allclose(df.first_shot_s + df.attack_duration_s, f.end_t)


def test_arms_identical_until_divergence_then_protocol_arm_can_stop_the_attack() -> None:
    rp, _ = compile_replay(INCIDENT, SPEC)
    k = int(rp.divergence_s)
    reps = np.arange(80)
    a = _states_at(rp.observed, {k}, reps)[k]
    b = _states_at(rp.protocol, {k}, reps)[k]
    for name in (
        "a_space",
        "g_count",
        "g_state",
        "killed",
        "wounded_light",
        "n_critical",
        "u_status",
        "shots",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    # after divergence the only difference is the SRO entering; the protocol arm must be able to stop it
    res = run_counterfactual(INCIDENT, replications=200, workers=1)
    assert (res.protocol.end_reason.str.startswith("police")).mean() > 0.2
    assert (res.observed.end_reason == "fled").all()
    # deaths can only fall (or stay) when the attack is stopped earlier: paired differences are >= 0
    d = res.observed["killed"].to_numpy() - res.protocol["killed"].to_numpy()
    assert (d >= 0).all()
    row = res.differences.set_index("metric").loc["deaths"]
    assert row.ci_low <= row.difference <= row.ci_high


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("SRO entered", "counterfactual"),
        ("SRO:radio@+30s", "counterfactual"),
        ("SRO:entered_building@30", "counterfactual"),
    ],
)
def test_bad_counterfactual_syntax(text: str, field: str) -> None:
    with pytest.raises(ReviewInputError) as e:
        parse_counterfactual(text)
    assert e.value.field == field


def test_unknown_space_in_incident_names_line(tmp_path: Path) -> None:
    text = INCIDENT.read_text().replace('"B12 floor 2" = "f2_hall_3"', '"B12 floor 2" = "f9_hall_3"')
    bad = tmp_path / "incident.toml"
    bad.write_text(text.replace('timeline = "record.csv"', f'timeline = "{INCIDENT.parent / "record.csv"}"'))
    with pytest.raises(ReviewInputError) as e:
        compile_replay(bad, SPEC)
    assert e.value.line == text.splitlines().index('"B12 floor 2" = "f9_hall_3"') + 1
    assert "f9_hall_3" in str(e.value)


def test_cli_review_with_incident_json_and_bad_actor(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["review", str(TIMELINE), "--protocol", str(PROTOCOL), "--incident", str(INCIDENT), "-n", "40"]
    res = runner.invoke(app, [*args, "--json", "--workers", "1"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert {"review", "counterfactual"} <= set(obj)
    assert obj["counterfactual"]["assumptions"]
    report = tmp_path / "r.html"
    bad = runner.invoke(
        app, [*args, "--counterfactual", "NOBODY:entered_building@+30s", "--report", str(report)]
    )
    assert bad.exit_code == 2
    assert not report.exists()
