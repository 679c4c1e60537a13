"""Tip rows and the attack they came before: tokens, links and dates.

A tip row (``tip_received``, ``tip_assessed``, ``tip_forwarded``, ``tip_closed``) names its tip
(``tip=ID``) and the agency handling it (the actor itself when its role is ``agency`` or ``tip_line``,
else ``agency=NAME`` in the detail); ``tip_closed`` says with what action (``action=``, ``TIP_ACTIONS``).
Every tip row after ``tip_received`` refers to a tip received earlier. Tip, visit and warning-sign rows
must come before the attack (the first ``shots_fired`` by the attacker, else its arrival).
"""

from __future__ import annotations

from datetime import datetime

from responsesim.review.errors import ReviewInputError
from responsesim.review.timeline import (
    AGENCY_ROLES,
    PRE_ATTACK_EVENTS,
    TIP_ACTIONS,
    TIP_EVENTS,
    Timeline,
    TimelineRow,
)

__all__ = ["agency_of", "attack_row", "check_tip_row", "check_tips", "days_before"]

ATTACK_EVENTS: tuple[str, ...] = ("shots_fired", "attacker_arrived")
ATTACKER_ROLE = "attacker"


def agency_of(row: TimelineRow) -> str:
    """The agency handling a tip row: ``agency=`` in the detail, else the actor (role agency / tip_line)."""
    return row.tokens().get("agency") or (row.actor if row.role in AGENCY_ROLES else "")


def check_tip_row(row: TimelineRow) -> None:
    """A tip row's tokens: tip id, agency, and the action of a closing row."""
    tok = row.tokens()
    if "action" in tok and row.event != "tip_closed":
        raise ReviewInputError(row.file, row.line, "detail", f"action= on a {row.event} row: only tip_closed")
    if row.event not in TIP_EVENTS:
        return
    if not tok.get("tip"):
        raise ReviewInputError(
            row.file, row.line, "detail",
            f"{row.event} row without tip=ID (an id that links the rows of one tip)",
        )  # fmt: skip
    if not agency_of(row):
        raise ReviewInputError(
            row.file, row.line, "detail",
            f"{row.event} row without an agency: actor {row.actor!r} has role {row.role!r}; give the agency "
            "handling the tip as agency=NAME (or use role agency / tip_line)",
        )  # fmt: skip
    if row.event == "tip_closed":
        action = tok.get("action", "")
        if action not in TIP_ACTIONS:
            got = f"action={action}" if action else "no action="
            raise ReviewInputError(
                row.file,
                row.line,
                "detail",
                f"{got}: a tip_closed row needs action= one of {', '.join(TIP_ACTIONS)}",
            )


def attack_row(tl: Timeline) -> TimelineRow | None:
    """The row where the attack begins: the attacker's first ``shots_fired``, else its arrival."""
    for event in ATTACK_EVENTS:
        row = next((r for r in tl.rows if r.role == ATTACKER_ROLE and r.event == event), None)
        if row is not None:
            return row
    return None


def days_before(row_time: datetime, attack: datetime) -> int:
    """Whole days from a row's date to the attack's date."""
    return (attack.date() - row_time.date()).days


def check_tips(tl: Timeline) -> None:
    """Tip ids link to an earlier ``tip_received``; pre-attack rows come before the attack."""
    received: dict[str, TimelineRow] = {}
    for r in tl.rows:
        if r.event not in TIP_EVENTS:
            continue
        tip = r.tokens()["tip"]
        if r.event == "tip_received":
            first = received.setdefault(tip, r)
            if first is not r:
                raise ReviewInputError(
                    r.file, r.line, "detail",
                    f"tip={tip} was already received on line {first.line} of {first.file}: give each tip its "
                    "own id",
                )  # fmt: skip
        elif tip not in received:
            raise ReviewInputError(
                r.file, r.line, "detail", f"tip={tip}: no earlier tip_received row for this tip"
            )
    attack = attack_row(tl)
    if attack is None:
        return
    for r in tl.rows:
        if r.event not in PRE_ATTACK_EVENTS:
            continue
        late = r.time.date() > attack.time.date() if r.date_only else r.time > attack.time
        if late:
            raise ReviewInputError(
                r.file, r.line, "time",
                f"{r.event} on {r.when} is after the attack began ({attack.when}, {attack.file} line "
                f"{attack.line}): tips, visits and warning signs are rows of the time before the attack",
            )  # fmt: skip
