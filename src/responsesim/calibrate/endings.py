"""Ending classes: how an incident ended, for the FBI ``TerminatingEvent`` texts and the engine's end reasons.

Classes (``ENDING_CLASSES``):

- ``attacker_before_police``: the attacker ended it himself before police arrived (suicide or attempted
  suicide before police, "completed goal and stopped");
- ``fled``: the attacker fled the scene (first event "Fled the scene"), whatever happened later;
- ``citizen_or_guard``: stopped by citizens, a security guard or off-duty police (physical, verbal, armed
  or vehicle intervention; shot by a civilian or guard);
- ``police_shot``: shot by (on-duty) police, killed or survived;
- ``police_arrested``: arrested by police, surrendered to police, physical intervention by police;
- ``suicide_on_police_arrival``: suicide when police arrived, after engaging police, or while pursued;
- ``other``: unclear, crash into a police blockade, killed by a police bomb robot.

Source of the texts: FBI active-shooter reports 2000-2019 (``incidents_2000_2019.csv``).
"""

from __future__ import annotations

import re

ENDING_CLASSES = (
    "attacker_before_police",
    "fled",
    "citizen_or_guard",
    "police_shot",
    "police_arrested",
    "suicide_on_police_arrival",
    "other",
)

#: Every distinct ``TerminatingEvent`` of incidents_2000_2019.csv (normalised: lower case, single spaces)
#: -> ending class. Compound values are classified by the first event that ended the shooting (see
#: :func:`ending_class`). Raw typos ("civilan", "suicided", "carying") are kept so keys match the file.
TERMINATING_EVENT_CLASS: dict[str, str] = {
    # the attacker ended it himself before police arrived
    "suicide before police arrived": "attacker_before_police",
    "shooter completed goal and stopped": "attacker_before_police",
    # 3 of 4 narratives say "shot himself before police arrived" or are silent; refined by the narrative
    # in ending_class_from_record
    "attempted suicide (survived)": "attacker_before_police",
    # fled first
    "fled the scene": "fled",
    "fled the scene & fled the scene": "fled",
    "fled the scene & fled the scene & fled the scene": "fled",
    "fled the scene; committed suicide": "fled",
    "fled the scene; surrendered when caught": "fled",
    "fled the scene; surrendered to police": "fled",
    "fled the scene; suicide before police arrived": "fled",
    "fled the scene; suicide when police arrived": "fled",
    "fled the scene; suicide after engaging police": "fled",
    "fled the scene; shot by police (killed)": "fled",
    "fled the scene; shot by police (killed) & fled the scene; shot by police (killed)": "fled",
    "fled the scene; physical intervention by police": "fled",
    "fled the scene after engaging security guards": "fled",
    # a missed shot at the attacker did not end the shooting: the next event did
    "shot at by civilian (missed); fled the scene": "fled",
    # citizens, security guards, off-duty police
    "physical intervention by civilian": "citizen_or_guard",
    "physical intervention by civilian; fled the scene": "citizen_or_guard",
    "physical intervention by civilian & off-duty police": "citizen_or_guard",
    "physical intervention by civilian & physical intervention by security guard": "citizen_or_guard",
    "physical intervention by security guard": "citizen_or_guard",
    "verbal intervention by civilian": "citizen_or_guard",
    "verbal intervention by civilian; suicide before police arrived": "citizen_or_guard",
    "verbal & physical intervention by civilian": "citizen_or_guard",
    "armed intervention by civilian (no shots fired)": "citizen_or_guard",
    "civilian intervention with automobile; physical intervention by police": "citizen_or_guard",
    "shot by civilian": "citizen_or_guard",
    "shot by civilian (killed)": "citizen_or_guard",
    "shot by civilian (survived)": "citizen_or_guard",
    "shot by civilan (survived); committed suicide before police arrived": "citizen_or_guard",
    "shot by security guard (killed)": "citizen_or_guard",
    "shot by security guard, then committed suicided": "citizen_or_guard",
    "shot by off-duty police (killed)": "citizen_or_guard",
    # police shot the attacker
    "shot by police (killed)": "police_shot",
    "shot by police (survived)": "police_shot",
    "shot by police (survived); fled the scene": "police_shot",
    "shot by police (killed) & suicide after engaging police": "police_shot",
    "shot at by civilian (missed); shot by police (killed)": "police_shot",
    # police arrested
    "surrendered to police": "police_arrested",
    "physical intervention by police": "police_arrested",
    # suicide with police there
    "suicide when police arrived": "suicide_on_police_arrival",
    "suicide after engaging police": "suicide_on_police_arrival",
    "suicide while being pursued by police": "suicide_on_police_arrival",
    # other
    "automobile crash into police blockade": "other",
    "killed by police controlled bomb carying robot": "other",
    "unclear": "other",
}

#: Engine end reasons (``responsesim.codes.END_REASON_NAMES``) -> ending class.
ENGINE_TO_CLASS: dict[str, str] = {
    "ongoing": "other",
    "suicide_before_police": "attacker_before_police",
    "suicide_police_on_scene": "suicide_on_police_arrival",
    "fled": "fled",
    "citizens": "citizen_or_guard",
    "police_shot": "police_shot",
    "police_arrested": "police_arrested",
}

#: Raw values whose class :func:`ending_class_from_record` refines from the narrative.
NARRATIVE_REFINED = frozenset({"attempted suicide (survived)", "unclear"})

_EVENT_SPLIT = re.compile(r";|&|, then")
_SKIPPED_EVENTS = ("shot at by civilian (missed)",)


def normalise_event(raw: str) -> str:
    """Lower case with whitespace runs collapsed to one space and trimmed."""
    return " ".join(raw.split()).lower()


def split_events(raw: str) -> list[str]:
    """The events of a compound value, in order (split on ``;``, ``&`` and ``, then``), normalised."""
    return [e.strip() for e in _EVENT_SPLIT.split(normalise_event(raw)) if e.strip()]


def ending_class(terminating_event: str) -> str:
    """The ending class of an FBI ``TerminatingEvent`` text, from ``TERMINATING_EVENT_CLASS``.

    Rule for compound values: ``;`` and ``, then`` separate events in time order, ``&`` joins several
    shooters (or several actors in one intervention); the value is classified by the FIRST event that
    ended the shooting, i.e. the first listed event, except that a missed shot at the attacker
    ("Shot at by Civilian (Missed)") did not end it and is skipped. So "Fled the scene; Shot by police
    (Killed)" is ``fled`` and "Physical intervention by civilian; fled the scene" is ``citizen_or_guard``.

    Raises ``KeyError`` naming the value if it is not in the table (no silent default).
    """
    key = normalise_event(terminating_event)
    try:
        return TERMINATING_EVENT_CLASS[key]
    except KeyError:
        raise KeyError(f"unknown TerminatingEvent {terminating_event!r} (normalised {key!r})") from None


def first_ending_event(terminating_event: str) -> str:
    """The first event of a (compound) value that ended the shooting, per the rule of :func:`ending_class`."""
    events = split_events(terminating_event)
    for event in events:
        if event not in _SKIPPED_EVENTS:
            return event
    return events[0] if events else ""


_POLICE = r"(?:the\s+)?(?:responding\s+)?(?:police|law\s+enforcement)(?:\s+officers?)?"
# phrases saying the shooting ended before police arrived
_BEFORE = (
    re.compile(rf"\bbefore\s+{_POLICE}\s+(?:arrived|arrival|could\s+arrive)", re.I),
    re.compile(rf"\bprior\s+to\s+{_POLICE}(?:'s)?\s+arrival", re.I),
    re.compile(rf"\b(?:restrain|subdu|held|hold|tackl)\w*\b[^.]*?\buntil\s+{_POLICE}\s+arrived", re.I),
    re.compile(rf"\b(?:apprehended|found)\s+when\s+{_POLICE}\s+arrived", re.I),
)
# phrases saying police were there before it ended
_AFTER = (
    re.compile(rf"\b(?:when|after|as)\s+(?:additional\s+)?{_POLICE}\s+arrived", re.I),
    re.compile(rf"\bbefore\s+additional\s+{_POLICE}\s+arrived", re.I),
    re.compile(rf"\bexchange(?:d)?\s+(?:of\s+)?gunfire\s+with\s+{_POLICE}", re.I),
    re.compile(rf"\b(?:killed|shot|wounded)\s+by\s+{_POLICE}", re.I),
    re.compile(rf"\bpursued\s+by\s+{_POLICE}", re.I),
)


def police_arrived_before_end(narrative: str) -> bool | None:
    """Whether an FBI narrative says police arrived before the shooting ended; None if it does not say.

    False on "before police/law enforcement arrived", "prior to law enforcement's arrival", "restrained ...
    until police arrived", "apprehended when police arrived"; True on "when/after/as (additional) police
    arrived", "before additional law enforcement arrived", "exchange of gunfire with police", "killed/shot by
    police", "pursued by police". None when neither or both kinds of phrase occur.
    """
    text = " ".join(narrative.split())
    before = False
    for rx in _BEFORE:
        if rx.search(text):
            before = True
            text = rx.sub(" ", text)  # so "apprehended when police arrived" is not read as arrival
    after = any(rx.search(text) for rx in _AFTER)
    if before == after:
        return None
    return after


_ARREST = re.compile(r"\b(?:apprehended|taken\s+into\s+custody|arrested|surrendered)\b", re.I)


def ending_class_from_record(terminating_event: str, narrative: str | None) -> str:
    """:func:`ending_class`, refined by the narrative where the structured field is silent or unclear.

    - "Attempted Suicide (Survived)": ``suicide_on_police_arrival`` if the narrative says police had
      arrived, else ``attacker_before_police``;
    - "Unclear": ``attacker_before_police`` if the narrative says it ended before police arrived;
      ``police_arrested`` if police had arrived and he was apprehended/surrendered; else ``other``.
    """
    cls = ending_class(terminating_event)
    key = normalise_event(terminating_event)
    if narrative is None or key not in NARRATIVE_REFINED:
        return cls
    arrived = police_arrived_before_end(narrative)
    if key == "attempted suicide (survived)":
        return "suicide_on_police_arrival" if arrived else cls
    if arrived is False:
        return "attacker_before_police"
    if arrived and _ARREST.search(narrative):
        return "police_arrested"
    return cls
