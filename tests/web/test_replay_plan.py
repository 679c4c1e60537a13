"""The replay tab (issue 14 item 6, issue 17 item 3): representative incidents, one honest time span, killed
and died awaiting care apart, officers outside drawn, names from the plan, grouped events, markers clear
of the counts, moves drawn between spaces, and real floor plans (polygons) drawn as they are.

Browser tests use the fixtures of ``test_browser`` (Debian's chromium via Playwright, one live server per
module). ``RESPONSESIM_DOCS_IMG=1`` makes the ``test_replay_on_real_geometry*`` tests also write the
screenshots in ``docs/img/replay-fzk-haus.png`` and ``docs/img/replay-kit-institute.png``
(docs/buildings.md).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import test_browser
from test_browser import ROOT, Tab

from responsesim.api import run as run_scenario
from responsesim.scenario.load import load_scenario
from responsesim.web.replay import building_json, replay, replay_choices, space_label, space_labels

# the browser, page and run fixtures of test_browser, shared by name
browser = test_browser.browser
tab = test_browser.tab
two_runs = test_browser.two_runs

FZK = ROOT / "examples" / "buildings" / "fzk_haus" / "scenario.toml"
INSTITUTE = ROOT / "examples" / "buildings" / "kit_institute" / "scenario.toml"
ID_LIKE = re.compile(r"\b[a-z]+\d*_[a-z0-9_]+\b")  # room_209, f2_hall_5


def _clock(seconds: float) -> str:
    s = round(abs(seconds))
    return f"{s // 60}:{s % 60:02d}"


# ---------------------------------------------------------------------------------------------- server


def test_space_labels_read_like_the_plan() -> None:
    assert space_label("room_209") == "Room 209"
    assert space_label("f2_hall_5") == "Hall 5"
    assert space_label("f2_restroom_n") == "Restroom N"
    assert space_label("main_entrance") == "Main entrance"
    assert space_label("schlafzimmer") == "Schlafzimmer"
    labels, names = space_labels(("f1_hall_5", "f2_hall_5", "room_101", "a_b", "a b"), [1, 2, 1, 1, 1])
    assert labels[:3] == ["Hall 5", "Hall 5", "Room 101"]
    assert names[:3] == ["Hall 5, floor 1", "Hall 5, floor 2", "Room 101"]
    assert labels[3:] == ["a_b", "a b"]  # the same label twice on one floor: the ids tell them apart


def test_replay_events_name_spaces_and_group_shots() -> None:
    params = load_scenario(None).with_run_settings(20, 11).params
    body = next(b for b in (replay(params, r, 500) for r in range(20)) if b["outcome"]["shots_fired"] > 5)
    texts = [e["text"] for e in body["events"]]
    assert not [t for t in texts if ID_LIKE.search(t)], texts
    shots = [e for e in body["events"] if e.get("kind") == "shots"]
    assert shots and sum(e["shots"] for e in shots) == body["outcome"]["shots_fired"]
    for a, b in zip(body["events"], body["events"][1:], strict=False):
        assert not (a.get("kind") == b.get("kind") == "shots" and a["space"] == b["space"]), (a, b)
    assert all(e["t_end"] >= e["t"] for e in shots)
    names = {s["name"] for s in body["building"]["spaces"]}
    assert all(re.sub(r"^\d+ shots? in (.+?)(, \d+ hit)?$", r"\1", e["text"]) in names for e in shots)


def test_officers_waiting_outside_stand_at_an_exit() -> None:
    params = load_scenario(None).with_run_settings(20, 11).params
    for rep in range(20):  # the first replication in which an officer waits outside
        body = replay(params, rep, 2000)
        off = body["ticks"]["officers"]
        outside = [k for k, row in enumerate(off["status"]) if "on_scene" in row]
        if outside:
            break
    assert outside, "no officer waited outside in 20 replications"
    exits = {i for i, s in enumerate(body["building"]["spaces"]) if s["kind"] == "exit"}
    assert all(off["waiting_at"][k] in exits for k in outside)
    moving = [k for k, n in enumerate(body["ticks"]["attacker_next"]) if n >= 0]
    assert moving and any(0 < body["ticks"]["attacker_progress"][k] < 1 for k in moving)


def test_replay_choices_pick_by_outcome() -> None:
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "rep": range(7),
            "killed": [0, 1, 2, 5, 1, 0, 9],
            "died_awaiting_care": [0, 0, 1, 1, 0, 0, 0],
            "deaths": [0, 1, 3, 6, 1, 0, 9],
            "attack_duration_s": [10.0, 60, 90, 200, 70, 30, 5],
            "end_reason": [
                "fled",
                "police_shot",
                "police_arrested",
                "citizens",
                "police_shot",
                "fled",
                "fled",
            ],
            "first_shot_s": [1.0, 2, 3, 4, 5, 6, nan],  # rep 6: no shot fired, not an incident
            "first_police_s": [nan, 50, 60, 70, 40, 20, nan],
            "first_entry_s": [nan, 55, 65, nan, 45, nan, nan],
            "ended_before_police": [True, False, False, False, False, False, True],
        }
    )
    got = {c["key"]: c for c in replay_choices(frame)}
    assert got["typical"]["deaths"] == 1 and got["typical"]["rep"] in (1, 4)  # median of 0,1,3,6,1,0 is 1
    assert got["worst"]["rep"] == 3  # 9 deaths in rep 6, but no shot was fired there
    assert got["police_stop"]["rep"] in (1, 4) and got["police_stop"]["share"] == pytest.approx(3 / 6)
    assert got["before_police"]["rep"] == 0
    assert {got["no_entry"]["rep"]} <= {3, 5}
    assert "barricade" not in got  # a table stored before the encounter has no barricade_s column
    frame["barricade_s"] = [nan, nan, 40.0, nan, nan, nan, 12.0]  # rep 6 is no incident
    got = {c["key"]: c for c in replay_choices(frame)}
    assert got["barricade"]["rep"] == 2 and got["barricade"]["share"] == round(1 / 6, 4)  # shares to 4 places
    assert got["typical"]["killed"] + got["typical"]["died_awaiting_care"] == got["typical"]["deaths"]
    assert replay_choices(frame.iloc[6:]) == []


def test_building_json_carries_polygons() -> None:
    b = building_json(load_scenario(FZK).params)
    assert b["has_polygons"]
    rooms = [s for s in b["spaces"] if s["kind"] != "exit"]
    assert rooms and all(len(s["polygon"]) >= 3 for s in rooms)
    assert not building_json(load_scenario(None).params)["has_polygons"]


def test_replay_choices_endpoint(live_server: Any, two_runs: tuple[str, str]) -> None:
    resp = httpx.get(f"{live_server.url}/api/runs/{two_runs[1]}/replay-choices", timeout=60)
    assert resp.status_code == 200, resp.text
    keys = [c["key"] for c in resp.json()]
    assert keys[:2] == ["typical", "worst"]
    assert httpx.get(f"{live_server.url}/api/runs/nope/replay-choices", timeout=30).status_code == 404


# ---------------------------------------------------------------------------------------------- browser


def _open_replay(tab: Tab, run_id: str) -> Any:
    """Results of ``run_id`` -> its replay button (a typical incident); returns the page when drawn."""
    tab.goto(f"/#run={run_id}")
    page = tab.page
    page.wait_for_selector(".summary-table")
    page.locator("#results-body button[data-action=replay]").click()
    page.wait_for_function("() => !document.querySelector('#replay-view').hidden")
    page.wait_for_function("() => !!document.querySelector('#replay-canvas').replayState")
    return page


def _state(page: Any) -> dict[str, Any]:
    return dict(page.locator("#replay-canvas").evaluate("c => c.replayState()"))


def _seek(page: Any, rel: float) -> dict[str, Any]:
    """Move the replay to ``rel`` seconds after the first shot (may be fractional) and read the frame."""
    page.locator("#replay-canvas").evaluate("(c, t) => c.replaySeek(t)", rel)
    return _state(page)


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_replay_typical_incident_one_time_span_killed_and_died_apart(
    tab: Tab, two_runs: tuple[str, str]
) -> None:
    run_id = two_runs[1]
    choices = httpx.get(f"{tab.base}/api/runs/{run_id}/replay-choices", timeout=60).json()
    typical = next(c for c in choices if c["key"] == "typical")
    page = _open_replay(tab, run_id)
    button = page.locator("#results-body button[data-action=replay]")
    assert "incident 0" not in button.inner_text() and "typical" in button.inner_text()
    assert page.locator("#replay-rep").input_value() == str(typical["rep"])
    assert page.locator("#replay-pick").input_value() == "typical"
    status = page.locator("#replay-status").inner_text()
    assert status.startswith("A typical incident (median deaths): incident")
    # killed and died awaiting care apart, as in the incident's outcome; never a bare "N died"
    body = httpx.get(
        f"{tab.base}/api/runs/{run_id}/replay", params={"rep": typical["rep"]}, timeout=60
    ).json()
    o = body["outcome"]
    assert f"killed {o['killed']}, died awaiting care {o['died_awaiting_care']}" in status
    assert not re.search(r"\d+ died(?! awaiting)", status)
    # the status line and the slider cover the same span, both relative to the first shot
    lo = float(page.locator("#replay-slider").get_attribute("min"))
    hi = float(page.locator("#replay-slider").get_attribute("max"))
    assert f"to {_clock(hi)} after it" in status, (status, hi)
    if lo < -0.5:
        assert f"from {_clock(lo)} before the first shot" in status
        assert "before the first shot" in page.locator("#replay-time").inner_text()
        assert "before" in page.locator("label[for='replay-slider']").inner_text()
    # the last frame says how many of the wounded died awaiting care
    _seek(page, hi)
    counts = page.locator("#replay-counts").inner_text()
    assert (
        f"killed {o['killed']}" in counts
        and f"of them {o['died_awaiting_care']} died awaiting care" in counts
    )
    # another representative incident: the worst
    page.locator("#replay-pick").select_option("worst")
    page.get_by_role("button", name="Load replay").click()
    worst = next(c for c in choices if c["key"] == "worst")
    page.wait_for_function(
        "() => document.querySelector('#replay-status').textContent.startsWith('The worst')"
    )
    assert f"incident {worst['rep']}" in page.locator("#replay-status").inner_text()
    tab.assert_no_console_errors()


def test_replay_draws_officers_outside_and_keeps_counts_clear(tab: Tab, two_runs: tuple[str, str]) -> None:
    run_id = two_runs[0]  # no entry: officers wait outside
    page = _open_replay(tab, run_id)
    rep = int(page.locator("#replay-rep").input_value())
    body = httpx.get(f"{tab.base}/api/runs/{run_id}/replay", params={"rep": rep}, timeout=60).json()
    t0 = body["t_first_shot_s"]
    ticks = body["ticks"]
    outside = [k for k, row in enumerate(ticks["officers"]["status"]) if "on_scene" in row]
    assert outside, "no officer outside in this incident"
    k = outside[len(outside) // 2]
    st = _seek(page, ticks["t"][k] - t0)
    n_out = ticks["officers"]["status"][k].count("on_scene")
    assert f"outside {n_out}" in page.locator("#replay-counts").inner_text()
    drawn = [m for m in st["markers"] if m["outside"]]
    assert len(drawn) == n_out
    tab.screenshot("replay-officers-outside")
    # markers at rest never sit on a room's count, at any time of the incident
    for k in np.linspace(0, len(ticks["t"]) - 1, 40).round().astype(int):
        st = _seek(page, ticks["t"][k] - t0)
        assert st["counts"], "no room count drawn"
        for m in st["markers"]:
            if m["moving"]:
                continue
            hits = [c for c in st["counts"] if _overlap(m, c)]
            assert not hits, (k, m, hits)
    tab.assert_no_console_errors()


def test_replay_moves_between_spaces_smoothly(tab: Tab, two_runs: tuple[str, str]) -> None:
    run_id = two_runs[1]
    page = _open_replay(tab, run_id)
    rep = int(page.locator("#replay-rep").input_value())
    body = httpx.get(f"{tab.base}/api/runs/{run_id}/replay", params={"rep": rep}, timeout=60).json()
    ticks, t0 = body["ticks"], body["t_first_shot_s"]
    t = ticks["t"]
    floor = [s["floor"] for s in body["building"]["spaces"]]
    legs = [
        k
        for k in range(len(t) - 1)
        if ticks["attacker_next"][k] >= 0
        and ticks["attacker_space"][k + 1] == ticks["attacker_space"][k]
        and floor[ticks["attacker_next"][k]] == floor[ticks["attacker_space"][k]]
        and ticks["attack_active"][k + 1]
    ]
    assert legs, "the attacker never walked between spaces"
    k = legs[0]
    pos = []
    for frac in (0.0, 0.5, 1.0):
        st = _seek(page, t[k] + frac * (t[k + 1] - t[k]) - t0)
        a = next(m for m in st["markers"] if m["who"] == "attacker")
        pos.append((a["x"], a["y"]))
    (x0, y0), (x1, y1), (x2, y2) = pos
    assert (x0, y0) != (x2, y2), "the attacker did not move between two frames of a walk"
    assert abs(x1 - (x0 + x2) / 2) < 1 and abs(y1 - (y0 + y2) / 2) < 1, pos  # half way at half time
    tab.assert_no_console_errors()


def test_replay_events_grouped_with_plan_names(tab: Tab, two_runs: tuple[str, str]) -> None:
    page = _open_replay(tab, two_runs[1])
    page.locator("#replay-pick").select_option("worst")
    page.get_by_role("button", name="Load replay").click()
    page.wait_for_function(
        "() => document.querySelector('#replay-status').textContent.startsWith('The worst')"
    )
    rows = page.locator("#replay-events li .what").all_inner_texts()
    assert rows and not [r for r in rows if ID_LIKE.search(r) or "shot(s)" in r], rows
    shot_rows = [re.match(r"^\d+ shots? in (.+?)(?:, \d+ hit)?$", r) for r in rows]
    places = [m.group(1) for m in shot_rows if m]
    assert places
    for a, b in itertools.pairwise(shot_rows):  # two rows in a row of shots in one place: one group
        assert not (a and b and a.group(1) == b.group(1)), (a.group(0), b.group(0))
    labels = {lab["text"] for lab in _state(page)["labels"]}
    for place in places:
        label = place.split(",")[0]
        assert label in labels or label.split(" ")[-1] in labels, (place, sorted(labels))
    times = page.locator("#replay-events li .t").all_inner_texts()
    assert any("–" in x for x in times)  # a group of shots shows its time range
    tab.assert_no_console_errors()


def _store_run(server: Any, scenario: Path, reps: int) -> str:
    """Run a scenario file in this process and store it in the live server's store (as `run --out`)."""
    result = run_scenario(load_scenario(scenario), replications=reps, seed=5)
    summary = result.to_json()
    summary["label"] = "real plan"
    return str(server.app.state.store.write_run(result, summary))


def test_replay_on_real_geometry(tab: Tab, live_server: Any) -> None:
    run_id = _store_run(live_server, FZK, 30)
    page = _open_replay(tab, run_id)
    st = _state(page)
    assert st["real"] and st["mode"] == "side", st["mode"]
    labels = {lab["text"] for lab in st["labels"]}
    assert {"Wohnen", "Schlafzimmer", "Galerie"} <= labels, labels
    w, h = page.locator("#replay-canvas").evaluate("c => [c.clientWidth, c.clientHeight]")
    assert h >= 250, (w, h)
    assert page.locator("#replay-floors").is_hidden()  # both floors side by side
    path = tab.screenshot("replay-real-plan")
    if os.environ.get("RESPONSESIM_DOCS_IMG"):
        _docs_screenshot(page, "replay-fzk-haus.png")
    # a phone: one floor at a time, chosen with buttons
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.querySelector('#replay-canvas').replayState().mode === 'one'")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 391
    buttons = page.locator("#replay-floors button")
    assert buttons.count() == 2
    shown = _state(page)["shown"]
    other = page.locator("#replay-floors button[aria-pressed='false']")
    other.click()
    page.wait_for_function(
        "s => document.querySelector('#replay-canvas').replayState().shown !== s", arg=shown
    )
    assert page.locator("#replay-floors button[aria-pressed='true']").count() == 1
    w, h = page.locator("#replay-canvas").evaluate("c => [c.clientWidth, c.clientHeight]")
    assert w <= 390 and h >= 200, (w, h)
    tab.screenshot("replay-real-plan-phone")
    assert path.is_file()
    tab.assert_no_console_errors()


def test_replay_on_real_geometry_of_five_floors(tab: Tab, live_server: Any) -> None:
    """The KIT institute (examples/buildings/kit_institute): five floors of 42 m do not fit side by side
    on a desktop, so its real plan shows one floor at a time, a button for each floor."""
    run_id = _store_run(live_server, INSTITUTE, 30)
    page = _open_replay(tab, run_id)
    st = _state(page)
    assert st["real"] and st["mode"] == "one", st["mode"]
    buttons = page.locator("#replay-floors button")
    assert page.locator("#replay-floors").is_visible() and buttons.count() == 5
    assert page.locator("#replay-floors button[aria-pressed='true']").count() == 1
    w, h = page.locator("#replay-canvas").evaluate("c => [c.clientWidth, c.clientHeight]")
    assert w >= 1000 and h >= 250, (w, h)
    if os.environ.get("RESPONSESIM_DOCS_IMG"):
        _docs_screenshot(page, "replay-kit-institute.png")
    # every floor drawn with its rooms' names: the entrance hall on the ground floor (floor 1)
    seen: dict[int, set[str]] = {}
    for i in range(buttons.count()):
        buttons.nth(i).click()
        page.wait_for_function(
            "i => document.querySelectorAll('#replay-floors button')[i].ariaPressed === 'true'", arg=i
        )
        st = _state(page)
        seen[st["shown"]] = {lab["text"] for lab in st["labels"]}
    assert sorted(seen) == [0, 1, 2, 3, 4], sorted(seen)
    assert "Flur eg eingang" in seen[1] and "Seminarraum" in seen[0], seen
    tab.screenshot("replay-real-plan-five-floors")
    tab.assert_no_console_errors()


def _docs_screenshot(page: Any, name: str) -> None:
    """docs/img/<name>: the replay tab's plan and events at the first officer's entry."""
    events = page.locator("#replay-events li button")
    entry = events.filter(has_text="enters the building")
    (entry.first if entry.count() else events.nth(min(2, events.count() - 1))).click()
    out = ROOT / "docs" / "img" / name
    tmp = out.with_suffix(".tmp.png")
    page.locator("#replay-view").screenshot(path=str(tmp))
    shutil.move(tmp, out)
