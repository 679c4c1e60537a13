"""The web API (``responsesim.web``): every endpoint, every class of bad request, runs end to end.

Most tests use FastAPI's TestClient on a temporary store; the run-via-SSE, restart and queue tests use a
real uvicorn server on a free loopback port (``conftest.py``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats

import responsesim.api
import responsesim.web.replay
from responsesim.engine.run import run_chunk
from responsesim.scenario.load import load_scenario, loads
from responsesim.scenario.schema import DoctrineKind
from responsesim.store import ResultStore
from responsesim.web.__main__ import main as web_main
from responsesim.web.app import create_app
from responsesim.web.comparison import welch_diff
from responsesim.web.forms import apply_form, scenario_form, spec_to_toml
from responsesim.web.replay import _Recorder, replay
from responsesim.web.serve import RemoteRefusedError, check_host
from responsesim.web.settings import WebSettings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
RUN_ID = r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$"
SMALL = 20  # replications of the runs made here


def _settings(root: Path, **changes: Any) -> WebSettings:
    return WebSettings(store=root / "results.duckdb", data_dir=root / "data", **changes)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(root, max_replay_frames=50)), base_url="http://127.0.0.1") as c:
        yield c


def _wait(c: TestClient | httpx.Client, job_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if body["status"] in ("done", "error", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def _run(c: TestClient | httpx.Client, **body: Any) -> str:
    """Start a run, wait for it, return its run id."""
    r = c.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    job = _wait(c, r.json()["job_id"])
    assert job["status"] == "done", job
    run_id: str = job["run_id"]
    return run_id


@pytest.fixture(scope="module")
def run_a(client: TestClient) -> str:
    return _run(client, scenario_id="default", form={"replications": SMALL, "seed": 7}, label="baseline")


@pytest.fixture(scope="module")
def run_b(client: TestClient) -> str:
    form = {"replications": SMALL, "seed": 7, "doctrine": "perimeter", "sro_present": False}
    return _run(client, scenario_id="default", form=form, label="perimeter, no SRO")


def _error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert set(body) == {"error", "field", "line"}
    assert isinstance(body["error"], str) and body["error"]
    return body


# ---------------------------------------------------------------------------------------------- basics


def test_health_limits_and_page(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"ok": True, "version": responsesim.api.code_version()}
    assert client.get("/api/limits").json() == {
        "max_replications": 20000,
        "max_upload_bytes": 1 << 20,
        "max_concurrent_jobs": 1,
        "max_queued_jobs": 8,
        "max_review_timelines": 5,
        "max_review_protocols": 5,
    }
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    assert client.get("/static/index.html").status_code == 200
    for bad in ("/static/../app.py", "/static/%2e%2e/app.py", "/api/nothing"):
        assert client.get(bad).status_code == 404


def test_scenarios_list_and_detail(client: TestClient) -> None:
    listed = client.get("/api/scenarios").json()
    ids = [s["id"] for s in listed]
    assert ids[0] == "default"
    assert set(ids[1:]) == {p.stem for p in EXAMPLES.glob("*.toml")}
    for sid in ids:
        body = client.get(f"/api/scenarios/{sid}").json()
        sc = load_scenario(None if sid == "default" else EXAMPLES / f"{sid}.toml")
        assert body["id"] == sid and body["name"] == sc.spec.name and body["toml"] == sc.text
        assert body["form"] == scenario_form(sc)
    _error(client.get("/api/scenarios/nope"), 404)
    _error(client.get("/api/scenarios/..%2f..%2fetc"), 404)


def test_doctrines_are_the_schemas(client: TestClient) -> None:
    body = client.get("/api/doctrines").json()
    assert [d["kind"] for d in body] == list(DoctrineKind.__args__)  # type: ignore[attr-defined]
    needs = {d["kind"] for d in body if d["needs_threshold"]}
    assert needs == {"backup_eta_rule", "wait_for_n", "hesitate"}


# ---------------------------------------------------------------------------------------------- validate


def test_validate_ok_with_extrapolation_warning(client: TestClient) -> None:
    text = "name = 'fast patrol'\nreplications = 50\n[responders.patrol]\nfirst_median_s = 20\n"
    body = client.post("/api/validate", json={"toml": text, "filename": "fast.toml"}).json()
    assert body["ok"] is True and body["name"] == "fast patrol"
    assert body["form"]["patrol_first_median_s"] == 20.0 and body["form"]["replications"] == 50
    assert any("first_median_s" in w for w in body["warnings"])


def test_validate_malformed_toml_names_file_and_line(client: TestClient) -> None:
    text = "name = 'x'\n[alerting]\nlockdown_at_s = = 3\n"
    body = _error(client.post("/api/validate", json={"toml": text, "filename": "broken.toml"}), 400)
    assert body["line"] == 3 and body["error"].startswith("broken.toml:3:")


def test_validate_bad_field_names_field_and_line(client: TestClient) -> None:
    text = "name = 'x'\n\n[responders.patrol]\nfirst_median_s = -5\n"
    body = _error(client.post("/api/validate", json={"toml": text, "filename": "neg.toml"}), 400)
    assert body["field"] == "responders.patrol.first_median_s" and body["line"] == 4
    assert body["error"].startswith("neg.toml:4: responders.patrol.first_median_s:")
    unknown = _error(client.post("/api/validate", json={"toml": "colour = 1\n"}), 400)
    assert unknown["field"] == "colour" and "unknown key" in unknown["error"]


@pytest.mark.parametrize(
    "name", ["../evil.toml", "a/b.toml", "..\\x.toml", "x\x00.toml", "..", "C:evil.toml", "x" * 300]
)
def test_path_in_filename_is_refused(client: TestClient, name: str) -> None:
    body = _error(client.post("/api/validate", json={"toml": "name = 'x'\n", "filename": name}), 400)
    assert body["field"] == "filename"
    r = client.post("/api/runs", json={"toml": "name = 'x'\n", "filename": name})
    assert _error(r, 400)["field"] == "filename"


def test_building_file_in_upload_is_never_read(client: TestClient, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{ not json: this must never be read", encoding="utf-8")
    text = f"name = 'x'\n[building]\nfile = {json.dumps(str(secret))}\n"
    body = _error(client.post("/api/validate", json={"toml": text, "filename": "b.toml"}), 400)
    assert body["field"] == "building.file" and body["line"] == 3
    assert "not json" not in body["error"]


def test_bad_bodies(client: TestClient) -> None:
    _error(
        client.post("/api/validate", content=b"{not json", headers={"content-type": "application/json"}), 400
    )
    _error(client.post("/api/validate", json=[1, 2]), 400)
    _error(client.post("/api/validate", content=b"", headers={"content-type": "application/json"}), 400)
    _error(client.post("/api/validate", content=b'{"toml": ""}'), 415)  # no content type
    plain = {"content-type": "text/plain"}
    _error(client.post("/api/runs", content=b'{"scenario_id": "default"}', headers=plain), 415)
    _error(client.post("/api/validate", json={"toml": 5}), 400)
    _error(client.post("/api/runs", json={"scenario_id": "default", "toml": "name='x'"}), 400)
    _error(client.post("/api/runs", json={"scenario_id": "no-such-scenario"}), 400)
    _error(client.post("/api/runs", json={"scenario_id": "default", "colour": 1}), 400)
    _error(client.post("/api/runs", json={"scenario_id": "default", "label": "x" * 201}), 400)
    form = _error(client.post("/api/runs", json={"form": {"doctrine": "charge"}}), 400)
    assert form["field"] == "doctrine"
    form = _error(client.post("/api/runs", json={"form": {"patrol_first_median_s": "soon"}}), 400)
    assert form["field"] == "patrol_first_median_s"
    form = _error(client.post("/api/runs", json={"form": {"speed": 3}}), 400)
    assert form["field"] == "speed"
    form = _error(
        client.post("/api/runs", json={"form": {"doctrine": "wait_for_n", "threshold_s": 2.5}}), 400
    )
    assert form["field"] == "threshold_s"


def test_huge_upload_is_refused_with_413(client: TestClient) -> None:
    big = "# " + "x" * (1 << 20) + "\n"
    body = _error(client.post("/api/validate", json={"toml": big}), 413)
    assert str(1 << 20) in body["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"toml": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    _error(client.post("/api/validate", content=chunks(), headers={"content-type": "application/json"}), 413)


@pytest.mark.parametrize("n", [10**9, 20001, 0, -3])
def test_absurd_replications_422_with_the_limit(client: TestClient, n: int) -> None:
    body = _error(client.post("/api/runs", json={"scenario_id": "default", "form": {"replications": n}}), 422)
    assert "20000" in body["error"] and body["field"] == "replications"


def test_scenario_asking_too_many_replications_422(client: TestClient) -> None:
    r = client.post("/api/runs", json={"toml": "replications = 1000000\n", "filename": "big.toml"})
    assert "20000" in _error(r, 422)["error"]


def test_unknown_and_malformed_ids_404(client: TestClient) -> None:
    for rid in ("20200101-000000-deadbeef", "nope", "20200101-000000-DEADBEEF", "..%2F..%2Fetc"):
        _error(client.get(f"/api/runs/{rid}"), 404)
        _error(client.get(f"/api/runs/{rid}/plots/deaths.png"), 404)
        _error(client.get(f"/api/runs/{rid}/replay"), 404)
    _error(client.get("/api/compare", params={"a": "x", "b": "y"}), 404)
    for jid in ("000000-000000000000", "nope"):
        _error(client.get(f"/api/jobs/{jid}"), 404)
        _error(client.post(f"/api/jobs/{jid}/cancel"), 404)
        _error(client.get(f"/api/jobs/{jid}/events"), 404)
    _error(client.get("/api/review/0123456789abcdef/swimlane.png"), 404)
    _error(client.get("/api/review/..%2Fx/swimlane.png"), 404)


# ---------------------------------------------------------------------------------------------- runs


def test_run_summary_plots_and_listing(client: TestClient, run_a: str, root: Path) -> None:
    import re

    assert re.match(RUN_ID, run_a)
    body = client.get(f"/api/runs/{run_a}").json()
    with ResultStore(root / "results.duckdb") as store:
        stored = store.load_summary(run_a)
        outcomes = store.load_outcomes(run_a)
    assert body["summary"] == stored and body["summary"]["label"] == "baseline"
    assert body["meta"]["replications"] == SMALL and body["meta"]["seed"] == 7
    deaths = body["summary"]["metrics"]["deaths"]
    fired = outcomes["first_shot_s"].notna()  # figures are over incidents: attempts with a shot fired
    assert deaths["mean"] == pytest.approx(outcomes["deaths"][fired].mean())
    assert deaths["ci_low"] <= deaths["mean"] <= deaths["ci_high"]
    assert "warnings" in body["summary"]
    listed = {r["run_id"]: r for r in client.get("/api/runs").json()}
    assert listed[run_a]["label"] == "baseline" and listed[run_a]["deaths_mean"] == deaths["mean"]
    row = listed[run_a]
    assert (row["deaths_ci_low"], row["deaths_ci_high"]) == (deaths["ci_low"], deaths["ci_high"])
    assert listed[run_a]["replications"] == SMALL
    assert [p["url"] for p in body["plots"]] == [
        f"/api/runs/{run_a}/plots/{p['metric']}.png" for p in body["plots"]
    ]
    for plot in body["plots"][:1] + [p for p in body["plots"] if p["metric"] == "first_entry_s"]:
        png = client.get(plot["url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    _error(client.get(f"/api/runs/{run_a}/plots/colour.png"), 404)


def test_run_carries_extrapolation_warnings(client: TestClient) -> None:
    form = {"replications": 5, "patrol_first_median_s": 20}
    run_id = _run(client, scenario_id="default", form=form)
    warnings = client.get(f"/api/runs/{run_id}").json()["summary"]["warnings"]
    assert any("first_median_s = 20" in w for w in warnings)


def test_form_edits_are_what_ran(client: TestClient, run_b: str) -> None:
    meta = client.get(f"/api/runs/{run_b}").json()["meta"]
    spec = loads(meta["scenario_toml"]).spec
    assert spec.doctrine.kind == "perimeter" and spec.responders.sro.present is False
    assert spec.seed == 7 and spec.replications == SMALL


def test_runs_newest_first(client: TestClient, run_a: str, run_b: str) -> None:
    listed = client.get("/api/runs").json()
    assert {run_a, run_b} <= {r["run_id"] for r in listed}
    keys = [(r["created_at"], r["run_id"]) for r in listed]
    assert keys == sorted(keys, reverse=True)


def test_replay_consistent_with_the_stored_replication(client: TestClient, run_a: str, root: Path) -> None:
    with ResultStore(root / "results.duckdb") as store:
        outcomes = store.load_outcomes(run_a).set_index("rep")
    detail = client.get(f"/api/runs/{run_a}").json()
    sc = loads(detail["meta"]["scenario_toml"])
    n_spaces = len(sc.building.space_ids)
    lockable = sc.building.lockable
    # the replication with the most deaths (so the replay has shots, casualties and events)
    rep = int(outcomes["killed"].idxmax())
    body = client.get(f"/api/runs/{run_a}/replay", params={"rep": rep}).json()
    ticks = body["ticks"]
    n = body["n_ticks"]
    assert body["rep"] == rep and body["dt_s"] == 1.0 and 2 <= n <= 50  # thinned to max_replay_frames
    assert len(body["building"]["spaces"]) == n_spaces and body["building"]["floors"] == [1, 2, 3]
    for key in ("t", "attacker_space", "attack_active", "locked", "killed", "wounded"):
        assert len(ticks[key]) == n, key
    t = np.array(ticks["t"])
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    killed = np.array(ticks["killed"])
    assert np.all(np.diff(killed) >= 0)
    total = ticks["occupants"]["total"]
    assert total == int(sc.building.occupants.sum())
    by_space = np.array(ticks["occupants"]["by_space"])
    assert by_space.shape == (n, n_spaces) and (by_space >= 0).all()
    people = (
        by_space.sum(axis=1) + np.array(ticks["occupants"]["evacuated"]) + killed + np.array(ticks["wounded"])
    )
    assert np.all(people == total)
    locked = np.array(ticks["locked"])
    assert not locked[:, ~lockable].any()
    att = np.array(ticks["attacker_space"])
    assert ((att >= -1) & (att < n_spaces)).all() and att[-1] == -1 and not ticks["attack_active"][-1]
    units = len(ticks["officers"]["role"])
    assert np.array(ticks["officers"]["space"]).shape == (n, units)
    assert {s for row in ticks["officers"]["status"] for s in row} <= {
        "not_arrived",
        "on_scene",
        "inside",
        "down",
    }
    # the same replication as in the stored run
    row = outcomes.loc[rep]
    assert killed[-1] == row["killed"] and ticks["occupants"]["evacuated"][-1] == row["evacuated"]
    assert ticks["wounded"][-1] == row["wounded"] + row["died_awaiting_care"]
    assert body["events"][-1]["text"].startswith("attack ends")
    if row["killed"] > 0:
        first = next(e for e in body["events"] if "first shot" in e["text"])
        # the event is stamped at the end of the tick in which the shot was fired
        assert body["t_first_shot_s"] == row["first_shot_s"]
        assert first["t"] - body["dt_s"] <= body["t_first_shot_s"] <= first["t"]
    # reopening the replay reads the cached arrays
    again = client.get(f"/api/runs/{run_a}/replay", params={"rep": rep}).json()
    assert again == body
    for bad in (-1, SMALL, 10**6):
        assert _error(client.get(f"/api/runs/{run_a}/replay", params={"rep": bad}), 422)["field"] == "rep"
    _error(client.get(f"/api/runs/{run_a}/replay", params={"rep": "x"}), 422)


def test_replay_memory_and_frames_are_bounded() -> None:
    """A long replication with a tiny frame budget: few frames, evenly spread, first and last tick kept,
    the accounting still exact, and the event list capped (the end of the attack always listed)."""
    sc = load_scenario(None)
    sc = apply_form(sc, {"doctrine": "no_entry", "sro_present": False}, 20000)
    full = replay(sc.params, 3, max_frames=100000)
    small = replay(sc.params, 3, max_frames=7)
    n = full["n_ticks"]
    assert n == full["n_ticks_simulated"] and n > 50
    t = np.array(small["ticks"]["t"])
    assert small["n_ticks"] == len(t) <= 7 and t[0] == 0 and t[-1] == full["ticks"]["t"][-1]
    assert np.all(np.diff(t) > 0) and np.diff(t).max() <= 3 * t[-1] / 6
    tk = small["ticks"]
    people = np.array(tk["occupants"]["by_space"]).sum(axis=1) + np.array(tk["occupants"]["evacuated"])
    assert np.all(people + np.array(tk["killed"]) + np.array(tk["wounded"]) == tk["occupants"]["total"])
    assert tk["killed"][-1] == full["ticks"]["killed"][-1]
    assert small["events"] == full["events"]
    rec = _Recorder(sc.params, max_frames=4, max_events=3)
    run_chunk(sc.params, np.array([3]), observer=rec)
    assert len(rec.frames) < 8 and rec.finish()[-1][0] == t[-1]
    assert len(rec.events) == 4 and rec.events[-1]["text"].startswith("attack ends")


def test_compare_paired_and_welch(client: TestClient, run_a: str, run_b: str) -> None:
    body = client.get("/api/compare", params={"a": run_a, "b": run_b}).json()
    assert body["a"]["run_id"] == run_a and body["b"]["label"] == "perimeter, no SRO"
    rows = {r["metric"]: r for r in body["rows"]}
    assert {"deaths", "killed", "attack_duration_s", "ended_before_police"} <= set(rows)
    for r in rows.values():
        assert r["method"] == "paired"  # same seed and replication count
    d = rows["deaths"]
    assert d["diff"] == pytest.approx(d["b_mean"] - d["a_mean"])
    assert d["diff_ci"][0] <= d["diff"] <= d["diff_ci"][1]
    assert d["a_ci"][0] <= d["a_mean"] <= d["a_ci"][1]
    self_cmp = {
        r["metric"]: r for r in client.get("/api/compare", params={"a": run_a, "b": run_a}).json()["rows"]
    }
    assert self_cmp["deaths"]["diff"] == 0 and self_cmp["deaths"]["diff_ci"] == [0, 0]
    other = _run(client, scenario_id="default", form={"replications": SMALL - 5, "seed": 7})
    welch = client.get("/api/compare", params={"a": run_a, "b": other}).json()["rows"]
    assert {r["method"] for r in welch} == {"welch"}


def test_welch_interval_matches_scipy_and_covers() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(0.0, 1.0, 40), rng.normal(0.5, 3.0, 25)
    diff, lo, hi = welch_diff(b, a)
    ref = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean()) and (lo, hi) == pytest.approx((ref.low, ref.high))
    # coverage of the true difference (0.7) over independent samples: 95% within a binomial 99.9% band
    trials = 2000
    hits = 0
    for _ in range(trials):
        x, y = rng.normal(1.0, 1.0, 12), rng.exponential(1.7, 30)
        _, lo, hi = welch_diff(y, x)
        hits += lo <= 0.7 <= hi
    band = stats.binom(trials, 0.95).interval(0.999)
    # Welch with a skewed sample is slightly conservative/liberal; allow its known small deviation (1%)
    assert band[0] - 0.01 * trials <= hits <= band[1] + 0.01 * trials


# ---------------------------------------------------------------------------------------------- jobs


def test_queue_full_429_and_cancel(start_live_server: Any) -> None:
    srv = start_live_server(max_queued_jobs=1, chunk_size=50)
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        long = {"scenario_id": "default", "form": {"replications": 20000}}
        first = c.post("/api/runs", json=long)
        second = c.post("/api/runs", json=long)
        assert first.status_code == 202 and second.status_code == 202
        third = c.post("/api/runs", json=long)
        body = _error(third, 429)
        assert int(third.headers["Retry-After"]) > 0 and "max_queued_jobs" in body["error"]
        j1, j2 = first.json()["job_id"], second.json()["job_id"]
        deadline = time.monotonic() + 30
        while c.get(f"/api/jobs/{j1}").json()["done"] == 0:  # wait until the first has made progress
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.get(f"/api/jobs/{j2}").json()["status"] == "queued"
        assert c.post(f"/api/jobs/{j2}/cancel").json()["status"] == "cancelled"
        c.post(f"/api/jobs/{j1}/cancel")
        end = _wait(c, j1, timeout_s=30)
        assert end["status"] == "cancelled" and 0 < end["done"] < end["total"] and end["run_id"] is None
        events = c.get(f"/api/jobs/{j1}/events").text
        assert events.rstrip().endswith("event: cancelled\ndata: {}")
        assert c.get("/api/runs").json() == []  # a cancelled run is not stored
        # the queue has room again
        assert (
            c.post("/api/runs", json={"scenario_id": "default", "form": {"replications": 2}}).status_code
            == 202
        )


def _sse(resp: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    name = None
    for line in resp.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name is not None:
            events.append((name, json.loads(line.removeprefix("data: "))))
            name = None
    return events


def test_run_via_sse_on_a_real_server_and_reopen_after_restart(
    start_live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"simulate": 0, "replay_reps": []}
    start = responsesim.api.start
    run_chunk = responsesim.web.replay.run_chunk

    def counting_simulate(*args: Any, **kwargs: Any) -> Any:
        calls["simulate"] += 1
        return start(*args, **kwargs)

    def counting_run_chunk(params: Any, reps: Any, **kwargs: Any) -> Any:
        calls["replay_reps"].append(len(reps))
        return run_chunk(params, reps, **kwargs)

    monkeypatch.setattr(responsesim.api, "start", counting_simulate)
    monkeypatch.setattr(responsesim.web.replay, "run_chunk", counting_run_chunk)
    srv = start_live_server(chunk_size=5)
    with httpx.Client(base_url=srv.url, timeout=httpx.Timeout(60)) as c:
        r = c.post(
            "/api/runs", json={"scenario_id": "default", "form": {"replications": SMALL}, "label": "sse"}
        )
        assert r.status_code == 202 and r.json()["replications"] == SMALL
        with c.stream("GET", f"/api/jobs/{r.json()['job_id']}/events") as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = _sse(resp)
        names = [e[0] for e in events]
        assert names[-1] == "done" and set(names[:-1]) == {"progress"}
        done = [e[1]["done"] for e in events if e[0] == "progress"]
        assert (
            done == sorted(done)
            and done[-1] == SMALL
            and all(e[1].get("total", SMALL) == SMALL for e in events)
        )
        run_id = events[-1][1]["run_id"]
        listed = c.get("/api/runs").json()
        assert [x["run_id"] for x in listed] == [run_id] and listed[0]["label"] == "sse"
        summary = c.get(f"/api/runs/{run_id}").json()["summary"]
        c.get(f"/api/runs/{run_id}/plots/deaths.png").raise_for_status()
        c.get("/api/compare", params={"a": run_id, "b": run_id}).raise_for_status()
        c.get(f"/api/runs/{run_id}/replay", params={"rep": 1}).raise_for_status()
    assert calls["simulate"] == 1  # reopening, plots, compare and replay never re-run the run
    assert calls["replay_reps"] == [1]  # the replay simulates one replication
    srv.stop()
    # a new server on the same store lists and reopens the run without running anything
    again = start_live_server(store=srv.settings.store, data_dir=srv.settings.data_dir)
    with httpx.Client(base_url=again.url, timeout=30) as c:
        assert [x["run_id"] for x in c.get("/api/runs").json()] == [run_id]
        assert c.get(f"/api/runs/{run_id}").json()["summary"] == summary
    assert calls["simulate"] == 1


def test_failed_and_finished_jobs_report_status(client: TestClient) -> None:
    r = client.post("/api/runs", json={"scenario_id": "default", "form": {"replications": 3}})
    job = _wait(client, r.json()["job_id"])
    assert job["status"] == "done" and job["done"] == job["total"] == 3
    # cancelling a finished job changes nothing
    assert client.post(f"/api/jobs/{job['job_id']}/cancel").json()["status"] == "done"


# ---------------------------------------------------------------------------------------------- review


def _review_files(timeline: bytes, protocol: bytes, tname: str = "timeline.csv") -> dict[str, Any]:
    return {
        "timeline": (tname, timeline, "text/csv"),
        "protocol": ("protocol.toml", protocol, "application/toml"),
    }


def test_review_findings_and_swimlane(client: TestClient, root: Path) -> None:
    timeline = (EXAMPLES / "parkland" / "timeline.csv").read_bytes()
    protocol = (EXAMPLES / "protocols" / "post1999_doctrine.toml").read_bytes()
    body = client.post("/api/review", files=_review_files(timeline, protocol)).json()
    assert body["findings"] and all({"rule_id", "severity", "actor"} <= set(f) for f in body["findings"])
    assert body["summary"].startswith(f"{len(body['findings'])} finding")
    png = client.get(body["swimlane_url"])
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    folder = root / "data" / "reviews" / body["review_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["protocol.toml", "swimlane.png", "timeline.csv"]


def test_review_bad_inputs(client: TestClient) -> None:
    protocol = (EXAMPLES / "protocols" / "post1999_doctrine.toml").read_bytes()
    timeline = (EXAMPLES / "parkland" / "timeline.csv").read_bytes()
    bad_csv = _error(
        client.post("/api/review", files=_review_files(b"time,actor\n1,2\n", protocol, "t.csv")), 400
    )
    assert bad_csv["error"].startswith("t.csv:1:") and bad_csv["line"] == 1
    bad_toml = _error(client.post("/api/review", files=_review_files(timeline, b"name = \n")), 400)
    assert bad_toml["error"].startswith("protocol.toml:1:")
    path = _error(client.post("/api/review", files=_review_files(timeline, protocol, "../../t.csv")), 400)
    assert path["field"] == "timeline.filename"
    _error(client.post("/api/review", files={"timeline": ("t.csv", timeline)}), 400)
    _error(client.post("/api/review", json={"timeline": "x"}), 400)
    _error(client.post("/api/review", files=_review_files(b"\xff\xfe\x00bad", protocol)), 400)
    big = b"x" * (1 << 20)
    _error(client.post("/api/review", files=_review_files(big, protocol)), 413)


def test_review_with_incident_gives_the_counterfactual(client: TestClient, root: Path) -> None:
    """The incident's own timeline key is ignored: the uploaded record is used; the curve is kept."""
    files = _review_files(
        (EXAMPLES / "parkland" / "record.csv").read_bytes(),
        (EXAMPLES / "protocols" / "post1999_doctrine.toml").read_bytes(),
    )
    text = (EXAMPLES / "parkland" / "incident.toml").read_text()
    files["incident"] = ("parkland.toml", text.replace("replications = 2000", "replications = 200").encode())
    body = client.post("/api/review", files=files, data={"change": "SRO:entered_building@+0s"}).json()
    cf = body["counterfactual"]
    assert cf["counterfactual"] == ["SRO:entered_building@+0s"] and cf["draws"] == 200
    assert cf["observed"]["killed"] == 17 and 0 <= cf["lives_saved"]["low"] <= cf["lives_saved"]["high"]
    assert "does not judge culpability" in cf["summary"]
    png = client.get(body["curve_url"])
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    folder = root / "data" / "reviews" / body["review_id"]
    assert {"incident.toml", "curve.png"} <= {p.name for p in folder.iterdir()}


def test_review_incident_bad_input_names_the_client_file(client: TestClient, root: Path) -> None:
    files = _review_files(
        (EXAMPLES / "parkland" / "record.csv").read_bytes(),
        (EXAMPLES / "protocols" / "post1999_doctrine.toml").read_bytes(),
    )
    before = set((root / "data" / "reviews").glob("*")) if (root / "data" / "reviews").exists() else set()
    text = (EXAMPLES / "parkland" / "incident.toml").read_text()
    files["incident"] = ("mine.toml", text.replace("killed = 17", "killed = 18").encode())
    err = _error(client.post("/api/review", files=files), 400)
    assert err["error"].startswith("mine.toml:") and err["field"] == "facts.killed"
    assert str(root) not in err["error"]
    files["incident"] = ("mine.toml", text.encode())
    err = _error(client.post("/api/review", files=files, data={"change": "NOBODY:entered_building@+5s"}), 400)
    assert "NOBODY" in err["error"] and str(root) not in err["error"]
    building = text.replace('building = { template = "three_floor_school", hard_corners = false }',
                            'building = { file = "/etc/passwd" }')  # fmt: skip
    files["incident"] = ("mine.toml", building.encode())
    err = _error(client.post("/api/review", files=files), 400)
    assert err["field"] == "scenario.building.file" and "built-in building" in err["error"]
    files.pop("incident")
    _error(client.post("/api/review", files=files, data={"change": "SRO:entered_building@+0s"}), 400)
    after = set((root / "data" / "reviews").glob("*")) if (root / "data" / "reviews").exists() else set()
    assert after == before  # nothing kept from refused requests


def test_foreign_host_is_refused(client: TestClient) -> None:
    """DNS rebinding: a Host the server was not started for gets 421 and a JSON error."""
    r = client.get("/api/health", headers={"host": "evil.example.com"})
    body = _error(r, 421)
    assert "evil.example.com" in body["error"]
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_cross_site_writes_are_refused(client: TestClient, root: Path) -> None:
    """A page on another origin cannot start a run (text/plain or JSON), upload, or cancel."""
    body = b'{"scenario_id": "default", "form": {"replications": 20}}'
    for headers in (
        {"origin": "http://evil.example.com", "content-type": "text/plain"},
        {"origin": "http://evil.example.com", "content-type": "application/json"},
        {"sec-fetch-site": "cross-site", "content-type": "application/json"},
        {"origin": "null", "content-type": "application/json"},
    ):
        _error(client.post("/api/runs", content=body, headers=headers), 403)
    # the page's own origin passes
    same = client.post("/api/validate", content=b'{"toml": ""}',
                       headers={"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin",
                                "content-type": "application/json"})  # fmt: skip
    assert same.status_code != 403


def test_security_headers_and_no_openapi(client: TestClient) -> None:
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/health").headers["x-content-type-options"] == "nosniff"
    _error(client.get("/openapi.json"), 404)
    _error(client.get("/docs"), 404)


def test_too_many_requests_in_flight_get_json_503(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, max_connections=1))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.get("/api/health")  # builds the middleware stack
        mw = app.middleware_stack
        while not hasattr(mw, "in_flight"):
            mw = mw.app  # type: ignore[union-attr]  # down to the security middleware
        mw.in_flight = 1  # one request already open: the limit is reached
        r = c.get("/api/health")
        body = _error(r, 503)
        assert "busy" in body["error"] and r.headers["retry-after"] == "5"


def test_uploads_stay_in_the_data_folder(client: TestClient, root: Path, run_a: str) -> None:
    """Everything the server wrote is under the data folder, except the store itself."""
    written = {p for p in root.rglob("*") if p.is_file()}
    outside = {p for p in written if not p.is_relative_to(root / "data")}
    assert {p.name for p in outside} <= {"results.duckdb", "results.duckdb.wal"}


# ---------------------------------------------------------------------------------------------- forms, serve


def test_forms_round_trip_every_example() -> None:
    for path in [None, *sorted(EXAMPLES.glob("*.toml"))]:
        sc = load_scenario(path)
        assert loads(spec_to_toml(sc.spec)).spec == sc.spec
        assert apply_form(sc, scenario_form(sc), 20000) is sc  # an unedited form changes nothing


def test_form_edits_map_to_the_schema() -> None:
    sc = load_scenario(None)
    edited = apply_form(
        sc,
        {"doctrine": "hesitate", "threshold_s": 300, "lockdown_at_s": 45, "hard_corners": False,
         "sro_armed": False, "patrol_first_median_s": 240, "seed": 3, "replications": 12},
        20000,
    )  # fmt: skip
    spec = edited.spec
    assert spec.doctrine.kind == "hesitate" and spec.doctrine.delay_s == 300
    assert spec.alerting.lockdown_at_s == 45 and spec.building.hard_corners is False
    assert spec.responders.sro.armed is False and spec.responders.patrol.first_median_s == 240
    assert (spec.seed, spec.replications) == (3, 12)
    assert not edited.building.hard_corner.any()
    never = apply_form(edited, {"lockdown_at_s": None}, 20000)
    assert never.spec.alerting.lockdown_at_s is None and math.isinf(never.params.lockdown_t)
    wait = apply_form(sc, {"doctrine": "wait_for_n", "threshold_s": 3}, 20000).spec.doctrine
    assert wait.kind == "wait_for_n" and wait.n == 3


def test_form_sets_what_officers_do_at_a_barricaded_door() -> None:
    """The page's barricade lever (issue 24): contain or breach reaches the scenario and the run's label;
    anything else is a 400 naming the field."""
    from responsesim.web.errors import ApiError
    from responsesim.web.forms import lever_changes

    sc = load_scenario(None)
    assert scenario_form(sc)["barricade"] == "breach"
    held = apply_form(sc, {"barricade": "contain"}, 20000)
    assert held.spec.doctrine.barricade == "contain" and held.params.barricade_breach is False
    assert lever_changes(sc, held) == ["at a barricaded door: contain"]
    with pytest.raises(ApiError) as info:
        apply_form(sc, {"barricade": "negotiate"}, 20000)
    assert info.value.status == 400 and info.value.field == "barricade"
    assert "breach or contain" in str(info.value)


def test_serve_refuses_remote_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check_host(host, allow_remote=False)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(RemoteRefusedError, match="--allow-remote"):
            check_host(host, allow_remote=False)
        check_host(host, allow_remote=True)
    # the ``python -m responsesim.web`` entry refuses before starting anything (exit code 2)
    assert web_main(["--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_numba_backend_server_stores_the_same_numbers(tmp_path: Path) -> None:
    """A server started with backend="numba" records that backend and stores, cell for cell, the numbers
    the numpy engine gives for the scenario and seed it stored."""
    with TestClient(create_app(_settings(tmp_path, backend="numba")), base_url="http://127.0.0.1") as fast:
        run_id = _run(fast, scenario_id="default", form={"replications": SMALL, "seed": 7})
        meta = fast.get(f"/api/runs/{run_id}").json()["meta"]
    assert meta["backend"] == "numba"
    with ResultStore(tmp_path / "results.duckdb", read_only=True) as store:
        got = store.load_outcomes(run_id)
    want = responsesim.api.run(loads(meta["scenario_toml"]), replications=SMALL, seed=7).outcomes
    assert len(got) == SMALL
    for col in want.columns:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            np.testing.assert_array_equal(a.astype(float), b.astype(float), err_msg=col)
        else:
            assert list(a) == list(b), col
