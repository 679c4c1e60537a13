"""Response protocols as data: a TOML file of rules, each quoting the standard it encodes.

```toml
[protocol]
name = "..."
description = "..."
section = "police" | "medical" | "pre_attack"   # the part of the review it belongs to (default police)
adopted = 1999-04-20           # when the standard was adopted (optional; a rule may give its own)

[active]                       # when the attacker counts as active (defaults shown)
start_events = ["shots_fired"]
end_events = ["apprehended", "left_building", "attacker_stopped", "self_terminated", "surrendered"]

[states.holding]               # a state an actor is put in and taken out of by events
enter = ["took_cover", "held_position", "set_perimeter"]
exit = ["entered_building", "moved_toward_threat", "engaged_attacker"]

[[rules]]
id = "..."; kind = "deadline" | "prohibited_while" | "sequence" | "attribute" | "casualty_deadline"
    | "prohibited_event"
text = "the words of the standard"; source = "where they are from"; severity = "critical" | ...
```

Every event and role a rule names must be in the vocabulary (the defaults, an extension file, or the
protocol's own ``[vocabulary]`` table); every state must be defined. Errors are ``ReviewInputError`` with
the file, the line of the offending key, and the key.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from responsesim.review.errors import ReviewInputError, read_review_text
from responsesim.review.timeline import COLUMNS, Vocabulary, vocabulary_from_toml
from responsesim.scenario.errors import format_loc, from_toml_decode_error, locate_toml_line, plain_error

__all__ = [
    "ActiveWindow",
    "AttributeRule",
    "CasualtyDeadlineRule",
    "DeadlineRule",
    "ProhibitedEventRule",
    "ProhibitedWhileRule",
    "Protocol",
    "Rule",
    "SequenceRule",
    "StateDef",
    "load_protocol",
    "parse_protocol",
]

Severity = Literal["critical", "major", "minor", "info"]
Section = Literal["police", "medical", "pre_attack"]
#: a detail token that links rows of one tip (``tip=``) or one casualty row (``casualty=``)
Link = Literal["tip", "casualty"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RuleBase(_Model):
    id: str = Field(min_length=1)
    text: str = Field(min_length=1, description="the words of the standard, quoted")
    source: str = Field(min_length=1)
    severity: Severity
    note: str = ""
    adopted: date | None = Field(
        default=None, description="when the standard this rule quotes was adopted (default: the protocol's)"
    )


class DeadlineRule(_RuleBase):
    """After a trigger event ``trigger`` by an actor of a role in ``trigger_roles`` (any role if empty), an
    actor of a role in ``roles`` (the triggering actor itself if ``by = "trigger_actor"``) must do one of
    ``events`` within ``within_s`` seconds.

    ``match = "first"``: only the first trigger counts; ``"each_actor"``: the first trigger of each actor;
    ``"each"``: every trigger row. ``while_attacker_active``: triggers count only while the attacker is
    active. ``link = "tip"`` (or ``"casualty"``): the required row must carry the trigger's ``tip=`` (or
    ``casualty=``) token. The allowance is ``within_s`` seconds, or ``within_days`` days counted on dates
    (for the months before an attack); exactly one of them.
    """

    kind: Literal["deadline"]
    trigger: list[str] = Field(min_length=1)
    trigger_roles: list[str] = Field(default_factory=list)
    match: Literal["first", "each_actor", "each"] = "first"
    while_attacker_active: bool = False
    events: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    by: Literal["any", "trigger_actor"] = "any"
    within_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    within_days: int | None = Field(default=None, ge=0, le=36500)
    link: Link | None = None

    @model_validator(mode="after")
    def _one_allowance(self) -> DeadlineRule:
        if (self.within_s is None) == (self.within_days is None):
            raise ValueError("give exactly one of within_s (seconds) or within_days (days)")
        return self

    @property
    def days(self) -> bool:
        return self.within_days is not None


class ProhibitedWhileRule(_RuleBase):
    """While the attacker is active, an actor of a role in ``roles`` must not be in ``state`` for more than
    ``max_s`` seconds (the time counted is the overlap of the state with the active window)."""

    kind: Literal["prohibited_while"]
    roles: list[str] = Field(min_length=1)
    state: str
    max_s: float = Field(ge=0)


class SequenceRule(_RuleBase):
    """``first`` must come before ``then``: every ``then`` row by an actor of a role in ``roles`` needs an
    earlier ``first`` row, by the same actor (``same_actor = true``) or by any actor of ``first_roles``
    (default: ``roles``)."""

    kind: Literal["sequence"]
    first: list[str] = Field(min_length=1)
    then: list[str] = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    first_roles: list[str] = Field(default_factory=list)
    same_actor: bool = True
    link: Link | None = None  # the earlier row must also carry the same tip= / casualty= token


class AttributeRule(_RuleBase):
    """Rows with one of ``events`` by an actor of a role in ``roles`` (any if empty): column ``column`` must
    match (``must_match = true``) or must not match the regular expression ``pattern`` (case-insensitive)."""

    kind: Literal["attribute"]
    events: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    column: Literal["location", "detail", "actor", "source"]
    pattern: str
    must_match: bool = True

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


Died = Literal["at_once", "at_scene", "later"]


def _default_died() -> list[Died]:
    return ["later", "at_scene"]


class CasualtyDeadlineRule(_RuleBase):
    """Each casualty row (``victim_wounded``, and ``victim_killed`` whose ``died=`` is in ``died``) must be
    reached by one of ``events`` within ``within_s`` seconds of being hit (counted from the window's end,
    ``until=``: the benefit of the doubt goes to the responders).

    A row reaches a casualty row when it names it (``casualty=ACTOR``) or, without that token, is at the
    same location; the casualty row's own ``care=`` counts as ``casualty_care_started``."""

    kind: Literal["casualty_deadline"]
    events: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    died: list[Died] = Field(default_factory=_default_died)
    within_s: float = Field(ge=0, allow_inf_nan=False)


class ProhibitedEventRule(_RuleBase):
    """No row with one of ``events`` by an actor of ``roles`` (any if empty) ``during`` a condition:
    ``casualties_waiting`` (someone hit earlier and not yet reached by care) or ``attacker_active``. One
    finding per actor, counting the rows (and their ``count=``)."""

    kind: Literal["prohibited_event"]
    events: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    during: Literal["casualties_waiting", "attacker_active"]


Rule = Annotated[
    DeadlineRule
    | ProhibitedWhileRule
    | SequenceRule
    | AttributeRule
    | CasualtyDeadlineRule
    | ProhibitedEventRule,
    Field(discriminator="kind"),
]


class StateDef(_Model):
    enter: list[str] = Field(min_length=1)
    exit: list[str] = Field(min_length=1)


class ActiveWindow(_Model):
    start_events: list[str] = Field(default_factory=lambda: ["shots_fired"], min_length=1)
    end_events: list[str] = Field(
        default_factory=lambda: [
            "apprehended",
            "left_building",
            "attacker_stopped",
            "self_terminated",
            "surrendered",
        ]
    )
    attacker_role: str = "attacker"


class ProtocolMeta(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    section: Section = "police"
    adopted: date | None = Field(default=None, description="when the standard was adopted or published")


class Protocol(_Model):
    protocol: ProtocolMeta
    active: ActiveWindow = Field(default_factory=ActiveWindow)
    states: dict[str, StateDef] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    file: str = ""

    @property
    def name(self) -> str:
        return self.protocol.name

    @property
    def section(self) -> str:
        return self.protocol.section

    def adopted(self, rule_id: str) -> date | None:
        """When the standard behind rule ``rule_id`` was adopted: the rule's date, else the protocol's."""
        rule = next((r for r in self.rules if r.id == rule_id), None)
        own = rule.adopted if rule is not None else None
        return own or self.protocol.adopted


_adapter = TypeAdapter(Protocol)
_KINDS = ("deadline", "prohibited_while", "sequence", "attribute", "casualty_deadline", "prohibited_event")


def _check_names(proto: Protocol, vocab: Vocabulary, file: str, text: str) -> None:
    """Every event, role and state a protocol names must exist; raises with the line of the key."""

    def fail(loc: tuple[str | int, ...], msg: str) -> ReviewInputError:
        return ReviewInputError(file, locate_toml_line(text, loc), format_loc(loc), msg)

    def events(loc: tuple[str | int, ...], names: list[str]) -> None:
        for k, n in enumerate(names):
            if n not in vocab.events:
                raise fail((*loc, k), f"unknown event {n!r} (add it in a vocabulary extension)")

    def roles(loc: tuple[str | int, ...], names: list[str]) -> None:
        for k, n in enumerate(names):
            if n not in vocab.roles:
                raise fail((*loc, k), f"unknown role {n!r} (add it in a vocabulary extension)")

    events(("active", "start_events"), proto.active.start_events)
    events(("active", "end_events"), proto.active.end_events)
    if proto.active.attacker_role not in vocab.roles:
        raise fail(("active", "attacker_role"), f"unknown role {proto.active.attacker_role!r}")
    for name, st in proto.states.items():
        events(("states", name, "enter"), st.enter)
        events(("states", name, "exit"), st.exit)
    seen: dict[str, int] = {}
    for i, r in enumerate(proto.rules):
        loc: tuple[str | int, ...] = ("rules", i)
        if r.id in seen:
            raise fail((*loc, "id"), f"rule id {r.id!r} repeats rule {seen[r.id] + 1}")
        seen[r.id] = i
        if isinstance(r, DeadlineRule):
            events((*loc, "trigger"), r.trigger)
            roles((*loc, "trigger_roles"), r.trigger_roles)
            events((*loc, "events"), r.events)
            roles((*loc, "roles"), r.roles)
        elif isinstance(r, ProhibitedWhileRule):
            roles((*loc, "roles"), r.roles)
            if r.state not in proto.states:
                known = ", ".join(proto.states) or "none defined"
                raise fail((*loc, "state"), f"unknown state {r.state!r} (defined in [states.*]: {known})")
        elif isinstance(r, SequenceRule):
            events((*loc, "first"), r.first)
            events((*loc, "then"), r.then)
            roles((*loc, "roles"), r.roles)
            roles((*loc, "first_roles"), r.first_roles)
        else:  # attribute, casualty_deadline, prohibited_event
            events((*loc, "events"), r.events)
            roles((*loc, "roles"), r.roles)
    assert COLUMNS  # the attribute columns are a subset of the timeline's


def parse_protocol(text: str, file: str, vocabulary: Vocabulary | None = None) -> tuple[Protocol, Vocabulary]:
    """A validated protocol and the vocabulary extended by its ``[vocabulary]`` table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        e = from_toml_decode_error(exc, file, text)
        raise ReviewInputError(file, e.line, None, e.message) from None
    vocab = vocabulary_from_toml(data, file, text, vocabulary or Vocabulary())
    body = {k: v for k, v in data.items() if k != "vocabulary"}
    try:
        proto = _adapter.validate_python({**body, "file": file})
    except ValidationError as exc:
        errs = list(exc.errors())
        loc, msg = plain_error(errs)
        first = next(e for e in errs if tuple(e["loc"]) == loc)
        # drop the discriminator tag pydantic inserts for tagged unions: ("rules", 0, "deadline", "x")
        clean = tuple(p for k, p in enumerate(loc) if not (k == 2 and loc[0] == "rules" and p in _KINDS))
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            clean = (*clean, "kind")  # point at the kind key (or the rule, if it has none)
        if len(clean) == 2 and clean[0] == "rules" and "within_days" in msg and isinstance(clean[1], int):
            # both or neither allowance: point at the key the rule gives (both: within_days), not the rule
            rules = data.get("rules")
            rule = rules[clean[1]] if isinstance(rules, list) and clean[1] < len(rules) else None
            given = [k for k in ("within_s", "within_days") if isinstance(rule, dict) and k in rule]
            if given:
                clean = (*clean, given[-1])
        raise ReviewInputError(file, locate_toml_line(text, clean), format_loc(clean), msg) from None
    _check_names(proto, vocab, file, text)
    return proto, vocab


def load_protocol(path: Path, vocabulary: Vocabulary | None = None) -> tuple[Protocol, Vocabulary]:
    text = read_review_text(path, "protocol file")
    return parse_protocol(text, str(path), vocabulary)
