"""Standards adopted after the incident: a protocol (or one of its rules) may give the date it was adopted
(``adopted = YYYY-MM-DD``); a finding judged by a standard adopted after the incident's date is flagged,
in the finding (a note, its summary, ``standard_after_incident``) and in its part's notes. The review still
lists it: what the standard asks is a fair yardstick, but it is not the duty the responders had then."""

from __future__ import annotations

from datetime import date

from responsesim.review.findings import Review
from responsesim.review.timeline import Timeline
from responsesim.review.tips import attack_row

__all__ = ["LATER_STANDARD", "flag_later_standards", "incident_date"]

LATER_STANDARD = "judged by a standard adopted after the incident"


def incident_date(tl: Timeline) -> date | None:
    """The incident's date: the attack's (the attacker's first shot, else arrival), else the last row's."""
    row = attack_row(tl)
    if row is not None:
        return row.time.date()
    return tl.rows[-1].time.date() if tl.rows else None


def flag_later_standards(rv: Review, when: date | None) -> None:
    """Flag every finding of ``rv`` whose standard was adopted after ``when``, and note it for the part."""
    if when is None:
        return
    late = []
    for f in rv.findings:
        adopted = rv.protocol.adopted(f.rule_id)
        if adopted is None or adopted <= when:
            continue
        f.standard_adopted = adopted
        words = f"{LATER_STANDARD} ({adopted:%Y-%m-%d}; the incident: {when:%Y-%m-%d})"
        f.notes.append(words)
        f.summary += f" [{words}]"
        late.append(f.rule_id)
    if late:
        rules = ", ".join(dict.fromkeys(late))
        rv.notes.append(f"{rv.protocol.name}: {len(late)} finding(s) ({rules}) {LATER_STANDARD}")
