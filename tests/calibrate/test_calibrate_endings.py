"""Ending classes: every real TerminatingEvent maps; compound rule; engine end reasons; narrative phrases."""

from __future__ import annotations

import pandas as pd
import pytest

from responsesim.calibrate.endings import (
    ENDING_CLASSES,
    ENGINE_TO_CLASS,
    TERMINATING_EVENT_CLASS,
    ending_class,
    ending_class_from_record,
    first_ending_event,
    normalise_event,
    police_arrived_before_end,
)
from responsesim.codes import END_REASON_NAMES


def test_every_real_value_maps(incidents: pd.DataFrame) -> None:
    values = sorted(set(incidents["terminating_event"]))
    classes = {v: ending_class(v) for v in values}  # raises KeyError naming any unmapped value
    assert set(classes.values()) <= set(ENDING_CLASSES)
    # the table holds no stale entries either
    assert {normalise_event(v) for v in values} == set(TERMINATING_EVENT_CLASS)


def test_table_values_are_classes() -> None:
    assert set(TERMINATING_EVENT_CLASS.values()) <= set(ENDING_CLASSES)
    assert all(k == normalise_event(k) for k in TERMINATING_EVENT_CLASS)


def test_unknown_value_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="Abducted by aliens"):
        ending_class("Abducted by aliens")


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ("  Suicide   BEFORE police arrived ", "attacker_before_police"),
        ("Shooter completed goal and stopped", "attacker_before_police"),
        ("Fled the scene; Shot by police (Killed)", "fled"),
        ("Fled the scene; Suicide when police arrived", "fled"),
        ("Fled the scene; Shot by police (Killed) & Fled the scene; Shot by police (Killed)", "fled"),
        ("Physical intervention by civilian; fled the scene", "citizen_or_guard"),
        ("Shot by police (Survived); fled the scene", "police_shot"),
        ("Shot at by Civilian (Missed); Shot by police (Killed)", "police_shot"),  # the miss did not end it
        ("Shot at by civilian (missed); Fled the scene", "fled"),
        ("Shot by security guard, then committed suicided", "citizen_or_guard"),
        ("Shot by civilan (survived); committed suicide before police arrived", "citizen_or_guard"),
        ("Verbal intervention by civilian; Suicide before police arrived", "citizen_or_guard"),
        ("Civilian intervention with automobile; Physical intervention by police", "citizen_or_guard"),
        ("Shot by off-duty police (Killed)", "citizen_or_guard"),
        ("Shot by police (Killed) & Suicide after engaging police", "police_shot"),
        ("Suicide while being pursued by police", "suicide_on_police_arrival"),
        ("Physical intervention by police", "police_arrested"),
        ("Killed by police controlled bomb carying robot", "other"),
        ("Automobile crash into police blockade", "other"),
        ("Unclear", "other"),
    ],
)
def test_tricky_values(raw: str, cls: str) -> None:
    assert ending_class(raw) == cls


def test_compound_rule_agrees_with_table() -> None:
    """Where the first ending event of a compound value is itself a table key, both give the same class."""
    checked = 0
    for key, cls in TERMINATING_EVENT_CLASS.items():
        first = first_ending_event(key)
        if first != key and first in TERMINATING_EVENT_CLASS:
            assert TERMINATING_EVENT_CLASS[first] == cls, key
            checked += 1
    assert checked >= 15


def test_engine_end_reasons() -> None:
    assert set(ENGINE_TO_CLASS) == set(END_REASON_NAMES)
    assert set(ENGINE_TO_CLASS.values()) <= set(ENDING_CLASSES)
    assert ENGINE_TO_CLASS["ongoing"] == "other"
    assert ENGINE_TO_CLASS["suicide_police_on_scene"] == "suicide_on_police_arrival"


def narrative_of(incidents: pd.DataFrame, narratives: pd.DataFrame, name: str) -> str:
    hits = narratives.loc[narratives["incident_name"] == name, "narrative"]
    assert len(hits) == 1, name
    return str(hits.iloc[0])


@pytest.mark.parametrize(
    ("name", "arrived"),
    [
        ("Navistar International Corporation Factory", False),  # "committed suicide before police arrived"
        ("Amko Trading Store", True),  # "committed suicide when police arrived"
        ("Edgewater Technology, Inc.", False),  # "apprehended when police arrived and found him sitting"
        ("Essex Elementary School and Two Residences", False),  # "apprehended when police arrived"
        ("Appalachian School of Law", False),  # "restrained the shooter until police arrived"
        ("Morgan Hill Ford", False),  # "prior to law enforcement's arrival"
        ("Pine Kirk Care Center", True),  # "before additional law enforcement arrived": one officer was there
        ("Larose-Cut Off Middle School", None),  # says nothing about police
    ],
)
def test_police_arrived_on_real_narratives(
    incidents: pd.DataFrame, narratives: pd.DataFrame, name: str, arrived: bool | None
) -> None:
    assert police_arrived_before_end(narrative_of(incidents, narratives, name)) is arrived


def test_police_arrived_phrases() -> None:
    text = "The shooter committed suicide at the scene before law enforcement arrived."
    assert police_arrived_before_end(text) is False
    assert (
        police_arrived_before_end("He was killed in an exchange of gunfire with law enforcement officers.")
        is True
    )
    assert police_arrived_before_end("Nothing about who came.") is None
    both = "He shot himself before police arrived. He was killed by police."
    assert police_arrived_before_end(both) is None


def test_narrative_refines_silent_or_unclear(incidents: pd.DataFrame, narratives: pd.DataFrame) -> None:
    joplin = narrative_of(incidents, narratives, "Multiple Locations in Joplin, Missouri")
    assert ending_class_from_record("Unclear", joplin) == "police_arrested"  # pursued, then apprehended
    assert ending_class_from_record("Unclear", None) == "other"
    zone = narrative_of(incidents, narratives, "The Zone")
    assert ending_class_from_record("Attempted Suicide (Survived)", zone) == "attacker_before_police"
    assert (
        ending_class_from_record("Attempted Suicide (Survived)", "He shot himself when police arrived.")
        == "suicide_on_police_arrival"
    )
    # structured values that are explicit are never overridden
    explicit = ending_class_from_record("Suicide before police arrived", "He was killed by police.")
    assert explicit == "attacker_before_police"


def test_structured_and_narrative_mostly_agree(incidents: pd.DataFrame, narratives: pd.DataFrame) -> None:
    """Where the narrative speaks, it contradicts the structured class in at most one incident (Pine Kirk)."""
    cls = incidents["terminating_event"].map(ending_class)
    arrived = narratives["narrative"].map(police_arrived_before_end)
    police = ["police_shot", "police_arrested", "suicide_on_police_arrival"]
    contradict = ((cls == "attacker_before_police") & arrived.eq(True)) | (
        cls.isin(police) & arrived.eq(False)
    )
    assert incidents.loc[contradict, "incident_name"].tolist() == ["Pine Kirk Care Center"]
