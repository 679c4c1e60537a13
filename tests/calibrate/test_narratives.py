"""The narrative coding rules (calibrate/narratives.py), each on real FBI narrative snippets."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from responsesim.calibrate import narratives as nv
from responsesim.calibrate.targets import in_scope, incident_table

# (rule, snippet from narratives_2000_2019.csv, expected), by rule: positives and negatives
CASES = [
    (
        "barricade",
        "After he stopped shooting, he barricaded himself and four hostages in a store.",
        True,
    ),
    (
        "barricade",
        "The shooter surrendered to police after a standoff where he barricaded himself in an office.",
        True,
    ),
    (
        "barricade",
        "The suspect fled to his apart-ment complex and barricaded himself in the building for "
        "several hours before law enforcement officers engaged him in a shootout.",
        True,
    ),
    (
        "barricade",
        "Eight people barricaded themselves in the office and remained hidden until police arrived.",
        False,
    ),
    (
        "barricade",
        ", an identified male, 25, armed with a handgun, climbed a barricade at the Alrosa Villa "
        "Nightclub in Columbus, Ohio, jumped on stage, and shot a band member.",
        False,
    ),
    (
        "standoff",
        "After a two-hour standoff, the shooter was killed by police.",
        True,
    ),
    (
        "standoff",
        "The shooter surrendered to law enforcement after a standoff at the scene.",
        True,
    ),
    (
        "standoff",
        "The shooter committed suicide before police arrived.",
        False,
    ),
    (
        "brief_standoff",
        "The shooter was apprehended by law enforcement after a brief standoff at the scene.",
        True,
    ),
    (
        "brief_standoff",
        "After a two-hour standoff, the shooter was killed by police.",
        False,
    ),
    (
        "siege",
        "The shooter was killed by police after a 10-hour standoff.",
        True,
    ),
    (
        "siege",
        "After a 20-minute standoff, he began firing.",
        False,
    ),
    (
        "siege",
        "The shooter was apprehended by law enforcement after a brief standoff at the scene.",
        False,
    ),
    (
        "hostages",
        "The shooter barricaded himself and two hostages inside the apartment building.",
        True,
    ),
    (
        "hostages",
        "The shooter fled the scene, shot at police, and entered an office building, where he took "
        "several hostages.",
        True,
    ),
    (
        "hostages",
        "The shooter took a hostage prior to being killed by responding law enforcement at the location.",
        True,
    ),
    (
        "hostages",
        "The shooter was restrained by a co-worker until police arrived and took her into custody.",
        False,
    ),
    (
        "police_gunfire",
        "The shooter was wounded during an exchange of gunfire with police.",
        True,
    ),
    (
        "police_gunfire",
        "The shooter was killed by responding officers who came from the police department across "
        "the street.",
        True,
    ),
    (
        "police_gunfire",
        "He then fired on a second responding police officer, who returned fire and wounded the shooter.",
        True,
    ),
    (
        "police_gunfire",
        "After shooting and killing three people inside the market, the shooters engaged law "
        "enforcement officers in a lengthy shootout.",
        True,
    ),
    (
        "police_gunfire",
        "The doctor, who possessed a valid firearms permit, returned fire.",
        False,
    ),
    (
        "police_gunfire",
        "The shooter committed suicide during an exchange of gunfire with the school district's "
        "armed security.",
        False,
    ),
    (
        "police_gunfire",
        "The shooter exchanged gunfire with two Gateway Canyons General Store security officers "
        "before fleeing the scene.",
        False,
    ),
    (
        "police_gunfire",
        "The shooter committed suicide before police arrived.",
        False,
    ),
    (
        "exchanged_gunfire",
        "The shooter and police exchanged gunfire, and she was apprehended a short time later.",
        True,
    ),
    (
        "exchanged_gunfire",
        "Law enforcement killed the shooter without an exchange of gunfire.",
        False,
    ),
    (
        "exchanged_gunfire",
        "No gunfire was exchanged between the shooter and law enforcement.",
        False,
    ),
    (
        "exchanged_gunfire",
        "The shooter was killed by police.",
        False,
    ),
    (
        "officers_shot",
        "Four people were killed; five were wounded, including three police officers.",
        True,
    ),
    (
        "officers_shot",
        "Four uniformed police officers were killed at the scene; no one was wounded.",
        True,
    ),
    (
        "officers_shot",
        "Two people (store managers) were killed; one person (a law enforcement officer) was wounded.",
        True,
    ),
    (
        "officers_shot",
        "The shooter then shot and wounded a responding law enforcement officer before fleeing in "
        "his vehicle.",
        True,
    ),
    (
        "officers_shot",
        "No one was killed; three were wounded, including one law enforce-ment officer.",
        True,
    ),
    (
        "officers_shot",
        "Before the incident at the school, the shooter fatally shot his grandfather, who was a "
        "police officer, and another individual at their home.",
        False,
    ),
    (
        "officers_shot",
        "One plainclothes law enforcement officer was killed by friendly fire; no one was wounded.",
        False,
    ),
    (
        "officers_shot",
        "During the shootings, he shot a security officer and took the officer's handgun, allowing "
        "him to continue shooting when he ran out of shotgun shells.",
        False,
    ),
    (
        "officers_shot",
        "He then fired on a second responding police officer, who returned fire and wounded the shooter.",
        False,
    ),
    (
        "moved_location",
        "Armed with two handguns, he then drove to the nearby Amko Trading Store and continued shooting.",
        True,
    ),
    (
        "moved_location",
        "The shooter walked to a nearby Burger King, where he shot and killed one person, then "
        "walked to a McDonald's, where he shot and killed one person and wounded two others.",
        True,
    ),
    (
        "moved_location",
        "The shooter fled the scene, shot at police, and entered an office building, where he took "
        "several hostages.",
        True,
    ),
    (
        "moved_location",
        "Justin Doucet, 15, armed with a handgun, fired once at a teacher at Larose-Cut Off Middle "
        "School in Cut Off, Louisiana, then went to the bathroom and shot himself.",
        False,
    ),
    (
        "moved_location",
        "The shooter committed suicide before police arrived.",
        False,
    ),
]


@pytest.mark.parametrize(("rule", "text", "expected"), CASES)
def test_rule_on_real_snippets(rule: str, text: str, expected: bool) -> None:
    assert nv.RULES[rule].matches(text) is expected


@pytest.mark.parametrize("rule", sorted(nv.RULES))
def test_every_rule_has_a_positive_and_a_negative_case(rule: str) -> None:
    seen = {e for r, _, e in CASES if r == rule}
    assert seen == {True, False}, rule


DURATIONS = [
    (
        "After a two-hour standoff, the shooter was killed by police.",
        7200.0,
        "standoff",
    ),
    (
        "The shooter was killed by police after a 10-hour standoff.",
        36000.0,
        "standoff",
    ),
    (
        "The shooter then barricaded himself inside a bathroom with hostages for approximately three hours.",
        10800.0,
        "for",
    ),
    (
        "The entire incident lasted about 30 minutes.",
        1800.0,
        "lasted",
    ),
    (
        "The shooter committed suicide in a friend's driveway 13 minutes after the shooting began.",
        780.0,
        "after_start",
    ),
    (
        ", an identified male, 21, armed with a handgun, began a five-hour killing spree at "
        "multiple locations.",
        18000.0,
        "spree",
    ),
    (
        "Two-and-a-half hours later, he chained the doors shut in a classroom building and began shooting.",
        None,
        "",
    ),
    (
        "After a 20-minute standoff, he began firing.",
        None,
        "",
    ),
    (
        "She sat in the meeting for 30 minutes, then stood up and began firing.",
        None,
        "",
    ),
    (
        "The shooter fled the scene and was apprehended by police two hours later.",
        None,
        "",
    ),
    (
        "He returned 10 minutes later and opened fire.",
        None,
        "",
    ),
    (
        "The shooter surrendered to police a few hours later at a family member's home.",
        None,
        "",
    ),
]


@pytest.mark.parametrize(("text", "seconds", "label"), DURATIONS)
def test_stated_duration(text: str, seconds: float | None, label: str) -> None:
    got = nv.stated_duration(text)
    if seconds is None:
        assert got is None
    else:
        assert got == (seconds, label)


def test_code_narrative_columns() -> None:
    coded = nv.code_narrative("After a two-hour standoff, the shooter was killed by police.")
    assert set(nv.CODED_COLUMNS) <= set(coded)
    assert coded["standoff"] and coded["siege"] and coded["police_gunfire"] and not coded["hostages"]
    assert coded["duration_s"] == 7200.0 and coded["duration_rule"] == "standoff"
    assert math.isnan(float(nv.code_narrative("The shooter was killed by police.")["duration_s"]))


def test_long_at_scene_needs_no_flight() -> None:
    coded = pd.DataFrame(
        [nv.code_narrative(t) for t in (
            "After a two-hour standoff, the shooter was killed by police.",
            "The shooter fled the scene again, returned home, and committed suicide after a long standoff.",
            "The shooter was killed by police.",
        )]
    )  # fmt: skip
    ending = pd.Series(["police_shot", "fled", "police_shot"])
    assert nv.long_at_scene(coded, ending).tolist() == [True, False, False]


@pytest.fixture(scope="module")
def coded(reference_path) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return nv.code_incidents(incident_table())


def test_counts_by_era_on_the_fbi_narratives(coded: pd.DataFrame) -> None:
    """The table in docs/calibration_targets.md (regression: a rule change shows up here)."""
    counts = nv.era_counts(in_scope(coded))
    assert counts.loc["2000-2013", "incidents"] == 154 and counts.loc["2014-2019", "incidents"] == 116
    assert counts.loc["2000-2013", "long_at_scene"] == 4
    assert counts.loc["2014-2019", "long_at_scene"] == 2
    assert counts.loc["2000-2013", "officers_shot"] == 14 and counts.loc["2014-2019", "officers_shot"] == 17
    every = nv.era_counts(coded)
    assert int(every["incidents"].sum()) == 333


def test_long_incidents_of_the_training_years_are_the_sieges_at_the_scene(coded: pd.DataFrame) -> None:
    train = in_scope(coded)
    names = set(train.loc[train["long_at_scene"] & (train["year"] <= 2013), "incident_name"])
    assert names == {
        "Windy City Core Supply, Inc.",
        "Tacoma Mall",
        "Giordano and Giordano Law Office",
        "Walmart",
    }


def test_main_prints_counts(capsys, reference_path) -> None:  # type: ignore[no-untyped-def]
    assert nv.main([]) == 0
    out = capsys.readouterr().out
    assert "in scope (buildings)" in out and "long_at_scene" in out
