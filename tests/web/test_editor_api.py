"""The building editor's API (issue 17 item 2; ``responsesim.web.editor``): a drawn plan becomes a building
graph by the importers' rules, or a clear 400 (no exit, spaces that cannot reach one, malformed input);
building files are read back for editing; a run takes a building file's text in place of the scenario's
building and replays it. The browser side is in ``test_editor_browser.py``.
"""

from __future__ import annotations

import copy
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from responsesim.web.app import create_app
from responsesim.web.settings import WebSettings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "buildings"

# two classrooms and a hall (metres, y north), two doors on the shared walls, an exit on the hall's west wall
PLAN: dict[str, Any] = {
    "name": "Small school",
    "spaces": [
        {
            "name": "Class 101",
            "floor": 1,
            "polygon": [[0, 0], [10, 0], [10, -8], [0, -8]],
            "kind": "classroom",
        },
        {"name": "Class 102", "floor": 1, "polygon": [[10, 0], [20, 0], [20, -8], [10, -8]]},
        {"name": "Main hall", "floor": 1, "polygon": [[0, -8], [20, -8], [20, -11], [0, -11]]},
    ],
    "doors": [
        {"floor": 1, "point": [5, -8]},
        {"floor": 1, "point": [15, -8]},
        {"floor": 1, "point": [0, -9.5], "exit": True, "name": "Exit 1"},
    ],
    "stairs": [],
    "editor": {"v": 1, "note": "kept as a comment"},
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("editor")


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    settings = WebSettings(store=root / "results.duckdb", data_dir=root / "data", max_upload_bytes=200_000)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield c


def plan(**changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(PLAN)
    p.update(changes)
    return p


def error(resp: Any, status: int = 400) -> str:
    assert resp.status_code == status, resp.text
    return str(resp.json()["error"])


def test_a_good_plan_gives_the_graph_and_the_file(client: TestClient) -> None:
    resp = client.post("/api/buildings/validate", json=PLAN)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    ids = {s["id"]: s for s in body["spaces"]}
    assert set(ids) == {"class_101", "class_102", "main_hall", "exit_1"}
    assert ids["class_101"]["name"] == "Class 101" and ids["class_101"]["kind"] == "classroom"
    assert ids["main_hall"]["kind"] == "corridor"  # from the name
    assert ids["class_101"]["capacity"] == 43  # 80 m² / 1.86 m² a person
    edges = {frozenset((e["a"], e["b"])): e["length_m"] for e in body["edges"]}
    assert set(edges) == {
        frozenset(("class_101", "main_hall")),
        frozenset(("class_102", "main_hall")),
        frozenset(("main_hall", "exit_1")),
    }
    assert body["default_entry"] == "exit_1"
    assert body["counts"]["exits"] == 1 and body["warnings"] == []
    data = tomllib.loads(body["toml"])
    assert data["name"] == "Small school" and len(data["spaces"]) == 4
    assert body["toml"].splitlines()[1] == '# editor-plan: {"v":1,"note":"kept as a comment"}'


def test_the_flags_the_user_set_are_kept(client: TestClient) -> None:
    p = plan()
    p["spaces"][1].update(kind="office", capacity=7, lockable=False, hard_corner=False, door_window=True)
    body = client.post("/api/buildings/validate", json=p).json()
    room = next(s for s in body["spaces"] if s["id"] == "class_102")
    assert (room["kind"], room["capacity"], room["lockable"], room["hard_corner"], room["door_window"]) == (
        "office", 7, False, False, True,
    )  # fmt: skip


def test_not_connected_names_the_spaces(client: TestClient) -> None:
    p = plan()
    del p["doors"][1]  # Class 102 has no door
    msg = error(client.post("/api/buildings/validate", json=p))
    assert msg.startswith("the graph is not connected: Class 102 cannot reach an exit"), msg
    p["spaces"].append({"name": "Store", "floor": 1, "polygon": [[30, 0], [33, 0], [33, -3], [30, -3]]})
    msg = error(client.post("/api/buildings/validate", json=p))
    assert "Class 102, Store cannot reach an exit (join them" in msg, msg


def test_no_exit(client: TestClient) -> None:
    msg = error(client.post("/api/buildings/validate", json=plan(doors=PLAN["doors"][:2])))
    assert msg.startswith("no exit: place an exit"), msg
    # an exit drawn on a wall two rooms share (or far from any room) is not an exit
    p = plan()
    p["doors"][2]["point"] = [5, -8]
    msg = error(client.post("/api/buildings/validate", json=p))
    assert msg.startswith("no exit: no exit lies on the outer wall of exactly one room"), msg


def test_stairs_link_floors(client: TestClient) -> None:
    p = plan()
    p["spaces"].append(
        {"name": "Upper hall", "floor": 2, "polygon": [[0, -8], [20, -8], [20, -11], [0, -11]]}
    )
    msg = error(client.post("/api/buildings/validate", json=p))
    assert "Upper hall cannot reach an exit" in msg
    p["stairs"] = [{"floors": [1, 2], "point": [18, -9.5]}]
    body = client.post("/api/buildings/validate", json=p).json()
    assert frozenset(("main_hall", "upper_hall")) in {frozenset((e["a"], e["b"])) for e in body["edges"]}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"spaces": []}, "spaces", "no rooms"),
        ({"spaces": "rooms"}, "spaces", "must be a list"),
        ({"spaces": [{"name": "A", "polygon": [[0, 0], [1, 1]]}]}, "spaces[0].polygon", "3 to 500 corners"),
        (
            {"spaces": [{"name": "A", "polygon": [[0, 0], [1, 0], ["x", 1]]}]},
            "spaces[0].polygon[2][0]",
            "a number",
        ),
        ({"spaces": [{"polygon": [[0, 0], [1, 0], [1e9, 1]]}]}, "spaces[0].polygon[2][0]", "within"),
        ({"spaces": [{"polygon": [[0, 0], [1, 0], [2, 0]]}]}, "spaces[0].polygon", "no area"),
        ({"spaces": [{"polygon": [[0, 0], [4, 0], [4, 4]], "kind": "dungeon"}]}, "spaces[0].kind", "one of"),
        (
            {"spaces": [{"polygon": [[0, 0], [4, 0], [4, 4]], "floor": "1"}]},
            "spaces[0].floor",
            "floor number",
        ),
        ({"spaces": [{"polygon": [[0, 0], [4, 0], [4, 4]], "capacity": -1}]}, "spaces[0].capacity", "whole"),
        (
            {"spaces": [{"polygon": [[0, 0], [4, 0], [4, 4]], "lockable": "yes"}]},
            "spaces[0].lockable",
            "true",
        ),
        ({"doors": [{"point": [1]}]}, "doors[0].point", "a point"),
        ({"stairs": [{"floors": [], "point": [1, 1]}]}, "stairs[0].floors", "floors the stair"),
        ({"rooms": []}, "rooms", "unknown key"),
        ({"fill": 2}, "fill", "from 0 to 1"),
    ],
)
def test_malformed_plans_name_the_entry(
    client: TestClient, body: dict[str, Any], field: str, words: str
) -> None:
    resp = client.post("/api/buildings/validate", json=plan(**body))
    assert words in error(resp), resp.text
    assert resp.json()["field"] == field


def test_malformed_json_and_oversized(client: TestClient) -> None:
    resp = client.post(
        "/api/buildings/validate", content=b'{"spaces": [', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in error(resp)
    assert "JSON object" in error(client.post("/api/buildings/validate", json=[1, 2]))
    resp = client.post("/api/buildings/validate", content=b"x", headers={"Content-Type": "text/plain"})
    assert "application/json" in error(resp, 415)
    big = plan(editor={"padding": "x" * 250_000})
    assert "request body too large" in error(client.post("/api/buildings/validate", json=big), 413)
    square = {"polygon": [[0, 0], [1, 0], [1, 1]]}
    many = plan(spaces=[square] * 1001)
    assert "at most 1,000 on one plan" in error(client.post("/api/buildings/validate", json=many))
    long_name = plan(name="n" * 81)
    assert "at most 80 characters" in error(client.post("/api/buildings/validate", json=long_name))


def test_a_saved_file_reads_back(client: TestClient) -> None:
    saved = client.post("/api/buildings/validate", json=PLAN).json()["toml"]
    got = client.post("/api/buildings/read", json={"text": saved, "filename": "small.toml"}).json()
    assert got["editor"] == PLAN["editor"]  # the editor's own plan, exactly
    assert [s["name"] for s in got["spaces"]] == ["Class 101", "Class 102", "Main hall"]
    assert sum(d["exit"] for d in got["doors"]) == 1 and len(got["doors"]) == 3
    again = client.post("/api/buildings/validate", json={k: got[k] for k in ("name", "spaces", "doors")})
    assert again.status_code == 200, again.text
    assert again.json()["counts"]["edges"] == 3


@pytest.mark.parametrize(("name", "spaces", "exits"), [("tiny_school", 5, 1), ("fzk_haus", 8, 2)])
def test_imported_files_read_back_into_the_same_graph(
    client: TestClient, name: str, spaces: int, exits: int
) -> None:
    text = (EXAMPLES / name / "building.toml").read_text(encoding="utf-8")
    got = client.post("/api/buildings/read", json={"text": text, "filename": "building.toml"}).json()
    assert got["editor"] is None and got["notes"] == []
    body = client.post(
        "/api/buildings/validate", json={k: got[k] for k in ("name", "spaces", "doors", "stairs")}
    )
    assert body.status_code == 200, body.text
    assert (body.json()["counts"]["graph_spaces"], body.json()["counts"]["exits"]) == (spaces, exits)


def test_a_bad_building_file_says_where(client: TestClient, root: Path) -> None:
    resp = client.post(
        "/api/buildings/read", json={"text": 'name = "x"\nspaces = 3\n', "filename": "mine.toml"}
    )
    msg = error(resp)
    assert msg.startswith("mine.toml:2: ") and "spaces" in msg, msg
    assert "/" not in msg.split(":", 2)[2]  # no server path
    assert "plain file name" in error(
        client.post("/api/buildings/read", json={"text": "x", "filename": "../a"})
    )
    assert "must be the text of a building file" in error(
        client.post("/api/buildings/read", json={"text": 3})
    )
    assert not list((root / "data" / "buildings").glob("*")) or all(
        p.name.startswith("building-") for p in (root / "data" / "buildings").iterdir()
    )


def _wait(c: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError("the run did not finish")


def test_a_run_on_the_drawn_building_replays_it(client: TestClient, root: Path) -> None:
    toml = client.post("/api/buildings/validate", json=PLAN).json()["toml"]
    resp = client.post(
        "/api/runs", json={"scenario_id": "default", "building": toml, "form": {"replications": 30}}
    )
    assert resp.status_code == 202, resp.text
    job = _wait(client, resp.json()["job_id"])
    assert job["status"] == "done", job
    run = client.get(f"/api/runs/{job['run_id']}").json()
    assert run["meta"]["scenario_name"] == "Small school: your building, other settings from default"
    assert "three_floor_school" not in run["meta"]["scenario_toml"]
    stored = [p.name for p in (root / "data" / "buildings").iterdir()]
    assert any(f'file = "{name}"' in run["meta"]["scenario_toml"] for name in stored)
    replay = client.get(f"/api/runs/{job['run_id']}/replay?rep=0").json()
    spaces = {s["id"]: s for s in replay["building"]["spaces"]}
    assert spaces["class_101"]["polygon"] and spaces["main_hall"]["polygon"]
    # the files of runs are not needed for replays: the run stored the building's text
    for p in (root / "data" / "buildings").iterdir():
        p.unlink()
    for f in (root / "data" / "replays").rglob("*.json"):
        f.unlink()
    again = client.get(f"/api/runs/{job['run_id']}/replay?rep=1")
    assert again.status_code == 200 and again.json()["building"]["spaces"][0]["polygon"]


def test_a_run_with_a_bad_building_is_refused(client: TestClient) -> None:
    resp = client.post("/api/runs", json={"scenario_id": "default", "building": "name = 3\n"})
    msg = error(resp)
    assert msg.startswith("building.toml:1: "), msg
    p = plan()
    for sp in p["spaces"]:
        sp["occupants"] = 0
    empty = client.post("/api/buildings/validate", json=p).json()["toml"]
    resp = client.post("/api/runs", json={"scenario_id": "default", "building": empty})
    assert "the building has no occupants" in error(resp)
    assert "must be the text of a building file" in error(client.post("/api/runs", json={"building": 3}))
