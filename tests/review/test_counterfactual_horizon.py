"""No horizon inside the record: an incident whose record runs for hours keeps its delay curve up to the
recorded end (the protocol arm's horizon covers the end plus the care window), and the curve's last point,
at the delay the record shows, is the observed arm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from review_helpers import HEADER, timed_row

from responsesim.review.counterfactual import run_counterfactual
from responsesim.review.divergence import parse_divergences, record_horizon, resolve, unit_params
from responsesim.review.errors import ReviewInputError
from responsesim.review.incident import build_scenario, load_incident
from responsesim.review.record import read_record

HOURS = 3
END_S = HOURS * 3600 + 30  # the attacker is stopped 3 h 30 s after entering
WITHDREW_S = 110


def _row(t_s: float, actor: str, role: str, event: str, location: str, detail: str = "") -> str:
    return timed_row(t_s, actor, role, event, location, detail)


def _long_incident(tmp_path: Path, points: int = 8) -> Path:
    """The attacker in hall 3 for three hours, one person killed at once every 30 min from 5 min on;
    officer P1 entered at 70 s, was fired on, and withdrew at 110 s to hall 2 for good."""
    rows = [_row(0, "ATTACKER", "attacker", "entered_building", "west door"),
            _row(5, "ATTACKER", "attacker", "shots_fired", "hall 3"),
            _row(60, "P1", "patrol", "arrived_on_scene", "west door"),
            _row(70, "P1", "patrol", "entered_building", "hall 2"),
            _row(100, "P1", "patrol", "fired_upon", "hall 2"),
            _row(WITHDREW_S, "P1", "patrol", "moved_away_from_threat", "hall 2"),
            _row(120, "P1", "patrol", "held_position", "hall 2"),
            _row(END_S, "ATTACKER", "attacker", "attacker_stopped", "hall 3")]  # fmt: skip
    kills = range(300, END_S, 1800)
    for k, t in enumerate(kills):
        rows.append(_row(t, "ATTACKER", "attacker", "shots_fired", "hall 3"))
        rows.append(_row(t, f"V{k}", "victim", "victim_killed", "hall 3", "count=1 died=at_once"))
    (tmp_path / "timeline.csv").write_text(HEADER + "".join(sorted(rows)))
    (tmp_path / "incident.toml").write_text(f"""
name = "long record"
timeline = "timeline.csv"
replications = 600
seed = 11
counterfactual = "P1:no_withdrawal"
curve_points = {points}

[facts]
killed = {len(kills)}

[scenario]
building = {{ template = "elementary_wing" }}
attacker = {{ weapon = "handgun", entry_space = "exit_west" }}

[locations]
"west door" = "exit_west"
"hall 2" = "hall_2"
"hall 3" = "hall_3"
""")
    return tmp_path / "incident.toml"


def test_horizon_covers_the_recorded_end_plus_care(tmp_path: Path) -> None:
    """The engine's horizon for the protocol arm is past the recorded end (3 h), not the scenario's 1 h."""
    inc = load_incident(_long_incident(tmp_path))
    rec = read_record(inc.timeline, inc.start)
    sc = build_scenario(inc, sro=False, patrol=1)
    assert sc.params.horizon_s == 3600  # the scenario default the protocol arm used to stop at
    h = record_horizon(rec, sc)
    assert h > rec.end_s == END_S
    units = resolve(rec, inc, sc, parse_divergences("P1:no_withdrawal@+5000s"))
    assert units[0].diverge_s == WITHDREW_S + 5000 > 3600
    params, _ = unit_params(rec, inc, units)
    assert params.horizon_s == h


def test_curve_is_continuous_to_the_recorded_end(tmp_path: Path) -> None:
    """The attacker stays in hall 3 all along, so an officer who re-advances at any delay meets the same
    situation: where the record leaves more time than the protocol arm needs to stop the attack (the 99th
    percentile of divergence-to-stop at delay 0), the share of draws stopped before the recorded end must
    not differ from delay 0's beyond their exact 95% intervals (the intervals overlap): before the fix
    every point after the scenario's 1 h horizon was 0. Lives saved stay positive while a recorded death
    lies later than that, and the last point (the recorded delay) is the observed arm: 0 and 0%."""
    r = run_counterfactual(_long_incident(tmp_path), workers=2)
    c = r.curve
    observed = END_S - WITHDREW_S
    assert c.delay_s.iloc[-1] == pytest.approx(observed)
    assert (c.delay_s * 1.0 + WITHDREW_S > 3600).sum() >= 4  # several points lie after the old horizon
    # the time the protocol arm needs, read off delay 0 (the change itself is no_withdrawal at +0 s)
    t = r.stops.t_stop[np.isfinite(r.stops.t_stop)] - WITHDREW_S
    need = float(np.quantile(t, 0.99))
    assert need < 1800  # the arm resolves within minutes: most points lie well before the end
    first = c.iloc[0]
    assert first.p_stopped > 0.2
    kills = np.arange(300, END_S, 1800)
    checked = 0
    for p in c.iloc[1:-1].itertuples():
        diverge = WITHDREW_S + p.delay_s
        if END_S - diverge > need:
            overlap = p.p_stopped_low <= first.p_stopped_high and first.p_stopped_low <= p.p_stopped_high
            assert overlap, (p.delay_s, p.p_stopped, first.p_stopped)
            checked += 1
        if (kills > diverge + need).any():
            assert p.lives_saved > 0, p.delay_s
        assert p.p_stopped > 0, p.delay_s  # nothing cut before the recorded end
    assert checked >= 4
    last = c.iloc[-1]
    assert last.lives_saved == 0 and last.p_officer_shot == 0 and last.p_stopped == 0


def test_just_before_the_end_equals_just_after_the_old_horizon(tmp_path: Path) -> None:
    """The cliff of issue 25: a change 1 s before and 1 s after t = 3600 s gives the same answer within the
    exact 95% intervals of the officer's risk and of the stop (paired draws, 600 each)."""
    path = _long_incident(tmp_path, points=2)
    a = run_counterfactual(path, f"P1:no_withdrawal@+{3599 - WITHDREW_S}s", workers=2)
    b = run_counterfactual(path, f"P1:no_withdrawal@+{3601 - WITHDREW_S}s", workers=2)
    for pa, pb in ((a.p_officer_shot, b.p_officer_shot), (a.p_stopped_earlier, b.p_stopped_earlier)):
        assert pb.k > 0
        assert pa.low <= pb.high and pb.low <= pa.high, (pa, pb)


def test_a_record_longer_than_the_engine_allows_names_its_end(tmp_path: Path) -> None:
    """tick_s = 0.05 s leaves 10,000 s: a 3 h record with its care window does not fit; the error names the
    timeline's end row and says what to change."""
    path = _long_incident(tmp_path)
    path.write_text(path.read_text().replace("[scenario]\n", "[scenario]\ntick_s = 0.05\nhorizon_s = 600\n"))
    with pytest.raises(ReviewInputError) as e:
        run_counterfactual(path)
    end_line = len((tmp_path / "timeline.csv").read_text().splitlines())  # the attacker_stopped row, last
    assert e.value.field == "time" and e.value.line == end_line and "tick_s" in str(e.value)
