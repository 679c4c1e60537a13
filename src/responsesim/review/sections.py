"""The three parts of a review: the initial police response, the medical response, the pre-attack warnings.

Each protocol belongs to one part (``[protocol] section``). The police and medical parts are reviewed on
the rows of the incident (every row but the tips, visits and warning signs); the pre-attack part on those
rows and the row where the attack begins, on a scale of days. ``IncidentReview`` holds the parts; its
top-level JSON keys are those of the police part (as before there were parts), plus ``sections``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responsesim.review.adoption import flag_later_standards, incident_date
from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import Finding, Review, review
from responsesim.review.protocol import Protocol
from responsesim.review.timeline import PRE_ATTACK_EVENTS, Timeline, TimelineRow, detail_tokens
from responsesim.review.tips import agency_of, attack_row, days_before

__all__ = ["MEDICAL_ROLES", "SECTIONS", "IncidentReview", "Section", "review_incident", "section_rows"]

#: part -> title, in report order
SECTIONS: dict[str, str] = {
    "police": "Initial police response",
    "medical": "Medical response",
    "pre_attack": "Pre-attack warnings",
}
MEDICAL_ROLES: frozenset[str] = frozenset({"ems", "fire", "rescue_task_force"})
MEDICAL_EVENTS: frozenset[str] = frozenset(
    {
        *("casualty_care_started", "hemorrhage_control", "extricated", "triaged", "requested_entry"),
        *("entry_refused", "entered_warm_zone", "patient_transported", "arrived_at_hospital"),
        *("area_cleared", "attacker_located"),
    }
)


def is_pre_attack(r: TimelineRow) -> bool:
    return r.event in PRE_ATTACK_EVENTS or r.date_only


def section_rows(tl: Timeline, key: str) -> Timeline:
    """The rows a part is reviewed on (file order kept)."""
    if key == "pre_attack":
        attack = attack_row(tl)
        rows = tuple(r for r in tl.rows if is_pre_attack(r) or r is attack)
    else:
        rows = tuple(r for r in tl.rows if not is_pre_attack(r))
    return Timeline(tl.file, rows, tl.vocabulary)


def lane_actors(tl: Timeline, key: str, findings: list[Finding]) -> list[str]:
    """The actors drawn in a part's swimlane (the attacker in every incident part)."""
    named = {f.actor for f in findings}
    out = []
    for actor, role in tl.actors().items():
        rows = [r for r in tl.rows if r.actor == actor]
        if (
            key == "pre_attack"
            or actor in named
            or role == "attacker"
            or (key == "medical" and (role in MEDICAL_ROLES or any(r.event in MEDICAL_EVENTS for r in rows)))
            or (key == "police" and role not in MEDICAL_ROLES)
        ):
            out.append(actor)
    return out


@dataclass
class Section:
    key: str
    timeline: Timeline  # the rows this part is reviewed on
    reviews: list[Review] = field(default_factory=list)  # one per protocol of this part
    attack: TimelineRow | None = None  # pre-attack part: where the attack begins

    @property
    def title(self) -> str:
        return SECTIONS[self.key]

    @property
    def findings(self) -> list[Finding]:
        return [f for rv in self.reviews for f in rv.findings]

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(n for rv in self.reviews for n in rv.notes))

    @property
    def days(self) -> bool:
        return self.key == "pre_attack"

    def lanes(self) -> list[str]:
        return lane_actors(self.timeline, self.key, self.findings)

    def to_json(self) -> dict[str, Any]:
        a = self.reviews[0].active if self.reviews and not self.days else None
        out: dict[str, Any] = {
            "title": self.title,
            "scale": "days" if self.days else "seconds",
            "rows": len(self.timeline.rows),
            "protocols": [{"name": rv.protocol.name, "file": rv.protocol.file} for rv in self.reviews],
            "notes": self.notes,
            "findings": [
                {**f.to_json(), "protocol": rv.protocol.name} for rv in self.reviews for f in rv.findings
            ],
        }
        if self.days:
            out["attack_start"] = None if self.attack is None else self.attack.when
        else:
            out["attacker_active"] = None if a is None else {
                "start": f"{a.start:%Y-%m-%d %H:%M:%S}", "end": f"{a.end:%Y-%m-%d %H:%M:%S}",
                "end_recorded": a.end_recorded,
            }  # fmt: skip
        return out


def _annotate_pre_attack(f: Finding, attack: TimelineRow | None) -> None:
    """Tip, agency and days before the attack of a pre-attack finding (from its first evidence row)."""
    f.days = True
    ev = f.evidence[0] if f.evidence else None
    if ev is not None:
        tok = detail_tokens(ev.detail)
        f.tip = tok.get("tip")
        probe = TimelineRow(
            ev.line, ev.time, ev.actor, ev.role, ev.event, ev.location, ev.detail, ev.certainty, ev.source
        )
        f.agency = agency_of(probe) or None
    if attack is not None:
        f.days_before_attack = days_before(f.start, attack.time)
        f.summary += f" [{f.days_before_attack} days before the attack on {attack.time:%Y-%m-%d}]"
        if f.open_ended:
            f.notes.append(f"open to the attack ({attack.when}): no row before it records the required event")
    else:
        f.notes.append("the timeline records no attack row: days before the attack unknown")


@dataclass
class IncidentReview:
    """A review in parts; behaves as the police part's ``Review`` for the old callers."""

    timeline: Timeline
    sections: list[Section]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def primary(self) -> Section:
        """The police part, or the first part reviewed."""
        return self.section("police") or self.sections[0]

    @property
    def findings(self) -> list[Finding]:
        return self.primary.findings

    @property
    def notes(self) -> list[str]:
        return self.primary.notes

    @property
    def active(self) -> Any:
        return self.primary.reviews[0].active

    @property
    def protocol(self) -> Protocol:
        return self.primary.reviews[0].protocol

    @property
    def protocol_names(self) -> str:
        return " + ".join(rv.protocol.name for s in self.sections for rv in s.reviews)

    def to_json(self) -> dict[str, Any]:
        p = self.primary
        base = p.reviews[0].to_json()
        base["timeline"] = self.timeline.file
        base["protocol"] = " + ".join(rv.protocol.name for rv in p.reviews)
        base["protocol_file"] = " + ".join(rv.protocol.file for rv in p.reviews)
        base["notes"] = p.notes
        base["findings"] = [f.to_json() for f in p.findings]
        base["sections"] = {s.key: s.to_json() for s in self.sections}
        return base


def review_incident(tl: Timeline, protocols: list[Protocol]) -> IncidentReview:
    """Review ``tl`` against every protocol, each in its part; parts in ``SECTIONS`` order."""
    sections: list[Section] = []
    when = incident_date(tl)
    for key in SECTIONS:
        protos = [p for p in protocols if p.section == key]
        if not protos:
            continue
        part = section_rows(tl, key)
        if not part.rows:
            raise ReviewInputError(
                tl.file, None, None,
                f"no rows for the {SECTIONS[key].lower()} part (protocol {protos[0].file}): give the "
                "timeline that holds them",
            )  # fmt: skip
        sec = Section(key, part, attack=attack_row(tl) if key == "pre_attack" else None)
        for proto in protos:
            rv = review(part, proto)
            if key == "pre_attack":
                for f in rv.findings:
                    _annotate_pre_attack(f, sec.attack)
                if sec.attack is None:
                    rv.notes.append("the timeline records no attack row: days before the attack unknown")
            flag_later_standards(rv, when)
            sec.reviews.append(rv)
        sections.append(sec)
    return IncidentReview(tl, sections)
