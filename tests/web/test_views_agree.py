"""One interval, one meaning (issue 26 item 2): every view of a stored run shows the same mean and interval.

Results (``GET /api/runs/{id}``, the stored summary), Past runs (``GET /api/runs``) and Compare
(``GET /api/compare``) gave two answers for one run: Compare recomputed a chance-only interval (deaths
1.20-1.55 where Results said 0.25-2.49 for the same posterior run) and judged the difference on it. Here
the API's figures and then the page's text must agree; the difference says what it is (mean of paired
differences, or difference of the means) and, for runs that drew their parameters, covers them too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_browser import Tab, browser, make_run  # noqa: F401 (browser: a fixture)
from test_phone import sized  # noqa: F401 (a fixture: a page at 1280x800, then at 390x844)

from responsesim.analysis.summary import DEFAULT_METRICS

FORM = {"replications": 400, "seed": 7}


@pytest.fixture(scope="module")
def runs(live_server: Any) -> dict[str, str]:
    """Posterior runs (400 replications over 20 draws): A as written, B perimeter with the same seed
    (paired), C perimeter with another seed (independent)."""
    return {
        "a": make_run(live_server, FORM, label="as written"),
        "b": make_run(live_server, {**FORM, "doctrine": "perimeter"}, label="perimeter"),
        "c": make_run(live_server, {**FORM, "seed": 8, "doctrine": "perimeter"}, label="perimeter seed 8"),
    }


def _get(server: Any, path: str, **params: str) -> Any:
    r = httpx.get(f"{server.url}{path}", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_results_past_runs_and_compare_give_one_interval(live_server: Any, runs: dict[str, str]) -> None:
    listing = {r["run_id"]: r for r in _get(live_server, "/api/runs")}
    for pair in (("a", "b"), ("a", "c"), ("c", "a")):
        cmp = _get(live_server, "/api/compare", a=runs[pair[0]], b=runs[pair[1]])
        assert [r["metric"] for r in cmp["rows"]] == [m.column for m in DEFAULT_METRICS]
        for side, key in zip(("a", "b"), pair, strict=True):
            summary = _get(live_server, f"/api/runs/{runs[key]}")["summary"]
            assert summary["uncertainty"]["mode"] == "posterior"
            assert cmp[side]["uncertainty"]["mode"] == "posterior"
            for row in cmp["rows"]:
                m = summary["metrics"][row["metric"]]
                shown = (row[f"{side}_mean"], row[f"{side}_ci"], row[f"{side}_interval"])
                assert shown == (m["mean"], [m["ci_low"], m["ci_high"]], m["interval"]), (key, row["metric"])
                assert m["interval"] == "total"
            past = listing[runs[key]]
            deaths = summary["metrics"]["deaths"]
            assert (past["deaths_mean"], past["deaths_ci_low"], past["deaths_ci_high"]) == (
                deaths["mean"], deaths["ci_low"], deaths["ci_high"],
            )  # fmt: skip
            head = cmp[side]
            assert (head["deaths_ci_low"], head["deaths_ci_high"]) == (deaths["ci_low"], deaths["ci_high"])


def test_the_difference_says_what_it_is(live_server: Any, runs: dict[str, str]) -> None:
    paired = _get(live_server, "/api/compare", a=runs["a"], b=runs["b"])
    assert paired["paired"] is True
    for row in paired["rows"]:
        assert row["method"] == "paired" and row["diff_kind"] == "mean_of_paired_differences"
        assert row["diff_interval"] == "total"  # the runs drew their parameters: the difference covers them
        lo, hi = row["diff_ci"]
        mc_lo, mc_hi = row["diff_mc_ci"]
        assert lo <= mc_lo <= row["diff"] <= mc_hi <= hi  # never narrower than chance alone
    care = next(r for r in paired["rows"] if r["metric"] == "median_time_to_care_s")
    assert 0 < care["n_values"] < 400  # only incidents with a critical casualty in both runs
    independent = _get(live_server, "/api/compare", a=runs["a"], b=runs["c"])
    assert independent["paired"] is False
    for row in independent["rows"]:
        assert row["method"] == "independent" and row["diff_kind"] == "difference_of_means"
        if row["metric"] in ("deaths", "killed", "wounded"):  # no missing values: B's mean minus A's
            assert row["diff"] == pytest.approx(row["b_mean"] - row["a_mean"], abs=1e-9)
            a_half, b_half = (row["a_ci"][1] - row["a_ci"][0]) / 2, (row["b_ci"][1] - row["b_ci"][0]) / 2
            assert row["diff_ci"][1] - row["diff_ci"][0] > max(a_half, b_half)


def _text(page: Any, selector: str) -> str:
    return " ".join(str(page.locator(selector).first.inner_text()).split())


def test_the_page_shows_one_interval_in_every_view(sized: Tab, runs: dict[str, str]) -> None:  # noqa: F811
    """Deaths of run A read the same on Results, Past runs and Compare (as the browser shows them), at
    1280x800 and on a 390x844 phone (where the tables are stacked rows)."""
    tab = sized
    a, b = runs["a"], runs["b"]
    tab.goto(f"/#run={a}")
    page = tab.page
    page.wait_for_selector(".summary-table")
    row = ".summary-table tr[data-metric='deaths']"
    results = f"{_text(page, f'{row} td.num')} ({_text(page, f'{row} .ci-cell')})"
    page.get_by_role("tab", name="Past runs").click()
    past = _text(page, f"#runs-table tr[data-run='{a}'] td.num:nth-child(6)")
    page.get_by_role("tab", name="Compare two runs").click()
    page.locator("#compare-a").select_option(a)
    page.locator("#compare-b").select_option(b)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector(".compare-table tbody tr")
    deaths = page.locator(".compare-table tbody tr", has_text="deaths").filter(has_not_text="awaiting").first
    cell = deaths.locator("td.num").first.inner_text().split("\n")
    compare = f"{cell[0].strip()} ({cell[1].strip()})"
    assert results == past == compare, (results, past, compare)
    assert "paired differences" in deaths.locator(".diff-kind").inner_text()
    note = page.locator(".interval-note").inner_text()
    assert "the one Results and Past runs show" in note and "calibration's own uncertainty" in note
    tab.screenshot(f"compare-one-interval-{page.viewport_size['width']}")
    tab.assert_local_only()
    tab.assert_no_console_errors()
