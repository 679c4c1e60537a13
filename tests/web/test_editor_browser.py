"""The "Your building" editor in a real browser (issue 17 item 2): put a plan image underneath, set the
scale, draw two rooms and a corridor, add doors and an exit, check the graph, undo and redo, save the
building file (a download), open it again, use it in a run and replay it on the drawn plan; the phone width.

Uses the browser, page and server fixtures of ``test_browser.py``. ``RESPONSESIM_DOCS_IMG=1`` also writes
the screenshot in ``docs/img/editor.png`` (docs/buildings.md, *Draw one on the page*).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import test_browser
from PIL import Image, ImageDraw
from test_browser import ROOT, Tab
from test_pdf_page import PLAN_PT, K, plan_pdf

from responsesim.scenario.building import load_building_file

browser = test_browser.browser
tab = test_browser.tab

Pt = tuple[float, float]

# the plan image (pixels = plan units; its scale bar says 400 px = 20 m)
ROOM_A = [(30, 30), (230, 30), (230, 190), (30, 190)]
ROOM_B = [(230, 30), (430, 30), (430, 190), (230, 190)]
HALL = [(30, 190), (430, 190), (430, 250), (30, 250)]
SCALE_BAR = [(30, 275), (430, 275)]
DOORS = [(130, 191), (330, 189)]
EXIT = (28, 222)


def plan_png(path: Path) -> Path:
    """A small floor plan drawn as an architect's scan would show it: walls, names, a 20 m scale bar."""
    img = Image.new("RGB", (460, 300), "white")
    d = ImageDraw.Draw(img)
    for poly in (ROOM_A, ROOM_B, HALL):
        d.line([*poly, poly[0]], fill="black", width=3)
    for x, y in DOORS:
        d.line([(x - 12, y), (x + 12, y)], fill="white", width=5)
    d.line([(30, 210), (30, 234)], fill="white", width=5)
    d.text((110, 100), "Class 101", fill="black")
    d.text((310, 100), "Class 102", fill="black")
    d.text((200, 215), "HALL", fill="black")
    d.line(SCALE_BAR, fill="black", width=2)
    d.text((215, 280), "20 m", fill="black")
    img.save(path)
    return path


class Editor:
    """The editor tab of a page, driven by mouse and keyboard in plan units (image pixels)."""

    def __init__(self, tab: Tab) -> None:
        self.tab = tab
        self.page = tab.page
        self.canvas = self.page.locator("#ed-canvas")

    def open(self) -> None:
        if self.page.viewport_size and self.page.viewport_size["width"] > 400:
            self.page.set_viewport_size({"width": 1440, "height": 1300})  # the whole canvas on the screen
        self.tab.goto()
        self.page.get_by_role("tab", name="Your building").click()
        self.page.wait_for_selector("body[data-editor-ready='true']")

    def screen(self, p: Pt) -> tuple[float, float]:
        ox, oy, zoom = (float(v) for v in str(self.canvas.get_attribute("data-view")).split(","))
        box = self.canvas.bounding_box()
        assert box is not None
        return box["x"] + (p[0] - ox) * zoom, box["y"] + (p[1] - oy) * zoom

    def click(self, p: Pt) -> None:
        self.page.mouse.click(*self.screen(p))

    def tool(self, name: str) -> None:
        self.page.locator(f".ed-tools [data-tool={name}]").click()

    def room(self, pts: Sequence[Pt], name: str, kind: str = "", close_with_enter: bool = False) -> None:
        for p in pts:
            self.click(p)
        if close_with_enter:
            self.page.keyboard.press("Enter")
        else:
            self.click(pts[0])
        self.page.locator("#ed-p-name").fill(name)
        if kind:
            self.page.locator("#ed-p-kind").select_option(kind)
        self.canvas.focus()

    def message(self) -> str:
        return self.page.locator("#ed-message").inner_text()

    def check(self) -> tuple[str, str]:
        """(status, error) after Check the graph."""
        self.page.locator("#ed-check").click()
        self.page.wait_for_function(
            "() => document.querySelector('#ed-status').textContent"
            " || !document.querySelector('#ed-error').hidden"
        )
        err = self.page.locator("#ed-error")
        return self.page.locator("#ed-status").inner_text(), err.inner_text() if err.is_visible() else ""


def draw_school(ed: Editor, tmp: Path) -> None:
    """Plan image, scale, two classrooms and a hall, two doors and an exit."""
    ed.page.locator("#ed-name").fill("Test school")
    ed.page.locator("#ed-backdrop").set_input_files(str(plan_png(tmp / "plan.png")))
    ed.page.wait_for_function(
        "() => document.querySelector('#ed-message').textContent.includes('Plan image')"
    )
    ed.canvas.focus()
    ed.page.keyboard.press("l")  # the scale tool by its shortcut
    ed.click(SCALE_BAR[0])
    ed.click(SCALE_BAR[1])
    ed.page.locator("#ed-scale-m").fill("20")
    ed.page.locator("#ed-scale-set").click()
    assert "Scale set: 20.0 plan pixels a metre" in ed.message()
    ed.canvas.focus()
    ed.page.keyboard.press("r")
    ed.room(ROOM_A, "Class 101", "classroom")
    ed.room(ROOM_B, "Class 102", close_with_enter=True)
    ed.room(HALL, "Main hall", "corridor")
    ed.tool("door")
    ed.click(DOORS[0])
    assert ed.message() == "Door between Class 101 and Main hall."
    ed.click(DOORS[1])
    assert ed.message() == "Door between Class 102 and Main hall."
    ed.tool("exit")
    ed.click(EXIT)
    assert ed.message() == "Exit from Main hall."


def test_draw_check_undo_save_open_run_replay(tab: Tab, tmp_path: Path) -> None:
    ed = Editor(tab)
    ed.open()
    page = tab.page
    draw_school(ed, tmp_path)
    status, err = ed.check()
    assert not err, err
    assert "The graph is connected: 3 spaces, 1 exit(s), 3 connections" in status, status
    if os.environ.get("RESPONSESIM_DOCS_IMG"):
        shot = tab.screenshot("editor-docs")
        page.locator(".editor").screenshot(path=str(shot))
        shutil.copyfile(shot, ROOT / "docs" / "img" / "editor.png")
    tab.screenshot("editor-drawn")

    # undo the exit: no exit; redo: connected again
    ed.canvas.focus()
    page.keyboard.press("Control+z")
    status, err = ed.check()
    assert err.startswith("The building cannot be used yet:") and "no exit" in err, err
    ed.canvas.focus()
    page.keyboard.press("Control+Shift+z")
    status, err = ed.check()
    assert not err and "1 exit(s)" in status, (status, err)

    # delete the door of Class 102: the graph is not connected, naming the room; undo brings it back
    ed.tool("select")
    ed.click(DOORS[1])
    assert page.locator("#ed-p-exit").is_visible()
    ed.canvas.focus()
    page.keyboard.press("Delete")
    status, err = ed.check()
    assert "the graph is not connected: Class 102 cannot reach an exit" in err, err
    ed.canvas.focus()
    page.keyboard.press("Control+z")
    status, err = ed.check()
    assert not err, err

    # save: the downloaded building file loads as a building, with the drawn outlines
    with page.expect_download() as dl:
        page.locator("#ed-save").click()
    saved = tmp_path / "saved.toml"
    dl.value.save_as(saved)
    assert dl.value.suggested_filename == "test_school.toml"
    spec = load_building_file(saved)
    by_id = {s.id: s for s in spec.spaces}
    assert set(by_id) == {"class_101", "class_102", "main_hall", "exit_1"}
    assert by_id["class_101"].kind == "classroom" and by_id["main_hall"].kind == "corridor"
    # image pixels (30, 30)-(230, 190) at 20 px a metre, y north
    assert by_id["class_101"].polygon == ((1.5, -1.5), (11.5, -1.5), (11.5, -9.5), (1.5, -9.5))
    assert {frozenset((e.a, e.b)) for e in spec.edges} == {
        frozenset(("class_101", "main_hall")),
        frozenset(("class_102", "main_hall")),
        frozenset(("main_hall", "exit_1")),
    }

    # open it again in a fresh page: the same plan, still connected
    ed.open()
    page.locator("#ed-open").set_input_files(str(saved))
    page.wait_for_function("() => document.querySelector('#ed-message').textContent.startsWith('Opened')")
    assert "3 rooms, 3 doors and exits, 0 stairs" in ed.message(), ed.message()
    status, err = ed.check()
    assert not err and "3 spaces, 1 exit(s)" in status, (status, err)

    # use in a run: the run opens in Results, named after the building; its replay draws the plan
    page.locator("#ed-reps").fill("40")
    page.locator("#ed-run").click()
    page.wait_for_function("() => location.hash.startsWith('#run=')", timeout=90_000)
    page.wait_for_selector("#panel-run:not([hidden]) .summary-table")
    assert "Test school" in page.locator("#results-body").inner_text()
    run_id = page.evaluate("() => decodeURIComponent(location.hash.slice(5))")
    page.locator("#results-body button[data-action=replay]").click()
    page.wait_for_function("() => !document.querySelector('#replay-view').hidden")
    page.wait_for_function("() => document.querySelectorAll('#replay-events li').length > 0")
    tab.screenshot("editor-run-replay")
    body: dict[str, Any] = httpx.get(f"{tab.base}/api/runs/{run_id}/replay", timeout=60).json()
    polys = {s["id"]: s.get("polygon") for s in body["building"]["spaces"]}
    assert polys["class_101"] and polys["main_hall"] and polys["class_102"]
    # only the loopback server, and the plan image and the download as blob: URLs inside the browser
    local = (tab.base + "/", "data:", "blob:" + tab.base + "/")
    assert not [u for _, u in tab.requests if not u.startswith(local)], tab.requests
    tab.assert_no_console_errors(allow="status of 400")  # the checks that found no exit, not connected


def test_shortcuts_undo_and_a_damaged_pdf(tab: Tab, tmp_path: Path) -> None:
    ed = Editor(tab)
    ed.open()
    page = tab.page
    ed.canvas.focus()
    page.keyboard.press("r")
    assert page.locator(".ed-tools [data-tool=room]").get_attribute("aria-pressed") == "true"
    for p in [(0, 0), (100, 0), (100, 80)]:
        ed.click(p)
    page.keyboard.press("Backspace")  # the last corner goes
    ed.click((100, 80))
    ed.click((0, 80))
    page.keyboard.press("Enter")
    assert "Room 1.01 drawn (20 m²)" in ed.message(), ed.message()  # 100 x 80 units at 20 units a metre
    ed.canvas.focus()
    page.keyboard.press("Control+z")
    assert ed.message() == "Undone."
    _, err = ed.check()
    assert "no rooms" in err, err  # the room is gone
    page.locator("#ed-redo").click()
    _, err = ed.check()
    assert "no exit" in err, err
    ed.canvas.focus()
    page.keyboard.press("PageUp")  # only one floor: stays
    page.locator("#ed-add-floor").click()
    assert page.locator("#ed-floor").input_value() == "2"
    page.keyboard.press("PageDown")
    assert page.locator("#ed-floor").input_value() == "1"
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.locator("#ed-backdrop").set_input_files(str(pdf))
    page.wait_for_function("() => !document.querySelector('#ed-error').hidden")
    err = " ".join(page.locator("#ed-error").inner_text().split())
    assert err.startswith("Cannot use this PDF: this PDF is damaged or incomplete"), err
    assert page.locator("#ed-status").inner_text() == ""
    assert page.locator(".ed-keys summary").inner_text() == "Keyboard shortcuts"
    tab.assert_no_console_errors(allow="status of 400")


def test_a_pdf_plan_as_backdrop(tab: Tab, tmp_path: Path) -> None:
    """A two-page PDF: the server draws page 1 (2000 px wide for 460 pt), the editor shows it under the
    floor and says so; the scale from the PDF's 20 m bar and a room drawn on its hall work as on an image."""
    ed = Editor(tab)
    ed.open()
    page = tab.page
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(plan_pdf(2))
    page.locator("#ed-backdrop").set_input_files(str(pdf))
    page.wait_for_function("() => document.querySelector('#ed-message').textContent.includes('PDF page')")
    assert ed.message().startswith("PDF page 1 of 2 for Floor 1 (ground): 2000 × 1305 px"), ed.message()
    status = page.locator("#ed-status").inner_text()
    assert status.startswith("plan.pdf: PDF page 1 of 2 (16.2 × 10.6 cm)"), status
    assert "only the first page is used" in status
    assert page.locator("#ed-error").is_hidden()

    def px(p: Pt) -> Pt:  # a point of the PDF page (pt, y down) -> the drawn page's pixels = plan units
        return (p[0] * K, p[1] * K)

    def shade(p: Pt) -> float:
        """The canvas's brightness (0-255) about the plan point ``p``: the backdrop is drawn in it."""
        x, y = ed.screen(px(p))
        box = ed.canvas.bounding_box()
        assert box is not None
        return float(
            page.evaluate(
                """([x, y]) => {
                  const c = document.querySelector('#ed-canvas'), r = devicePixelRatio || 1;
                  const [sx, sy] = [Math.round(x * r) - 1, Math.round(y * r) - 1];
                  const d = c.getContext('2d').getImageData(sx, sy, 3, 3).data;
                  let s = 0; for (let i = 0; i < d.length; i += 4) s += (d[i] + d[i + 1] + d[i + 2]) / 3;
                  return s / (d.length / 4);
                }""",
                [x - box["x"], y - box["y"]],
            )
        )

    assert shade((130, 30)) < 150 < 240 < shade((130, 110))  # a wall of the PDF's room vs the blank inside
    tab.screenshot("editor-pdf-backdrop")

    ed.canvas.focus()
    page.keyboard.press("l")
    bar = PLAN_PT["scale_bar"]
    ed.click(px(bar[0]))
    ed.click(px(bar[1]))
    page.locator("#ed-scale-m").fill("20")
    page.locator("#ed-scale-set").click()
    assert "Scale set: 87.0 plan pixels a metre" in ed.message(), ed.message()  # 400 pt x 2000/460 / 20 m
    ed.canvas.focus()
    page.keyboard.press("r")
    ed.room([px(p) for p in PLAN_PT["hall"]], "Main hall", "corridor")
    assert page.locator("#ed-p-name").input_value() == "Main hall"
    props = page.locator("#ed-props").inner_text()
    assert "· 60.0 m² ·" in props, props  # 400 x 60 pt = 20 m x 3 m
    ed.tool("exit")
    ed.click(px((28, 222)))
    assert ed.message() == "Exit from Main hall.", ed.message()
    status, err = ed.check()
    assert not err and "The graph is connected: 1 spaces, 1 exit(s)" in status, (status, err)
    tab.screenshot("editor-pdf-drawn")
    local = (tab.base + "/", "data:", "blob:" + tab.base + "/")
    assert not [u for _, u in tab.requests if not u.startswith(local)], tab.requests
    assert ("POST", tab.base + "/api/buildings/pdf-page") in tab.requests
    tab.assert_no_console_errors()


def test_editor_fits_a_phone(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 390, "height": 844})
    ed = Editor(tab)
    ed.open()
    page = tab.page
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 391, f"the editor tab is {wide} px wide on a 390 px phone"
    assert page.locator(".ed-narrow-note").is_visible()
    w = page.locator("#ed-canvas").evaluate("c => c.clientWidth")
    assert w <= 390
    tab.screenshot("editor-phone")
    tab.assert_no_console_errors()


def test_a_stair_links_two_floors(tab: Tab) -> None:
    ed = Editor(tab)
    ed.open()
    page = tab.page
    box = [(0.0, 0.0), (200.0, 0.0), (200.0, 120.0), (0.0, 120.0)]  # 10 m x 6 m at 20 units a metre
    ed.tool("room")
    ed.room(box, "Lobby")
    ed.tool("exit")
    ed.click((-2, 60))
    ed.page.keyboard.press("s")
    ed.click((150, 60))
    assert ed.message().startswith("Stair from floor 1 to floor 2"), ed.message()
    assert page.locator("#ed-floor option").all_inner_texts() == ["Floor 1 (ground)", "Floor 2"]
    _, err = ed.check()
    assert not err, err  # floor 2 is still empty: the stair leads nowhere, a warning
    assert "stair" in page.locator("#ed-warnings").inner_text()
    page.locator("#ed-floor").select_option("2")
    ed.tool("room")
    ed.room(box, "Library")
    status, err = ed.check()
    assert not err and "2 spaces, 1 exit(s), 2 connections" in status, (status, err)
    tab.assert_no_console_errors()
