"""Parkland with the casualty counts of the facts file: the deaths on floor 3 after the SRO's arrival."""

from __future__ import annotations

from pathlib import Path

from responsesim.review.command import run_review

ROOT = Path(__file__).resolve().parents[2]


def test_floor3_deaths_fall_inside_the_sro_holding_finding() -> None:
    rv = run_review(
        ROOT / "examples" / "parkland" / "timeline_with_casualties.csv",
        ROOT / "examples" / "protocols" / "post1999_doctrine.toml",
    )
    by_rule = {f.rule_id: f for f in rv.findings}
    hold = by_rule["not-a-barricade"]
    assert hold.actor == "SRO"
    assert hold.killed == 6  # the floor-3 deaths, all after the SRO took cover at 14:23:30
    assert hold.approximate  # the casualty rows are placed approximately and flagged
    assert by_rule["first-officer-enters"].killed == 6
    killed_rows = [e for e in hold.evidence if e.event == "victim_killed"]
    assert [e.location for e in killed_rows] == ["B12 floor 3"]
    assert "parkland_2018_facts.md" in killed_rows[0].source
