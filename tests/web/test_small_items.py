"""Issue 26 item 7, the smaller items, each as a user meets it (and, where the server decides, through the
API):
a queued run says it waits; a form value outside its field's bounds is refused by the page and by the server,
naming the field; a huge seed gets a plain message; form errors show by their field, in view; an old upload
problem goes once a run starts; the review never shows the command line's "--counterfactual"; the replay's
events name officers as people do; a building file in metres has its scale.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from test_browser import EXAMPLES, TIMEOUT_MS, Tab, browser, tab  # noqa: F401 (browser, tab: fixtures)

from responsesim.web.replay import officer_names


def _post_run(url: str, form: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/api/runs", json={"scenario_id": "default", "form": form}, timeout=30)


def _in_view(page: Any, selector: str) -> dict[str, float]:
    """The element's box; it must be wholly inside the viewport."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box, height)
    return dict(box)


def _small_tab(browser: Any, url: str) -> Tab:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    t = Tab(page, url)
    page.on("console", lambda m: t.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: t.console_errors.append(f"uncaught: {exc}"))
    page.on("request", lambda r: t.requests.append((r.method, r.url)))
    return t


# ---------------------------------------------------------------------------------------------- queued


def test_a_queued_run_says_it_waits(browser: Any, start_live_server: Any) -> None:  # noqa: F811
    """One run at a time: while a long run holds the simulator, a run from the page says "Queued: waiting
    for 1 run ahead of it", not "Running: 0 of 1,000 (0%)"; once the long run is cancelled it runs."""
    server = start_live_server(max_replications=200_000)
    long = _post_run(server.url, {"replications": 200_000, "seed": 1})
    assert long.status_code == 202, long.text
    long_id = long.json()["job_id"]
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/api/jobs/{long_id}", timeout=30).json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    t = _small_tab(browser, server.url)
    try:
        t.goto()
        page = t.page
        page.locator("#f-reps").fill("1000")
        page.get_by_role("button", name="Run simulation").click()
        page.wait_for_function(
            "() => document.querySelector('#progress-text').textContent"
            ".includes('Queued: waiting for 1 run ahead')"
        )
        shown = page.locator("#progress-text").inner_text()
        assert "Running" not in shown and "1,000 replications" in shown, shown
        assert httpx.get(f"{server.url}/api/jobs/{long_id}", timeout=30).json()["status"] == "running"
        time.sleep(0.5)  # still waiting: the text stays
        assert page.locator("#progress-text").inner_text().startswith("Queued"), page.locator(
            "#progress-text"
        ).inner_text()
        httpx.post(f"{server.url}/api/jobs/{long_id}/cancel", json={}, timeout=30)
        page.wait_for_selector("#progress-text.done", timeout=60_000)
        assert "Done: 1,000 replications" in page.locator("#progress-text").inner_text()
        t.screenshot("queued-then-done")
        t.assert_no_console_errors()
    finally:
        t.page.context.close()


# ---------------------------------------------------------------------------------------------- bounds


def test_the_server_refuses_a_value_outside_the_fields_bounds(live_server: Any) -> None:
    """A patrol median of 1e9 minutes was accepted (the field says 120 at most); a seed of 1e23 gave
    "must be between 0 and 2**63 - 1, not 99999999999999991611392"."""
    r = _post_run(live_server.url, {"replications": 10, "patrol_first_median_s": 1e9 * 60})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["field"] == "patrol_first_median_s"
    assert "First patrol officer: median arrival must be from 0.1 to 120 minutes" in body["error"], body
    assert "not 1,000,000,000 minutes" in body["error"], body
    r = _post_run(live_server.url, {"replications": 10, "lockdown_at_s": 601 * 60})
    assert r.status_code == 400 and r.json()["field"] == "lockdown_at_s", r.text
    assert "from 0 to 600 minutes, not 601 minutes" in r.json()["error"]
    r = _post_run(live_server.url, {"replications": 10, "seed": 1e23})
    assert r.status_code == 400 and r.json()["field"] == "seed", r.text
    assert r.json()["error"] == (
        "form.seed: the random seed must be a whole number from 0 to 9,223,372,036,854,775,807, not 1e+23"
    )
    # within the bounds, and a scenario's own value left as written, still run
    assert _post_run(live_server.url, {"replications": 10, "patrol_first_median_s": 7200}).status_code == 202


def test_form_errors_show_by_their_field_in_view(browser: Any, live_server: Any) -> None:  # noqa: F811
    """At 1280x800 the Run button sits below the fold: the message shows under the field it is about and
    is scrolled into view; nothing is sent."""
    t = _small_tab(browser, live_server.url)
    try:
        t.goto()
        page = t.page
        cases = [
            (
                "#f-patrol",
                "1e9",
                "First patrol officer: median arrival: enter a number from 0.1 to 120 minutes",
            ),
            ("#f-seed", "1e23", "The random seed must be a whole number from 0 to 9,007,199,254,740,991."),
        ]
        for selector, value, message in cases:
            page.evaluate("() => window.scrollTo(0, 0)")
            page.locator("#f-patrol").fill("3")
            page.locator("#f-seed").fill("1")
            page.locator(selector).fill(value)
            page.get_by_role("button", name="Run simulation").click()
            err = page.locator("#form-error")
            err.wait_for(state="visible")
            assert message in err.inner_text(), err.inner_text()
            assert "2**63" not in err.inner_text()
            box = _in_view(page, "#form-error")
            field = page.locator(selector).bounding_box()
            assert field is not None and 0 <= box["y"] - (field["y"] + field["height"]) < 80, (box, field)
            assert page.locator(selector).get_attribute("aria-invalid") == "true"
            assert page.evaluate("document.activeElement.id") == selector[1:]
        t.screenshot("form-error-by-the-field")
        assert not [u for m, u in t.requests if m == "POST"], "a value outside its field must not be sent"
        t.assert_no_console_errors()
    finally:
        t.page.context.close()


def test_an_old_upload_problem_goes_when_a_run_starts(tab: Tab) -> None:  # noqa: F811
    tab.goto()
    page = tab.page
    big = b"# padding\n" * 120_000  # 1.2 MB: more than the 1 MiB limit
    page.locator("#scenario-file").set_input_files(
        files=[{"name": "huge.toml", "mimeType": "text/plain", "buffer": big}]
    )
    err = page.locator("#scenario-error")
    err.wait_for(state="visible")
    assert "File too large" in err.inner_text()
    assert "built-in scenario" in page.locator("#scenario-source").inner_text()  # what will run
    page.locator("#f-reps").fill("30")
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_selector("#progress-text.done")
    assert err.is_hidden(), "a stale 'File too large' stayed after a good run"
    tab.assert_no_console_errors()


# ---------------------------------------------------------------------------------------------- review


def test_the_review_never_shows_the_command_line_flag(tab: Tab, live_server: Any) -> None:  # noqa: F811
    record = EXAMPLES / "parkland" / "record.csv"
    protocol = EXAMPLES / "protocols" / "post1999_doctrine.toml"
    incident = EXAMPLES / "parkland" / "incident.toml"
    files = [
        ("timeline", (record.name, record.read_bytes(), "text/csv")),
        ("protocol", (protocol.name, protocol.read_bytes(), "application/toml")),
        ("incident", (incident.name, incident.read_bytes(), "application/toml")),
    ]
    r = httpx.post(
        f"{live_server.url}/api/review", files=files, data={"change": "SRO entered late"}, timeout=60
    )
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "change" and "--counterfactual" not in r.json()["error"], r.json()
    assert r.json()["error"].startswith("change: the Change field: 'SRO entered late': expected"), r.json()
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="After-action review").click()
    page.locator("#review-timeline").set_input_files(str(record))
    page.locator("#review-protocol").set_input_files(str(protocol))
    page.locator("#review-incident").set_input_files(str(incident))
    page.locator("#review-change").fill("SRO:entered_building@soon")
    page.get_by_role("button", name="Review", exact=True).click()
    error = page.locator("#review-error")
    error.wait_for(state="visible")
    assert "the Change field" in error.inner_text() and "--counterfactual" not in error.inner_text()
    tab.assert_no_console_errors(allow="status of 400")


# ---------------------------------------------------------------------------------------------- replay


def test_officer_names_read_as_people_say_them() -> None:
    assert officer_names(["sro", "patrol", "patrol", "tactical"]) == [
        "SRO", "Patrol officer 1", "Patrol officer 2", "Tactical officer 1",
    ]  # fmt: skip
    assert officer_names(["sro", "sro"]) == ["SRO 1", "SRO 2"]


def test_the_replay_events_name_officers_as_people_do(tab: Tab, live_server: Any) -> None:  # noqa: F811
    """Was "sro officer 0 arrives on scene"."""
    r = _post_run(live_server.url, {"replications": 20, "seed": 4})
    job = r.json()["job_id"]
    deadline = time.monotonic() + 60
    while (j := httpx.get(f"{live_server.url}/api/jobs/{job}", timeout=30).json())["status"] != "done":
        assert time.monotonic() < deadline and j["status"] in ("queued", "running"), j
        time.sleep(0.1)
    run_id = j["run_id"]
    replays = (
        httpx.get(f"{live_server.url}/api/runs/{run_id}/replay", params={"rep": k}, timeout=60)
        for k in range(20)
    )
    # the first incident in which a patrol officer arrives (in many, the SRO ends it first)
    rep = next(
        r.json()["rep"]
        for r in replays
        if any("Patrol officer 1 arrives" in e["text"] for e in r.json()["events"])
    )
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="Replay on the floor plan").click()
    page.locator("#replay-run").select_option(run_id)
    page.locator("#replay-rep").fill(str(rep))
    page.get_by_role("button", name="Load replay").click()
    page.wait_for_function("() => document.querySelectorAll('#replay-events li').length > 1")
    events = page.locator("#replay-events li").all_inner_texts()
    assert not [e for e in events if re.search(r"\b(sro|patrol|tactical) officer \d", e)], events
    arrivals = [e for e in events if "arrives on scene" in e]
    named = re.compile(r"(SRO|Patrol officer \d+|Tactical officer \d+) arrives")
    assert arrivals and all(named.search(e) for e in arrivals), arrivals
    assert any("Patrol officer 1 arrives on scene" in e for e in arrivals), arrivals
    tab.assert_no_console_errors()


# ---------------------------------------------------------------------------------------------- editor


def test_a_building_file_in_metres_has_its_scale(tab: Tab) -> None:  # noqa: F811
    """Opening a building file (in metres) said "Scale: not set"."""
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="Your building").click()
    page.wait_for_selector("body[data-editor-ready='true']")
    page.locator("#ed-open").set_input_files(str(EXAMPLES / "buildings" / "tiny_school" / "building.toml"))
    page.wait_for_function("() => document.querySelector('#ed-message').textContent.startsWith('Opened')")
    line = page.locator(".scale-line").inner_text()
    assert "not set" not in line and "in metres, from the building file" in line, line
    tab.assert_no_console_errors()


def test_the_editor_canvas_is_on_screen_and_the_wheel_scrolls(browser: Any, live_server: Any) -> None:  # noqa: F811
    """At 1280x800 the canvas started 422 px down and ran 166 px under the fold, and the wheel zoomed the
    plan instead of scrolling the page: now the canvas is wholly on screen, the wheel scrolls, Ctrl + wheel
    zooms."""
    t = _small_tab(browser, live_server.url)
    try:
        t.goto()
        page = t.page
        page.get_by_role("tab", name="Your building").click()
        page.wait_for_selector("body[data-editor-ready='true']")
        box = _in_view(page, "#ed-canvas")
        assert box["height"] >= 360, box
        canvas = page.locator("#ed-canvas")
        view = canvas.get_attribute("data-view")
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 200)
        page.wait_for_function("() => window.scrollY > 0")
        assert canvas.get_attribute("data-view") == view, "the wheel alone zoomed the plan"
        box = canvas.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        scrolled = page.evaluate("() => window.scrollY")
        page.keyboard.down("Control")
        page.mouse.wheel(0, -200)
        page.keyboard.up("Control")
        page.wait_for_function("v => document.querySelector('#ed-canvas').dataset.view !== v", arg=view)
        assert page.evaluate("() => window.scrollY") == scrolled, "Ctrl + wheel scrolled the page"
        t.assert_no_console_errors()
    finally:
        t.page.context.close()


def test_room_names_in_the_editor_never_pile_up(browser: Any, live_server: Any) -> None:  # noqa: F811
    """A real building (the KIT institute, from IFC) opened in the editor: its names overlapped ("Buero
    mBuero m..."); each name drawn now sits inside its room and clear of the others."""
    t = _small_tab(browser, live_server.url)
    try:
        t.goto()
        page = t.page
        page.get_by_role("tab", name="Your building").click()
        page.wait_for_selector("body[data-editor-ready='true']")
        page.locator("#ed-open").set_input_files(
            str(EXAMPLES / "buildings" / "kit_institute" / "building.toml")
        )
        page.wait_for_function("() => document.querySelector('#ed-message').textContent.startsWith('Opened')")
        boxes = page.locator("#ed-canvas").evaluate("c => c.editorLabels()")
        assert len(boxes) >= 5, boxes
        hits = [
            (a["text"], b["text"])
            for k, a in enumerate(boxes)
            for b in boxes[k + 1 :]
            if a["x"] < b["x"] + b["w"]
            and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"]
            and b["y"] < a["y"] + a["h"]
        ]
        assert hits == [], hits[:5]
        t.screenshot("editor-real-building-names")
        t.assert_no_console_errors()
    finally:
        t.page.context.close()


# ---------------------------------------------------------------------------------------------- encounter


def test_the_barricade_lever_runs_from_the_page(tab: Tab) -> None:  # noqa: F811
    """Issue 24 on the page: what officers do at a barricaded attacker's door is a lever of the form; the
    run it makes says so beside its results."""
    tab.goto()
    page = tab.page
    sel = page.locator("#f-barricade")
    sel.wait_for(state="visible")
    assert sel.input_value() == "breach"  # the default scenario's doctrine
    sel.select_option("contain")
    page.locator("#f-reps").fill("40")
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_selector("#progress-text.done")
    page.wait_for_selector(".run-levers")
    assert "at a barricaded door: contain" in page.locator(".run-levers").first.inner_text()
    # the long tail beside the endings: both shares, each with its interval
    table = page.locator(".long-attacks-table")
    table.wait_for(state="visible")
    text = table.inner_text()
    assert "lasted 10 minutes or more" in text and "barricaded itself in a room" in text
    assert text.count("%") >= 6, text
    tab.assert_no_console_errors()
