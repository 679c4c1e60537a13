"""The web page in a real browser: Playwright driving Debian's chromium against a live server.

One server (``live_server`` from conftest) and one browser per module; each test opens its own page and
saves a full-page screenshot to ``test-artifacts/web/<test>.png``. Every test also checks that the page
only talked to the loopback server (no CDN, no external request) and, unless the test provokes an HTTP
error on purpose, that the console stayed free of errors. Tests do not depend on each other (pytest-xdist
may split them across workers): runs a test needs are made through the HTTP API first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
EXAMPLES = ROOT / "examples"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless; a missing browser is a failure with the fix, never a silent skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. "
            "Run `bash scripts/test.sh` (the README's test command installs it) or "
            "`apt-get install -y chromium`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Tab:
    """A page plus what it did: console errors, uncaught exceptions and every request URL."""

    page: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url)

    def goto(self, path: str = "/") -> None:
        """Open the page and wait until its start-up requests have finished."""
        self.page.goto(self.base + path)
        self.page.wait_for_selector("body[data-ready='true']", timeout=TIMEOUT_MS)

    def assert_local_only(self) -> None:
        """Every request went to the loopback test server (data: URLs need no network)."""
        local = (self.base + "/", "data:")
        foreign = [u for _, u in self.requests if not u.startswith(local)]
        assert not foreign, f"requests outside the loopback server: {foreign}"

    def assert_no_console_errors(self, allow: str | None = None) -> None:
        """No console error or uncaught exception, except messages matching ``allow`` (a regex)."""
        errors = [e for e in self.console_errors if not (allow and re.search(allow, e))]
        assert not errors, f"console errors: {errors}"

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(browser: Any, live_server: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    t = Tab(page, live_server.url)
    page.on("console", lambda m: t.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: t.console_errors.append(f"uncaught: {exc}"))
    page.on("request", lambda r: t.requests.append((r.method, r.url)))
    try:
        yield t
    finally:
        context.close()


def make_run(server: Any, form: dict[str, Any], label: str | None = None) -> str:
    """Start a run of the built-in default through the API and wait for it; returns the run id."""
    resp = httpx.post(
        f"{server.url}/api/runs", json={"scenario_id": "default", "form": form, "label": label}, timeout=30
    )
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=30).json()
        if job["status"] == "done":
            return str(job["run_id"])
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in 60 s")


@pytest.fixture(scope="module")
def two_runs(live_server: Any) -> tuple[str, str]:
    """Two stored runs of the default with the same seed and replications: no entry (A), solo entry (B).

    A's patrol arrives with a median of 20 min, outside the observed 1-12 min: its result carries an
    extrapolation warning.
    """
    form_a = {"replications": 40, "seed": 11, "doctrine": "no_entry", "patrol_first_median_s": 1200.0}
    a = make_run(live_server, form_a, label="no entry")
    b = make_run(live_server, {"replications": 40, "seed": 11, "doctrine": "solo_entry"}, label="solo entry")
    return a, b


def img_loaded(page: Any, selector: str) -> None:
    """Wait until every image matching ``selector`` decoded (naturalWidth > 0); at least one must exist."""
    page.wait_for_function(
        "sel => { const imgs = [...document.querySelectorAll(sel)];"
        " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        arg=selector,
    )


# ---------------------------------------------------------------------------------------------- tests


def test_page_loads_offline_and_fills_the_form(tab: Tab) -> None:
    tab.goto()
    page = tab.page
    assert page.title().startswith("responsesim")
    # the built-in default is selected and its main parameters are in the form (in minutes where shown so)
    assert page.locator("#scenario-select").input_value() == "default"
    assert page.locator("#f-doctrine").input_value() == "backup_eta_rule"
    assert page.locator("#threshold-field").is_visible()
    assert float(page.locator("#f-threshold").input_value()) == 60
    assert float(page.locator("#f-patrol").input_value()) == 3  # 180 s
    assert page.locator("#f-sro-present").is_checked() and page.locator("#f-sro-armed").is_checked()
    assert page.locator("#f-lockdown-never").is_checked()  # default: lockdown called by the SRO only
    assert page.locator("#f-lockdown").is_disabled()
    # every form control has a label (accessibility)
    unlabeled = page.evaluate(
        "() => [...document.querySelectorAll('input, select')].filter(el =>"
        " !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.id)"
    )
    assert unlabeled == []
    # the tabs work from the keyboard
    page.locator("#tab-run").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#panel-runs").is_visible()
    assert page.evaluate("document.activeElement.id") == "tab-runs"
    page.keyboard.press("ArrowLeft")
    assert page.locator("#panel-run").is_visible()
    # the page's own JS and CSS came from the app
    urls = [u for _, u in tab.requests]
    for asset in ("/static/app.js", "/static/api.js", "/static/replay.js", "/static/app.css"):
        assert tab.base + asset in urls
    tab.screenshot("page_loads")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_form_labels_doctrine_numbers_and_refuses_absurd_replications(tab: Tab, live_server: Any) -> None:
    tab.goto()
    page = tab.page
    doctrine = page.locator("#f-doctrine")
    doctrine.select_option("wait_for_n")
    assert page.locator("label[for='f-threshold']").inner_text() == "Officers needed on scene before going in"
    assert page.locator("#f-threshold").input_value() == "4"  # the schema's default n
    doctrine.select_option("solo_entry")
    assert page.locator("#threshold-field").is_hidden()
    page.locator("#f-lockdown-never").uncheck()
    assert page.locator("#f-lockdown").is_enabled()
    limit = httpx.get(f"{live_server.url}/api/limits", timeout=30).json()["max_replications"]
    page.locator("#f-reps").fill(str(limit + 1))
    page.get_by_role("button", name="Run simulation").click()
    err = page.locator("#form-error")
    err.wait_for(state="visible")
    assert f"1 to {limit:,}" in err.inner_text()
    assert page.locator("#f-reps").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "f-reps"
    assert not [u for m, u in tab.requests if m == "POST"], "an absurd run must be refused before it is sent"
    tab.screenshot("form_checks")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_run_default_scenario_shows_table_intervals_and_plots(tab: Tab, live_server: Any) -> None:
    tab.goto()
    page = tab.page
    page.locator("#f-reps").fill("30")
    page.locator("#f-label").fill("browser test run")
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_selector("#progress-text.done")
    assert "Done: 30 replications" in page.locator("#progress-text").inner_text()
    page.wait_for_selector(".summary-table")
    bar = page.locator("#run-progress").evaluate("b => [b.value, b.max]")
    assert bar == [30, 30]
    # the summary table: every outcome with a mean and a 95% interval
    rows = page.locator(".summary-table tbody tr")
    assert rows.count() >= 8
    for i in range(rows.count()):
        assert re.fullmatch(r"-?[\d.,%]+ to -?[\d.,%]+", rows.nth(i).locator(".ci-cell").inner_text().strip())
    # the numbers are the stored run's (deaths mean, 2 decimals below 10)
    run_id = re.search(r"#run=([0-9a-f-]+)", page.url).group(1)  # type: ignore[union-attr]
    run = httpx.get(f"{live_server.url}/api/runs/{run_id}", timeout=30).json()
    assert run["summary"]["replications"] == 30
    deaths = run["summary"]["metrics"]["deaths"]
    shown = page.locator(".summary-table tr[data-metric='deaths'] td.num").first.inner_text()
    assert float(shown) == pytest.approx(deaths["mean"], abs=0.006)
    # the assumptions/sources line names calibration, seed, replications and backend
    prov = page.locator(".provenance").first.inner_text()
    for word in ("calibration", f"seed {run['summary']['seed']}", "30 replications", "backend"):
        assert word in prov
    img_loaded(page, "#results-body .plots img")
    tab.screenshot("run_default")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_replay_plays_on_the_canvas_without_fetching_per_frame(tab: Tab, two_runs: tuple[str, str]) -> None:
    run_id = two_runs[1]
    # the first replication that is an incident (in some attempts no shot is fired: nothing to replay)
    rep = next(
        k
        for k in range(40)
        if httpx.get(f"{tab.base}/api/runs/{run_id}/replay", params={"rep": k}, timeout=60).json()["outcome"][
            "first_shot_s"
        ]
        is not None
    )
    tab.requests.clear()
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="Replay on the floor plan").click()
    page.locator("#replay-run").select_option(run_id)
    page.locator("#replay-rep").fill(str(rep))
    page.get_by_role("button", name="Load replay").click()
    page.wait_for_selector("#replay-view:not([hidden])")
    assert page.locator("#replay-events li").count() >= 2  # at least the first shot and the end
    t0 = float(page.locator("#replay-slider").input_value())
    frame0 = page.evaluate("document.querySelector('#replay-canvas').toDataURL()")
    api_calls = len([u for _, u in tab.requests if "/api/" in u])
    page.locator("#replay-speed").select_option("60")
    page.get_by_role("button", name="Play", exact=True).click()
    # a function, not an expression string: the page's CSP forbids eval (Playwright evals bare expressions)
    page.wait_for_function("t0 => Number(document.querySelector('#replay-slider').value) > t0 + 30", arg=t0)
    page.get_by_role("button", name="Pause", exact=True).click()
    t1 = float(page.locator("#replay-slider").input_value())
    frame1 = page.evaluate("document.querySelector('#replay-canvas').toDataURL()")
    assert t1 > t0 + 30
    assert frame1 != frame0, "the canvas did not change while playing"
    assert "after the first shot" in page.locator("label[for='replay-slider']").inner_text()
    assert len([u for _, u in tab.requests if "/api/" in u]) == api_calls, "the replay fetched while playing"
    # picking an event moves the slider to that event's time (here: an officer entering, for the screenshot)
    events = page.locator("#replay-events li button")
    entry = events.filter(has_text="enters the building")
    event = entry.first if entry.count() else events.last
    event.click()
    event_t = float(event.get_attribute("data-t"))
    assert float(page.locator("#replay-slider").input_value()) == pytest.approx(event_t)
    now = page.locator("#replay-events li.now button")
    assert now.get_attribute("data-t") == event.get_attribute("data-t")
    tab.screenshot("replay")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_bad_scenario_upload_shows_the_line(tab: Tab) -> None:
    tab.goto()
    page = tab.page
    bad = b'name = "broken"\nreplications = 10\n[doctrine]\nkind = "charge_in"\n'
    page.locator("#scenario-file").set_input_files(
        files=[{"name": "bad_scenario.toml", "mimeType": "text/plain", "buffer": bad}]
    )
    err = page.locator("#scenario-error")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert "bad_scenario.toml" in text
    assert re.search(r"line 4\b", text, re.IGNORECASE), text
    assert "doctrine" in text
    # the form still holds the built-in default, which is what would run
    assert "built-in scenario" in page.locator("#scenario-source").inner_text()
    tab.screenshot("bad_upload")
    tab.assert_local_only()
    tab.assert_no_console_errors(allow=r"status of 400")


def test_cancel_a_bigger_run(tab: Tab, live_server: Any) -> None:
    before = len(httpx.get(f"{live_server.url}/api/runs", timeout=30).json())
    tab.goto()
    page = tab.page
    page.locator("#f-reps").fill("20000")
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_function("() => Number(document.querySelector('#run-progress').value) > 0")
    page.get_by_role("button", name="Cancel run").click()
    page.wait_for_selector("#progress-text.cancelled")
    assert "Cancelled" in page.locator("#progress-text").inner_text()
    assert page.locator("#run-button").is_enabled()
    assert len(httpx.get(f"{live_server.url}/api/runs", timeout=30).json()) == before
    tab.screenshot("cancel")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def compare_on_page(page: Any, a: str, b: str) -> str:
    """Open the compare tab, pick runs ``a`` and ``b``, press Compare; the heads' text."""
    page.get_by_role("tab", name="Compare two runs").click()
    page.locator("#compare-a").select_option(a)
    page.locator("#compare-b").select_option(b)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector(".compare-table tbody tr")
    return str(page.locator(".compare-heads").inner_text())


def test_compare_two_runs_side_by_side(tab: Tab, live_server: Any, two_runs: tuple[str, str]) -> None:
    a, b = two_runs
    tab.goto()
    page = tab.page
    heads = compare_on_page(page, a, b)
    assert "no entry" in heads and "solo entry" in heads
    assert page.locator(".compare-heads .extrapolation").count() == 1  # only run A extrapolates
    cmp = httpx.get(f"{live_server.url}/api/compare", params={"a": a, "b": b}, timeout=30).json()
    assert page.locator(".compare-table tbody tr").count() == len(cmp["rows"])
    assert "paired" in page.locator(".compare-table").inner_text()  # same seed and replications
    tab.screenshot("compare")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_reopen_a_past_run_without_rerunning(tab: Tab, two_runs: tuple[str, str]) -> None:
    run_id = two_runs[0]
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="Past runs").click()
    row = page.locator(f"#runs-table tr[data-run='{run_id}']")
    assert "no entry" in row.inner_text()
    row.get_by_role("button", name="Open results").click()
    page.wait_for_selector(".summary-table")
    assert page.locator("#panel-run").is_visible()
    assert "no entry" in page.locator(".run-title").inner_text()
    assert "40 replications" in page.locator(".provenance").inner_text()
    # the run's extrapolation warning is shown next to its results (patrol arrival outside 1-12 min)
    warning = page.locator("#results-body .extrapolation")
    assert warning.is_visible()
    assert "This result is an extrapolation" in warning.inner_text()
    assert "patrol" in warning.inner_text()
    img_loaded(page, "#results-body .plots figure:first-child img")
    assert not [u for m, u in tab.requests if m == "POST"], "reopening a run must not start a run"
    tab.screenshot("reopen")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_review_upload_shows_findings_and_swimlane(tab: Tab) -> None:
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="After-action review").click()
    page.locator("#review-timeline").set_input_files(str(EXAMPLES / "parkland" / "timeline.csv"))
    page.locator("#review-protocol").set_input_files(str(EXAMPLES / "protocols" / "post1999_doctrine.toml"))
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_selector(".findings .finding")
    text = page.locator("#review-result").inner_text()
    assert "move-to-threat" in text  # the SRO did not move to the threat (docs/review.md)
    assert page.locator(".finding.critical").count() >= 1
    img_loaded(page, ".swimlane img")
    tab.screenshot("review")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_review_with_incident_shows_the_counterfactual(tab: Tab, tmp_path: Path) -> None:
    """Upload the Parkland record, protocol and incident: lives saved with its range, the responder's risk,
    the curve and the duty note are on the page, at desktop and phone width."""
    incident = tmp_path / "parkland.toml"
    text = (EXAMPLES / "parkland" / "incident.toml").read_text()
    incident.write_text(text.replace("replications = 2000", "replications = 300"))
    tab.goto()
    page = tab.page
    page.get_by_role("tab", name="After-action review").click()
    page.locator("#review-timeline").set_input_files(str(EXAMPLES / "parkland" / "record.csv"))
    page.locator("#review-protocol").set_input_files(str(EXAMPLES / "protocols" / "post1999_doctrine.toml"))
    page.locator("#review-incident").set_input_files(str(incident))
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_selector("text=Counterfactual on the record", timeout=60_000)
    text = page.locator("#review-result").inner_text()
    assert "Lives saved" in text and "The responder shot" in text and "does not judge culpability" in text
    assert "95% of draws" in text
    img_loaded(page, "img[alt^='Lives saved and the responder']")
    tab.screenshot("review-counterfactual")
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390 + 1, f"the page is {wide} px wide on a phone"
    tab.screenshot("review-counterfactual-phone")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_a_page_on_another_origin_cannot_start_a_run(browser: Any, live_server: Any) -> None:
    """A page served from another origin (another port) posts to the API as a hostile site would, with
    text/plain JSON (no preflight) and with fetch's no-cors mode: the server refuses both, no run is
    stored, and the same request from the page's own origin would pass."""
    import http.server
    import threading

    attack = (b"<!doctype html><html><body><script>window.attack = async (url) => {"
              b"const body = JSON.stringify({scenario_id: 'default', form: {replications: 20}});"
              b"const r = await fetch(url, {method: 'POST', body, headers: {'content-type': 'text/plain'}})"
              b".then((r) => r.status, () => 'blocked');"
              b"await fetch(url, {method: 'POST', mode: 'no-cors', body}).catch(() => null);"
              b"return r; };</script></body></html>")  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(attack)

        def log_message(self, *args: Any) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        before = httpx.get(f"{live_server.url}/api/runs", timeout=30).json()
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        status = page.evaluate("(url) => window.attack(url)", f"{live_server.url}/api/runs")
        context.close()
        assert status in (403, "blocked"), status
        after = httpx.get(f"{live_server.url}/api/runs", timeout=30).json()
        assert after == before, "a cross-site request stored a run"
    finally:
        other.shutdown()


def _fresh_tab(browser: Any, server: Any) -> Tab:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    t = Tab(page, server.url)
    page.on("console", lambda m: t.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: t.console_errors.append(f"uncaught: {exc}"))
    return t


def _run_on_page(page: Any, reps: int) -> str:
    """Press Run simulation and wait for the results; the new run's id."""
    page.locator("#f-reps").fill(str(reps))
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_selector("#progress-text.done")
    page.wait_for_function("() => /#run=/.test(location.hash)")
    return str(re.search(r"#run=([0-9a-f-]+)", page.url).group(1))  # type: ignore[union-attr]


def test_compare_defaults_to_the_two_runs_just_made(browser: Any, start_live_server: Any) -> None:
    """Empty store: run the default, switch to perimeter, run again, open Compare and press Compare: A is
    the first run, B the second (was: both the first, every difference 0.00). The results of a run are
    scrolled into view."""
    server = start_live_server()
    tab = _fresh_tab(browser, server)
    tab.goto()
    page = tab.page
    first = _run_on_page(page, 40)
    page.locator("#f-doctrine").select_option("perimeter")
    second = _run_on_page(page, 40)
    assert first != second
    page.wait_for_function(  # the results, not the form, are in view after Run
        "() => { const t = document.querySelector('#results-body').getBoundingClientRect().top;"
        " return t >= 0 && t < window.innerHeight; }"
    )
    page.get_by_role("tab", name="Compare two runs").click()
    assert page.locator("#compare-a").input_value() == first
    assert page.locator("#compare-b").input_value() == second
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector(".compare-table tbody tr")
    tab.assert_no_console_errors()


def test_changing_the_run_in_the_address_opens_it(tab: Tab, two_runs: tuple[str, str]) -> None:
    a, b = two_runs
    tab.goto(f"/#run={a}")
    page = tab.page
    page.wait_for_function("() => document.querySelector('.run-title')?.textContent.includes('no entry')")
    page.evaluate("id => { location.hash = 'run=' + id; }", b)
    page.wait_for_function("() => document.querySelector('.run-title')?.textContent.includes('solo entry')")
    tab.assert_no_console_errors()


def test_few_replications_say_so_and_never_show_a_negative_interval(tab: Tab, live_server: Any) -> None:
    run_id = make_run(live_server, {"replications": 5, "seed": 3}, label="tiny")
    tab.goto(f"/#run={run_id}")
    page = tab.page
    page.wait_for_selector(".summary-table")
    assert "intervals are rough" in page.locator("#results-body .rough").inner_text()
    rows = page.locator(".summary-table tbody tr")
    for i in range(rows.count()):
        name = rows.nth(i).get_attribute("data-metric")
        cell = rows.nth(i).locator(".ci-cell").inner_text().strip()
        if name != "first_entry_s":  # a time that may precede the first shot
            assert not cell.startswith("-") and " to -" not in cell, (name, cell)
    tab.assert_no_console_errors()


def test_runs_say_what_they_were(tab: Tab, live_server: Any) -> None:
    """A perimeter run without an SRO says so in Results, Past runs, the compare options and the compare
    heads; a worse outcome in B is marked worse, not with a green 'yes'; runs of two different scenarios
    are flagged as such."""
    a = make_run(live_server, {"replications": 40, "seed": 5}, label=None)
    b = make_run(live_server, {"replications": 40, "seed": 5, "doctrine": "perimeter", "sro_present": False})
    tab.goto(f"/#run={b}")
    page = tab.page
    page.wait_for_selector(".run-levers")
    assert "doctrine: perimeter" in page.locator("#results-body .run-levers").inner_text()
    assert "no SRO" in page.locator("#results-body .run-levers").inner_text()
    page.get_by_role("tab", name="Past runs").click()
    assert "doctrine: perimeter" in page.locator(f"#runs-table tr[data-run='{b}']").inner_text()
    options = page.locator("#compare-b option").all_inner_texts()
    mine = [o for o in options if "doctrine: perimeter" in o]
    assert mine and mine[0].startswith("doctrine: perimeter"), options  # levers first: never cut off
    heads = compare_on_page(page, a, b)
    assert "as written" in heads and "doctrine: perimeter" in heads
    deaths = page.locator(".compare-table tbody tr").first.inner_text()
    assert "yes" not in deaths.split()
    assert page.locator(".different-scenarios").count() == 0  # same scenario, different levers
    assert page.locator(".badge.better, .badge.worse, .badge.no, .badge.neutral").count() >= 1
    tab.assert_no_console_errors()


def test_phone_width_fits_and_the_replay_is_legible(tab: Tab, two_runs: tuple[str, str]) -> None:
    """390x844: no tab is wider than the screen; the replay stacks the floors so rooms stay legible."""
    tab.page.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"/#run={two_runs[1]}")
    page = tab.page
    page.wait_for_selector(".summary-table")
    for name in ("run", "runs", "compare", "replay", "review"):
        page.locator(f"#tab-{name}").click()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 391, f"tab {name}: the page is {wide} px wide on a 390 px phone"
    page.locator("#tab-run").click()
    page.locator("#results-body button[data-action=replay]").click()
    if page.locator("#replay-view").is_hidden():
        page.locator("#replay-load").click()
    page.wait_for_function("() => !document.querySelector('#replay-view').hidden")
    w, h = page.locator("#replay-canvas").evaluate("c => [c.clientWidth, c.clientHeight]")
    assert w <= 390 and h >= 250, (w, h)  # was 298 x 65 px: floors side by side
    tab.screenshot("replay-phone")
    tab.assert_no_console_errors()
