"""Each rule kind on small hand-made timelines: compliant -> no finding; each violation -> one finding."""

from __future__ import annotations

from review_helpers import rows

from responsesim.review.findings import review
from responsesim.review.protocol import parse_protocol
from responsesim.review.timeline import parse_timeline

STATES = """
[protocol]
name = "t"
[states.holding]
enter = ["took_cover", "held_position", "set_perimeter"]
exit = ["entered_building", "moved_toward_threat", "engaged_attacker"]
"""

DEADLINE = (
    STATES
    + """
[[rules]]
id = "enter"
kind = "deadline"
text = "go in"
source = "s"
severity = "critical"
trigger = ["arrived_on_scene"]
trigger_roles = ["patrol", "sro"]
match = "each_actor"
while_attacker_active = true
events = ["entered_building", "moved_toward_threat"]
by = "trigger_actor"
within_s = 60
"""
)

PROHIBITED = (
    STATES
    + """
[[rules]]
id = "no-holding"
kind = "prohibited_while"
text = "never a barricade"
source = "s"
severity = "critical"
roles = ["patrol", "sro"]
state = "holding"
max_s = 30
"""
)

SEQUENCE = (
    STATES
    + """
[[rules]]
id = "radio-first"
kind = "sequence"
text = "radio, then go in"
source = "s"
severity = "minor"
first = ["radio"]
then = ["entered_building"]
roles = ["patrol"]
"""
)

ATTRIBUTE = (
    STATES
    + """
[[rules]]
id = "rifle"
kind = "attribute"
text = "carry the rifle"
source = "s"
severity = "info"
events = ["entered_building"]
roles = ["patrol"]
column = "detail"
pattern = "rifle"
"""
)


def run(proto: str, tl: str):
    p, v = parse_protocol(proto, "p.toml")
    return review(parse_timeline(tl, "t.csv", v), p)


ATTACK = ("10:00:00,A,attacker,shots_fired", "10:10:00,A,attacker,apprehended")


def _tl(*officer: str) -> str:
    return rows(*sorted((ATTACK[0], *officer, ATTACK[1])))


def test_deadline_compliant():
    tl = _tl("10:01:00,P1,patrol,arrived_on_scene", "10:01:40,P1,patrol,entered_building")
    assert run(DEADLINE, tl).findings == []


def test_deadline_late_and_never():
    late = _tl("10:01:00,P1,patrol,arrived_on_scene", "10:03:00,P1,patrol,entered_building")
    (f,) = run(DEADLINE, late).findings
    assert (f.rule_id, f.actor, f.duration_s, f.open_ended) == ("enter", "P1", 120.0, False)
    assert f.deadline is not None and f.deadline.strftime("%H:%M:%S") == "10:02:00"
    never = _tl("10:01:00,P1,patrol,arrived_on_scene", "10:02:00,P1,patrol,took_cover")
    (g,) = run(DEADLINE, never).findings
    assert g.open_ended and g.end.strftime("%H:%M:%S") == "10:10:00"
    assert [e.line for e in g.evidence][:2] == [2, 3]


def test_deadline_trigger_outside_active_window_ignored():
    tl = rows(*ATTACK, "10:20:00,P1,patrol,arrived_on_scene")
    assert run(DEADLINE, tl).findings == []


def test_prohibited_while_compliant_and_violation():
    ok = _tl("10:01:00,P1,patrol,took_cover", "10:01:20,P1,patrol,entered_building")
    assert run(PROHIBITED, ok).findings == []
    after = rows(*ATTACK, "10:20:00,P1,patrol,took_cover")  # holding after the attack ended: fine
    assert run(PROHIBITED, after).findings == []
    bad = _tl("10:01:00,P1,patrol,took_cover,approximate", "10:05:00,P1,patrol,held_position")
    (f,) = run(PROHIBITED, bad).findings
    assert f.actor == "P1" and f.duration_s == 540.0  # 10:01 to the apprehension at 10:10
    assert f.state_end is None and f.state_last_recorded is not None
    assert f.approximate and f.to_json()["approximate_lines"] == [3]


def test_prohibited_while_counts_shots_meanwhile():
    tl = _tl(
        "10:01:00,P1,patrol,took_cover",
        "10:02:00,A,attacker,shots_fired",
        "10:04:00,P1,patrol,entered_building",
    )
    (f,) = run(PROHIBITED, tl).findings
    assert f.duration_s == 180.0 and f.shots_fired == 1 and f.killed is None


def test_casualties_counted_when_recorded():
    tl = _tl(
        "10:01:00,P1,patrol,took_cover",
        "10:02:00,V,victim,victim_killed",
        "10:04:00,P1,patrol,entered_building",
    )
    (f,) = run(PROHIBITED, tl).findings
    assert (f.killed, f.wounded) == (1, 0)


def test_sequence_compliant_and_violation():
    ok = _tl("10:01:00,P1,patrol,radio", "10:02:00,P1,patrol,entered_building")
    assert run(SEQUENCE, ok).findings == []
    bad = _tl("10:02:00,P1,patrol,entered_building", "10:03:00,P1,patrol,radio")
    (f,) = run(SEQUENCE, bad).findings
    assert f.actor == "P1" and f.start.strftime("%H:%M:%S") == "10:02:00"


def test_attribute_compliant_and_violation():
    p, v = parse_protocol(ATTRIBUTE, "p.toml")
    text = rows(*ATTACK).replace("here,,", "here,,")
    base = text.rstrip("\n").split("\n")
    ok = [*base[:2], "2024-05-01 10:01:00,P1,patrol,entered_building,B,with rifle,second,s", base[2]]
    assert review(parse_timeline("\n".join(ok) + "\n", "t.csv", v), p).findings == []
    bad = [*base[:2], "2024-05-01 10:01:00,P1,patrol,entered_building,B,handgun only,second,s", base[2]]
    (f,) = review(parse_timeline("\n".join(bad) + "\n", "t.csv", v), p).findings
    assert f.rule_id == "rifle" and f.actor == "P1"


def test_casualty_count_in_detail():
    p, v = parse_protocol(PROHIBITED, "p.toml")
    lines = (
        _tl("10:01:00,P1,patrol,took_cover", "10:04:00,P1,patrol,entered_building").rstrip("\n").split("\n")
    )
    lines.insert(3, "2024-05-01 10:02:00,V,victim,victim_killed,room 3,count=3 in room 3,approximate,s")
    lines.insert(4, "2024-05-01 10:02:30,W,victim,victim_wounded,room 3,,second,s")
    (f,) = review(parse_timeline("\n".join(lines) + "\n", "t.csv", v), p).findings
    assert (f.killed, f.wounded) == (3, 1) and f.approximate
