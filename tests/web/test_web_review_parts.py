"""The review tab's API in three parts (issue 15 item 3): several timelines and protocols uploaded as repeated
``timeline`` / ``protocol`` fields give the same parts and findings as ``responsesim review`` on the command
line, each part with its own swimlane chart; bad input names the client's file, line and field and leaves
nothing on disk; the limits on files hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from responsesim.cli import app as cli_app
from responsesim.web.app import create_app
from responsesim.web.review import MAX_TIMELINES
from responsesim.web.settings import WebSettings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
RECORD = EXAMPLES / "parkland" / "record.csv"
PRE_ATTACK = EXAMPLES / "parkland" / "pre_attack.csv"
PROTOCOLS = [
    EXAMPLES / "protocols" / name
    for name in ("post1999_doctrine.toml", "medical_response.toml", "threat_assessment.toml")
]

Files = list[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review-parts")


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    settings = WebSettings(store=root / "results.duckdb", data_dir=root / "data")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield c


def _files(timelines: list[tuple[str, bytes]], protocols: list[tuple[str, bytes]]) -> Files:
    """Repeated multipart fields, as the page sends them."""
    out: Files = [("timeline", (name, data, "text/csv")) for name, data in timelines]
    out += [("protocol", (name, data, "application/toml")) for name, data in protocols]
    return out


def _parkland() -> Files:
    return _files(
        [(RECORD.name, RECORD.read_bytes()), (PRE_ATTACK.name, PRE_ATTACK.read_bytes())],
        [(p.name, p.read_bytes()) for p in PROTOCOLS],
    )


def _error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert set(body) == {"error", "field", "line"}
    assert isinstance(body["error"], str) and body["error"]
    return body


def _kept(root: Path) -> set[Path]:
    folder = root / "data" / "reviews"
    return set(folder.rglob("*")) if folder.exists() else set()


def _cli_review() -> dict[str, Any]:
    args = ["review", str(RECORD), str(PRE_ATTACK)]
    for p in PROTOCOLS:
        args += ["--protocol", str(p)]
    res = CliRunner().invoke(cli_app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def _key(f: dict[str, Any]) -> tuple[Any, ...]:
    evidence = [(Path(e["file"]).name, e["line"], e["why"]) for e in f["evidence"]]
    return (f["rule_id"], f["severity"], f["actor"], f["start"], f["end"], f["summary"], f["tip"], evidence)


def test_three_parts_match_the_command_line(client: TestClient, root: Path) -> None:
    r = client.post("/api/review", files=_parkland())
    assert r.status_code == 200, r.text
    body = r.json()
    cli = _cli_review()
    assert body["parts"] == ["police", "medical", "pre_attack"] == list(cli["sections"])
    counts = {k: len(s["findings"]) for k, s in body["sections"].items()}
    assert counts == {k: len(s["findings"]) for k, s in cli["sections"].items()}
    assert counts == {"police": 3, "medical": 8, "pre_attack": 7}  # docs/review.md, "the three parts"
    for key, sec in body["sections"].items():
        want = cli["sections"][key]
        assert sec["title"] == want["title"] and sec["scale"] == want["scale"] and sec["rows"] == want["rows"]
        assert [_key(f) for f in sec["findings"]] == [_key(f) for f in want["findings"]]
        assert sec["summary"].startswith(f"{counts[key]} findings against ")
    assert body["sections"]["pre_attack"]["scale"] == "days"
    assert body["sections"]["pre_attack"]["attack_start"] == "2018-02-14 14:21:44"
    assert {f["days_before_attack"] for f in body["sections"]["pre_attack"]["findings"]} == {391, 78, 76, 40}
    # the top level stays the police part's, as for the old single-file clients
    assert [f["rule_id"] for f in body["findings"]] == [f["rule_id"] for f in cli["findings"]]
    assert body["summary"].startswith("18 findings: record.csv + pre_attack.csv against ")
    assert "initial police response 3, medical response 8, pre-attack warnings 7" in body["summary"]
    assert body["timelines"] == ["record.csv", "pre_attack.csv"]
    assert str(root) not in r.text and str(REPO) not in r.text  # client names only, never server paths
    # a chart per part, each a PNG
    urls = [s["swimlane_url"] for s in body["sections"].values()]
    assert urls[0] == body["swimlane_url"] and len(set(urls)) == 3
    for url in urls:
        png = client.get(url)
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    folder = root / "data" / "reviews" / body["review_id"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "protocol-2.toml", "protocol-3.toml", "protocol.toml", "swimlane-medical.png",
        "swimlane-pre_attack.png", "swimlane.png", "timeline-2.csv", "timeline.csv",
    ]  # fmt: skip


def test_the_order_of_the_files_does_not_change_the_review(client: TestClient) -> None:
    timelines = [(PRE_ATTACK.name, PRE_ATTACK.read_bytes()), (RECORD.name, RECORD.read_bytes())]
    protocols = [(p.name, p.read_bytes()) for p in reversed(PROTOCOLS)]
    body = client.post("/api/review", files=_files(timelines, protocols)).json()
    first = client.post("/api/review", files=_parkland()).json()
    assert body["parts"] == ["police", "medical", "pre_attack"]
    for key in body["parts"]:
        assert [_key(f) for f in body["sections"][key]["findings"]] == [
            _key(f) for f in first["sections"][key]["findings"]
        ]


def test_one_part_only_and_the_old_field_names(client: TestClient) -> None:
    """A single ``timeline`` and ``protocol`` (the old request) gives one part, its chart at the old URL."""
    files = {
        "timeline": (PRE_ATTACK.name, PRE_ATTACK.read_bytes(), "text/csv"),
        "protocol": (PROTOCOLS[2].name, PROTOCOLS[2].read_bytes(), "application/toml"),
    }
    body = client.post("/api/review", files=files).json()
    assert body["parts"] == ["pre_attack"] and len(body["findings"]) == 7
    assert body["summary"] == f"7 findings: pre_attack.csv against {body['protocol']}"
    notes = body["sections"]["pre_attack"]["notes"]
    assert any("records no attack row" in n for n in notes)  # the tips file alone: no day of the attack
    assert body["sections"]["pre_attack"]["swimlane_url"] == body["swimlane_url"]
    missing = client.get(f"/api/review/{body['review_id']}/swimlane/medical.png")
    assert _error(missing, 404)["field"] == "part"


def test_a_bad_second_timeline_is_named_with_its_line(client: TestClient, root: Path) -> None:
    before = _kept(root)
    lines = PRE_ATTACK.read_text().splitlines(keepends=True)
    cells = lines[3].split(",")
    cells[3] = "tip_recieved"  # the event column (header: time,actor,role,event,...)
    lines[3] = ",".join(cells)
    bad = "".join(lines).encode()
    protocols = [(p.name, p.read_bytes()) for p in PROTOCOLS]
    files = _files([(RECORD.name, RECORD.read_bytes()), ("tips.csv", bad)], protocols)
    err = _error(client.post("/api/review", files=files), 400)
    assert err["error"].startswith("tips.csv:4: event: ") and "tip_recieved" in err["error"], err
    assert err["line"] == 4 and err["field"] == "event"
    # two files of the same name: the message says which one
    files = _files([("t.csv", RECORD.read_bytes()), ("t.csv", bad)], protocols)
    err = _error(client.post("/api/review", files=files), 400)
    assert err["error"].startswith("t.csv (timeline 2):4: event: "), err
    # a bad third protocol
    broken = [
        *protocols[:2],
        ("mine.toml", protocols[2][1].replace(b'kind = "deadline"', b'kind = "dedline"', 1)),
    ]
    err = _error(client.post("/api/review", files=_files([(RECORD.name, RECORD.read_bytes())], broken)), 400)
    assert err["error"].startswith("mine.toml:") and err["line"] and err["field"], err
    assert _kept(root) == before  # nothing kept from refused requests


def test_limits_on_files_and_fields(client: TestClient, root: Path) -> None:
    before = _kept(root)
    record = (RECORD.name, RECORD.read_bytes())
    protocol = [(PROTOCOLS[0].name, PROTOCOLS[0].read_bytes())]
    six = _files([(f"t{k}.csv", b"x") for k in range(MAX_TIMELINES + 1)], protocol)
    err = _error(client.post("/api/review", files=six), 400)
    assert err["error"] == f"at most {MAX_TIMELINES} timeline files per review (got 6)"
    two = [*_files([record], protocol), *[("incident", (f"i{k}.toml", b"x", "text/plain")) for k in range(2)]]
    err = _error(client.post("/api/review", files=two), 400)
    assert err["error"] == "at most 1 incident file per review (got 2)"
    many = _files([(f"t{k}.csv", b"x") for k in range(12)], protocol)
    assert "Too many files" in _error(client.post("/api/review", files=many), 400)["error"]
    extra = [*_files([record], protocol), ("building", ("b.toml", b"x", "text/plain"))]
    assert _error(client.post("/api/review", files=extra), 400)["field"] == "building"
    as_text = client.post("/api/review", data={"timeline": "time,actor"}, files=_files([], protocol))
    assert _error(as_text, 400)["field"] == "timeline"
    no_protocol = _error(client.post("/api/review", files=_files([record], [])), 400)
    assert no_protocol["field"] == "protocol" and "at least one protocol" in no_protocol["error"]
    bad_name = _files([record, ("../../etc/t.csv", b"x")], protocol)
    assert _error(client.post("/api/review", files=bad_name), 400)["field"] == "timeline.filename"
    # the body cap holds for the whole upload, however it is split
    half = b"#" * (600 * 1024)
    _error(client.post("/api/review", files=_files([("a.csv", half), ("b.csv", half)], protocol)), 413)
    # an empty file input (what a browser form sends when no file is chosen) is ignored
    empty = [*_files([record], protocol), ("timeline", ("", b"", "application/octet-stream"))]
    ok = client.post("/api/review", files=empty)
    assert ok.status_code == 200 and ok.json()["timelines"] == ["record.csv"]
    folder = root / "data" / "reviews" / ok.json()["review_id"]
    assert _kept(root) - before == {folder, *folder.iterdir()}  # only the accepted review is kept
    assert sorted(p.name for p in folder.iterdir()) == ["protocol.toml", "swimlane.png", "timeline.csv"]
    for url in ("/api/review/0123456789abcdef/swimlane/medical.png", "/api/review/zz/swimlane/medical.png"):
        _error(client.get(url), 404)
    _error(client.get("/api/review/0123456789abcdef/swimlane/..%2Fx.png"), 404)


def test_counterfactual_stands_on_the_record_file(client: TestClient, root: Path) -> None:
    """With the tips file first, the counterfactual still runs on the file with the incident's rows; an
    incident error names the client's files, never a server path."""
    text = (
        (EXAMPLES / "parkland" / "incident.toml")
        .read_text()
        .replace("replications = 2000", "replications = 100")
    )
    timelines = [(PRE_ATTACK.name, PRE_ATTACK.read_bytes()), (RECORD.name, RECORD.read_bytes())]
    files = [
        *_files(timelines, [(p.name, p.read_bytes()) for p in PROTOCOLS]),
        ("incident", ("parkland.toml", text.encode(), "application/toml")),
    ]
    body = client.post("/api/review", files=files, data={"change": "SRO:entered_building@+0s"}).json()
    assert body["counterfactual_timeline"] == "record.csv" and body["counterfactual"]["draws"] == 100
    assert body["counterfactual"]["observed"]["killed"] == 17 and len(body["parts"]) == 3
    assert client.get(body["curve_url"]).content[:4] == b"\x89PNG"
    before = _kept(root)
    files[-1] = ("incident", ("mine.toml", text.replace("killed = 17", "killed = 18").encode(), "text/plain"))
    err = _error(client.post("/api/review", files=files), 400)
    assert err["error"].startswith("mine.toml:") and str(root) not in err["error"]
    assert _kept(root) == before


# ------------------------------------------------ the counterfactual on every timeline, in either order
# (issue 26 item 3: timeline.csv then record.csv gave 400 "facts.killed ... add up to 0 but the facts say 17":
# the counterfactual stood on the first file with incident rows alone)

TIMELINE = EXAMPLES / "parkland" / "timeline.csv"


def _incident(text: str | None = None) -> tuple[str, tuple[str, bytes, str]]:
    raw = text or (EXAMPLES / "parkland" / "incident.toml").read_text()
    body = raw.replace("replications = 2000", "replications = 100").encode()
    return ("incident", ("incident.toml", body, "application/toml"))


def _with_incident(timelines: list[tuple[str, bytes]], text: str | None = None) -> Files:
    return [*_files(timelines, [(PROTOCOLS[0].name, PROTOCOLS[0].read_bytes())]), _incident(text)]


def _split_record() -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    """record.csv as two files: its casualty rows (victims) and everything else."""
    head, *rows = RECORD.read_text().splitlines(keepends=True)
    victims = [r for r in rows if ",victim," in r]
    others = [r for r in rows if ",victim," not in r]
    assert len(victims) == 6 and len(others) == 30
    casualties = ("casualties.csv", (head + "".join(victims)).encode())
    return casualties, ("police.csv", (head + "".join(others)).encode())


def _numbers(cf: dict[str, Any]) -> tuple[Any, ...]:
    return (cf["observed"]["killed"], cf["observed"]["wounded"], cf["lives_saved"], cf["not_shot"],
            cf["p_officer_shot"], [c["lives_saved"] for c in cf["delay_curve"]])  # fmt: skip


def test_counterfactual_merges_every_timeline_in_either_order(client: TestClient) -> None:
    record = (RECORD.name, RECORD.read_bytes())
    timeline = (TIMELINE.name, TIMELINE.read_bytes())
    alone = client.post("/api/review", files=_with_incident([record])).json()["counterfactual"]
    assert alone["observed"]["killed"] == 17
    for order in ([timeline, record], [record, timeline]):
        r = client.post("/api/review", files=_with_incident(order))
        assert r.status_code == 200, r.text  # was 400 "facts.killed ... add up to 0" with timeline.csv first
        body = r.json()
        assert body["counterfactual_timeline"] == " + ".join(name for name, _ in order)
        # timeline.csv repeats 20 of record.csv's rows: each counts once, so the figures are record.csv's
        assert _numbers(body["counterfactual"]) == _numbers(alone)
        # the lines named are the client's file and its own line, not the merged file's
        cf = body["counterfactual"]
        lines = [("record.csv", c["line"]) for c in alone["casualty_rows"]]
        assert [(c["file"], c["line"]) for c in cf["casualty_rows"]] == lines
        assert cf["flags"] == [f.replace("line ", "record.csv line ") for f in alone["flags"]]
        assert "record.csv line 5 (9 killed" in cf["summary"]


def test_counterfactual_on_casualties_and_conduct_in_separate_files(client: TestClient) -> None:
    """The record split in two files (the casualties; the attacker and the police): merged by time, it gives
    record.csv's figures in either order; an error on the merged rows names the client's files and lines."""
    casualties, police = _split_record()
    alone = client.post("/api/review", files=_with_incident([(RECORD.name, RECORD.read_bytes())])).json()
    for order in ([casualties, police], [police, casualties]):
        body = client.post("/api/review", files=_with_incident(order)).json()
        cf = body["counterfactual"]
        assert _numbers(cf) == _numbers(alone["counterfactual"])
        assert {c["file"] for c in cf["casualty_rows"]} == {"casualties.csv"}
        if cf.get("medical"):  # the care change (incident.toml asks for it too)
            assert {r["file"] for r in cf["medical"]["rows"]} == {"casualties.csv"}
        assert cf["casualty_rows"][0]["line"] == 2  # the first row of casualties.csv
        assert cf["conduct"]["SRO"][0]["file"] == "police.csv"
        assert cf["observed"]["attack_end_file"] == "police.csv"
    text = (EXAMPLES / "parkland" / "incident.toml").read_text().replace("killed = 17", "killed = 18")
    err = _error(client.post("/api/review", files=_with_incident([police, casualties], text)), 400)
    assert err["field"] == "facts.killed" and "casualties.csv line 2" in err["error"], err
    assert "record-merged" not in err["error"] and "/" not in err["error"].split(":")[0]
