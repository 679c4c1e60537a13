"""Paired go/wait math, slopes, levers and the report figures on small synthetic tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from responsesim.sweep.analysis import (
    crossing,
    delay_slope,
    go_wait_table,
    lever_table,
    paired_differences,
    t_ci,
    thresholds,
)
from responsesim.sweep.report import plot_delay, plot_go_wait, plot_levers, summary_lines, write_index

GAP = "responders.patrol.gap_mean_s"


def go_wait_reps(n_reps: int = 40) -> pd.DataFrame:
    """Solo deaths = noise_r; wait_for_n deaths = noise_r + (gap - 100 n) / 100: crosses 0 at gap = 100 n."""
    rng = np.random.default_rng(1)
    noise = rng.poisson(3.0, n_reps).astype(float)
    rows = []
    for gap in (0.0, 150.0, 300.0, 450.0):
        for r in range(n_reps):
            for n in (2, 3, 4):  # the solo point is stored once per n, as in the sweep's cartesian product
                rows.append(
                    {"rep": r, GAP: gap, "doctrine.kind": "solo_entry", "doctrine.n": n, "deaths": noise[r]}
                )
                d = noise[r] + (gap - 100 * n) / 100
                rows.append({"rep": r, GAP: gap, "doctrine.kind": "wait_for_n", "doctrine.n": n, "deaths": d})
    return pd.DataFrame(rows)


def test_paired_differences_pair_by_rep() -> None:
    a = pd.DataFrame({"rep": [2, 0, 1], "deaths": [12.0, 10.0, 11.0]})
    b = pd.DataFrame({"rep": [0, 1, 2, 3], "deaths": [9.0, 10.0, 11.0, 50.0]})
    m, lo, hi, k = paired_differences(a, b, "deaths")
    assert k == 3 and m == pytest.approx(1.0)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)  # constant difference: zero-width CI


def test_go_wait_table_is_exact_with_common_noise() -> None:
    table = go_wait_table(go_wait_reps(), gap=GAP)
    assert len(table) == 4 * 3
    row = table[(table["n"] == 3) & (table["gap"] == 450.0)].iloc[0]
    assert row["diff_mean"] == pytest.approx(1.5)
    assert row["diff_ci_high"] - row["diff_ci_low"] == pytest.approx(0.0, abs=1e-12)  # noise cancels
    assert row["pairs"] == 40
    th = {t.n: t for t in thresholds(table)}
    assert th[2].gap == pytest.approx(200.0)
    assert th[3].gap == pytest.approx(300.0)
    assert th[4].gap == pytest.approx(400.0) and not th[4].below_range


def test_crossing() -> None:
    x = np.array([0.0, 100.0, 200.0])
    assert crossing(x, np.array([-1.0, -0.5, 0.5])) == pytest.approx(150.0)
    assert crossing(x, np.array([1.0, 2.0, 3.0])) == 0.0
    assert crossing(x, np.array([-1.0, -2.0, -3.0])) is None
    assert crossing(x[::-1], np.array([0.5, -0.5, -1.0])) == pytest.approx(150.0)  # unsorted input


def test_delay_slope_recovers_per_minute_slope() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(5, 2, 50)
    rows = [
        {"rep": r, "doctrine.delay_s": x, "deaths": base[r] + 0.5 * x / 60 + rng.normal(0, 0.1)}
        for x in range(0, 601, 60)
        for r in range(50)
    ]
    s = delay_slope(pd.DataFrame(rows), "doctrine.delay_s", "deaths")
    assert s.ci_low < 0.5 < s.ci_high and s.ci_high - s.ci_low < 0.05
    assert s.n_reps == 50 and s.per == "minute"


def test_t_ci_handles_small_samples() -> None:
    assert np.isnan(t_ci(np.array([]))[0])
    m, lo, hi = t_ci(np.array([1.0]))
    assert m == 1.0 and np.isnan(lo) and np.isnan(hi)


def lever_reps() -> pd.DataFrame:
    rows = []
    for sro in (True, False):
        for lock in (None, 0, 60):
            for r in range(30):
                d = 5 + r % 3 + (0 if sro else 2) - (1 if lock == 0 else 0)
                rows.append(
                    {"rep": r, "sro": sro, "lock": lock, "deaths": float(d), "died_awaiting_care": d / 5}
                )
    return pd.DataFrame(rows)


def test_lever_table_one_change_at_a_time() -> None:
    t = lever_table(lever_reps(), ["sro", "lock"], {"sro": True, "lock": None})
    deaths = t[t["metric"] == "deaths"].set_index("label")
    assert list(deaths.index) == ["baseline", "sro = false", "lock = 0", "lock = 60"]
    assert deaths.loc["sro = false", "diff_mean"] == pytest.approx(2.0)
    assert deaths.loc["lock = 0", "diff_mean"] == pytest.approx(-1.0)
    assert deaths.loc["lock = 60", "diff_mean"] == pytest.approx(0.0)
    assert deaths.loc["baseline", "n"] == 30


def test_plots_write_pngs_and_index(tmp_path: Path) -> None:
    gw = plot_go_wait(go_wait_reps(10), tmp_path / "go_wait.png", "go/wait", gap=GAP)
    rng = np.random.default_rng(3)
    delay = pd.DataFrame(
        [
            {"rep": r, "doctrine.delay_s": x, "deaths": rng.poisson(2 + x / 300), "died_awaiting_care": 0.0}
            for x in (0, 60, 120)
            for r in range(20)
        ]
    )
    dl = plot_delay(delay, tmp_path / "delay.png", "delay")
    lv = plot_levers(lever_reps(), ["sro", "lock"], {"sro": True, "lock": None}, tmp_path / "levers.png")
    for stem, kind, figs in (("go_wait", "go_wait", gw), ("delay", "delay", dl), ("levers", "levers", lv)):
        png = tmp_path / f"{stem}.png"
        assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
        doc = {"stem": stem, "kind": kind, "name": stem, "command": "x", "png": png.name, "figures": figs}
        assert summary_lines(json.loads(json.dumps(doc, default=str)))
        (tmp_path / f"{stem}.json").write_text(json.dumps(doc, default=str))
    page = write_index(tmp_path).read_text()
    assert page.count("<img") == 3 and "go_wait.png" in page


def test_paired_difference_covers_parameter_uncertainty() -> None:
    """Paired differences at posterior draws: 50 draws whose true difference varies with sd 0.3 around 0.5,
    20 replications each with noise sd 1. The interval is the chance-only t interval widened to
    1.96 * sqrt(between^2 + se^2), between ~ 0.3: its half-width lies within the sampling error of that sd
    (a 50-draw sd estimate has a relative standard error of about 1 / sqrt(2 * 49) = 10%; 4 of them)."""
    import numpy as np
    import pandas as pd

    from responsesim.sweep.analysis import paired_differences, t_ci

    rng = np.random.default_rng(11)
    k, r = 50, 20
    mu = rng.normal(0.5, 0.3, k)
    draw = np.repeat(np.arange(k), r)
    d = mu[draw] + rng.normal(0.0, 1.0, k * r)
    a = pd.DataFrame({"rep": np.arange(k * r), "deaths": d, "draw": draw})
    b = pd.DataFrame({"rep": np.arange(k * r), "deaths": np.zeros(k * r), "draw": draw})
    _, lo, hi, n = paired_differences(a, b, "deaths")
    _, clo, chi = t_ci(d)
    assert n == k * r and lo <= clo and hi >= chi
    se = d.std(ddof=1) / np.sqrt(k * r)
    expected = 1.96 * np.sqrt(0.3**2 + se**2)
    assert abs((hi - lo) / 2 - expected) < 0.4 * expected
    # without draws the interval is chance only
    _, lo2, hi2, _ = paired_differences(a.drop(columns="draw"), b.drop(columns="draw"), "deaths")
    assert (lo2, hi2) == (clo, chi)
