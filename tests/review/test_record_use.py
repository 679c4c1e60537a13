"""The record is used in full (issue 25): each casualty row keeps its own recorded care time; a recorded time
of death bounds the survival time from below; firing from outside and being blocked at a door are their
own events, not entries."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from review_helpers import HEADER, T0, timed_row
from scipy import stats

from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import review
from responsesim.review.protocol import load_protocol
from responsesim.review.record import conduct_of, read_record
from responsesim.review.survival import apply_stop, draw_people
from responsesim.review.timeline import DEFAULT_EVENTS, load_timeline, parse_timeline

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"
MEDIAN, SIGMA = 1800.0, 0.8  # the lognormal time to death without care used below


def _row(t_s: float, actor: str, role: str, event: str, location: str = "hall", detail: str = "") -> str:
    return timed_row(t_s, actor, role, event, location, detail)


def _record(tmp_path: Path, *lines: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "t.csv"
    p.write_text(HEADER + "".join(lines))
    return read_record(load_timeline(p), T0)


def _people(rec, n: int, q: float):  # type: ignore[no-untyped-def]
    """Fixed access delay (180 s, sigma 0) so the closed forms below are exact."""
    shares = {"potentially_survivable": (q, q), "potentially_survivable_later": (q, q)}
    return draw_people(rec, n, 7, np.full(n, MEDIAN), np.full(n, SIGMA), 180.0, 0.0, shares)


S = stats.lognorm(s=SIGMA, scale=MEDIAN).sf


# ------------------------------------------------------------------------------- care per row


def test_each_casualty_row_keeps_its_own_care_time(tmp_path: Path) -> None:
    """Care at room A (300 s) is not care at room B (900 s), nor for a row named elsewhere (casualty=) or a
    row nobody reached (None: assumed and flagged); a row's own care= wins when earlier."""
    rec = _record(
        tmp_path,
        _row(0, "ATTACKER", "attacker", "entered_building", "door"),
        _row(10, "VA", "victim", "victim_killed", "room A", "count=1 died=at_scene"),
        _row(10, "VB", "victim", "victim_killed", "room B", "count=1 died=at_scene"),
        _row(10, "VC", "victim", "victim_killed", "room C", "count=1 died=at_scene"),
        _row(10, "VD", "victim", "victim_killed", "room D", "count=1 died=at_scene care=10:04:00"),
        _row(100, "ATTACKER", "attacker", "attacker_stopped", "room B"),
        _row(300, "M1", "ems", "casualty_care_started", "room A"),
        _row(600, "M2", "ems", "casualty_care_started", "room C", "casualty=VD"),
        _row(900, "M3", "ems", "casualty_care_started", "room B"),
    )
    care = {c.actor: (c.care_s, c.care_line) for c in rec.casualties}
    assert care == {"VA": (300, 8), "VB": (900, 10), "VC": (None, None), "VD": (240, 6)}


def test_the_rows_own_care_time_sets_its_survival(tmp_path: Path) -> None:
    """Two people hit at 0 s, stopped at 60 s: the one reached at 300 s lives with
    q (S(240) - S(300)) / (1 - S(300)), the one reached at 3600 s with q (S(240) - S(3600)) / (1 - S(3600))
    (each within 4 binomial standard errors, 20,000 draws); before the fix both used 300 s."""
    rec = _record(
        tmp_path,
        _row(0, "ATTACKER", "attacker", "entered_building", "door"),
        _row(0, "VA", "victim", "victim_killed", "room A", "count=1 died=at_scene"),
        _row(0, "VB", "victim", "victim_killed", "room B", "count=1 died=at_scene"),
        _row(120, "ATTACKER", "attacker", "attacker_stopped", "room B"),
        _row(300, "M1", "ems", "casualty_care_started", "room A"),
        _row(3600, "M2", "ems", "casualty_care_started", "room B"),
    )
    n, q = 20000, 0.5
    eff = apply_stop(rec, _people(rec, n, q), np.full(n, 60.0))
    for k, c_obs in ((0, 300.0), (1, 3600.0)):
        p = q * (S(240.0) - S(c_obs)) / (1 - S(c_obs))
        se = math.sqrt(p * (1 - p) / n)
        assert abs(eff.row_survived[:, k].mean() - p) < 4 * se, (k, p)


# ---------------------------------------------------------------------------- time of death


def _died_awaiting(tmp_path: Path, died_at_s: float, care_s: float):  # type: ignore[no-untyped-def]
    def clock(t: float) -> str:
        return f"{T0 + timedelta(seconds=t):%H:%M:%S}"

    return _record(
        tmp_path,
        _row(0, "ATTACKER", "attacker", "entered_building", "door"),
        _row(
            0,
            "V",
            "victim",
            "victim_killed",
            "room",
            f"count=1 died_at={clock(died_at_s)} care={clock(care_s)}",
        ),
        _row(7200, "ATTACKER", "attacker", "attacker_stopped", "room"),
    )


def test_alive_for_hours_is_saved_by_care_before_death(tmp_path: Path) -> None:
    """Shot at 0 s, died awaiting care at 3 h (care came at 3 h 05 min): D >= 3 h, so care at 2,580 s (stop
    at 2,400 s plus 180 s) saves with probability q. Without the bound the model drew D < 3 h 05 min from a
    median of 30 min and gave q (S(2580) - S(11100)) / (1 - S(11100)), about a third of q."""
    rec = _died_awaiting(tmp_path, 3 * 3600, 3 * 3600 + 300)
    assert rec.casualties[0].death_s == 10800 and rec.casualties[0].died == "later"
    n, q = 20000, 0.4
    people = _people(rec, n, q)
    eff = apply_stop(rec, people, np.full(n, 2400.0))
    se = math.sqrt(q * (1 - q) / n)
    assert abs(eff.survived_care.mean() - q) < 4 * se
    old = q * (S(2580.0) - S(11100.0)) / (1 - S(11100.0))
    assert old < q / 2  # what the unbounded model said
    assert (apply_stop(rec, people, np.full(n, math.inf)).lives_saved == 0).all()  # the record


def test_care_after_the_recorded_death_saves_in_proportion(tmp_path: Path) -> None:
    """Died at 600 s awaiting care that came at 3,600 s; stopped at 700 s, care at 880 s, after the death:
    P(lived) = q (S(880) - S(3600)) / (S(600) - S(3600)) (D between the death and the recorded care)."""
    rec = _died_awaiting(tmp_path, 600, 3600)
    n, q = 20000, 0.4
    eff = apply_stop(rec, _people(rec, n, q), np.full(n, 700.0))
    p = q * (S(880.0) - S(3600.0)) / (S(600.0) - S(3600.0))
    se = math.sqrt(p * (1 - p) / n)
    assert abs(eff.survived_care.mean() - p) < 4 * se


def test_death_after_the_recorded_care_keeps_the_first_formula(tmp_path: Path) -> None:
    """Reached alive at 3,600 s, died at 5,400 s: the death bounds nothing about when care could still save
    (the care that came did not); the same draws give the same people saved as without died_at."""
    with_death = _died_awaiting(tmp_path, 5400, 3600)
    (tmp_path / "b").mkdir()
    without = _record(
        tmp_path / "b",
        _row(0, "ATTACKER", "attacker", "entered_building", "door"),
        _row(0, "V", "victim", "victim_killed", "room", "count=1 died=later care=11:00:00"),
        _row(7200, "ATTACKER", "attacker", "attacker_stopped", "room"),
    )
    n = 5000
    a = apply_stop(with_death, _people(with_death, n, 0.4), np.full(n, 300.0))
    b = apply_stop(without, _people(without, n, 0.4), np.full(n, 300.0))
    assert (a.survived_care == b.survived_care).all() and a.survived_care.sum() > 0


@pytest.mark.parametrize(
    ("event", "detail", "words"),
    [
        ("victim_killed", "count=2 until=10:05:00 died_at=10:04:00", "before the window ends"),
        ("victim_killed", "died=at_once died_at=10:30:00", "not at once"),
        ("victim_wounded", "died_at=10:30:00", "died_at= on a victim_wounded row"),
        ("victim_killed", "died_at=25:00", "died_at=25:00: expected HH:MM:SS"),
    ],
)
def test_bad_time_of_death_names_the_line(event: str, detail: str, words: str) -> None:
    text = HEADER + f"2024-01-01 10:00:00,V,victim,{event},hall,{detail},second,s\n"
    with pytest.raises(ReviewInputError) as e:
        parse_timeline(text, "t.csv").rows[0].casualty("t.csv")
    assert e.value.line == 2 and e.value.field == "detail" and words in str(e.value)


# ----------------------------------------------------------------- firing from outside, blocked


def _outside(tmp_path: Path, event: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(HEADER + "".join([
        _row(0, "ATTACKER", "attacker", "entered_building", "school"),
        _row(5, "ATTACKER", "attacker", "shots_fired", "hall"),
        _row(60, "P1", "patrol", "arrived_on_scene", "parking lot"),
        _row(70, "P1", "patrol", event, "parking lot"),
        _row(80, "V", "victim", "victim_killed", "hall"),
        _row(600, "ATTACKER", "attacker", "attacker_stopped", "hall"),
    ]))  # fmt: skip
    return p


@pytest.mark.parametrize(
    ("event", "state"), [("fired_from_outside", "firing_outside"), ("entry_blocked", "blocked")]
)
def test_firing_from_outside_or_blocked_is_not_an_entry(tmp_path: Path, event: str, state: str) -> None:
    """The move-to-threat rule finds P1, who fired from the parking lot (or was blocked at the door), as it
    finds nothing against an officer recorded as engaging the attacker; P1's conduct stays outside."""
    assert event in DEFAULT_EVENTS
    proto, vocab = load_protocol(PROTOCOL)
    tl = load_timeline(_outside(tmp_path, event), vocab)
    ids = [f.rule_id for f in review(tl, proto).findings if f.actor == "P1"]
    assert "move-to-threat" in ids
    rec = read_record(tl, T0)
    assert [s.state for s in conduct_of(rec, "P1")] == ["outside", state]
    engaged = load_timeline(_outside(tmp_path, "engaged_attacker"), vocab)
    assert "move-to-threat" not in [f.rule_id for f in review(engaged, proto).findings if f.actor == "P1"]


def test_firing_from_outside_leaves_the_delay_curve_to_the_end(tmp_path: Path) -> None:
    """The observed entry delay of an officer who only fired from outside runs to the recorded end (540 s
    after arriving), not 10 s (what an engaged_attacker row at 70 s gives)."""
    from responsesim.review.divergence import parse_divergences, resolve
    from responsesim.review.incident import build_scenario, load_incident

    _outside(tmp_path, "fired_from_outside")
    (tmp_path / "incident.toml").write_text("""
name = "outside"
timeline = "t.csv"
[scenario]
building = { template = "elementary_wing" }
""")
    inc = load_incident(tmp_path / "incident.toml")
    rec = read_record(inc.timeline, inc.start)
    sc = build_scenario(inc, sro=False, patrol=1)
    unit = resolve(rec, inc, sc, parse_divergences("P1:entered_building@+0s"))[0]
    assert unit.observed_delay_s == 540 and unit.changed
