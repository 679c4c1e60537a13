"""Rule evaluation: one ``Finding`` per deviation, with the timeline rows that are its evidence.

The attacker is *active* from the first row of the attacker role with an ``[active] start_events`` event
(default ``shots_fired``) until the first later attacker row with an ``end_events`` event (``apprehended``,
``left_building``, ...). If the timeline records no end, the window runs to the last row and every
finding that uses it says so.

A *state* (``[states.NAME]``) is entered by an actor's ``enter`` event and left by their ``exit`` event;
further ``enter`` events while in the state are evidence that it continues. A state never left is open
to the end of the timeline (``state_end = None``).

Absence is reported as absence: a deadline whose required event no row records is a finding whose end is
the timeline's last row, with ``open_ended = True`` and a note that the timeline records no such event.
Rows whose certainty is ``approximate`` are used, and every finding resting on one is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from responsesim.review.protocol import (
    AttributeRule,
    CasualtyDeadlineRule,
    DeadlineRule,
    ProhibitedEventRule,
    ProhibitedWhileRule,
    Protocol,
    SequenceRule,
    StateDef,
)
from responsesim.review.timeline import CASUALTY_EVENTS, Timeline, TimelineRow

__all__ = ["ActiveWindow", "Evidence", "Finding", "Review", "StateSpan", "review", "state_spans"]

_FMT = "%Y-%m-%d %H:%M:%S"


def _t(x: datetime | None) -> str | None:
    return None if x is None else x.strftime(_FMT)


def fmt_duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h} h {m:02d} min {sec:02d} s" if h else f"{m} min {sec:02d} s"


@dataclass(frozen=True)
class Evidence:
    line: int
    time: datetime
    actor: str
    role: str
    event: str
    location: str
    detail: str
    certainty: str
    source: str
    why: str  # what this row shows for the finding
    date_only: bool = False
    file: str = ""

    @property
    def flagged(self) -> bool:
        return self.certainty == "approximate"

    @property
    def when(self) -> str:
        return f"{self.time:%Y-%m-%d}" if self.date_only else f"{self.time:%Y-%m-%d %H:%M:%S}"

    @property
    def clock(self) -> str:
        """``HH:MM:SS``, or the date for a date-only row."""
        return f"{self.time:%Y-%m-%d}" if self.date_only else f"{self.time:%H:%M:%S}"

    @classmethod
    def of(cls, row: TimelineRow, why: str) -> Evidence:
        return cls(
            row.line,
            row.time,
            row.actor,
            row.role,
            row.event,
            row.location,
            row.detail,
            row.certainty,
            row.source,
            why,
            row.date_only,
            row.file,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "time": self.when,
            "actor": self.actor,
            "role": self.role,
            "event": self.event,
            "location": self.location,
            "detail": self.detail,
            "certainty": self.certainty,
            "approximate": self.flagged,
            "source": self.source,
            "why": self.why,
        }


@dataclass(frozen=True)
class ActiveWindow:
    start: datetime
    end: datetime
    end_recorded: bool  # False: no end event; the window runs to the last row
    start_row: TimelineRow
    end_row: TimelineRow | None


@dataclass(frozen=True)
class StateSpan:
    actor: str
    state: str
    start: datetime
    end: datetime | None  # None: not left in the timeline
    rows: tuple[TimelineRow, ...]  # entering / continuing rows, then the leaving row if any


@dataclass
class Finding:
    rule_id: str
    kind: str
    severity: str
    rule_text: str
    source: str
    actor: str
    role: str
    start: datetime
    end: datetime
    open_ended: bool  # the timeline records no end: ``end`` is its last row
    summary: str
    deadline: datetime | None = None
    state_start: datetime | None = None
    state_end: datetime | None = None
    state_last_recorded: datetime | None = None
    shots_fired: int = 0
    killed: int | None = None
    wounded: int | None = None
    meanwhile: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    responsible: str = ""  # who had to act: an actor, or "any <roles>" (deadlines with by = "any")
    days: bool = False  # a date-scale finding (the months before an attack): times are dates
    tip: str | None = None  # pre-attack findings: the tip (tip=), the agency handling it, days before
    agency: str | None = None
    days_before_attack: int | None = None
    standard_adopted: date | None = None  # set when the standard was adopted after the incident

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def approximate(self) -> bool:
        return any(e.flagged for e in self.evidence)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "severity": self.severity,
            "rule_text": self.rule_text,
            "source": self.source,
            "actor": self.actor,
            "role": self.role,
            "start": _t(self.start),
            "end": _t(self.end),
            "open_ended": self.open_ended,
            "duration_s": self.duration_s,
            "deadline": _t(self.deadline),
            "state_start": _t(self.state_start),
            "state_end": _t(self.state_end),
            "state_last_recorded": _t(self.state_last_recorded),
            "summary": self.summary,
            "shots_fired": self.shots_fired,
            "killed": self.killed,
            "wounded": self.wounded,
            "meanwhile": self.meanwhile,
            "approximate": self.approximate,
            "approximate_lines": [e.line for e in self.evidence if e.flagged],
            "evidence": [e.to_json() for e in self.evidence],
            "notes": self.notes,
            "responsible": self.responsible or self.actor,
            "scale": "days" if self.days else "seconds",
            "tip": self.tip,
            "agency": self.agency,
            "days_before_attack": self.days_before_attack,
            "standard_after_incident": self.standard_adopted is not None,
            "standard_adopted": self.standard_adopted and f"{self.standard_adopted:%Y-%m-%d}",
        }


@dataclass
class Review:
    timeline: Timeline
    protocol: Protocol
    active: ActiveWindow | None
    findings: list[Finding]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        a = self.active
        return {
            "timeline": self.timeline.file,
            "protocol": self.protocol.name,
            "protocol_file": self.protocol.file,
            "attacker_active": None
            if a is None
            else {"start": _t(a.start), "end": _t(a.end), "end_recorded": a.end_recorded},
            "records_casualties": _records_casualties(self.timeline),
            "notes": self.notes,
            "findings": [f.to_json() for f in self.findings],
        }


# ---------------------------------------------------------------------------------------------- helpers


def _records_casualties(tl: Timeline) -> bool:
    return any(r.event in CASUALTY_EVENTS for r in tl.rows)


def active_window(tl: Timeline, proto: Protocol) -> ActiveWindow | None:
    spec = proto.active
    role = spec.attacker_role
    start_row = next((r for r in tl.rows if r.role == role and r.event in spec.start_events), None)
    if start_row is None:
        return None
    end_row = next(
        (r for r in tl.rows if r.role == role and r.event in spec.end_events and r.seq > start_row.seq),
        None,
    )
    if end_row is None:
        return ActiveWindow(start_row.time, tl.end, False, start_row, None)
    return ActiveWindow(start_row.time, end_row.time, True, start_row, end_row)


def state_spans(tl: Timeline, actor: str, name: str, st: StateDef) -> list[StateSpan]:
    spans: list[StateSpan] = []
    cur: list[TimelineRow] = []
    for r in tl.rows:
        if r.actor != actor:
            continue
        if r.event in st.enter:
            cur.append(r)
        elif r.event in st.exit and cur:
            spans.append(StateSpan(actor, name, cur[0].time, r.time, (*cur, r)))
            cur = []
    if cur:
        spans.append(StateSpan(actor, name, cur[0].time, None, tuple(cur)))
    return spans


def _meanwhile(tl: Timeline, proto: Protocol, f: Finding, start: datetime, end: datetime) -> None:
    """Attacker and casualty rows in [start, end]: shots, casualties, what the rows say; adds evidence."""
    role = proto.active.attacker_role
    casualties = _records_casualties(tl)
    killed = wounded = 0
    have = {(e.file, e.line) for e in f.evidence}
    for r in tl.rows:
        if not (start <= r.time <= end):
            continue
        if r.role == role or r.event in CASUALTY_EVENTS:
            f.meanwhile.append(f"{r.time:%H:%M:%S} {r.actor} {r.event} at {r.location}: {r.detail}")
            if r.event == "shots_fired" and r.role == role:
                f.shots_fired += 1
            if r.event == "victim_killed":
                killed += r.count()
            if r.event == "victim_wounded":
                wounded += r.count()
            if (r.file, r.line) not in have and (r.event == "shots_fired" or r.event in CASUALTY_EVENTS):
                f.evidence.append(Evidence.of(r, "meanwhile"))
                have.add((r.file, r.line))
    if casualties:
        f.killed, f.wounded = killed, wounded
    else:
        f.notes.append("the timeline records no casualty rows (victim_killed / victim_wounded)")
    f.evidence.sort(key=lambda e: (e.time, e.file, e.line))


def _roles_ok(role: str, roles: list[str]) -> bool:
    return not roles or role in roles


def _in(w: ActiveWindow | None, t: datetime) -> bool:
    return w is not None and w.start <= t <= w.end


def _base(rule: Any, actor: str, role: str, start: datetime, end: datetime, open_ended: bool) -> Finding:
    return Finding(
        rule.id, rule.kind, rule.severity, rule.text, rule.source, actor, role, start, end, open_ended, ""
    )


def _window_notes(f: Finding, w: ActiveWindow | None) -> None:
    if w is None:
        return
    f.evidence.append(Evidence.of(w.start_row, "attacker active from here"))
    if w.end_row is not None:
        f.evidence.append(Evidence.of(w.end_row, "attacker active until here"))
    else:
        f.notes.append("the timeline records no end of the attack: active to its last row")


# ---------------------------------------------------------------------------------------------- rules


def _deadline(tl: Timeline, proto: Protocol, rule: DeadlineRule, w: ActiveWindow | None) -> list[Finding]:
    triggers: list[TimelineRow] = []
    seen: set[str] = set()
    for r in tl.rows:
        if r.event not in rule.trigger or not _roles_ok(r.role, rule.trigger_roles):
            continue
        if rule.while_attacker_active and not _in(w, r.time):
            continue
        if rule.match == "first":
            triggers.append(r)
            break
        if rule.match == "each":
            triggers.append(r)
        elif r.actor not in seen:
            seen.add(r.actor)
            triggers.append(r)
    out: list[Finding] = []
    days = rule.within_days is not None
    limit = timedelta(days=rule.within_days or 0) if days else timedelta(seconds=rule.within_s or 0)
    fmt = "%Y-%m-%d" if days else "%H:%M:%S"
    for trig in triggers:
        key = trig.tokens().get(rule.link) if rule.link else None

        def responsible(r: TimelineRow, trig: TimelineRow = trig, key: str | None = key) -> bool:
            if rule.link and r.tokens().get(rule.link) != key:
                return False
            if rule.by == "trigger_actor":
                return r.actor == trig.actor
            return _roles_ok(r.role, rule.roles)

        def late(r: TimelineRow, trig: TimelineRow = trig) -> bool:
            if days:
                return (r.time.date() - trig.time.date()).days > (rule.within_days or 0)
            return r.time - trig.time > limit

        done = next(
            (r for r in tl.rows if r.seq > trig.seq and r.event in rule.events and responsible(r)), None
        )
        if done is not None and not late(done):
            continue
        end = done.time if done is not None else tl.end
        # the attacker is never the one who had to act: name the responders instead (e.g. stop-the-dying)
        actor, role = (
            (who_words(rule, trig), "/".join(rule.roles or ["any"]))
            if trig.role == "attacker" and rule.by != "trigger_actor"
            else (trig.actor, trig.role)
        )
        f = _base(rule, actor, role, trig.time, end, done is None)
        f.days = days
        f.deadline = trig.time + limit
        who = trig.actor if rule.by == "trigger_actor" else "any " + "/".join(rule.roles or ["actor"])
        f.responsible = who
        what = " / ".join(rule.events)
        of_tip = f" of {rule.link}={key}" if rule.link else ""
        trig_at = trig.when if days else f"{trig.time:%H:%M:%S}"
        allowed = f"{rule.within_days:g} day(s)" if days else fmt_duration(rule.within_s or 0)
        should = (
            f"{_sentence_start(trig.actor)} {past(trig.event)}{of_tip} at {trig_at}. "
            f"{_sentence_start(who_words(rule, trig))} should then have {or_list(rule.events, 'perfect')} "
            f"by {f.deadline:{fmt}} (within {allowed})"
        )
        if done is None:
            f.summary = (
                f"{should}; the timeline records none of this"
                + (f" up to {tl.end:{fmt}}" if days else f" before it ends at {tl.end:{fmt}}")
                + f", {fmt_duration(f.duration_s)} later."
            )
            f.notes.append(f"no row of the timeline records {what}{of_tip} by {who} after the trigger")
        else:
            done_at = done.when if days else f"{done.time:%H:%M:%S}"
            f.summary = (
                f"{should}; the first to do so was {done.actor}, who {past(done.event)} at {done_at} "
                f"({done.certainty}), {fmt_duration(f.duration_s)} after {trig.actor}."
            )
        f.evidence.append(Evidence.of(trig, "trigger"))
        if done is not None:
            f.evidence.append(Evidence.of(done, "required event, late"))
        for r in tl.rows:  # what the responsible actors did meanwhile (when they are named)
            if (
                (rule.by == "trigger_actor" or rule.roles)
                and trig.seq < r.seq
                and r.time <= end
                and r is not done
                and responsible(r)
            ):
                f.evidence.append(Evidence.of(r, "responsible actor meanwhile"))
        if rule.while_attacker_active:
            _window_notes(f, w)
        if not days:
            _meanwhile(tl, proto, f, trig.time, end)
        out.append(f)
    return out


def _prohibited(
    tl: Timeline, proto: Protocol, rule: ProhibitedWhileRule, w: ActiveWindow | None
) -> list[Finding]:
    if w is None:
        return []
    st = proto.states[rule.state]
    out: list[Finding] = []
    for actor, role in tl.actors().items():
        if role not in rule.roles:
            continue
        for span in state_spans(tl, actor, rule.state, st):
            s = max(span.start, w.start)
            e = min(span.end if span.end is not None else tl.end, w.end)
            if (e - s).total_seconds() <= rule.max_s:
                continue
            f = _base(rule, actor, role, s, e, span.end is None and not w.end_recorded)
            f.state_start, f.state_end = span.start, span.end
            f.state_last_recorded = max(r.time for r in span.rows if r.event in st.enter)
            if span.end is None:
                state_end = (
                    f"The timeline never shows {actor} leaving it (last recorded "
                    f"{f.state_last_recorded:%H:%M:%S}, "
                    f"{fmt_duration((f.state_last_recorded - span.start).total_seconds())} after it began)."
                )
            else:
                state_end = f"{actor} left it at {span.end:%H:%M:%S}."
            if span.end is not None and span.end <= e:
                ends = f"when {actor} left it"
            elif w.end_row is not None:
                ends = f"when the attacker {past(w.end_row.event)}"
            else:
                ends = "when the timeline ends"
            f.summary = (
                f"{actor} ({role}) was {rule.state.replace('_', ' ')} from {span.start:%H:%M:%S} while the "
                f"attacker was active: {fmt_duration(f.duration_s)} of the active period, until "
                f"{e:%H:%M:%S} {ends}; the protocol allows {fmt_duration(rule.max_s)}. {state_end}"
            )
            for r in span.rows:
                why = "enters the state" if r is span.rows[0] else "still in the state"
                if span.end is not None and r is span.rows[-1]:
                    why = "leaves the state"
                f.evidence.append(Evidence.of(r, why))
            _window_notes(f, w)
            _meanwhile(tl, proto, f, s, e)
            last_shot = max(
                (
                    x.time
                    for x in tl.rows
                    if x.role == proto.active.attacker_role and x.event == "shots_fired" and s <= x.time <= e
                ),
                default=None,
            )
            if last_shot is not None:
                beyond = (span.end or f.state_last_recorded or e) - last_shot
                f.notes.append(
                    f"last shot in the window at {last_shot:%H:%M:%S}; the state lasted at least "
                    f"{fmt_duration(max(beyond.total_seconds(), 0))} beyond it"
                )
            out.append(f)
    return out


def _sequence(tl: Timeline, proto: Protocol, rule: SequenceRule) -> list[Finding]:
    first_roles = rule.first_roles or rule.roles
    out: list[Finding] = []
    for r in tl.rows:
        if r.event not in rule.then or r.role not in rule.roles:
            continue
        key = r.tokens().get(rule.link) if rule.link else None
        prior = [
            p
            for p in tl.rows
            if p.seq < r.seq
            and p.event in rule.first
            and (p.actor == r.actor if rule.same_actor else p.role in first_roles)
            and (rule.link is None or p.tokens().get(rule.link) == key)
        ]
        if prior:
            continue
        f = _base(rule, r.actor, r.role, r.time, r.time, False)
        who = "the same actor" if rule.same_actor else "any " + "/".join(first_roles)
        linked = f" for {rule.link}={key}" if rule.link else ""
        f.summary = (
            f"{r.actor} ({r.role}) did {r.event}{linked} at {r.time:%H:%M:%S} with no earlier "
            f"{' / '.join(rule.first)} by {who}"
        )
        f.evidence.append(Evidence.of(r, "out of sequence"))
        _meanwhile(tl, proto, f, r.time, r.time)
        out.append(f)
    return out


def _attribute(tl: Timeline, proto: Protocol, rule: AttributeRule) -> list[Finding]:
    pat = re.compile(rule.pattern, re.IGNORECASE)
    out: list[Finding] = []
    for r in tl.rows:
        if r.event not in rule.events or not _roles_ok(r.role, rule.roles):
            continue
        value = str(getattr(r, rule.column))
        if bool(pat.search(value)) == rule.must_match:
            continue
        f = _base(rule, r.actor, r.role, r.time, r.time, False)
        f.days = r.date_only
        verb = "does not match" if rule.must_match else "matches"
        at = r.when if r.date_only else f"{r.time:%H:%M:%S}"
        shown = value if len(value) <= 60 else value[:57] + "..."
        f.summary = f"{r.actor} {r.event} at {at}: {rule.column} {shown!r} {verb} /{rule.pattern}/"
        f.evidence.append(Evidence.of(r, "attribute"))
        out.append(f)
    return out


def review(tl: Timeline, proto: Protocol) -> Review:
    """Evaluate every rule of ``proto`` on ``tl``; findings in rule order, then by start time."""
    from responsesim.review.medical_rules import casualty_deadline, prohibited_event

    w = active_window(tl, proto)
    notes: list[str] = []
    pre_attack = proto.section == "pre_attack"
    if w is None and not pre_attack:
        notes.append("no attacker activity recorded: rules that need an active attacker found nothing")
    elif w is not None and not w.end_recorded and not pre_attack:
        notes.append("the timeline records no end of the attack")
    if not _records_casualties(tl) and not pre_attack:
        notes.append(
            "the timeline records no casualty rows (victim_killed / victim_wounded); findings list the "
            "attacker's recorded shots and movements meanwhile instead"
        )
    findings: list[Finding] = []
    for rule in proto.rules:
        if isinstance(rule, DeadlineRule):
            got = _deadline(tl, proto, rule, w)
        elif isinstance(rule, ProhibitedWhileRule):
            got = _prohibited(tl, proto, rule, w)
        elif isinstance(rule, SequenceRule):
            got = _sequence(tl, proto, rule)
        elif isinstance(rule, CasualtyDeadlineRule):
            got = casualty_deadline(tl, proto, rule, w)
        elif isinstance(rule, ProhibitedEventRule):
            got = prohibited_event(tl, proto, rule, w)
        else:
            got = _attribute(tl, proto, rule)
        findings.extend(sorted(got, key=lambda f: (f.start, f.actor)))
    return Review(tl, proto, w, findings, notes)


#: events as verbs: (past tense, after "should have") for sentences in findings
_VERBS: dict[str, tuple[str, str]] = {
    "arrived_on_scene": ("arrived on scene", "arrived on scene"),
    "entered_building": ("entered the building", "entered the building"),
    "moved_toward_threat": ("moved toward the threat", "moved toward the threat"),
    "engaged_attacker": ("engaged the attacker", "engaged the attacker"),
    "casualty_care_started": ("started casualty care", "started casualty care"),
    "left_building": ("left the building", "left the building"),
    "apprehended": ("was arrested", "arrested the attacker"),
    "attacker_stopped": ("was stopped", "stopped the attacker"),
    "self_terminated": ("killed himself", "killed himself"),
    "surrendered": ("surrendered", "surrendered"),
    "shots_fired": ("fired", "fired"),
    "tip_received": ("received the tip", "received the tip"),
    "tip_assessed": ("assessed the tip", "assessed the tip"),
    "tip_forwarded": ("forwarded the tip", "forwarded the tip"),
    "tip_closed": ("closed the tip", "closed the tip"),
    "requested_entry": ("asked to enter", "asked to enter"),
    "entered_warm_zone": ("entered the warm zone", "entered the warm zone"),
    "patient_transported": ("transported a patient", "transported the patients"),
    "arrived_at_hospital": ("arrived at hospital", "arrived at hospital"),
    "took_cover": ("took cover", "taken cover"),
    "held_position": ("held position", "held position"),
    "staged": ("staged", "staged"),
    "radio": ("radioed", "radioed"),
}


def past(event: str) -> str:
    """An event as a verb in the past tense ("arrived on scene"); the event name in words otherwise."""
    return _VERBS.get(event, (event.replace("_", " "),) * 2)[0]


def or_list(events: Sequence[str], form: str = "past") -> str:
    """Events as words: "entered the building, moved toward the threat or engaged the attacker"."""
    words = [_VERBS.get(e, (e.replace("_", " "),) * 2)[1 if form == "perfect" else 0] for e in events]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def who_words(rule: DeadlineRule, trig: TimelineRow) -> str:
    """Who had to act, in words: the trigger's actor, or "an officer (sro, patrol or deputy)"."""
    if rule.by == "trigger_actor":
        return trig.actor
    roles = [r.replace("_", " ") for r in (rule.roles or [])]
    if not roles:
        return "any responder"
    listed = roles[0] if len(roles) == 1 else ", ".join(roles[:-1]) + " or " + roles[-1]
    return f"a responder ({listed})"


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]
