"""Incident timelines: load and validate ``time, actor, role, event, location, detail, certainty, source``.

Nothing is repaired: an unknown event or role, a time that is not ``YYYY-MM-DD HH:MM:SS`` (or a date
``YYYY-MM-DD`` with certainty ``day``), a row earlier than the row before it, an actor without a role (or
with two roles) is a ``ReviewInputError`` naming the file, the line and the column. Rows keep their order
and their times exactly as written. Several files are merged by time (``load_timelines``); tip rows are
checked there (``review/tips.py``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from responsesim.review.errors import ReviewInputError, read_review_text

__all__ = [
    "CASUALTY_EVENTS",
    "CASUALTY_KEYS",
    "CERTAINTIES",
    "COLUMNS",
    "DATE_CERTAINTIES",
    "DEFAULT_EVENTS",
    "DEFAULT_ROLES",
    "DETAIL_KEYS",
    "DIED",
    "FLAGGED_CERTAINTIES",
    "CasualtyDetail",
    "Timeline",
    "TimelineRow",
    "Vocabulary",
    "detail_tokens",
    "load_timeline",
    "load_timelines",
    "load_vocabulary",
    "merge_timelines",
    "parse_row_time",
    "parse_time",
]

COLUMNS: tuple[str, ...] = ("time", "actor", "role", "event", "location", "detail", "certainty", "source")

#: event -> meaning (rendered into docs/review.md)
DEFAULT_EVENTS: dict[str, str] = {
    "attacker_arrived": "the attacker arrives at the site",
    "shots_fired": "the attacker fires (one row per burst or phase the sources time)",
    "moved": "an actor moves to the location given (direction not judged)",
    "call_received": "a 911 or other call reaches a dispatcher",
    "dispatched": "a dispatcher sends units",
    "radio": "a radio transmission (words in detail)",
    "lockdown_announced": "a lockdown / Code Red is announced",
    "arrived_on_scene": "a responder arrives at the scene",
    "entered_building": "an actor enters the building",
    "left_building": "an actor leaves the building",
    "took_cover": "a responder takes a covered position",
    "held_position": "a responder stays where they are (recorded at the time given)",
    "set_perimeter": "responders set up a perimeter",
    "staged": "responders gather at a staging point",
    "moved_toward_threat": "a responder moves toward the attacker or the sound of gunfire",
    "moved_away_from_threat": "a responder moves away from the attacker",
    "engaged_attacker": "a responder engages the attacker (fire, contact)",
    "fired_from_outside": "a responder fires at the attacker from outside the building (not an entry: the "
    "responder is still outside)",
    "entry_blocked": "a responder tries to get in and is blocked: a locked or chained door, a breach attempt "
    "(which door and how in detail; not an entry)",
    "fired_upon": "a responder is fired on by the attacker",
    "officer_wounded": "a responder is hit by gunfire (count=N in detail for several)",
    "attacker_stopped": "the attacker is stopped (shot, restrained)",
    "self_terminated": "the attacker kills himself",
    "surrendered": "the attacker surrenders",
    "barricaded": "the attacker barricades in a room",
    "apprehended": "the attacker is arrested",
    "casualty_care_started": "care (tourniquet, hemorrhage control, evacuation) reaches a casualty "
    "(casualty=ACTOR names the casualty row; otherwise it counts for casualties at the same location)",
    "hemorrhage_control": "bleeding is controlled (tourniquet, packing, pressure): the H of THREAT "
    "(casualty=ACTOR in detail)",
    "extricated": "a casualty is moved out to a casualty collection point or ambulance: the R (rapid "
    "extrication) of THREAT (casualty=ACTOR in detail)",
    "triaged": "medical providers assess a casualty: the A of THREAT (casualty=ACTOR in detail)",
    "area_cleared": "police declare an area clear of the attacker (clear but not secure: a warm zone "
    "where rescue teams may work); the T (threat suppression) of THREAT",
    "attacker_located": "responders learn where the attacker is, or that he has left the area (video, "
    "witnesses, contact)",
    "victim_killed": "people killed: detail tokens count=N, until=HH:MM:SS (window end), died=, care=, "
    "died_at=HH:MM:SS (recorded time of death: alive until then)",
    "victim_wounded": "people wounded who survived: detail tokens count=N, until=HH:MM:SS, care=HH:MM:SS",
    "evacuated": "occupants leave the building",
    "requested_entry": "a rescue team or EMS asks to enter the building or warm zone",
    "entry_refused": "a request to enter is refused (who refused in detail)",
    "entered_warm_zone": "a rescue task force or EMS enters the warm zone",
    "patient_transported": "a patient leaves the scene for a hospital: the T of THREAT (count=N for "
    "several, casualty=ACTOR names the casualty row)",
    "arrived_at_hospital": "a patient arrives at a hospital (count=N for several, casualty=ACTOR names the "
    "casualty row)",
    "tip_received": "a tip about the attacker reaches an agency (tip=ID names the tip; agency=NAME unless "
    "the actor's role is agency or tip_line)",
    "tip_assessed": "the agency assesses a tip (tip=ID)",
    "tip_forwarded": "a tip is passed to the agency or office that can act on it (tip=ID)",
    "tip_closed": "a tip is closed (tip=ID; action= says with what action: none, referred, investigated, "
    "weapons_removed, mental_health, arrested)",
    "visit": "police or social services visit the person of concern (home, school; tip=ID if it follows "
    "a tip)",
    "warning_sign": "a warning sign seen by others (posts, threats, statements)",
}

#: events of the months before the attack (the pre-attack part of a review)
TIP_EVENTS: frozenset[str] = frozenset({"tip_received", "tip_assessed", "tip_forwarded", "tip_closed"})
PRE_ATTACK_EVENTS: frozenset[str] = TIP_EVENTS | {"visit", "warning_sign"}

#: ``action=`` on a ``tip_closed`` row
TIP_ACTIONS: dict[str, str] = {
    "none": "closed with no action on the person of concern",
    "referred": "passed to another agency or office that took it up",
    "investigated": "investigated (interviews, checks) before closing",
    "weapons_removed": "weapons removed or handed over",
    "mental_health": "a mental-health evaluation or commitment",
    "arrested": "an arrest or charge",
}

CASUALTY_EVENTS: frozenset[str] = frozenset({"victim_killed", "victim_wounded"})

DEFAULT_ROLES: tuple[str, ...] = (
    "attacker",
    "sro",
    "patrol",
    "deputy",
    "swat",
    "supervisor",
    "dispatcher",
    "ems",
    "fire",
    "security_guard",
    "staff",
    "student",
    "victim",
    "bystander",
    "tipster",
    "agency",
    "tip_line",
    "rescue_task_force",
)

#: role -> meaning, for the roles whose name does not say it (rendered into docs/review.md)
ROLE_NOTES: dict[str, str] = {
    "tipster": "a person who reports a concern",
    "agency": "an organisation receiving or handling tips",
    "tip_line": "a hotline or public tip line that takes reports for an agency and must pass them on",
    "rescue_task_force": "medics with a police escort who enter the warm zone to treat and extract "
    "casualties",
}
#: roles whose actor is itself the agency handling a tip (other roles name it with agency=NAME)
AGENCY_ROLES: frozenset[str] = frozenset({"agency", "tip_line"})

#: how precisely a row's time is known
CERTAINTIES: dict[str, str] = {
    "exact": "recorded by a clock (CAD log, video timestamp)",
    "second": "given to the second by the source",
    "minute": "given to the minute by the source",
    "derived": "computed from other timed facts (the detail says how)",
    "approximate": "an estimate; used, but every finding that rests on it is flagged",
    "day": "the source gives the date only: the time is written YYYY-MM-DD",
}
FLAGGED_CERTAINTIES: frozenset[str] = frozenset({"approximate"})
#: certainties a date-only time (``YYYY-MM-DD``) may have
DATE_CERTAINTIES: frozenset[str] = frozenset({"day", "approximate", "derived"})

#: ``died=`` on a ``victim_killed`` row: how the person died, as far as the sources say
DIED: dict[str, str] = {
    "at_once": "died at once (no care could have helped)",
    "at_scene": "died at the scene; how soon is not known (the default)",
    "later": "lived for a while after being shot and died later (at the scene awaiting care or in hospital)",
    "in_hospital": "died in hospital (counted as 'later')",
}
CASUALTY_KEYS: tuple[str, ...] = ("count", "until", "died", "care", "died_at")
#: every machine-read ``key=value`` token of a detail (anything else is free text)
DETAIL_KEYS: tuple[str, ...] = (*CASUALTY_KEYS, "casualty", "tip", "agency", "action")

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Vocabulary:
    """The events and roles a timeline (and a protocol) may use."""

    events: frozenset[str] = frozenset(DEFAULT_EVENTS)
    roles: frozenset[str] = frozenset(DEFAULT_ROLES)

    def extended(self, events: Iterable[str] = (), roles: Iterable[str] = ()) -> Vocabulary:
        return Vocabulary(self.events | frozenset(events), self.roles | frozenset(roles))


def _names(value: object, file: str, key: str, text: str) -> list[str]:
    from responsesim.scenario.errors import locate_toml_line

    line = locate_toml_line(text, ("vocabulary", key))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReviewInputError(file, line, f"vocabulary.{key}", "must be a list of strings")
    for v in value:
        if not v or not v.replace("_", "").isalnum() or v != v.lower():
            raise ReviewInputError(file, line, f"vocabulary.{key}", f"{v!r} is not a lower_snake_case name")
    return list(value)


def vocabulary_from_toml(data: dict[str, object], file: str, text: str, base: Vocabulary) -> Vocabulary:
    """``base`` extended by the ``[vocabulary]`` table of a parsed TOML document (if it has one)."""
    table = data.get("vocabulary")
    if table is None:
        return base
    if not isinstance(table, dict):
        raise ReviewInputError(file, None, "vocabulary", "must be a table")
    unknown = set(table) - {"events", "roles"}
    if unknown:
        msg = f"unknown key(s) {sorted(unknown)}; use events, roles"
        raise ReviewInputError(file, None, "vocabulary", msg)
    events = _names(table.get("events", []), file, "events", text)
    roles = _names(table.get("roles", []), file, "roles", text)
    return base.extended(events, roles)


def load_vocabulary(path: Path | None, base: Vocabulary | None = None) -> Vocabulary:
    """The default vocabulary extended by a TOML file ``[vocabulary] events = [...] roles = [...]``."""
    base = base or Vocabulary()
    if path is None:
        return base
    file = str(path)
    text = read_review_text(path, "vocabulary file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from responsesim.scenario.errors import from_toml_decode_error

        e = from_toml_decode_error(exc, file, text)
        raise ReviewInputError(file, e.line, None, e.message) from None
    return vocabulary_from_toml(data, file, text, base)


def detail_tokens(detail: str) -> dict[str, str]:
    """The ``key=value`` tokens of a detail whose key is machine-read (``DETAIL_KEYS``; first wins)."""
    out: dict[str, str] = {}
    for token in detail.replace(";", " ").replace(",", " ").split():
        key, eq, value = token.partition("=")
        if eq and key in DETAIL_KEYS:
            out.setdefault(key, value.rstrip(".)"))
    return out


def parse_time(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (local clock time with a date; ``T`` also accepted); ValueError otherwise."""
    s = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    raise ValueError(f"bad time {text!r}: expected local clock time with a date, YYYY-MM-DD HH:MM:SS")


def parse_row_time(text: str) -> tuple[datetime, bool]:
    """A row's time and whether it is a date only (``YYYY-MM-DD``: the start of that day)."""
    s = text.strip()
    if len(s) == 10:
        try:
            return datetime.strptime(s, "%Y-%m-%d"), True
        except ValueError:
            pass
    try:
        return parse_time(s), False
    except ValueError:
        raise ValueError(
            f"bad time {text!r}: expected YYYY-MM-DD HH:MM:SS (local clock time) or YYYY-MM-DD (a date "
            "only, certainty day)"
        ) from None


@dataclass(frozen=True)
class TimelineRow:
    line: int  # 1-based line in the file where the row starts
    time: datetime
    actor: str
    role: str
    event: str
    location: str
    detail: str
    certainty: str
    source: str
    date_only: bool = False  # the time was written YYYY-MM-DD: the day is known, not the hour
    file: str = ""  # the file the row is from (several timelines may be merged)
    seq: int = 0  # position in the (merged) timeline: order across files, where lines are per file

    @property
    def when(self) -> str:
        """The time as written: ``YYYY-MM-DD`` for a date-only row, else ``YYYY-MM-DD HH:MM:SS``."""
        return f"{self.time:%Y-%m-%d}" if self.date_only else f"{self.time:%Y-%m-%d %H:%M:%S}"

    @property
    def flagged(self) -> bool:
        """True if the time is only approximate: findings resting on it say so."""
        return self.certainty in FLAGGED_CERTAINTIES

    def count(self) -> int:
        """People a row stands for: ``count=N`` in the detail, else 1."""
        text = self.tokens().get("count", "1")
        return int(text) if text.isdigit() else 1

    def tokens(self) -> dict[str, str]:
        """The ``key=value`` tokens of the detail whose key is machine-read (``DETAIL_KEYS``)."""
        return detail_tokens(self.detail)

    def casualty(self, file: str) -> CasualtyDetail:
        """The casualty detail of a ``victim_killed`` / ``victim_wounded`` row, checked."""
        return casualty_detail(self, file)


@dataclass(frozen=True)
class CasualtyDetail:
    """What a casualty row says: ``count`` people, hit between the row's time and ``until`` (the same time
    when the sources give one), how they died (``DIED``; "" for the wounded), when care reached them and
    when they died (``died_at``: alive until then; None when the sources do not say)."""

    count: int
    start: datetime
    until: datetime
    died: str
    care: datetime | None
    death: datetime | None = None

    @property
    def window_s(self) -> float:
        return (self.until - self.start).total_seconds()


def _clock(value: str, day: datetime) -> datetime:
    """``HH:MM:SS`` on the row's day, or a full ``YYYY-MM-DDTHH:MM:SS``."""
    if "T" in value or len(value) > 8:
        return parse_time(value)
    return datetime.combine(day.date(), datetime.strptime(value, "%H:%M:%S").time())


def casualty_detail(row: TimelineRow, file: str) -> CasualtyDetail:
    """Parse and check the tokens of a casualty row (``ReviewInputError`` naming the line and token)."""
    tok = row.tokens()
    count_text = tok.get("count", "1")
    if not count_text.isdigit() or int(count_text) < 1:
        raise ReviewInputError(file, row.line, "detail", f"count={count_text}: must be a whole number >= 1")
    until = row.time
    care = None
    death = None
    for key in ("until", "care", "died_at"):
        if key not in tok:
            continue
        try:
            when = _clock(tok[key], row.time)
        except ValueError:
            raise ReviewInputError(
                file, row.line, "detail", f"{key}={tok[key]}: expected HH:MM:SS (or YYYY-MM-DDTHH:MM:SS)"
            ) from None
        if key == "died_at" and when < until:
            raise ReviewInputError(
                file, row.line, "detail",
                f"died_at={tok[key]}: before the window ends ({until:%H:%M:%S}): a death follows the hit",
            )  # fmt: skip
        if when < row.time:
            what = "the window ends" if key == "until" else "care reaches them"
            raise ReviewInputError(
                file, row.line, "detail",
                f"{key}={tok[key]}: {what} before the row's time {row.time:%H:%M:%S} (where the window "
                "starts)",
            )  # fmt: skip
        if key == "until":
            until = when
        elif key == "care":
            care = when
        else:
            death = when
    default = ("later" if death is not None else "at_scene") if row.event == "victim_killed" else ""
    died = tok.get("died", default)
    for key in ("died", "died_at"):
        if row.event == "victim_wounded" and key in tok:
            why = f"{key}= on a victim_wounded row: use victim_killed"
            raise ReviewInputError(file, row.line, "detail", why)
    if died == "at_once" and death is not None:
        raise ReviewInputError(
            file, row.line, "detail", "died=at_once with died_at=: a recorded later death is not at once"
        )
    if row.event == "victim_killed" and died not in DIED:
        raise ReviewInputError(file, row.line, "detail", f"died={died}: one of {', '.join(DIED)}")
    if died == "in_hospital":
        died = "later"
    return CasualtyDetail(int(count_text), row.time, until, died, care, death)


@dataclass(frozen=True)
class Timeline:
    file: str  # the file, or the files joined by " + " for a merged timeline
    rows: tuple[TimelineRow, ...]
    vocabulary: Vocabulary = field(default_factory=Vocabulary)

    @property
    def start(self) -> datetime:
        return self.rows[0].time

    @property
    def end(self) -> datetime:
        return self.rows[-1].time

    def actors(self) -> dict[str, str]:
        """actor -> role, in order of first appearance."""
        out: dict[str, str] = {}
        for r in self.rows:
            out.setdefault(r.actor, r.role)
        return out


def _err(file: str, line: int, col: str | None, msg: str) -> ReviewInputError:
    return ReviewInputError(file, line, col, msg)


def parse_timeline(
    text: str, file: str, vocabulary: Vocabulary | None = None, *, check_links: bool = True
) -> Timeline:
    """Validate a timeline CSV text; the first problem is raised as ``ReviewInputError``."""
    vocab = vocabulary or Vocabulary()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _err(file, 1, None, "empty file: expected a header row " + ",".join(COLUMNS)) from None
    except csv.Error as exc:
        raise _err(file, 1, None, f"CSV syntax error: {exc}") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise _err(file, 1, None, f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    extra = [h for h in names if h not in COLUMNS]
    if extra:
        raise _err(file, 1, None, f"unknown column(s) {', '.join(extra)}; expected {','.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise _err(file, 1, None, "a column name is repeated")
    idx = {c: names.index(c) for c in COLUMNS}

    rows: list[TimelineRow] = []
    roles: dict[str, tuple[str, int]] = {}
    prev_end = reader.line_num
    while True:
        start_line = prev_end + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _err(file, start_line, None, f"CSV syntax error: {exc}") from None
        prev_end = reader.line_num
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != len(names):
            raise _err(file, start_line, None, f"{len(rec)} fields, expected {len(names)} (quote commas)")
        val = {c: rec[i].strip() for c, i in idx.items()}
        try:
            t, date_only = parse_row_time(val["time"])
        except ValueError as exc:
            raise _err(file, start_line, "time", str(exc)) from None
        if not val["actor"]:
            raise _err(file, start_line, "actor", "empty actor")
        if not val["role"]:
            raise _err(file, start_line, "role", f"actor {val['actor']!r} has no role")
        if val["role"] not in vocab.roles:
            raise _err(
                file,
                start_line,
                "role",
                f"unknown role {val['role']!r} (known: {', '.join(sorted(vocab.roles))}; "
                "add it in a vocabulary extension)",
            )
        first = roles.setdefault(val["actor"], (val["role"], start_line))
        if first[0] != val["role"]:
            raise _err(
                file,
                start_line,
                "role",
                f"actor {val['actor']!r} has role {val['role']!r} here but {first[0]!r} on line {first[1]}",
            )
        if not val["event"]:
            raise _err(file, start_line, "event", "empty event")
        if val["event"] not in vocab.events:
            raise _err(
                file,
                start_line,
                "event",
                f"unknown event {val['event']!r} (see docs/review.md for the vocabulary; "
                "add it in a vocabulary extension)",
            )
        if val["certainty"] not in CERTAINTIES:
            raise _err(
                file,
                start_line,
                "certainty",
                f"unknown certainty {val['certainty']!r} (one of {', '.join(CERTAINTIES)})",
            )
        if date_only and val["certainty"] not in DATE_CERTAINTIES:
            raise _err(
                file, start_line, "certainty",
                f"a date without a clock time cannot be {val['certainty']!r}: use day (or approximate, "
                "derived)",
            )  # fmt: skip
        if val["certainty"] == "day" and not date_only:
            raise _err(file, start_line, "time", "certainty day needs a date only, YYYY-MM-DD")
        if rows and t < rows[-1].time:
            start_of_day = " (a date-only row stands at the start of its day)" if date_only else ""
            raise _err(
                file,
                start_line,
                "time",
                f"row out of order: {val['time']} is earlier than {rows[-1].when} "
                f"on line {rows[-1].line}{start_of_day} (times are never reordered)",
            )
        row = TimelineRow(
            start_line, t, val["actor"], val["role"], val["event"], val["location"], val["detail"],
            val["certainty"], val["source"], date_only=date_only, file=file, seq=len(rows),
        )  # fmt: skip
        if row.event in CASUALTY_EVENTS:
            casualty_detail(row, file)
        check_row_tokens(row)
        rows.append(row)
    if not rows:
        raise _err(file, prev_end, None, "no rows after the header")
    tl = Timeline(file, tuple(rows), vocab)
    if check_links:
        check_timeline(tl)
    return tl


def check_row_tokens(row: TimelineRow) -> None:
    """The tip tokens of one row (``review/tips.py``)."""
    from responsesim.review.tips import check_tip_row

    check_tip_row(row)


def check_timeline(tl: Timeline) -> None:
    """Checks across rows: tip ids link, tip and warning rows come before the attack."""
    from responsesim.review.tips import check_tips

    check_tips(tl)


def merge_timelines(timelines: list[Timeline]) -> Timeline:
    """One timeline of several (each in order by itself), merged by time (stable: file order on ties).

    An actor must keep one role across the files; links between rows are checked on the merged rows."""
    if len(timelines) == 1:
        check_timeline(timelines[0])
        return timelines[0]
    roles: dict[str, TimelineRow] = {}
    for tl in timelines:
        for r in tl.rows:
            first = roles.setdefault(r.actor, r)
            if first.role != r.role:
                raise _err(
                    r.file, r.line, "role",
                    f"actor {r.actor!r} has role {r.role!r} here but {first.role!r} in {first.file} line "
                    f"{first.line}",
                )  # fmt: skip
    ordered = sorted((r for tl in timelines for r in tl.rows), key=lambda r: r.time)
    rows = [dataclasses.replace(r, seq=k) for k, r in enumerate(ordered)]
    merged = Timeline(" + ".join(tl.file for tl in timelines), tuple(rows), timelines[0].vocabulary)
    check_timeline(merged)
    return merged


def load_timeline(path: Path, vocabulary: Vocabulary | None = None, *, check_links: bool = True) -> Timeline:
    text = read_review_text(path, "timeline file", encoding="utf-8-sig")
    return parse_timeline(text, str(path), vocabulary, check_links=check_links)


def load_timelines(paths: list[Path], vocabulary: Vocabulary | None = None) -> Timeline:
    """Load each file (the first problem raised, naming its file) and merge them by time."""
    if not paths:
        raise ReviewInputError(None, None, None, "no timeline file given")
    return merge_timelines([load_timeline(p, vocabulary, check_links=False) for p in paths])
