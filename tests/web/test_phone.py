"""The decisive numbers of each view on screen at 1280x800 and on a 390x844 phone (issue 26 items 5 and 8).

On a phone, tables scrolled inside 300 px boxes without a hint: the Median column, the endings' 95% column,
Compare's Run B, difference and verdict, the counterfactual's "With the change" (the lives-saved number
itself) were off screen. Here each decisive figure must be reachable by scrolling down only (no box
scrolled sideways, nothing wider than the screen), and wide tables become stacked rows on the phone:
one card per row, each value beside its column's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import EXAMPLES, TIMEOUT_MS, Tab, browser, img_loaded, make_run  # noqa: F401 (browser)

from responsesim.web.plots import DPI, TICK_PT

SIZES = [(1280, 800), (390, 844)]


@pytest.fixture(scope="module")
def runs(live_server: Any) -> tuple[str, str]:
    """A (as written) and B (perimeter), paired: same seed and replications."""
    a = make_run(live_server, {"replications": 60, "seed": 21}, label="as written")
    b = make_run(live_server, {"replications": 60, "seed": 21, "doctrine": "perimeter"}, label="perimeter")
    return a, b


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def sized(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[Tab]:  # noqa: F811
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
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


def on_screen(page: Any, locator: Any, what: str) -> str:
    """Scroll ``locator`` into view: nothing may scroll sideways to show it, and it must then be wholly in
    the viewport. Returns its text."""
    locator.scroll_into_view_if_needed()
    sideways = locator.evaluate(
        "el => { let s = window.scrollX;"
        " for (let e = el.parentElement; e; e = e.parentElement) s += e.scrollLeft; return s; }"
    )
    assert sideways == 0, f"{what}: shown only by scrolling sideways ({sideways} px)"
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None, what
    inside = box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5
    assert inside and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5, (what, box, size)
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= size["width"] + 1, f"{what}: the page is {wide} px wide on a {size['width']} px screen"
    return str(locator.inner_text())


#: [table caption, column head] of every column whose head is aligned otherwise than its cells
ALIGNMENT = """root => {
  const out = [];
  for (const t of root.querySelectorAll("table.data")) {
    const heads = [...t.querySelectorAll("thead th")];
    heads.forEach((th, k) => {
      const cells = [...t.querySelectorAll("tbody tr")].map((tr) => tr.children[k]).filter(Boolean);
      const align = (el) => getComputedStyle(el).textAlign;
      const caption = t.caption?.textContent ?? "";
      if (cells.some((td) => align(td) !== align(th))) out.push([caption, th.textContent]);
    });
  }
  return out;
}"""


def stacked(locator: Any) -> bool:
    """Whether a table shows as stacked rows (its rows are blocks, its head hidden)."""
    return bool(locator.evaluate("t => getComputedStyle(t.querySelector('tbody tr')).display === 'block'"))


def test_results_and_past_runs(sized: Tab, runs: tuple[str, str]) -> None:
    a, _ = runs
    phone = sized.page.viewport_size["width"] < 600
    sized.goto(f"/#run={a}")
    page = sized.page
    page.wait_for_selector(".summary-table")
    deaths = page.locator(".summary-table tr[data-metric='deaths']")
    on_screen(page, deaths.locator("td.num").first, "Results: deaths mean")
    text = on_screen(page, deaths.locator(".ci-cell"), "Results: deaths 95% interval")
    assert " to " in text
    on_screen(page, deaths.locator("td.num").nth(2), "Results: deaths median")
    on_screen(
        page, page.locator(".endings-table tbody tr").first.locator("td").last, "Results: an ending's 95%"
    )
    assert stacked(page.locator(".summary-table")) == phone
    if phone:  # each value is named beside it
        assert "95% interval" in deaths.locator(".ci-cell").evaluate("td => td.dataset.label")
    sized.screenshot(f"phone-results-{page.viewport_size['width']}")
    page.get_by_role("tab", name="Past runs").click()
    row = page.locator(f"#runs-table tr[data-run='{a}']")
    past = on_screen(page, row.locator("td.num").nth(2), "Past runs: deaths with interval")
    assert " to " in past
    assert stacked(page.locator("#runs-table")) == phone
    sized.screenshot(f"phone-past-runs-{page.viewport_size['width']}")
    sized.assert_local_only()
    sized.assert_no_console_errors()


def test_compare_verdicts(sized: Tab, runs: tuple[str, str]) -> None:
    a, b = runs
    phone = sized.page.viewport_size["width"] < 600
    sized.goto()
    page = sized.page
    page.get_by_role("tab", name="Compare two runs").click()
    page.locator("#compare-a").select_option(a)
    page.locator("#compare-b").select_option(b)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector(".compare-table tbody tr")
    deaths = page.locator(".compare-table tbody tr", has_text="deaths").filter(has_not_text="awaiting").first
    cells = deaths.locator("td")
    on_screen(page, cells.nth(1), "Compare: run B")
    diff = on_screen(page, cells.nth(2), "Compare: the difference")
    assert "paired differences" in diff
    verdict = on_screen(page, cells.nth(3), "Compare: the verdict")
    assert verdict.strip(), "no verdict"
    assert stacked(page.locator(".compare-table")) == phone
    sized.screenshot(f"phone-compare-{page.viewport_size['width']}")
    sized.assert_no_console_errors()


def test_counterfactual_lives_saved(sized: Tab, tmp_path: Path) -> None:
    incident = tmp_path / "parkland.toml"
    text = (EXAMPLES / "parkland" / "incident.toml").read_text()
    incident.write_text(text.replace("replications = 2000", "replications = 200"))
    sized.goto()
    page = sized.page
    page.get_by_role("tab", name="After-action review").click()
    page.locator("#review-timeline").set_input_files(str(EXAMPLES / "parkland" / "record.csv"))
    page.locator("#review-protocol").set_input_files(str(EXAMPLES / "protocols" / "post1999_doctrine.toml"))
    page.locator("#review-incident").set_input_files(str(incident))
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_selector("text=Counterfactual on the record", timeout=60_000)
    lives = page.locator("#review-result tr", has_text="Lives saved").first
    shown = on_screen(page, lives.locator("td").last, "Counterfactual: lives saved with the change")
    assert "95% of draws" in shown
    if page.viewport_size["width"] > 600:  # each head aligned with its numbers (the delay table's were not)
        misaligned = page.locator("#review-result").evaluate(ALIGNMENT)
        assert misaligned == [], misaligned
    sized.screenshot(f"phone-counterfactual-{page.viewport_size['width']}")
    sized.assert_no_console_errors()


def test_the_replay_map_zooms_and_names_its_rooms(sized: Tab, runs: tuple[str, str]) -> None:
    """The map can be drawn 2x or 3x the screen's width (it then scrolls inside its box, the page does not);
    a bigger map names more rooms; a tap on a room names it with its people."""
    import httpx

    a, _ = runs
    rep = next(
        k
        for k in range(60)
        if httpx.get(f"{sized.base}/api/runs/{a}/replay", params={"rep": k}, timeout=60).json()["outcome"][
            "first_shot_s"
        ]
        is not None
    )
    sized.goto()
    page = sized.page
    width = page.viewport_size["width"]
    page.get_by_role("tab", name="Replay on the floor plan").click()
    page.locator("#replay-run").select_option(a)
    page.locator("#replay-rep").fill(str(rep))
    page.get_by_role("button", name="Load replay").click()
    page.wait_for_function("() => !document.querySelector('#replay-view').hidden")
    canvas = page.locator("#replay-canvas")
    named = "c => new Set(c.replayState().labels.map((l) => l.i)).size"
    fit_w, fit_names = canvas.evaluate("c => c.clientWidth"), canvas.evaluate(named)
    page.locator("#replay-zoom").get_by_role("button", name="3×").click()
    big_w, big_names = canvas.evaluate("c => c.clientWidth"), canvas.evaluate(named)
    assert big_w >= 2.9 * fit_w, (fit_w, big_w)
    assert page.locator("#replay-zoom button[data-zoom='3']").get_attribute("aria-pressed") == "true"
    assert big_names >= fit_names and (width > 600 or big_names > fit_names), (fit_names, big_names)
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= width + 1, f"the zoomed map made the page {wide} px wide"
    count = canvas.evaluate("c => c.replayState().counts[0]")
    canvas.click(position={"x": count["x"] + count["w"] / 2, "y": count["y"] + count["h"] / 2})
    assert "people" in page.locator("#replay-room").inner_text()
    sized.screenshot(f"phone-replay-zoom-{width}")
    page.locator("#replay-zoom").get_by_role("button", name="Fit").click()
    assert canvas.evaluate("c => c.clientWidth") == fit_w
    sized.assert_no_console_errors()


def test_replay_counts_never_cover_the_padlocks(sized: Tab, runs: tuple[str, str]) -> None:
    """On a phone the people count of a small locked room was drawn over its padlock."""
    import httpx

    a, _ = runs

    def locks(k: int) -> bool:
        body = httpx.get(f"{sized.base}/api/runs/{a}/replay", params={"rep": k}, timeout=60).json()
        return any(any(row) for row in body["ticks"]["locked"])

    rep = next(k for k in range(60) if locks(k))
    sized.goto()
    page = sized.page
    page.get_by_role("tab", name="Replay on the floor plan").click()
    page.locator("#replay-run").select_option(a)
    page.locator("#replay-rep").fill(str(rep))
    page.get_by_role("button", name="Load replay").click()
    page.wait_for_function("() => !document.querySelector('#replay-view').hidden")
    canvas = page.locator("#replay-canvas")
    overlaps = canvas.evaluate(
        """c => {
          const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          const out = { locks: 0, overlaps: [] };
          const max = Number(document.querySelector('#replay-slider').max);
          for (let t = 0; t <= max; t += Math.max(1, max / 40)) {
            c.replaySeek(t);
            const s = c.replayState();
            out.locks += s.locks.length;
            for (const n of s.counts) {
              for (const l of s.locks) if (n.i === l.i && hit(n, l)) out.overlaps.push([t, n, l]);
            }
          }
          return out;
        }"""
    )
    assert overlaps["locks"] > 0, "no locked room in this incident"
    assert overlaps["overlaps"] == [], overlaps["overlaps"][:3]
    sized.assert_no_console_errors()


def test_histogram_labels_read_at_any_width(sized: Tab, runs: tuple[str, str]) -> None:
    """The histograms' tick labels as shown: were 8 pt on a 560 px image shrunk to about 330 px (6.5 px);
    now drawn at the size shown, at least 9 CSS px at 1280x800 and on a 390 px phone."""
    sized.goto(f"/#run={runs[0]}")
    page = sized.page
    img_loaded(page, "#results-body .plots img")
    shown = page.locator("#results-body .plots img").evaluate_all(
        "imgs => imgs.map((i) => [i.clientWidth, i.naturalWidth])"
    )
    assert shown, "no histogram"
    for css_w, natural_w in shown:
        tick_px = TICK_PT * DPI / 72 * css_w / natural_w
        assert tick_px >= 9, f"tick labels {tick_px:.1f} px ({natural_w} px image shown {css_w} px wide)"
        assert css_w <= page.viewport_size["width"]
    sized.assert_no_console_errors()
