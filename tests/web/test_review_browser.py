"""The review tab in a real browser, in three parts (issue 15 item 3; issue 14, "the review tab"): several
timelines and protocols picked in turns, three sections with their findings and their own swimlane charts,
at desktop and phone width; a bad second timeline is named with its line. Uses the browser, page and
server fixtures of ``test_browser.py``.
"""

from __future__ import annotations

from pathlib import Path

from test_browser import EXAMPLES, Tab, browser, img_loaded, tab  # noqa: F401 (browser, tab: fixtures)
from test_phone import sized  # noqa: F401 (a fixture: a page at 1280x800, then at 390x844)

RECORD = EXAMPLES / "parkland" / "record.csv"
PRE_ATTACK = EXAMPLES / "parkland" / "pre_attack.csv"
PROTOCOLS = [
    EXAMPLES / "protocols" / name
    for name in ("post1999_doctrine.toml", "medical_response.toml", "threat_assessment.toml")
]
TITLES = ["Initial police response", "Medical response", "Pre-attack warnings"]


def _open_review(tab: Tab) -> None:  # noqa: F811 (the fixture's value)
    tab.goto()
    tab.page.get_by_role("tab", name="After-action review").click()


def test_three_parts_with_their_findings_and_charts(tab: Tab) -> None:  # noqa: F811
    _open_review(tab)
    page = tab.page
    # files come in several picks (as from different folders); a file picked again replaces itself
    page.locator("#review-timeline").set_input_files(str(RECORD))
    page.locator("#review-timeline").set_input_files(str(PRE_ATTACK))
    page.locator("#review-protocol").set_input_files([str(p) for p in PROTOCOLS[:2]])
    page.locator("#review-protocol").set_input_files([str(PROTOCOLS[2]), str(PROTOCOLS[0])])
    assert page.locator("#review-timeline-list li").count() == 2
    assert page.locator("#review-protocol-list li").count() == 3
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('#review-result .review-part').length === 3")
    parts = page.locator("#review-result .review-part")
    heads = [h.strip() for h in page.locator("#review-result .review-part > h3").all_inner_texts()]
    assert [h.split(" (")[0] for h in heads] == TITLES, heads
    # the counts docs/review.md gives for these files (the API test checks them against the CLI)
    assert heads == [f"{TITLES[0]} (3 findings)", f"{TITLES[1]} (8 findings)", f"{TITLES[2]} (7 findings)"]
    for k in range(3):
        assert parts.nth(k).locator(".findings .finding").count() >= 1
    pre = parts.nth(2).inner_text()
    assert "days before the attack" in pre and "The attack began 2018-02-14" in pre
    first_row = parts.nth(2).locator(".finding details td").first.text_content() or ""
    assert first_row.startswith("pre_attack.csv:")  # evidence rows name their file when there are several
    img_loaded(page, "#review-result .review-part .swimlane img")
    assert page.locator("#review-result .review-part .swimlane img").count() == 3
    alt = parts.nth(2).locator(".swimlane img").get_attribute("alt") or ""
    assert "by date" in alt
    status = page.locator("#review-status").inner_text()
    assert "medical response, 8 findings" in status
    tab.screenshot("review-three-parts")
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 391, f"the review is {wide} px wide on a 390 px phone"
    tab.screenshot("review-three-parts-phone")
    tab.assert_local_only()
    tab.assert_no_console_errors()


def test_a_bad_second_timeline_is_named(tab: Tab, tmp_path: Path) -> None:  # noqa: F811
    lines = PRE_ATTACK.read_text().splitlines(keepends=True)
    cells = lines[3].split(",")
    cells[3] = "tip_recieved"  # the event column
    lines[3] = ",".join(cells)
    bad = tmp_path / "tips.csv"
    bad.write_text("".join(lines))
    _open_review(tab)
    page = tab.page
    page.locator("#review-timeline").set_input_files([str(RECORD), str(bad)])
    page.get_by_role("button", name="Review", exact=True).click()
    error = page.locator("#review-error")
    error.wait_for(state="visible")
    assert "at least one protocol" in error.inner_text()  # checked on the page before anything is sent
    page.locator("#review-protocol").set_input_files([str(p) for p in PROTOCOLS])
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#review-error').textContent.includes('tips.csv, line 4, event')"
    )
    assert "tip_recieved" in error.inner_text()
    assert page.locator("#review-result .review-part").count() == 0
    # take the bad file out, and the review runs
    page.get_by_role("button", name="Remove tips.csv").click()
    assert page.locator("#review-timeline-list li").count() == 1
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('#review-result .review-part').length === 3")
    assert error.is_hidden()
    tab.assert_local_only()
    tab.assert_no_console_errors(allow="status of 400")


def test_counterfactual_with_the_timelines_picked_in_either_order(sized: Tab, tmp_path: Path) -> None:  # noqa: F811
    """Issue 26 item 3: timeline.csv picked before record.csv gave 400 "facts.killed ... add up to 0"; both
    orders now show the same counterfactual, on the two files merged by time, lines named by file, at
    1280x800 and on a 390x844 phone (issue 26 item 8)."""
    incident = tmp_path / "incident.toml"
    text = (EXAMPLES / "parkland" / "incident.toml").read_text()
    incident.write_text(text.replace("replications = 2000", "replications = 200"))
    timeline = EXAMPLES / "parkland" / "timeline.csv"
    shown = []
    for first, second in ((timeline, RECORD), (RECORD, timeline)):
        _open_review(sized)
        page = sized.page
        page.locator("#review-timeline").set_input_files(str(first))  # two picks, as from two folders
        page.locator("#review-timeline").set_input_files(str(second))
        page.locator("#review-protocol").set_input_files(str(PROTOCOLS[0]))
        page.locator("#review-incident").set_input_files(str(incident))
        page.get_by_role("button", name="Review", exact=True).click()
        page.wait_for_selector("text=Counterfactual on the record", timeout=60_000)
        assert page.locator("#review-error").is_hidden()
        basis = page.locator("#review-result .counterfactual-basis").inner_text()
        assert f"{first.name} + {second.name}, merged by time" in basis, basis
        lives = page.locator("#review-result tr", has_text="Lives saved").first.inner_text()
        summary = page.locator("#review-result .review-summary").last.inner_text()
        assert "record.csv line 5 (9 killed" in summary, summary
        both = page.locator("#review-result .side-by-side")  # the incident asks for the care change too
        assert "Stopping the killing" in both.inner_text() and "Stopping the dying" in both.inner_text()
        assert both.inner_text().count("95% of draws") == 2
        shown.append(lives)
        sized.screenshot(f"review-counterfactual-{first.stem}-first-{page.viewport_size['width']}")
    assert shown[0] == shown[1] and "of 17 killed" in shown[0], shown
    sized.assert_local_only()
    sized.assert_no_console_errors()
