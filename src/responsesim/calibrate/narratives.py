"""Code the FBI incident narratives with transparent regular-expression rules.

Each incident's narrative paragraph (``narratives_2000_2019.csv``) is coded for what the structured fields
do not hold (rules in ``RULES``, each tested on real snippets in ``tests/calibrate/test_narratives.py``):

- ``barricade``: the attacker barricaded himself ("barricaded himself", "shooters ... barricaded
  themselves"); victims barricading themselves and "climbed a barricade" do not count;
- ``standoff``: a standoff is reported ("standoff", "stand-off"); ``brief_standoff`` when it is called brief
  or short; ``siege``: a standoff or the attacker's barricade once the shooting had begun, not called brief
  ("After a 20-minute standoff, he began firing" is a standoff, not a siege);
- ``hostages``: the attacker took or held hostages;
- ``duration_s``: a stated duration of the incident, the standoff or the spree ("a two-hour standoff",
  "for approximately three hours", "the entire incident lasted about 30 minutes", "13 minutes after the
  shooting began"), or NaN. Durations of what happened before the first shot ("After a 20-minute standoff,
  he began firing", "sat in the meeting for 30 minutes, then ... began firing") and elapsed times after a
  flight ("apprehended ... two hours later") are not durations of the attack;
- ``police_gunfire``: police fired at the attacker (an exchange of gunfire, a shootout or gunfight, the
  attacker shot/killed/wounded by police or officers), but not "without an exchange of gunfire";
- ``exchanged_gunfire``: two-way fire with police (exchange of gunfire, shootout, gunfight, "returned fire");
- ``officers_shot``: a police officer was shot, killed or wounded (security and off-duty officers included
  only when the narrative calls them law enforcement or police);
- ``moved_location``: the attacker went on to another building or location during the attack ("then drove
  to", "at multiple locations", "entered an office building", "continued shooting at a nearby ...").

``long_at_scene`` (used by the duration-tail target, ``targets.duration_tail_target``): the narrative
reports the incident at the scene lasting 10 minutes or more: a stated duration of at least 600 s, or a
``siege``, in an incident whose first ending event is not the
attacker's flight (a standoff after a flight happens elsewhere, and the model ends the attack at flight).

``python -m responsesim.calibrate.narratives`` prints the coded counts by era (2000-2013, 2014-2019), all
incidents and in scope; ``--list`` also lists every incident with a stated duration or a long scene.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

#: Coded columns (booleans unless named ``*_s``).
CODED_COLUMNS = (
    "barricade",
    "standoff",
    "brief_standoff",
    "siege",
    "hostages",
    "duration_s",
    "police_gunfire",
    "exchanged_gunfire",
    "officers_shot",
    "moved_location",
)

LONG_S = 600.0  # 10 minutes: the duration tail's threshold

_F = re.I
_POLICE = r"(?:police|law\s+enforce-?\s?ment|officers?|deput(?:y|ies)|troopers?|SWAT)"
_ATTACKER = r"(?:the\s+)?(?:shooters?|suspects?|gunm[ae]n|he|she|they)"


@dataclass(frozen=True)
class Rule:
    """One coding rule: the column it sets, its patterns (any matches), and patterns that veto it."""

    column: str
    patterns: tuple[re.Pattern[str], ...]
    vetoes: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        """True if a pattern matches a sentence that no veto matches."""
        for sentence in sentences(text):
            if any(v.search(sentence) for v in self.vetoes):
                continue
            if any(p.search(sentence) for p in self.patterns):
                return True
        return False


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, _F) for p in patterns)


# a sentence saying the shooting began after what it describes (a siege or a wait before the first shot)
_BEFORE_SHOOTING_RX = r"\b(?:began|begin|started|opened)\s+(?:firing|shooting|fire)\b|\bthen\s+stood\b"

#: vetoes of police fire: none exchanged, or the sentence names only civilian or security shooters
_NO_POLICE_FIRE = _rx(
    r"\bwithout\s+an?\s+exchange\s+of\s+gunfire\b",
    r"\bno\s+gunfire\s+was\s+exchanged\b",
    r"^(?!.*\b(?:police|law\s+enforce-?\s?ment)\b).*\b(?:civilian|citizen|security|guard|vendor|permits?|"
    r"doctor|employee|manager)\b",
)

RULES: dict[str, Rule] = {
    "barricade": Rule(
        "barricade",
        _rx(
            r"\bbarricad(?:ed|es|ing)\s+(?:him|her)sel(?:f)\b",
            rf"\b{_ATTACKER}\s+(?:then\s+)?barricad(?:ed|es|ing)\s+themselves\b",
        ),
    ),
    "standoff": Rule("standoff", _rx(r"\bstand-?\s?off\b")),
    "brief_standoff": Rule("brief_standoff", _rx(r"\b(?:brief|short)\s+stand-?\s?off\b")),
    # a standoff or barricade once the shooting had begun, not called brief (the duration tail's rule)
    "siege": Rule(
        "siege",
        _rx(r"\bstand-?\s?off\b", r"\bbarricad(?:ed|es|ing)\s+(?:him|her)self\b"),
        _rx(r"\b(?:brief|short)\s+stand-?\s?off\b", _BEFORE_SHOOTING_RX),
    ),
    "hostages": Rule(
        "hostages",
        _rx(
            r"\btook\b[^.;]*?\bhostages?\b",
            r"\b(?:held|holding|taken)\b[^.;]*?\bhostages?\b",
            r"\b(?:him|her)sel(?:f)\s+and\s+(?:\w+\s+)?hostages\b",
            r"\bwith\s+hostages\b",
        ),
    ),
    "police_gunfire": Rule(
        "police_gunfire",
        _rx(
            r"\bexchange[ds]?\s+(?:of\s+)?gunfire\b",
            r"\bgunfire\s+was\s+exchanged\b",
            r"\bshoot-?\s?out\b",
            r"\bgunfight\b",
            rf"\b(?:shot|killed|wounded)\s+(?:and\s+(?:killed|wounded)\s+)?by\s+(?:\w+\s+){{0,4}}?{_POLICE}",
            rf"\b{_POLICE}\s+(?:\w+\s+){{0,3}}?(?:shot|killed|wounded)\s+(?:and\s+\w+\s+)?the\s+shooter",
            r"\breturned\s+fire\b",
        ),
        _NO_POLICE_FIRE,
    ),
    "exchanged_gunfire": Rule(
        "exchanged_gunfire",
        _rx(
            r"\bexchange[ds]?\s+(?:of\s+)?gunfire\b",
            r"\bgunfire\s+was\s+exchanged\b",
            r"\bshoot-?\s?out\b",
            r"\bgunfight\b",
            r"\breturned\s+fire\b",
        ),
        _NO_POLICE_FIRE,
    ),
    "officers_shot": Rule(
        "officers_shot",
        _rx(
            # "..., including one police officer." in a casualty sentence
            r"\b(?:killed|wounded)\b[^.]*?\bincluding\s+(?:\w+\s+){0,3}?(?:police|law\s+enforce-?\s?ment)"
            r"\s+officers?\b",
            r"\b(?:killed|wounded)\b[^.]*?\((?:[^)]*?\b)?(?:\w+\s+)?law\s+enforce-?\s?ment\s+officers?\b",
            # "one police officer was wounded", "Four uniformed police officers were killed"
            r"\b(?:police|law\s+enforce-?\s?ment)\s+officers?\s+(?:was|were)\s+(?:\w+\s+)?(?:shot|killed|wounded)",
            r"\b(?:police|law\s+enforce-?\s?ment)\s+officers?\s+(?:were\s+)?(?:killed|wounded)\b",
            # "shot a police officer", "shot and wounded a responding law enforcement officer"
            r"\bshot\s+(?:and\s+(?:killed|wounded)\s+)?(?:a|an|one|two|three|the)\s+(?:\w+\s+){0,2}?"
            r"(?:police|law\s+enforce-?\s?ment|school\s+resource)\s+officers?\b",
            r"\bofficers\s+(?:responding\s+[^.]*?\s+)?were\s+also\s+shot\b",
        ),
        _rx(r"\bgrandfather\b", r"\bfriendly\s+fire\b", r"\bincidental\b[^.]*\bofficer\b[^.]*\bonly\b"),
    ),
    "moved_location": Rule(
        "moved_location",
        _rx(
            r"\b(?:then|later|subsequently)\s+(?:drove|went|walked|traveled|travelled|proceeded|moved|ran|"
            r"returned)\s+(?:back\s+)?to\s+(?:a|an|the|another|his|her)\b",
            r"\bat\s+(?:multiple|several|two|three|various)\s+locations\b",
            r"\b(?:entered|went\s+into|moved\s+to)\s+(?:another|a\s+second|a\s+nearby|an\s+adjacent)\s+"
            r"(?:building|store|business|office|classroom\s+building|location)",
            r"\bentered\s+an?\s+(?:office|classroom|school)\s+building\b",
            r"\bdrove\s+to\s+(?:the\s+)?nearby\b",
            r"\bcontinued\s+(?:shooting|firing)\s+(?:at|in)\s+(?:a|an|the)\s+(?:nearby|second|other)\b",
            r"\bfled\s+to\s+(?:a|an|the)\s+nearby\b[^.;]*?\b(?:where|and)\b[^.;]*?\b(?:killed|shot|wounded)",
        ),
        # a room of the same building is not another location
        _rx(
            r"\b(?:went|walked|ran|moved|returned)\s+to\s+(?:the|a|an)\s+"
            r"(?:bathroom|restroom|classroom|hallway|room|floor|stairwell|library|cafeteria|office)\b"
        ),
    ),
}

_NUM_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "sixty": 60, "ninety": 90, "several": 3, "a few": 2,
    "two-and-a-half": 2.5, "two and a half": 2.5,
}  # fmt: skip
_UNIT_S = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_QTY = r"(?P<n>\d+(?:\.\d+)?|two[- ]and[- ]a[- ]half|a\s+few|several|forty-five|[a-z]+)"
_UNIT = r"(?P<u>second|minute|hour|day)s?"
_ABOUT = r"(?:about\s+|approximately\s+|nearly\s+|over\s+)?"

#: Duration phrases (label, pattern with groups ``n`` and ``u``), tried in order on each sentence.
DURATION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("standoff", re.compile(rf"\b{_QTY}[- ]{_UNIT}[- ](?:long\s+)?stand-?\s?off\b", _F)),
    ("spree", re.compile(rf"\b{_QTY}[- ]{_UNIT}[- ](?:killing|shooting)\s+spree\b", _F)),
    ("lasted", re.compile(rf"\blasted\s+{_ABOUT}{_QTY}\s+{_UNIT}", _F)),
    ("for", re.compile(rf"\bfor\s+{_ABOUT}{_QTY}\s+{_UNIT}\b", _F)),
    ("after_start", re.compile(
        rf"\b{_QTY}\s+{_UNIT}\s+after\s+the\s+(?:incident|shooting|attack)\s+(?:began|started)\b", _F)),
)  # fmt: skip
# what happened before the first shot: "After a 20-minute standoff, he began firing"; "for 30 minutes, then"
_BEFORE_SHOOTING = re.compile(_BEFORE_SHOOTING_RX, _F)
# elapsed time of a manhunt or a later event, not the attack: "... apprehended ... two hours later"
_AFTER_FLIGHT = re.compile(r"\b(?:fled|manhunt|pursuit|at\s+another\s+location|later\s+at)\b", _F)


def sentences(text: str) -> list[str]:
    """The sentences of a narrative (whitespace normalised, split after ., ! or ? before a capital)."""
    flat = " ".join(str(text).split())
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", flat) if s]


def _quantity(raw: str) -> float | None:
    key = " ".join(raw.lower().replace("-", " ").split())
    if re.fullmatch(r"\d+(?:\.\d+)?", key):
        return float(key)
    for word, value in _NUM_WORDS.items():
        if key == word.replace("-", " "):
            return float(value)
    return None


def stated_duration(text: str) -> tuple[float, str] | None:
    """The first stated duration of the attack, the standoff or the spree: (seconds, rule label), or None.

    A phrase in a sentence that says the shooting began after it (a siege or a wait before the first shot)
    or that the attacker had fled (a manhunt) is not the attack's duration.
    """
    for sentence in sentences(text):
        if _BEFORE_SHOOTING.search(sentence) or _AFTER_FLIGHT.search(sentence):
            continue
        for label, rx in DURATION_PATTERNS:
            m = rx.search(sentence)
            if m is None:
                continue
            qty = _quantity(m.group("n"))
            if qty is not None:
                return qty * _UNIT_S[m.group("u").lower()], label
    return None


def code_narrative(text: str) -> dict[str, float | bool | str]:
    """Every coded column of one narrative (``CODED_COLUMNS``, plus ``duration_rule``: the phrase kind)."""
    out: dict[str, float | bool | str] = {c: RULES[c].matches(text) for c in RULES}
    dur = stated_duration(text)
    out["duration_s"] = math.nan if dur is None else dur[0]
    out["duration_rule"] = "" if dur is None else dur[1]
    return out


def long_at_scene(coded: pd.DataFrame, ending: pd.Series) -> pd.Series:
    """The incidents whose narrative reports 10+ minutes at the scene (module docstring): a stated duration
    of at least ``LONG_S``, or a ``siege`` (a standoff or barricade after the shooting began, not called
    brief), unless the attacker fled first."""
    stated = coded["duration_s"].fillna(0.0) >= LONG_S
    return (stated | coded["siege"].astype(bool)) & (ending != "fled")


def code_incidents(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (an ``targets.incident_table``: ``narrative``, ``ending``, ``year``, ``location``) with the
    coded columns, ``duration_rule``, ``long_at_scene`` and ``era`` ("2000-2013" / "2014-2019") added."""
    coded = pd.DataFrame([code_narrative(t) for t in df["narrative"]], index=df.index)
    out = pd.concat([df, coded], axis=1)
    out["long_at_scene"] = long_at_scene(coded, df["ending"])
    out["era"] = ["2000-2013" if y <= 2013 else "2014-2019" for y in df["year"]]
    return out


COUNT_COLUMNS = (*[c for c in CODED_COLUMNS if c != "duration_s"], "duration_stated", "long_at_scene")


def era_counts(coded: pd.DataFrame) -> pd.DataFrame:
    """Counts of each coded feature by era: one row per era, ``incidents`` and ``COUNT_COLUMNS``."""
    tab = coded.assign(duration_stated=coded["duration_s"].notna())
    counts = tab.groupby("era")[list(COUNT_COLUMNS)].sum().astype(int)
    counts.insert(0, "incidents", tab.groupby("era").size())
    return counts


def coded_table(scope_only: bool = False) -> pd.DataFrame:
    """The FBI incidents 2000-2019 (all locations, or in scope only), coded (``code_incidents``)."""
    from responsesim.calibrate.targets import in_scope, incident_table

    df = incident_table()
    return code_incidents(in_scope(df) if scope_only else df)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m responsesim.calibrate.narratives [--list]``: coded counts by era, all and in scope."""
    ap = argparse.ArgumentParser(prog="python -m responsesim.calibrate.narratives", description=__doc__)
    ap.add_argument("--list", action="store_true", help="list incidents with a duration or a long scene")
    args = ap.parse_args(argv)
    table = coded_table()
    from responsesim.calibrate.targets import in_scope

    for label, part in (("all incidents", table), ("in scope (buildings)", in_scope(table))):
        print(f"## {label}")
        print(era_counts(part).T.to_string())
        print()
    if args.list:
        show = table[table["duration_s"].notna() | table["long_at_scene"]]
        cols = ["year", "location", "incident_name", "ending", "duration_s", "duration_rule", "standoff",
                "barricade", "long_at_scene"]  # fmt: skip
        print(show[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
