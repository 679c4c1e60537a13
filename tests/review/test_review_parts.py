"""The medical and pre-attack parts: new rule kinds, date-only rows, tip rows, several files and protocols."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import HEADER

from responsesim.review.command import review_command, run_review
from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import review
from responsesim.review.protocol import parse_protocol
from responsesim.review.sections import review_incident
from responsesim.review.timeline import (
    DEFAULT_EVENTS,
    DEFAULT_ROLES,
    load_timeline,
    merge_timelines,
    parse_timeline,
)

NEW_EVENTS = ("hemorrhage_control", "extricated", "triaged", "area_cleared", "attacker_located")
NEW_ROLES = ("tip_line", "rescue_task_force")


def tl(*lines: str, file: str = "t.csv"):  # type: ignore[no-untyped-def]
    return parse_timeline(HEADER + "\n".join(lines) + "\n", file)


def proto(rule: str, section: str = "medical"):  # type: ignore[no-untyped-def]
    text = f'[protocol]\nname = "p"\nsection = "{section}"\n\n[[rules]]\nid = "r"\ntext = "t"\nsource = "s"\n'
    return parse_protocol(text + 'severity = "major"\n' + rule, "p.toml")[0]


def row(
    t: str, actor: str, role: str, event: str, detail: str = "", loc: str = "B1", cert: str = "second"
) -> str:
    return f"{t},{actor},{role},{event},{loc},{detail},{cert},src"


SHOTS = row("2024-05-01 10:00:00", "A", "attacker", "shots_fired")


@pytest.mark.parametrize("event", NEW_EVENTS)
def test_new_events_load_and_are_known(event: str) -> None:
    got = tl(SHOTS, row("2024-05-01 10:01:00", "M", "rescue_task_force", event, "casualty=V"))
    assert got.rows[-1].event == event and event in DEFAULT_EVENTS
    assert got.rows[-1].tokens() == {"casualty": "V"}


@pytest.mark.parametrize("role", NEW_ROLES)
def test_new_roles_load(role: str) -> None:
    assert role in DEFAULT_ROLES
    assert tl(row("2024-05-01 10:00:00", "X", role, "radio")).rows[0].role == role


# ------------------------------------------------------------------------------------------ date-only rows


def test_date_only_rows_stand_at_the_start_of_their_day() -> None:
    got = tl(
        row("2024-01-05", "T", "tipster", "warning_sign", cert="day"), SHOTS.replace("10:00:00", "09:00:00")
    )
    assert got.rows[0].date_only and got.rows[0].when == "2024-01-05" and not got.rows[1].date_only
    with pytest.raises(ReviewInputError) as e:
        tl(SHOTS, row("2024-05-01", "T", "tipster", "warning_sign", cert="day"))
    assert (e.value.line, e.value.field) == (3, "time") and "start of its day" in e.value.message


@pytest.mark.parametrize(
    ("time", "cert", "field"),
    [
        ("2024-01-05", "minute", "certainty"),
        ("2024-01-05 10:00:00", "day", "time"),
        ("2024-13-05", "day", "time"),
    ],
)
def test_date_and_certainty_must_agree(time: str, cert: str, field: str) -> None:
    with pytest.raises(ReviewInputError) as e:
        tl(row(time, "T", "tipster", "warning_sign", cert=cert))
    assert (e.value.file, e.value.line, e.value.field) == ("t.csv", 2, field)


# ------------------------------------------------------------------------------------------ tip rows

TIP = row("2024-01-05", "FBI-PAL", "tip_line", "tip_received", "tip=t1", cert="day")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (row("2024-01-05", "DEP", "deputy", "tip_received", "tip=t1", cert="day"), "without an agency"),
        (row("2024-01-05", "BSO", "agency", "tip_received", "no id", cert="day"), "without tip=ID"),
        (row("2024-01-06", "BSO", "agency", "tip_closed", "tip=t1", cert="day"), "needs action="),
        (row("2024-01-06", "BSO", "agency", "tip_closed", "tip=t1 action=shrug", cert="day"), "action=shrug"),
        (row("2024-01-06", "BSO", "agency", "tip_assessed", "tip=t9", cert="day"), "no earlier tip_received"),
        (row("2024-01-06", "BSO", "agency", "visit", "action=none", cert="day"), "only tip_closed"),
    ],
)
def test_bad_tip_rows_name_line_and_detail(line: str, needle: str) -> None:
    with pytest.raises(ReviewInputError) as e:
        tl(TIP, line)
    assert (e.value.line, e.value.field) == (3, "detail") and needle in e.value.message


def test_a_deputy_tip_row_names_its_agency() -> None:
    got = tl(TIP, row("2024-01-06", "DEP", "deputy", "tip_assessed", "tip=t1 agency=BSO", cert="day"))
    assert got.rows[-1].tokens()["agency"] == "BSO"


def test_tip_after_the_attack_is_refused() -> None:
    with pytest.raises(ReviewInputError) as e:
        tl(SHOTS, row("2024-05-02", "BSO", "agency", "tip_received", "tip=t1", cert="day"))
    assert (e.value.line, e.value.field) == (3, "time") and "after the attack began" in e.value.message


def test_merged_files_check_the_attack_across_files(tmp_path: Path) -> None:
    a, b = tmp_path / "incident.csv", tmp_path / "tips.csv"
    a.write_text(HEADER + SHOTS + "\n")
    b.write_text(HEADER + TIP + "\n" + row("2024-06-01", "BSO", "agency", "visit", cert="day") + "\n")
    with pytest.raises(ReviewInputError) as e:
        merge_timelines([load_timeline(a, check_links=False), load_timeline(b, check_links=False)])
    assert (e.value.file, e.value.line, e.value.field) == (str(b), 3, "time")


# ------------------------------------------------------------------------------------------ deadline in days

DAYS = """kind = "deadline"
trigger = ["tip_received"]
match = "each"
events = ["tip_assessed", "visit"]
link = "tip"
within_days = 7
"""


def _assessed(day: str, tip: str = "t1") -> str:
    return row(day, "BSO", "agency", "tip_assessed", f"tip={tip}", cert="day")


def test_days_deadline_compliant_gives_nothing() -> None:
    assert review(tl(TIP, _assessed("2024-01-12")), proto(DAYS, "pre_attack")).findings == []


def test_days_deadline_late_gives_one() -> None:
    (f,) = review(tl(TIP, _assessed("2024-01-13")), proto(DAYS, "pre_attack")).findings
    assert f.days and f"{f.deadline:%Y-%m-%d}" == "2024-01-12" and not f.open_ended
    assert "2024-01-13" in f.summary


def test_days_deadline_needs_the_same_tip() -> None:
    tips = tl(
        TIP,
        row("2024-01-05", "B", "agency", "tip_received", "tip=t2", cert="day"),
        _assessed("2024-01-06", "t2"),
    )
    (f,) = review(tips, proto(DAYS, "pre_attack")).findings
    assert f.actor == "FBI-PAL" and f.open_ended and "tip=t1" in f.summary


@pytest.mark.parametrize(
    ("extra", "field", "needle"),
    [
        ("within_days = -1\n", "rules[0].within_days", "must be at least"),
        ("within_days = 2.5\n", "rules[0].within_days", "whole number"),
        ("within_days = 1\nwithin_s = 60\n", "rules[0].within_days", "exactly one of within_s"),
        ("", "rules[0]", "exactly one of within_s"),
        ('within_days = 1\nlink = "case"\n', "rules[0].link", "tip"),
    ],
)
def test_bad_day_allowances(extra: str, field: str, needle: str) -> None:
    rule = DAYS.replace("within_days = 7\n", "").replace('link = "tip"\n', "") + extra
    with pytest.raises(ReviewInputError) as e:
        proto(rule, "pre_attack")
    assert e.value.field == field and needle in e.value.message and e.value.line is not None


def test_end_to_end_pre_attack_finding_counts_days_before_the_attack() -> None:
    tips = tl(TIP, SHOTS.replace("2024-05-01", "2024-02-14"))
    rv = review_incident(tips, [proto(DAYS, "pre_attack")])
    (f,) = rv.section("pre_attack").findings  # type: ignore[union-attr]
    assert (f.tip, f.agency, f.days_before_attack) == ("t1", "FBI-PAL", 40)
    assert f"{f.end:%Y-%m-%d}" == "2024-02-14"  # open to the attack


# ------------------------------------------------------------------------------------------ casualty_deadline

CARE = """kind = "casualty_deadline"
events = ["casualty_care_started", "hemorrhage_control"]
within_s = 600
"""


def _wounded(detail: str) -> str:
    return row("2024-05-01 10:00:00", "W", "victim", "victim_wounded", detail, loc="F3")


def test_casualty_deadline_compliant_gives_nothing() -> None:
    for care in (
        _wounded("count=2 until=10:01:00 care=10:10:00"),  # care= token, counted from the window's end
        _wounded("count=2"),
    ):
        rows = [
            SHOTS,
            care,
            row("2024-05-01 10:09:00", "M", "ems", "hemorrhage_control", "casualty=W", loc="x"),
        ]
        assert review(tl(*rows), proto(CARE)).findings == []


def test_casualty_deadline_late_or_missing_gives_one() -> None:
    late = tl(
        SHOTS, _wounded("count=2"), row("2024-05-01 10:40:00", "M", "ems", "casualty_care_started", loc="F3")
    )
    (f,) = review(late, proto(CARE)).findings
    assert (f.actor, f.wounded, f.duration_s, f.open_ended) == ("W", 2, 2400.0, False)
    assert "+40 min" in f.summary
    (g,) = review(
        tl(SHOTS, _wounded("count=2"), row("2024-05-01 11:00:00", "X", "patrol", "radio")), proto(CARE)
    ).findings
    assert g.open_ended and "no row records" in g.summary


def test_casualty_deadline_skips_deaths_at_once() -> None:
    killed = row("2024-05-01 10:00:00", "K", "victim", "victim_killed", "died=at_once")
    assert (
        review(tl(SHOTS, killed, row("2024-05-01 11:00:00", "X", "patrol", "radio")), proto(CARE)).findings
        == []
    )


# ------------------------------------------------------------------------------------------ prohibited_event

REFUSE = """kind = "prohibited_event"
events = ["entry_refused"]
during = "casualties_waiting"
"""


def _refused(t: str, detail: str = "") -> str:
    return row(f"2024-05-01 {t}", "IC", "supervisor", "entry_refused", detail)


def test_refusal_after_care_gives_nothing() -> None:
    assert review(tl(SHOTS, _wounded("care=10:05:00"), _refused("10:06:00")), proto(REFUSE)).findings == []


def test_refusals_while_casualties_wait_give_one_finding_per_actor() -> None:
    rv = review(tl(SHOTS, _wounded("count=4 care=10:40:00"), _refused("10:10:00", "count=5"),
                   _refused("10:20:00"),
                   _refused("10:50:00")), proto(REFUSE))  # fmt: skip
    (f,) = rv.findings
    assert f.actor == "IC" and f.wounded == 4 and "6 time(s)" in f.summary
    assert [e.why.split(" (")[0] for e in f.evidence].count("the prohibited event") == 2
    assert any("10:50:00" in n for n in f.notes)  # the refusal after care: noted, not counted


def test_refusal_while_attacker_active() -> None:
    rule = REFUSE.replace("casualties_waiting", "attacker_active")
    stop = row("2024-05-01 10:05:00", "A", "attacker", "apprehended")
    assert review(tl(SHOTS, stop, _refused("10:06:00")), proto(rule)).findings == []
    (f,) = review(tl(SHOTS, _refused("10:01:00"), stop), proto(rule)).findings
    assert "while the attacker was active" in f.summary


# ------------------------------------------------------------------------------------------ linked sequence

SEQ = """kind = "sequence"
first = ["hemorrhage_control"]
then = ["patient_transported"]
roles = ["ems"]
first_roles = ["ems", "patrol"]
same_actor = false
link = "casualty"
"""


def test_linked_sequence() -> None:
    hc = row("2024-05-01 10:05:00", "P", "patrol", "hemorrhage_control", "casualty=W1")
    ok = row("2024-05-01 10:09:00", "M", "ems", "patient_transported", "casualty=W1")
    bad = row("2024-05-01 10:09:00", "M", "ems", "patient_transported", "casualty=W2")
    assert review(tl(SHOTS, hc, ok), proto(SEQ)).findings == []
    (f,) = review(tl(SHOTS, hc, bad), proto(SEQ)).findings
    assert "casualty=W2" in f.summary


# ------------------------------------------------------------------------------------------ command


def test_several_files_and_protocols_exit_2_naming_the_bad_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "a.csv"
    good.write_text(HEADER + SHOTS + "\n")
    bad = tmp_path / "b.csv"
    bad.write_text(HEADER + row("2024-01-05", "X", "agency", "tip_recieved", "tip=1", cert="day") + "\n")
    out = tmp_path / "rep" / "r.html"
    p = tmp_path / "p.toml"
    p.write_text('[protocol]\nname = "p"\nsection = "pre_attack"\n[[rules]]\nid = "r"\ntext = "t"\n'
                 'source = "s"\n'
                 'severity = "major"\n' + DAYS)  # fmt: skip
    assert review_command([good, bad], [p], False, out) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert f"{bad}:2: event: unknown event 'tip_recieved'" in err
    assert not out.exists() and not (tmp_path / "rep").exists()


def test_a_part_without_rows_is_an_input_error(tmp_path: Path) -> None:
    tips = tmp_path / "tips.csv"
    tips.write_text(HEADER + TIP + "\n")
    with pytest.raises(ReviewInputError) as e:
        run_review(tips, Path(__file__).parents[2] / "examples/protocols/medical_response.toml")
    assert "no rows for the medical response part" in e.value.message
