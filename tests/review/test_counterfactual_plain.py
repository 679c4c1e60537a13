"""Say it the way it happened (issue 25 item 5): a counterfactual that changes nothing says so; the answer
is shown split into the draws that stop the attack early and those that do not, with officer killed beside
officer shot; a protocol adopted after the incident is flagged in the findings and the report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from review_helpers import HEADER, rows, timed_row, write_incident
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.review.adoption import LATER_STANDARD
from responsesim.review.command import run_review
from responsesim.review.counterfactual import run_counterfactual
from responsesim.review.errors import ReviewInputError
from responsesim.review.protocol import parse_protocol
from responsesim.review.sections import review_incident
from responsesim.review.timeline import parse_timeline

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"


def _row(t_s: float, actor: str, role: str, event: str, location: str, detail: str = "") -> str:
    return timed_row(t_s, actor, role, event, location, detail)


def _incident(tmp_path: Path, counterfactual: str) -> Path:
    """One killed a minute in hall 3 for 12 min; P1 arrives at 60 s and holds outside; P2 arrives at 60 s
    and goes in at 70 s."""
    lines = [_row(0, "ATTACKER", "attacker", "entered_building", "west door"),
             _row(5, "ATTACKER", "attacker", "shots_fired", "hall 3"),
             _row(60, "P1", "patrol", "arrived_on_scene", "west door"),
             _row(60, "P2", "patrol", "arrived_on_scene", "west door"),
             _row(70, "P1", "patrol", "took_cover", "west door"),
             _row(70, "P2", "patrol", "entered_building", "west door"),
             _row(750, "ATTACKER", "attacker", "left_building", "west door")]  # fmt: skip
    for k in range(1, 13):
        lines.append(_row(60 * k, f"V{k}", "victim", "victim_killed", "hall 3", "count=1 died=at_once"))
    (tmp_path / "timeline.csv").write_text(HEADER + "".join(sorted(lines)))
    return write_incident(
        tmp_path,
        name="plain",
        replications=400,
        seed=5,
        counterfactual=counterfactual,
        curve_points=3,
    )


# ------------------------------------------------------------------------------- no change


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("P1:entered_building@+5000s", "the attack was over at 10:12:30 (left_building, line"),
        ("P2:entered_building@+30s", "P2 already went in at 10:01:10 in the record (entered_building, line"),
    ],
)
def test_a_change_that_changes_nothing_says_so(tmp_path: Path, change: str, words: str) -> None:
    """Entering after the end, or later than the record already shows: the result says "No change" and
    why, in the JSON (changed false, no_change), the summary and the terminal (no "lives saved" table)."""
    path = _incident(tmp_path, change)
    r = run_counterfactual(path)
    assert not r.changed and words in (r.no_change or "")
    assert r.summary().startswith("No change: ")
    js = r.to_json()
    assert js["changed"] is False and words in js["no_change"]
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL), "--incident", str(path)]
    out = CliRunner().invoke(app, [*args, "--counterfactual", change, "-n", "50"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "No change:" in text and "no lives saved, no added risk" in text
    assert "lives saved (of 12 killed)" not in text


def test_a_change_says_nothing_of_no_change(tmp_path: Path) -> None:
    r = run_counterfactual(_incident(tmp_path, "P1:entered_building@+0s"))
    assert r.changed and r.no_change is None and r.to_json()["no_change"] is None


# ------------------------------------------------------------------------ the draws apart


def test_split_officer_killed_and_histogram_add_up(tmp_path: Path) -> None:
    """Draws stopped early and not: shares add up to all draws; lives saved are exactly 0 where the attack
    is not stopped (the record stands); the split means, weighted by their shares, give the overall mean;
    the histogram of lives saved sums to 1 and has the same mean; an officer killed was also shot."""
    r = run_counterfactual(_incident(tmp_path, "P1:entered_building@+0s"))
    s = r.split()
    st, no = s["stopped"], s["not_stopped"]
    assert st["share"]["k"] + no["share"]["k"] == r.n
    assert 0 < st["share"]["k"] < r.n
    assert no["lives_saved"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    mean = st["share"]["p"] * st["lives_saved"]["mean"]
    assert mean == pytest.approx(r.lives_saved.mean, abs=1e-3)
    hist = s["lives_saved_histogram"]
    assert sum(h["share"] for h in hist) == pytest.approx(1.0, abs=1e-3)
    assert sum(h["lives"] * h["share"] for h in hist) == pytest.approx(r.lives_saved.mean, abs=1e-3)
    assert not np.any(r.stops.officer_killed & ~r.stops.officer_shot)
    assert r.p_officer_killed.k <= r.p_officer_shot.k
    js = r.to_json()
    assert set(js["p_officer_killed"]) == {"p", "low", "high", "k", "n"}
    assert js["distribution"]["stopped"]["share"]["k"] == st["share"]["k"]
    assert "killed in" in r.summary() and f"{100 * st['share']['p']:.0f}% of 400 draws" in r.summary()


def test_report_shows_the_split_and_officer_killed(tmp_path: Path) -> None:
    path = _incident(tmp_path, "P1:entered_building@+0s")
    report = tmp_path / "out" / "r.html"
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL), "--incident", str(path)]
    res = CliRunner().invoke(app, [*args, "-n", "100", "--report", str(report)])
    assert res.exit_code == 0, res.output
    html = report.read_text()
    assert "Stopped early or not" in html and "the responder killed" in html
    assert "Lives saved, share of draws" in html
    assert "stopped early or not" in res.stdout and "the responder killed" in res.stdout


# ----------------------------------------------------------------- a standard adopted later

PROTO = """
[protocol]
name = "later standard"
adopted = {adopted}
[states.holding]
enter = ["took_cover"]
exit = ["entered_building"]

[[rules]]
id = "enter"
kind = "deadline"
text = "go in"
source = "s"
severity = "critical"
trigger = ["arrived_on_scene"]
trigger_roles = ["patrol"]
events = ["entered_building"]
by = "trigger_actor"
within_s = 60
{rule_extra}
"""
TIMELINE = rows(
    "10:00:00,ATTACKER,attacker,shots_fired",
    "10:01:00,P1,patrol,arrived_on_scene",
    "10:05:00,P1,patrol,entered_building",
    "10:06:00,ATTACKER,attacker,self_terminated",
)  # timeline dates: 2024-05-01


def _findings(adopted: str, rule_extra: str = "") -> tuple[list, list[str]]:  # type: ignore[type-arg]
    proto, _ = parse_protocol(PROTO.format(adopted=adopted, rule_extra=rule_extra), "p.toml")
    rv = review_incident(parse_timeline(TIMELINE, "t.csv"), [proto])
    return rv.findings, rv.notes


def test_protocol_adopted_after_the_incident_is_flagged() -> None:
    findings, notes = _findings("2025-01-01")
    assert len(findings) == 1
    f = findings[0]
    assert f.standard_adopted == date(2025, 1, 1)
    assert LATER_STANDARD in f.summary and any(LATER_STANDARD in n for n in f.notes)
    assert "(2025-01-01; the incident: 2024-05-01)" in f.summary
    assert any(LATER_STANDARD in n and "enter" in n for n in notes)
    js = f.to_json()
    assert js["standard_after_incident"] is True and js["standard_adopted"] == "2025-01-01"


@pytest.mark.parametrize(("adopted", "extra"), [("1999-04-20", ""), ("2024-05-01", ""),
                                                ("2030-01-01", "adopted = 2000-01-01")])  # fmt: skip
def test_standard_in_force_is_not_flagged(adopted: str, extra: str) -> None:
    """Adopted before or on the day, or a rule dated earlier than its protocol: no flag."""
    findings, notes = _findings(adopted, extra)
    assert findings and findings[0].standard_adopted is None
    assert not any(LATER_STANDARD in n for n in [*notes, *findings[0].notes])
    assert findings[0].to_json()["standard_after_incident"] is False


def test_rule_adopted_later_than_its_protocol_is_flagged() -> None:
    findings, _ = _findings("1999-04-20", "adopted = 2024-12-18")
    assert findings[0].standard_adopted == date(2024, 12, 18)


def test_bad_adoption_date_names_its_line() -> None:
    text = PROTO.format(adopted='"last year"', rule_extra="")
    with pytest.raises(ReviewInputError) as e:
        parse_protocol(text, "p.toml")
    assert e.value.line == 4 and "adopted" in str(e.value.field)


def test_later_standard_in_the_json_and_the_report(tmp_path: Path) -> None:
    proto = tmp_path / "p.toml"
    proto.write_text(PROTO.format(adopted="2025-01-01", rule_extra=""))
    tl = tmp_path / "t.csv"
    tl.write_text(TIMELINE)
    rv = run_review(tl, proto)
    js = rv.to_json()
    assert js["findings"][0]["standard_after_incident"] is True
    report = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["review", str(tl), "--protocol", str(proto), "--report", str(report)])
    assert res.exit_code == 0, res.output
    assert LATER_STANDARD in report.read_text() and LATER_STANDARD in " ".join(res.stdout.split())
    json_out = CliRunner().invoke(app, ["review", str(tl), "--protocol", str(proto), "--json"])
    assert json.loads(json_out.stdout)["findings"][0]["standard_adopted"] == "2025-01-01"
