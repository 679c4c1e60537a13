"""Fuzz the review's inputs: timeline CSV, protocol TOML and vocabulary TOML either load (sane) or raise a
clear ``ReviewInputError`` (file, line and/or column or key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz_strategies import (
    REPO,
    any_bytes,
    assert_clear_input_error,
    check_parse,
    csv_like,
    decoded,
    fuzz_settings,
    model_documents,
    mutated_csv,
    mutated_toml,
    random_toml_inputs,
    toml_dumps,
    write_input,
)
from hypothesis import given
from hypothesis import strategies as st

from responsesim.review.errors import ReviewInputError
from responsesim.review.protocol import (
    CasualtyDeadlineRule,
    DeadlineRule,
    ProhibitedEventRule,
    Protocol,
    ProtocolMeta,
    SequenceRule,
    load_protocol,
)
from responsesim.review.timeline import (
    CERTAINTIES,
    COLUMNS,
    DATE_CERTAINTIES,
    DEFAULT_EVENTS,
    DEFAULT_ROLES,
    TIP_EVENTS,
    Timeline,
    Vocabulary,
    load_timeline,
    load_vocabulary,
)
from responsesim.review.tips import agency_of

TIMELINES = tuple(
    p.read_text(encoding="utf-8")
    for p in sorted([*(REPO / "examples/parkland").glob("*.csv"), *(REPO / "examples/uvalde").glob("*.csv")])
)
PROTOCOLS = tuple(p.read_text(encoding="utf-8") for p in sorted((REPO / "examples/protocols").glob("*.toml")))
VOCABULARY = '[vocabulary]\nevents = ["door_breached", "alarm_pulled"]\nroles = ["teacher"]\n'


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-review")


def assert_timeline_sane(tl: Timeline) -> None:
    """Rows in file order with non-decreasing times, known roles, events and certainties."""
    assert tl.rows
    for prev, row in zip(tl.rows, tl.rows[1:], strict=False):
        assert row.time >= prev.time and row.line > prev.line and row.seq == prev.seq + 1
    for row in tl.rows:
        assert row.role in tl.vocabulary.roles and row.event in tl.vocabulary.events
        assert row.certainty in CERTAINTIES and row.actor and row.line >= 2
        assert row.count() >= -(2**63)
        if row.event in ("victim_killed", "victim_wounded"):
            c = row.casualty(tl.file)  # parsed and checked when loaded: never raises afterwards
            assert c.count >= 1 and c.until >= c.start and (c.care is None or c.care >= c.start)
        if row.date_only:
            assert row.certainty in DATE_CERTAINTIES and row.time.hour == row.time.minute == 0
        if row.event in TIP_EVENTS:
            assert row.tokens()["tip"] and agency_of(row)


def _timeline(path: Path, data: bytes) -> None:
    write_input(path, data)
    text = decoded(data.removeprefix(b"\xef\xbb\xbf"))
    check_parse(
        "timeline",
        lambda: load_timeline(path),
        ReviewInputError,
        lambda exc: assert_clear_input_error(exc, (str(path),), text),
        assert_timeline_sane,
    )


@fuzz_settings(100)
@given(data=st.sampled_from(TIMELINES).flatmap(mutated_csv))
def test_mutated_timelines(workdir: Path, data: bytes) -> None:
    _timeline(workdir / "timeline.csv", data)


TOKEN_VALUES = st.one_of(
    st.sampled_from(["1", "0", "-3", "x", "99999999999999999999", "14:27:10", "25:61:00",
                     "2018-02-14T14:30:00", "at_once", "at_scene", "later", "in_hospital", "maybe", ""]),
    st.text(alphabet="0123456789:T-x", max_size=12),
)  # fmt: skip


@fuzz_settings(80)
@given(
    tokens=st.lists(st.tuples(st.sampled_from(["count", "until", "died", "care"]), TOKEN_VALUES), max_size=5),
    event=st.sampled_from(["victim_killed", "victim_wounded"]),
)
def test_casualty_detail_tokens(workdir: Path, tokens: list[tuple[str, str]], event: str) -> None:
    """Any mix of casualty tokens loads or is refused with a clear error naming the line and the detail."""
    detail = " ".join(f"{k}={v}" for k, v in tokens) + "; free text"
    data = f"{','.join(COLUMNS)}\n2018-02-14 14:24:15,V,victim,{event},B12,{detail},second,s\n".encode()
    _timeline(workdir / "casualty.csv", data)


TIP_TOKENS = st.lists(
    st.tuples(st.sampled_from(["tip", "agency", "action", "casualty", "count"]),
              st.sampled_from(["t1", "t2", "", "BSO", "none", "referred", "shrug", "V", "2", "x"])),
    max_size=4,
)  # fmt: skip
DATES = st.sampled_from(["2018-01-05", "2018-02-14", "2018-02-15", "2018-1-5", "2018-02-30",
                         "2018-01-05 10:00:00", "2018-02-14T14:30:00", "05/01/2018", ""])  # fmt: skip


@fuzz_settings(80)
@given(
    rows=st.lists(
        st.tuples(DATES, st.sampled_from(["tip_received", "tip_assessed", "tip_closed", "tip_forwarded",
                                          "visit", "warning_sign", "hemorrhage_control", "no_such_event"]),
                  st.sampled_from(["agency", "tip_line", "deputy", "tipster", "no_such_role"]),
                  st.sampled_from(["day", "approximate", "minute", "derived"]), TIP_TOKENS),
        min_size=1, max_size=5,
    ),
    attack=st.booleans(),
)  # fmt: skip
def test_date_only_and_tip_rows(
    workdir: Path, rows: list[tuple[str, str, str, str, Any]], attack: bool
) -> None:
    """Date-only rows, tip tokens and the new events load sane or are refused naming the line and field."""
    lines = [",".join(COLUMNS)]
    for k, (when, event, role, cert, tokens) in enumerate(rows):
        detail = " ".join(f"{a}={b}" for a, b in tokens)
        lines.append(f"{when},ACTOR-{role}-{k % 2},{role},{event},here,{detail} free text,{cert},src")
    if attack:
        lines.append("2018-02-14 14:21:44,A,attacker,shots_fired,B12,,second,src")
    _timeline(workdir / "tips.csv", ("\n".join(lines) + "\n").encode())


@fuzz_settings(80)
@given(data=st.one_of(csv_like(COLUMNS), any_bytes))
def test_random_timelines(workdir: Path, data: bytes) -> None:
    _timeline(workdir / "random.csv", data)


def assert_protocol_sane(result: tuple[Protocol, Vocabulary]) -> None:
    """At least one rule, unique ids, every state a rule names defined."""
    proto, vocab = result
    ids = [r.id for r in proto.rules]
    assert proto.rules and len(ids) == len(set(ids))
    assert proto.active.attacker_role in vocab.roles
    for r in proto.rules:
        state = getattr(r, "state", None)
        assert state is None or state in proto.states


def _protocol(path: Path, data: bytes) -> None:
    write_input(path, data)
    check_parse(
        "protocol",
        lambda: load_protocol(path),
        ReviewInputError,
        lambda exc: assert_clear_input_error(exc, (str(path),), decoded(data)),
        assert_protocol_sane,
    )


@fuzz_settings(100)
@given(data=st.sampled_from(PROTOCOLS).flatmap(mutated_toml))
def test_mutated_protocols(workdir: Path, data: bytes) -> None:
    _protocol(workdir / "protocol.toml", data)


@fuzz_settings(60)
@given(data=random_toml_inputs())
def test_random_protocols(workdir: Path, data: bytes) -> None:
    _protocol(workdir / "random_protocol.toml", data)


EVENT = st.sampled_from([*DEFAULT_EVENTS, "no_such_event"])
ROLE = st.sampled_from([*DEFAULT_ROLES, "no_such_role"])
PROTOCOL_HINTS: dict[str, st.SearchStrategy[Any]] = {
    "trigger": EVENT,
    "events": EVENT,
    "first": EVENT,
    "then": EVENT,
    "enter": EVENT,
    "exit": EVENT,
    "start_events": EVENT,
    "end_events": EVENT,
    "roles": ROLE,
    "trigger_roles": ROLE,
    "first_roles": ROLE,
    "attacker_role": ROLE,
    "state": st.sampled_from(["holding", "hiding"]),
    "states.key": st.sampled_from(["holding", "hiding"]),
    "pattern": st.sampled_from(["B12", "(", "[a-", "x*", ".*count=\\d+"]),
    "within_days": st.sampled_from([0, 1, 7, -1, 36501, 2.5, "7", True]),
    "within_s": st.sampled_from([0, 60, -1, 1e308, float("nan"), "60"]),
    "link": st.sampled_from(["tip", "casualty", "case", ""]),
    "during": st.sampled_from(["casualties_waiting", "attacker_active", "always"]),
    "died": st.lists(st.sampled_from(["later", "at_scene", "at_once", "maybe"]), max_size=3),
    "section": st.sampled_from(["police", "medical", "pre_attack", "after"]),
}


@st.composite
def generated_protocols(draw: Any) -> dict[str, Any]:
    """A protocol document: [protocol], optional [active] and [states.*], and 1-3 rules of any kind."""
    doc: dict[str, Any] = {"protocol": draw(model_documents(ProtocolMeta, {}))}
    body = draw(model_documents(Protocol, PROTOCOL_HINTS))
    doc.update({k: v for k, v in body.items() if k not in ("protocol", "rules", "file")})
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        model = draw(st.sampled_from([DeadlineRule, SequenceRule, CasualtyDeadlineRule, ProhibitedEventRule]))
        rule = draw(model_documents(model, PROTOCOL_HINTS))
        if draw(st.integers(0, 9)):
            rule["kind"] = model.model_fields["kind"].annotation.__args__[0]
        rules.append(rule)
    doc["rules"] = rules
    return doc


@fuzz_settings(60)
@given(doc=generated_protocols())
def test_generated_protocols(workdir: Path, doc: dict[str, Any]) -> None:
    _protocol(workdir / "generated_protocol.toml", toml_dumps(doc).encode("utf-8"))


@fuzz_settings(80)
@given(data=st.one_of(mutated_toml(VOCABULARY), random_toml_inputs()))
def test_vocabulary_files(workdir: Path, data: bytes) -> None:
    path = write_input(workdir / "vocabulary.toml", data)

    def sane(v: Vocabulary) -> None:
        assert set(DEFAULT_EVENTS) <= v.events and set(DEFAULT_ROLES) <= v.roles

    check_parse(
        "vocabulary",
        lambda: load_vocabulary(path),
        ReviewInputError,
        lambda exc: assert_clear_input_error(exc, (str(path),), decoded(data)),
        sane,
    )
