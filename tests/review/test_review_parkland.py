"""The Parkland example reviewed against the shipped protocols."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from responsesim.calibrate.reference import reference_dir
from responsesim.review.command import review_command, run_review

REPO = Path(__file__).resolve().parents[2]
TIMELINE = REPO / "examples" / "parkland" / "timeline.csv"
POST1999 = REPO / "examples" / "protocols" / "post1999_doctrine.toml"
SOP = REPO / "examples" / "protocols" / "generic_agency_sop.toml"


def hms(x: datetime | None) -> str | None:
    return None if x is None else x.strftime("%H:%M:%S")


@pytest.fixture(scope="module")
def rv():
    return run_review(TIMELINE, POST1999)


def by_rule(rv, rule_id):
    return [f for f in rv.findings if f.rule_id == rule_id]


def test_example_is_the_reference_timeline():
    ref = reference_dir() / "timelines" / "parkland_2018.csv"
    assert TIMELINE.read_text() == ref.read_text()


def test_active_window(rv):
    assert rv.active is not None
    assert (hms(rv.active.start), hms(rv.active.end), rv.active.end_recorded) == (
        "14:21:44",
        "14:27:54",
        True,
    )


def test_sro_covered_position_while_shots_fired(rv):
    (f,) = by_rule(rv, "not-a-barricade")
    assert f.actor == "SRO" and f.role == "sro"
    assert (hms(f.start), hms(f.end), f.duration_s) == ("14:23:30", "14:27:54", 264.0)
    assert f.state_end is None and hms(f.state_last_recorded) == "15:11:30"  # beyond the last shot
    assert f.shots_fired == 2  # 14:24:15 floor 3 and the last round at 14:27:10
    assert any("14:27:10" in n and "beyond" in n for n in f.notes)
    assert f.approximate  # took_cover at 14:23:30 is approximate
    lines = {e.line: e for e in f.evidence}
    assert lines[9].event == "took_cover" and lines[9].flagged
    assert "MSD Public Safety Commission" in lines[9].source
    assert any("floor 3" in m for m in f.meanwhile)


def test_no_officer_entered_until_1432(rv):
    (f,) = by_rule(rv, "first-officer-enters")
    assert (hms(f.start), hms(f.deadline), hms(f.end), f.open_ended) == (
        "14:23:17",
        "14:24:17",
        "14:32:00",
        False,
    )
    entered = [e for e in f.evidence if e.event == "entered_building"]
    assert [(e.actor, e.certainty) for e in entered] == [("CSPD-TEAM", "minute")]
    assert f.shots_fired == 3


def test_sro_never_moved_to_threat(rv):
    (f,) = by_rule(rv, "move-to-threat")
    assert f.actor == "SRO" and f.open_ended and hms(f.end) == "15:41:00"


def test_floor3_shooting_after_sro_arrival_and_no_casualty_rows(rv):
    """The timeline records shots and phases, not casualties: findings say so and list floor 3 shots."""
    (f,) = by_rule(rv, "first-officer-enters")
    assert f.killed is None and any("no casualty rows" in n for n in f.notes)
    floor3 = [m for m in f.meanwhile if "floor 3" in m and "shots_fired" in m]
    assert [m[:8] for m in floor3] == ["14:24:15", "14:27:10"]
    assert any("no casualty rows" in n for n in rv.notes)


def test_generic_sop_finds_the_same_holding(rv):
    sop = run_review(TIMELINE, SOP)
    ids = {f.rule_id for f in sop.findings}
    assert {"sop-enter-on-intelligence", "sop-no-waiting-at-perimeter"} <= ids
    assert "sop-maintain-contact" not in ids  # no moved_away_from_threat rows


def test_command_json_and_report(tmp_path, capsys):
    out = tmp_path / "out" / "parkland.html"
    assert review_command(TIMELINE, POST1999, True, out) == 0
    data = json.loads(capsys.readouterr().out)
    assert {f["rule_id"] for f in data["findings"]} >= {"not-a-barricade", "first-officer-enters"}
    assert data["attacker_active"] == {
        "start": "2018-02-14 14:21:44",
        "end": "2018-02-14 14:27:54",
        "end_recorded": True,
    }
    resp = {f["rule_id"]: f["responsible"] for f in data["findings"]}
    assert resp["stop-the-dying"] == "any actor" and resp["not-a-barricade"] == "SRO"
    html = out.read_text()
    assert "data:image/png;base64," in html and "not-a-barricade" in html
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in out.parent.iterdir()) == ["parkland.html", "parkland.png"]  # no temp left


def test_command_table(capsys):
    assert review_command(TIMELINE, POST1999, False, None) == 0
    assert "not-a-barricade" in capsys.readouterr().out


def test_docs_document_the_vocabulary_and_expected_findings():
    from responsesim.review.timeline import CERTAINTIES, DEFAULT_EVENTS, DEFAULT_ROLES

    doc = (REPO / "docs" / "review.md").read_text()
    for name in (*DEFAULT_EVENTS, *DEFAULT_ROLES, *CERTAINTIES):
        assert f"`{name}`" in doc, name
    for f in run_review(TIMELINE, POST1999).findings:
        assert f"`{f.rule_id}`" in doc and f"{f.start:%H:%M:%S}" in doc
