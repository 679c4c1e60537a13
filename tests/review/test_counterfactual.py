"""The counterfactual on the record: closed-form cases, the observed arm is the record, no change gives no
difference, lives saved fall with the entry delay, the examples, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from review_helpers import HEADER, T0, timed_row, write_incident
from scipy import stats
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.review.counterfactual import run_counterfactual
from responsesim.review.errors import ReviewInputError
from responsesim.review.record import conduct_of, read_record
from responsesim.review.survival import apply_stop, draw_people
from responsesim.review.timeline import load_timeline, parse_timeline

ROOT = Path(__file__).resolve().parents[2]
PARKLAND = ROOT / "examples" / "parkland" / "incident.toml"
UVALDE = ROOT / "examples" / "uvalde" / "incident.toml"
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"


def _row(t_s: float, actor: str, role: str, event: str, location: str = "hall", detail: str = "") -> str:
    return timed_row(t_s, actor, role, event, location, detail)


def _one_per_minute(minutes: int = 10, died: str = "at_once") -> str:
    """An attack from t = 0 to minutes * 60 + 30 s, one person killed each minute (60 s, 120 s, ...)."""
    rows = [_row(0, "ATTACKER", "attacker", "entered_building", "wing"),
            _row(0, "ATTACKER", "attacker", "shots_fired", "hall 2")]  # fmt: skip
    for k in range(1, minutes + 1):
        rows.append(_row(60 * k, f"V{k}", "victim", "victim_killed", "hall 2", f"count=1 died={died}"))
    rows.append(_row(60 * minutes + 30, "ATTACKER", "attacker", "left_building", "wing"))
    return HEADER + "".join(sorted(rows))


def _record(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    p = tmp_path / "t.csv"
    p.write_text(text)
    tl = load_timeline(p)
    return read_record(tl, T0)


def _people(rec, n: int, q: tuple[float, float] = (0.11, 0.11), access_sigma: float = 0.5):  # type: ignore[no-untyped-def]
    return draw_people(rec, n, 7, np.full(n, 1800.0), np.full(n, 0.8), 180.0, access_sigma,
                       {"potentially_survivable": q, "potentially_survivable_later": q})  # fmt: skip


# ----------------------------------------------------------------------------------- closed form


@pytest.mark.parametrize("t_stop", [30.0, 150.0, 330.0, 599.0])
def test_one_casualty_per_minute_stop_at_fixed_time_is_exact(tmp_path: Path, t_stop: float) -> None:
    """Killed at once each minute, the attack stopped at t_stop with probability 1: exactly the people killed
    after t_stop are spared, none by care (died at once)."""
    rec = _record(_one_per_minute(), tmp_path)
    n = 200
    eff = apply_stop(rec, _people(rec, n), np.full(n, t_stop))
    expected = sum(1 for k in range(1, 11) if 60 * k > t_stop)
    assert (eff.not_shot == expected).all()
    assert (eff.survived_care == 0).all()
    assert (eff.lives_saved == expected).all()


def test_window_is_spared_in_proportion(tmp_path: Path) -> None:
    """6 killed uniformly in [0, 600] s, stopped at 200 s: each is spared with p = 400/600; the mean over
    draws lies within 4 standard errors of 6p (binomial standard error)."""
    text = HEADER + "".join([
        _row(0, "ATTACKER", "attacker", "entered_building", "wing"),
        _row(0, "V", "victim", "victim_killed", "hall", "count=6 until=10:10:00 died=at_once"),
        _row(700, "ATTACKER", "attacker", "left_building", "wing"),
    ])  # fmt: skip
    rec = _record(text, tmp_path)
    n = 4000
    eff = apply_stop(rec, _people(rec, n), np.full(n, 200.0))
    p = 400 / 600
    se = math.sqrt(6 * p * (1 - p) / n)
    assert abs(eff.not_shot.mean() - 6 * p) < 4 * se
    assert set(np.unique(eff.not_shot)) <= set(range(7))


def test_earlier_care_follows_the_conditional_survival_formula(tmp_path: Path) -> None:
    """One person shot at 0 s, care recorded at 3600 s, died; stopped at 60 s with a fixed 180 s access:
    P(lived) = q (S(240) - S(3600)) / (1 - S(3600)), S the lognormal survival (median 1800 s, sd 0.8)."""
    text = HEADER + "".join([
        _row(0, "ATTACKER", "attacker", "entered_building", "wing"),
        _row(0, "V", "victim", "victim_killed", "hall", "count=1 died=at_scene care=11:00:00"),
        _row(900, "ATTACKER", "attacker", "left_building", "wing"),
    ])  # fmt: skip
    rec = _record(text, tmp_path)
    n = 20000
    q = 0.4
    eff = apply_stop(rec, _people(rec, n, (q, q), access_sigma=0.0), np.full(n, 60.0))
    surv = stats.lognorm(s=0.8, scale=1800.0).sf
    p = q * (surv(240.0) - surv(3600.0)) / (1 - surv(3600.0))
    se = math.sqrt(p * (1 - p) / n)
    assert abs(eff.survived_care.mean() - p) < 4 * se
    assert (eff.not_shot == 0).all()


def test_observed_arm_is_the_record(tmp_path: Path) -> None:
    """No earlier stop (inf) changes nothing; the record's counts and end are the timeline's."""
    rec = _record(_one_per_minute(died="at_scene"), tmp_path)
    assert rec.killed == 10 and rec.wounded == 0
    assert rec.end_s == 630 and rec.end_event == "left_building"
    n = 300
    people = _people(rec, n, (1.0, 1.0))
    for stop in (math.inf, 630.0, 10_000.0):
        eff = apply_stop(rec, people, np.full(n, stop))
        assert (eff.lives_saved == 0).all() and (eff.wounded_not_shot == 0).all()


# --------------------------------------------------------------------------- with the engine


def _synthetic_incident(
    tmp_path: Path, minutes: int = 12, counterfactual: str = "P1:entered_building@+0s"
) -> Path:
    """One casualty per minute in a one-storey wing, one officer arriving at 60 s who never entered."""
    rows = [_row(0, "ATTACKER", "attacker", "entered_building", "west door"),
            _row(5, "ATTACKER", "attacker", "shots_fired", "hall 3"),
            _row(60, "P1", "patrol", "arrived_on_scene", "outside"),
            _row(70, "P1", "patrol", "took_cover", "outside")]  # fmt: skip
    for k in range(1, minutes + 1):
        rows.append(_row(60 * k, "ATTACKER", "attacker", "shots_fired", "hall 3"))
        rows.append(_row(60 * k, f"V{k}", "victim", "victim_killed", "hall 3", "count=1 died=at_once"))
    rows.append(_row(60 * minutes + 30, "ATTACKER", "attacker", "left_building", "west door"))
    (tmp_path / "timeline.csv").write_text(HEADER + "".join(sorted(rows)))
    return write_incident(
        tmp_path,
        name="synthetic",
        replications=400,
        seed=3,
        counterfactual=counterfactual,
        curve_points=5,
        killed=minutes,
    )


def test_no_change_gives_no_difference(tmp_path: Path) -> None:
    """Entering after the attack ended is no change: the protocol arm is the observed arm."""
    path = _synthetic_incident(tmp_path, counterfactual="P1:entered_building@+5000s")
    r = run_counterfactual(path)
    assert not r.stops.simulated
    assert (r.effect.lives_saved == 0).all()
    assert r.p_officer_shot.k == 0
    assert (r.stopped_before["protocol"] == 0).all()


def test_lives_saved_fall_with_the_entry_delay(tmp_path: Path) -> None:
    """Each later delay saves no more lives than an earlier one, up to chance: the paired difference of the
    means of consecutive delays is above -3 standard errors, and the first delay saves more than the last."""
    r = run_counterfactual(_synthetic_incident(tmp_path))
    c = r.curve
    assert c.delay_s.iloc[0] == 0 and c.delay_s.iloc[-1] == pytest.approx(r.units[0].observed_delay_s)
    n = r.n
    for a, b in zip(c.itertuples(), list(c.itertuples())[1:], strict=False):
        se = math.sqrt((a.high - a.low) ** 2 / 16 / n * 2 + 1e-12)  # 95% range / 4 ~ sd, two means
        assert b.lives_saved <= a.lives_saved + 3 * se, (a.delay_s, b.delay_s)
    assert c.lives_saved.iloc[0] > c.lives_saved.iloc[-1]
    assert c.lives_saved.iloc[-1] == 0


def test_parkland_example(tmp_path: Path) -> None:
    """The Parkland record: 17 killed and 17 wounded; the SRO entering 30 s after arriving would have stopped
    the attack before its recorded end in some but not all draws, sparing only people killed on floor 3."""
    r = run_counterfactual(PARKLAND, replications=400)
    assert r.record.killed == 17 and r.record.wounded == 17
    assert r.parameters["engine"]["mode"] == "posterior"
    assert 0.1 < r.p_stopped_earlier.p < 0.95
    assert 0 < r.p_officer_shot.p < 1
    rows = r.rows.set_index("line")
    floor1 = rows[rows.location.str.contains("floor 1")]
    assert (floor1.not_shot == 0).all()  # killed before the SRO arrived
    assert rows[rows.location == "B12 floor 3"].not_shot.sum() > 0
    assert r.lives_saved.low <= r.lives_saved.mean <= r.lives_saved.high
    # duty and outcome kept apart, assumptions and uncertain times beside the numbers
    assert "does not judge culpability" in r.summary()
    assert any("floor" not in f or "uncertain" in f for f in r.flags)


def test_uvalde_example_conduct_and_withdrawal() -> None:
    """The officers who entered, were fired on and withdrew: their conduct shows it, and not withdrawing
    saves lives only through earlier care (all killed in the first burst, before they arrived)."""
    r = run_counterfactual(UVALDE, replications=300)
    states = [s["state"] for s in r.conduct["UPD-FIRST-OFFICERS"]]
    assert states[:2] == ["approaching", "engaged"] and "withdrawn" in states
    assert (r.effect.not_shot == 0).all()
    assert r.survived_care.mean > 0
    assert r.record.killed == 21 and r.record.end_event == "attacker_stopped"


def test_conduct_of_entered_then_withdrew(tmp_path: Path) -> None:
    text = HEADER + "".join([
        _row(0, "ATTACKER", "attacker", "entered_building", "wing"),
        _row(10, "A", "patrol", "arrived_on_scene", "outside"),
        _row(20, "A", "patrol", "entered_building", "door"),
        _row(30, "A", "patrol", "fired_upon", "hall"),
        _row(31, "A", "patrol", "moved_away_from_threat", "hall end"),
        _row(60, "A", "patrol", "held_position", "hall end"),
        _row(90, "V", "victim", "victim_killed", "room"),
        _row(100, "ATTACKER", "attacker", "attacker_stopped", "room"),
    ])  # fmt: skip
    rec = _record(text, tmp_path)
    assert [s.state for s in conduct_of(rec, "A")] == ["outside", "approaching", "engaged", "withdrawn"]


# ------------------------------------------------------------------------------------- JSON, CLI


def test_json_keys(tmp_path: Path) -> None:
    path = _synthetic_incident(tmp_path)
    res = CliRunner().invoke(app, ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL),
                                   "--incident", str(path), "--json", "-n", "200"])  # fmt: skip
    assert res.exit_code == 0, res.output
    cf = json.loads(res.stdout)["counterfactual"]
    for key in ("lives_saved", "not_shot", "survived_care"):
        assert set(cf[key]) == {"mean", "low", "high"}
    assert 0 <= cf["p_officer_shot"]["p"] <= 1
    assert {"time", "t_s", "observed", "protocol"} <= set(cf["stopped_before_later_shots"][0])
    assert 2 <= len(cf["delay_curve"]) <= 5 and cf["summary"] and cf["assumptions"]  # at most curve_points


def test_report_has_the_curve(tmp_path: Path) -> None:
    path = _synthetic_incident(tmp_path)
    report = tmp_path / "out" / "r.html"
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL), "--incident", str(path)]
    res = CliRunner().invoke(app, [*args, "-n", "100", "--report", str(report)])
    assert res.exit_code == 0, res.output
    html = report.read_text()
    assert "Counterfactual on the record" in html and "data:image/png;base64" in html
    assert "does not judge culpability" in html


# -------------------------------------------------------------------------------------- bad input


def test_window_ending_before_it_starts_is_refused() -> None:
    text = HEADER + "2024-01-01 10:05:00,V,victim,victim_killed,hall,count=2 until=10:04:00,second,s\n"
    with pytest.raises(ReviewInputError) as e:
        parse_timeline(text, "t.csv")
    assert e.value.line == 2 and e.value.field == "detail" and "until=10:04:00" in str(e.value)


@pytest.mark.parametrize(
    ("detail", "words"),
    [("count=x", "count=x"), ("count=0", "count=0"), ("died=maybe", "died=maybe"), ("care=25:00", "care=")],
)
def test_bad_casualty_tokens_are_refused(detail: str, words: str) -> None:
    text = HEADER + f"2024-01-01 10:05:00,V,victim,victim_killed,hall,{detail},second,s\n"
    with pytest.raises(ReviewInputError) as e:
        parse_timeline(text, "t.csv")
    assert e.value.line == 2 and words in str(e.value)


def test_counts_not_adding_up_name_the_facts_line(tmp_path: Path) -> None:
    path = _synthetic_incident(tmp_path)
    path.write_text(path.read_text().replace("killed = 12", "killed = 13"))
    with pytest.raises(ReviewInputError) as e:
        run_counterfactual(path)
    assert e.value.field == "facts.killed" and e.value.line is not None and "add up to 12" in str(e.value)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("NOBODY:entered_building@+30s", "not an officer"),
        ("P1:no_withdrawal", "never withdrew"),
        ("P1:radio@+30s", "must be one of"),
        ("P1:entered_building", "give the delay"),
    ],
)
def test_bad_counterfactual_exits_2_and_writes_nothing(tmp_path: Path, spec: str, words: str) -> None:
    path = _synthetic_incident(tmp_path)
    report = tmp_path / "never" / "r.html"
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL), "--incident", str(path)]
    res = CliRunner().invoke(app, [*args, "--counterfactual", spec, "--report", str(report)])
    assert res.exit_code == 2
    assert words in res.output
    assert not report.exists() and not report.parent.exists()


def test_actor_with_no_arrival_is_refused(tmp_path: Path) -> None:
    path = _synthetic_incident(tmp_path)
    tl = tmp_path / "timeline.csv"
    tl.write_text(tl.read_text().replace(",P1,patrol,arrived_on_scene,", ",P1,patrol,radio,"))
    with pytest.raises(ReviewInputError) as e:
        run_counterfactual(path)
    assert "no arrival" in str(e.value) and e.value.field == "actor"


def test_a_group_actor_is_simulated_as_its_officers(tmp_path: Path) -> None:
    """[actors] P1 = 3: the protocol arm runs three engine units for P1, all entering at the divergence;
    an [actors] name that is not an officer of the timeline is refused with its line."""
    from responsesim.review.divergence import parse_divergences, resolve, unit_params
    from responsesim.review.incident import build_scenario, load_incident

    path = _synthetic_incident(tmp_path)
    path.write_text(path.read_text().replace("[scenario]", "[actors]\nP1 = 3\n\n[scenario]"))
    inc = load_incident(path)
    rec = read_record(inc.timeline, inc.start)
    change = parse_divergences("P1:entered_building@+0s")
    units = resolve(rec, inc, build_scenario(inc, sro=False, patrol=1), change)
    params, _ = unit_params(rec, inc, units)
    assert params.n_units == 3 and params.forcing is not None
    assert np.all(params.forcing.entry_t == units[0].diverge_s)
    r = run_counterfactual(path, replications=200)
    assert "at least one of the 3 officers" in r.summary()
    path.write_text(path.read_text().replace("P1 = 3", "NOBODY = 2"))
    with pytest.raises(ReviewInputError) as e:
        run_counterfactual(path)
    assert e.value.field == "actors.NOBODY" and e.value.line is not None
