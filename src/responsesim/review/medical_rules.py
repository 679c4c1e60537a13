"""Rules of the medical response: time to reach each casualty row, and events forbidden while casualties wait.

A row *reaches* a casualty row when it names it (``casualty=ACTOR``, the casualty row's actor) or, naming
none, is at the same location, at or after the casualty row's time. The casualty row's own ``care=`` is
when ``casualty_care_started`` reached it. Casualties whose care no row records are never counted as
waiting (the record does not say for how long they waited); a finding says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from responsesim.review.protocol import CasualtyDeadlineRule, ProhibitedEventRule, Protocol
from responsesim.review.timeline import Timeline, TimelineRow

if TYPE_CHECKING:
    from responsesim.review.findings import ActiveWindow, Finding

__all__ = ["casualty_deadline", "casualty_rows", "prohibited_event", "reached"]

CARE = "casualty_care_started"
#: rows shown as evidence of what went on while casualties waited
WAITING_EVIDENCE = frozenset(
    {"requested_entry", "entry_refused", "staged", "entered_warm_zone", "area_cleared", "attacker_located"}
)


def _names(r: TimelineRow, casualty: TimelineRow) -> bool:
    who = r.tokens().get("casualty")
    return who == casualty.actor if who else r.location == casualty.location


def reached(
    tl: Timeline, casualty: TimelineRow, events: list[str], roles: list[str]
) -> tuple[datetime | None, TimelineRow | None]:
    """When one of ``events`` (by ``roles``; any if empty) first reached the casualty row, and the row."""
    best: tuple[datetime | None, TimelineRow | None] = (None, None)
    if CARE in events:
        care = casualty.casualty(casualty.file).care
        if care is not None:
            best = (care, casualty)
    for r in tl.rows:
        if (
            r.event in events
            and (not roles or r.role in roles)
            and r.time >= casualty.time
            and _names(r, casualty)
        ):
            if best[0] is None or r.time < best[0]:
                best = (r.time, r)
            break
    return best


def casualty_rows(tl: Timeline, died: list[str]) -> list[TimelineRow]:
    """Wounded rows, and killed rows whose ``died=`` is in ``died``."""
    out = []
    for r in tl.rows:
        if r.event == "victim_wounded" or (r.event == "victim_killed" and r.casualty(r.file).died in died):
            out.append(r)
    return out


def _who(r: TimelineRow) -> str:
    d = r.casualty(r.file)
    what = "wounded" if r.event == "victim_wounded" else f"killed (died={d.died})"
    return f"{d.count} {what} at {r.location}"


def casualty_deadline(
    tl: Timeline, proto: Protocol, rule: CasualtyDeadlineRule, w: ActiveWindow | None
) -> list[Finding]:
    from responsesim.review.findings import Evidence, Finding, fmt_duration

    limit = timedelta(seconds=rule.within_s)
    what = " / ".join(rule.events)
    t0 = w.start if w is not None else tl.start
    out: list[Finding] = []
    for row in casualty_rows(tl, list(rule.died)):
        d = row.casualty(row.file)
        when, by = reached(tl, row, rule.events, rule.roles)
        if when is not None and when - d.until <= limit:
            continue
        end = when if when is not None else tl.end
        f = Finding(rule.id, rule.kind, rule.severity, rule.text, rule.source, row.actor, row.role, d.until,
                    end, when is None, "")  # fmt: skip
        f.deadline = d.until + limit
        f.responsible = "any " + "/".join(rule.roles or ["responder"])
        hit = f"hit {d.start:%H:%M:%S}" + (f"-{d.until:%H:%M:%S}" if d.until != d.start else "")
        if when is None:
            f.summary = (
                f"{_who(row)} ({hit}): no row records {what} reaching them (timeline ends "
                f"{tl.end:%H:%M:%S}, {fmt_duration(f.duration_s)} after the last of them was hit); "
                f"{fmt_duration(rule.within_s)} allowed"
            )
            f.notes.append(f"no row of the timeline records {what} for {row.actor}: absence from the record")
        else:
            f.summary = (
                f"{_who(row)} ({hit}): first {what} at {when:%H:%M:%S} "
                f"(+{fmt_duration((when - t0).total_seconds())} "
                f"after the first shots), {fmt_duration(f.duration_s)} after the last of them was hit; "
                f"{fmt_duration(rule.within_s)} allowed"
            )
        f.killed, f.wounded = (d.count, 0) if row.event == "victim_killed" else (0, d.count)
        f.evidence.append(
            Evidence.of(row, "the casualties" + (" (care= gives the time)" if by is row else ""))
        )
        if by is not None and by is not row:
            f.evidence.append(Evidence.of(by, "first reached them"))
        for r in tl.rows:
            if r.event in WAITING_EVIDENCE and d.until <= r.time <= end:
                f.evidence.append(Evidence.of(r, "meanwhile"))
        if row.flagged or d.until != d.start:
            f.notes.append("the time they were hit is a window or approximate: counted from its end")
        out.append(f)
    return out


def _waiting(tl: Timeline, t: datetime) -> list[tuple[TimelineRow, datetime]]:
    """Casualty rows hit by ``t`` whose recorded care came after ``t`` (with that care time)."""
    out = []
    for row in casualty_rows(tl, ["later", "at_scene"]):
        when, _ = reached(tl, row, [CARE], [])
        if row.time <= t and when is not None and when > t:
            out.append((row, when))
    return out


def prohibited_event(
    tl: Timeline, proto: Protocol, rule: ProhibitedEventRule, w: ActiveWindow | None
) -> list[Finding]:
    from responsesim.review.findings import Evidence, Finding, fmt_duration

    hits: dict[str, list[tuple[TimelineRow, list[tuple[TimelineRow, datetime]]]]] = {}
    for r in tl.rows:
        if r.event not in rule.events or (rule.roles and r.role not in rule.roles):
            continue
        if rule.during == "attacker_active":
            if w is not None and w.start <= r.time <= w.end:
                hits.setdefault(r.actor, []).append((r, []))
        else:
            waiting = _waiting(tl, r.time)
            if waiting:
                hits.setdefault(r.actor, []).append((r, waiting))
    out: list[Finding] = []
    untimed = [
        row for row in casualty_rows(tl, ["later", "at_scene"]) if reached(tl, row, [CARE], [])[0] is None
    ]
    for actor, got in hits.items():
        rows = [r for r, _ in got]
        n = sum(r.count() for r in rows)
        first, last = rows[0], rows[-1]
        f = Finding(rule.id, rule.kind, rule.severity, rule.text, rule.source, actor, first.role, first.time,
                    last.time, False, "")  # fmt: skip
        times = ", ".join(f"{r.time:%H:%M:%S}" + (f" (x{r.count()})" if r.count() > 1 else "") for r in rows)
        what = " / ".join(rule.events)
        if rule.during == "attacker_active":
            f.summary = f"{actor} ({first.role}): {what} {n} time(s) while the attacker was active ({times})"
        else:
            people: dict[str, tuple[TimelineRow, datetime]] = {}
            for _, waiting in got:
                for row, care in waiting:
                    people.setdefault(row.actor, (row, care))
            waited = "; ".join(f"{_who(row)} until care at {care:%H:%M:%S}" for row, care in people.values())
            f.summary = (
                f"{actor} ({first.role}): {what} {n} time(s) ({times}) while casualties waited: {waited}"
            )
            f.killed = sum(row.count() for row, _ in people.values() if row.event == "victim_killed")
            f.wounded = sum(row.count() for row, _ in people.values() if row.event == "victim_wounded")
            for row, care in people.values():
                f.evidence.append(Evidence.of(row, f"waiting: care reached them at {care:%H:%M:%S}"))
                f.meanwhile.append(f"{_who(row)}: waited {fmt_duration((care - first.time).total_seconds())} "
                                   f"after the first {rule.events[0]}")  # fmt: skip
            if untimed:
                f.notes.append(
                    "not counted as waiting (no row records when care reached them): "
                    + ", ".join(r.actor for r in untimed)
                )
        for r in rows:
            f.evidence.append(
                Evidence.of(r, "the prohibited event" + (f" (count={r.count()})" if r.count() > 1 else ""))
            )
        later = [r for r in tl.rows if r.event in rule.events and r.actor == actor and r not in rows]
        for r in later:
            f.notes.append(
                f"also {r.event} at {r.time:%H:%M:%S} (line {r.line}), when no recorded casualty waited"
            )
        f.evidence.sort(key=lambda e: (e.time, e.file, e.line))
        out.append(f)
    return out
