"""A space's kind from its name, its capacity from its area, and its starting occupants.

Kinds are guessed from words in the name and usage (English, German, French, Spanish; see
``KEYWORDS``); a space with no known word is an ``office`` (a lockable room), or an ``open_area`` when it
is larger than ``OPEN_AREA_M2``. Capacity (people) = floor area / ``M2_PER_PERSON[kind]`` (the occupant
load factors of the International Building Code, table 1004.5, in m² per person); 0 = not limited.
"""

from __future__ import annotations

import math
import re
import unicodedata

KEYWORDS: dict[str, tuple[str, ...]] = {
    "stairwell": ("stair", "treppe", "escalier", "escalera", "staircase"),
    "restroom": ("wc", "toilet", "restroom", "lavatory", "bathroom", "bath", "bad", "badezimmer", "washroom",
                 "shower", "dusche", "sanit", "aseo", "bano"),
    "corridor": ("corridor", "hall", "hallway", "flur", "gang", "diele", "lobby", "foyer", "entrance",
                 "entry", "vestibule", "galerie", "gallery", "circulation", "passage", "walkway", "windfang",
                 "couloir", "pasillo", "verkehr", "erschliessung"),
    "open_area": ("gym", "gymnasium", "sporthalle", "turnhalle", "auditorium", "aula", "cafeteria", "canteen",
                  "mensa", "library", "bibliothek", "dining", "commons", "atrium", "open"),
    "lounge": ("lounge", "staff", "kitchen", "kueche", "living", "wohnen", "wohnzimmer", "break", "teachers",
               "lehrer", "pause", "salon", "sejour"),
    "classroom": ("classroom", "class", "klassenzimmer", "klasse", "lab", "laboratory", "labor", "seminar",
                  "lecture", "horsaal", "hoersaal", "unterricht", "salle", "science", "art",
                  "music"),
    "office": ("office", "buero", "buro", "admin", "meeting", "besprechung", "conference", "bedroom",
               "schlafzimmer", "zimmer", "study", "storage", "lager", "abstellraum", "technik",
               "nurse", "counsel", "principal"),
}  # fmt: skip
"""Kind -> words (matched as whole words, or as the start or end of a longer word of 5+ letters)."""

ORDER = ("stairwell", "restroom", "corridor", "open_area", "lounge", "classroom", "office")
"""The first kind whose word matches wins."""

M2_PER_PERSON: dict[str, float | None] = {
    "classroom": 1.86,  # 20 ft² net: classroom area
    "office": 9.3,  # 100 ft² gross: business area
    "lounge": 1.4,  # 15 ft² net: unconcentrated assembly
    "open_area": 1.4,
    "restroom": None,
    "corridor": None,
    "stairwell": None,
    "exit": None,
}
"""m² of floor per person by kind; None = capacity not limited (0)."""

OCCUPIED_KINDS = frozenset({"classroom", "office", "lounge", "open_area"})
"""Kinds given starting occupants (``fill`` x capacity) when the source gives none."""

OPEN_AREA_M2 = 150.0
"""An unnamed space larger than this (m²) is an open area, not an office."""

HARD_CORNER_MIN_M2 = 10.0
"""A lockable room of at least this floor area (m²) is assumed to have a hard corner."""


def fold(text: str) -> str:
    """Lower case ASCII with German umlauts spelled out (``Küche`` -> ``kueche``)."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


_WORD = re.compile(r"[a-z]+")


def guess_kind(*texts: str) -> str | None:
    """The kind named by the first matching keyword in ``texts`` (None when no word matches)."""
    words = [w for t in texts for w in _WORD.findall(fold(t))]
    for kind in ORDER:
        for key in KEYWORDS[kind]:
            for w in words:
                if w == key or (len(key) >= 4 and len(w) >= 5 and (w.startswith(key) or w.endswith(key))):
                    return kind
    return None


def default_kind(area_m2: float) -> str:
    """The kind of a space whose name says nothing: an office, or an open area when large."""
    return "open_area" if area_m2 > OPEN_AREA_M2 else "office"


def capacity_from_area(kind: str, area_m2: float) -> int:
    """People that fit (``M2_PER_PERSON``); 0 = not limited."""
    per = M2_PER_PERSON.get(kind)
    if per is None or not math.isfinite(area_m2) or area_m2 <= 0:
        return 0
    return min(1_000_000, int(area_m2 / per))


def occupants_from_capacity(kind: str, capacity: int, fill: float) -> int:
    """Starting occupants: ``fill`` x capacity (at least 1 when capacity >= 1) for occupied kinds, else 0."""
    if kind not in OCCUPIED_KINDS or capacity <= 0:
        return 0
    return max(1, min(capacity, round(capacity * fill)))
