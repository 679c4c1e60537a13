"""The record of an incident, read from its timeline: who was hit when, how the attack ended, and what each
responder was doing over time.

The observed arm of a counterfactual *is* this record (``review/counterfactual.py``): nothing here is
simulated. Times are seconds after ``start`` (the attacker entering the building, unless the incident file
says otherwise). A casualty row whose sources give only a phase carries a window (``until=``); a time that
is only approximate, or a window, is *flagged*, and every figure resting on it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from responsesim.review.errors import ReviewInputError
from responsesim.review.timeline import CASUALTY_EVENTS, Timeline, TimelineRow

__all__ = [
    "ATTACK_END_EVENTS",
    "CARE_EVENTS",
    "CONDUCT",
    "ENTRY_EVENTS",
    "OFFICER_ROLES",
    "WITHDRAWAL_EVENTS",
    "CasualtyRecord",
    "ConductSpan",
    "IncidentRecord",
    "conduct_of",
    "read_record",
]

OFFICER_ROLES = ("sro", "patrol", "deputy", "swat", "security_guard")
ENTRY_EVENTS = ("entered_building", "moved_toward_threat", "engaged_attacker")
WITHDRAWAL_EVENTS = ("moved_away_from_threat", "left_building")
#: the attack is over at the first of these (``left_building`` only when the attacker does it)
ATTACK_END_EVENTS = ("attacker_stopped", "self_terminated", "surrendered", "apprehended", "left_building")
CARE_EVENTS = ("casualty_care_started",)

#: conduct state -> meaning (a responder's observed conduct over time; docs/review.md)
CONDUCT: dict[str, str] = {
    "not_arrived": "not yet on scene",
    "outside": "on scene, outside the building",
    "holding_outside": "outside, holding a position or taking cover",
    "firing_outside": "outside, firing at the attacker from outside the building",
    "blocked": "trying to get in (the building or a room) and blocked: a locked door, a breach attempt",
    "approaching": "inside, moving toward the threat",
    "engaged": "inside, in contact with the attacker (fired on or firing)",
    "holding_inside": "inside, holding a position short of the attacker",
    "withdrawn": "moved away from the threat after being inside or in contact",
    "wounded": "hit by gunfire",
}


@dataclass(frozen=True)
class CasualtyRecord:
    """One casualty row: ``count`` people hit in [t0_s, t1_s] (equal when the time is known), who died
    (``killed``) or survived; how the killed died (``timeline.DIED``); when care reached *this* row
    (``care_s``, from line ``care_line``: its own ``care=`` or a care row that reaches it, see
    ``care_of``; None when the record does not say) and when they died (``death_s``, ``died_at=``)."""

    line: int
    killed: bool
    count: int
    t0_s: float
    t1_s: float
    died: str
    care_s: float | None
    location: str
    flagged: bool
    source: str
    actor: str = ""
    care_line: int | None = None
    death_s: float | None = None

    @property
    def label(self) -> str:
        what = "killed" if self.killed else "wounded"
        return f"line {self.line}: {self.count} {what}, {self.location}"


@dataclass(frozen=True)
class ConductSpan:
    """A responder was in ``state`` from ``t_s`` (until the next span), as line ``line`` shows."""

    t_s: float
    state: str
    line: int
    location: str


@dataclass(frozen=True)
class IncidentRecord:
    """The observed incident. ``end_s``: the attack ended (how: ``end_event``, line ``end_line``)."""

    timeline: Timeline
    start: datetime
    casualties: tuple[CasualtyRecord, ...]
    end_s: float
    end_event: str
    end_line: int
    shots_s: tuple[float, ...]
    care_s: tuple[float, ...]
    officers: dict[str, str]  # actor -> role

    def rel(self, t: datetime) -> float:
        return (t - self.start).total_seconds()

    def clock(self, t_s: float) -> str:
        from datetime import timedelta

        return f"{self.start + timedelta(seconds=t_s):%H:%M:%S}"

    @property
    def killed(self) -> int:
        return sum(c.count for c in self.casualties if c.killed)

    @property
    def wounded(self) -> int:
        return sum(c.count for c in self.casualties if not c.killed)

    def rows_of(self, actor: str) -> list[TimelineRow]:
        return [r for r in self.timeline.rows if r.actor == actor]


def reaches(care: TimelineRow, casualty: TimelineRow) -> bool:
    """A care row reaches a casualty row when it names it (``casualty=ACTOR``) or, naming none, is at the
    same location, at or after the casualty row's time (as in the medical rules)."""
    who = care.tokens().get("casualty")
    named = who == casualty.actor if who else care.location == casualty.location
    return named and care.time >= casualty.time


def care_of(tl: Timeline, casualty: TimelineRow) -> TimelineRow | None:
    """The row that says when care reached ``casualty``: the earlier of its own ``care=`` (the casualty row
    itself) and the first care row that reaches it; None when the record does not say. Each casualty row
    keeps its own: a care row for one casualty or place is not applied to another."""
    own = casualty.casualty(tl.file).care
    row = next((r for r in tl.rows if r.event in CARE_EVENTS and reaches(r, casualty)), None)
    if own is not None and (row is None or own <= row.time):
        return casualty
    return row


def read_record(tl: Timeline, start: datetime) -> IncidentRecord:
    """The record of ``tl`` with t = 0 at ``start``; ``ReviewInputError`` if it has no end of the attack."""

    def rel(t: datetime) -> float:
        return (t - start).total_seconds()

    cas = []
    for r in tl.rows:
        if r.event not in CASUALTY_EVENTS:
            continue
        d = r.casualty(tl.file)
        got = care_of(tl, r)
        care_t = None if got is None else d.care if got is r else got.time
        cas.append(
            CasualtyRecord(
                line=r.line,
                killed=r.event == "victim_killed",
                count=d.count,
                t0_s=rel(d.start),
                t1_s=rel(d.until),
                died=d.died,
                care_s=rel(care_t) if care_t is not None else None,
                location=r.location,
                flagged=r.flagged or d.until > d.start,
                source=r.source,
                actor=r.actor,
                care_line=got.line if got else None,
                death_s=rel(d.death) if d.death is not None else None,
            )
        )
    ends = [
        r
        for r in tl.rows
        if r.event in ATTACK_END_EVENTS and (r.event != "left_building" or r.role == "attacker")
    ]
    if not ends:
        raise ReviewInputError(
            tl.file, None, "event",
            "the record does not say when the attack ended: add an attacker left_building row or an "
            f"{', '.join(ATTACK_END_EVENTS[:-1])} row",
        )  # fmt: skip
    end = ends[0]
    shot_rows = [r for r in tl.rows if r.role == "attacker" and r.event == "shots_fired"]
    if shot_rows and end.time < shot_rows[0].time:
        first = shot_rows[0]
        raise ReviewInputError(
            tl.file, end.line, "time",
            f"the attack ends here ({end.event} at {end.time:%H:%M:%S}) before its first shot "
            f"({first.time:%H:%M:%S}, line {first.line}): check the times, or the end row's event",
        )  # fmt: skip
    shots = tuple(rel(r.time) for r in shot_rows)
    care = tuple(rel(r.time) for r in tl.rows if r.event in CARE_EVENTS)
    officers = {a: role for a, role in tl.actors().items() if role in OFFICER_ROLES}
    return IncidentRecord(tl, start, tuple(cas), rel(end.time), end.event, end.line, shots, care, officers)


def conduct_of(rec: IncidentRecord, actor: str) -> list[ConductSpan]:
    """The observed conduct of ``actor`` as states over time (``CONDUCT``), one span per change."""
    spans: list[ConductSpan] = []
    inside = False
    contact = False

    def put(t: float, state: str, r: TimelineRow) -> None:
        if not spans or spans[-1].state != state:
            spans.append(ConductSpan(t, state, r.line, r.location))

    for r in rec.rows_of(actor):
        t = rec.rel(r.time)
        e = r.event
        if e == "officer_wounded":
            put(t, "wounded", r)
        elif e in ("engaged_attacker", "fired_upon"):
            inside, contact = True, True
            put(t, "engaged", r)
        elif e == "fired_from_outside":
            put(t, "firing_outside", r)
        elif e == "entry_blocked":
            put(t, "blocked", r)
        elif e in ("entered_building", "moved_toward_threat"):
            inside = True
            put(t, "approaching", r)
        elif e in WITHDRAWAL_EVENTS:
            if inside or contact:
                put(t, "withdrawn", r)
            inside = inside and e != "left_building"
            contact = False
        elif e in ("took_cover", "held_position", "set_perimeter", "staged"):
            if spans and spans[-1].state == "withdrawn":
                continue  # still withdrawn: holding back is what withdrawn means
            put(t, "holding_inside" if inside else "holding_outside", r)
        elif not spans:
            put(t, "outside" if not inside else "approaching", r)
    return spans
