"""Bad input: ReviewInputError with file and line, exit code 2, no report written."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import HEADER, rows

from responsesim.review.command import review_command
from responsesim.review.errors import ReviewInputError
from responsesim.review.protocol import load_protocol
from responsesim.review.timeline import load_timeline, load_vocabulary

REPO = Path(__file__).resolve().parents[2]
POST1999 = REPO / "examples" / "protocols" / "post1999_doctrine.toml"

GOOD = ("10:00:00,A,attacker,shots_fired", "10:01:00,P,patrol,arrived_on_scene")


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (rows(*GOOD, "10:02:00,P,patrol,teleported"), 4, "event", "unknown event 'teleported'"),
        (rows(*GOOD).replace("2024-05-01 10:01:00", "10:01"), 3, "time", "bad time"),
        (rows(*GOOD).replace("2024-05-01 10:01:00", "2024-05-01 25:01:00"), 3, "time", "bad time"),
        (rows(*GOOD, "09:59:00,P,patrol,radio"), 4, "time", "out of order"),
        (rows(*GOOD, "10:03:00,Q,,radio"), 4, "role", "has no role"),
        (rows(*GOOD, "10:03:00,Q,wizard,radio"), 4, "role", "unknown role"),
        (rows(*GOOD, "10:03:00,P,sro,radio"), 4, "role", "'patrol' on line 3"),
        (rows(*GOOD, "10:03:00,P,patrol,radio,roughly"), 4, "certainty", "unknown certainty"),
        (rows(*GOOD) + "2024-05-01 10:04:00,P,patrol,radio\n", 4, None, "fields"),
        ("time,actor,role,event\n", 1, None, "missing column"),
        ("", 1, None, "empty"),
    ],
)
def test_timeline_errors(write, text, line, field, words):
    p = write("t.csv", text)
    with pytest.raises(ReviewInputError) as ei:
        load_timeline(p)
    e = ei.value
    assert (e.file, e.line, e.field) == (str(p), line, field)
    assert words in e.message
    assert str(e).startswith(f"{p}:{line}: ")


def test_multiline_detail_keeps_line_numbers(write):
    text = HEADER + '2024-05-01 10:00:00,A,attacker,shots_fired,x,"two\nlines",second,s\n'
    text += "2024-05-01 10:01:00,A,attacker,nonsense,x,,second,s\n"
    with pytest.raises(ReviewInputError) as ei:
        load_timeline(write("t.csv", text))
    assert ei.value.line == 4


PROTO = """[protocol]
name = "p"

[[rules]]
id = "r"
kind = "deadline"
text = "t"
source = "s"
severity = "major"
trigger = ["arrived_on_scene"]
events = ["entered_buildin"]
within_s = 60
"""


def test_rule_with_unknown_event(write):
    p = write("p.toml", PROTO)
    with pytest.raises(ReviewInputError) as ei:
        load_protocol(p)
    assert (ei.value.file, ei.value.line, ei.value.field) == (str(p), 11, "rules[0].events[0]")
    assert "unknown event 'entered_buildin'" in ei.value.message


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('severity = "major"', 'severity = "huge"', 9, "must be one of"),
        ('kind = "deadline"', 'kind = "whenever"', 6, "kind"),
        ("within_s = 60", "within_s = -1", 12, "must be at least"),
        ("within_s = 60", "within_s = 60\nbogus = 1", 13, "unknown key"),
        ('name = "p"', 'name = "p', 2, "TOML syntax error"),
    ],
)
def test_protocol_errors(write, old, new, line, words):
    text = PROTO.replace("entered_buildin", "entered_building").replace(old, new)
    p = write("p.toml", text)
    with pytest.raises(ReviewInputError) as ei:
        load_protocol(p)
    assert ei.value.line == line, str(ei.value)
    assert words in str(ei.value)


def test_unknown_state(write):
    text = PROTO.replace('kind = "deadline"', 'kind = "prohibited_while"').split("trigger")[0]
    text += 'roles = ["patrol"]\nstate = "dozing"\nmax_s = 0\n'
    with pytest.raises(ReviewInputError, match="unknown state 'dozing'"):
        load_protocol(write("p.toml", text))


def test_vocabulary_extension(write):
    tl = rows(*GOOD, "10:02:00,P,k9_unit,teleported")
    with pytest.raises(ReviewInputError):
        load_timeline(write("t.csv", tl))
    vocab = load_vocabulary(write("v.toml", '[vocabulary]\nevents = ["teleported"]\nroles = ["k9_unit"]\n'))
    got = load_timeline(write("t2.csv", tl.replace(",P,k9_unit", ",K,k9_unit")), vocab)
    assert got.rows[-1].event == "teleported"
    with pytest.raises(ReviewInputError) as ei:
        load_vocabulary(write("v2.toml", '[vocabulary]\nevents = "teleported"\n'))
    assert ei.value.line == 2


def test_protocol_vocabulary_table(write):
    text = '[vocabulary]\nevents = ["entered_buildin"]\n' + PROTO
    proto, vocab = load_protocol(write("p.toml", text))
    assert "entered_buildin" in vocab.events and proto.rules[0].id == "r"


@pytest.mark.parametrize("bad", ["timeline", "protocol"])
def test_command_exit_2_and_no_report(write, tmp_path, capsys, bad):
    tl = write("t.csv", rows(*GOOD, "09:00:00,P,patrol,radio") if bad == "timeline" else rows(*GOOD))
    proto = write("p.toml", PROTO) if bad == "protocol" else POST1999
    out = tmp_path / "rep" / "r.html"
    assert review_command(tl, proto, False, out) == 2
    err = capsys.readouterr().err
    assert (f"{tl}:4" if bad == "timeline" else f"{proto}:11") in err.replace("\n", "")
    assert not out.exists() and not out.with_suffix(".png").exists()
    assert not (tmp_path / "rep").exists() or list((tmp_path / "rep").iterdir()) == []


def test_command_missing_file(tmp_path):
    assert review_command(tmp_path / "none.csv", POST1999, True, None) == 2


@pytest.mark.parametrize("loader", [load_protocol, load_vocabulary])
def test_protocol_and_vocabulary_not_utf8(tmp_path: Path, loader) -> None:
    """Regression (fuzzing): a protocol or vocabulary file starting with 0xff raised UnicodeDecodeError."""
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\xff[protocol]\nname = 'x'\n")
    with pytest.raises(ReviewInputError) as exc:
        loader(path)
    assert exc.value.file == str(path) and "not UTF-8" in exc.value.message
    assert str(exc.value).startswith(str(path))


@pytest.mark.parametrize("loader", [load_timeline, load_protocol, load_vocabulary])
def test_nul_in_file_name_is_a_clear_error(loader) -> None:  # type: ignore[no-untyped-def]
    """A NUL in a review file's name is a ReviewInputError (was ValueError: embedded null byte)."""
    with pytest.raises(ReviewInputError) as exc:
        loader(Path("a\x00b.csv"))
    assert "NUL character" in exc.value.message and exc.value.file == repr("a\x00b.csv")


def test_both_allowances_point_at_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A deadline with both within_s and within_days names the key's line, not the rule's header."""
    from responsesim.review.errors import ReviewInputError
    from responsesim.review.protocol import parse_protocol

    text = (
        '[protocol]\nname = "x"\ndescription = "y"\n\n[[rules]]\nid = "r"\nkind = "deadline"\n'
        'severity = "major"\ntext = "t"\nsource = "s"\nnote = "n"\ntrigger = ["arrived_on_scene"]\n'
        'events = ["entered_building"]\nwithin_s = 60\nwithin_days = 2\n'
    )
    try:
        parse_protocol(text, "p.toml")
    except ReviewInputError as exc:
        assert exc.field == "rules[0].within_days" and exc.line == 15, (exc.field, exc.line)
        assert "exactly one of within_s" in exc.message
    else:
        raise AssertionError("both allowances were accepted")
