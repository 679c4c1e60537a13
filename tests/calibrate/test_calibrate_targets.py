"""Calibration targets: intervals equal scipy's, bins sum to 1, real-data counts, simulated values by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from responsesim.calibrate import reference
from responsesim.calibrate.endings import ENDING_CLASSES
from responsesim.calibrate.targets import (
    CASUALTY_BINS,
    SCOPE_NOTE,
    Target,
    bootstrap_mean_ci,
    comparison_table,
    in_scope,
    incident_table,
    observed_targets,
    simulated_values,
    split,
    targets_frame,
    wilson,
)

BINS = [label for label, _, _ in CASUALTY_BINS]


@pytest.fixture(scope="module")
def table(incidents: pd.DataFrame, narratives: pd.DataFrame) -> pd.DataFrame:
    return incident_table(incidents, narratives)


@pytest.fixture(scope="module")
def stats(reference_path: Path) -> dict:
    return reference.load_published_stats(reference_path / reference.STATS_FILE)


@pytest.fixture(scope="module")
def targets(table: pd.DataFrame, stats: dict) -> dict[str, Target]:
    return {t.name: t for t in observed_targets(table, stats)}


def scipy_wilson(k: int, n: int) -> tuple[float, float]:
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


@pytest.mark.parametrize(("k", "n"), [(0, 10), (23, 64), (44, 64), (107, 160), (21, 45), (9, 9)])
def test_wilson_equals_scipy(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(scipy_wilson(k, n), abs=1e-12)


def test_wilson_needs_n() -> None:
    with pytest.raises(ValueError, match="n > 0"):
        wilson(0, 0)


def test_bootstrap_is_reproducible_and_brackets_the_mean() -> None:
    x = np.array([0, 1, 1, 2, 3, 5, 8, 13, 0, 2], dtype=float)
    lo, hi = bootstrap_mean_ci(x)
    assert (lo, hi) == bootstrap_mean_ci(x)
    assert lo < x.mean() < hi
    assert bootstrap_mean_ci(np.array([4.0, 4.0])) == (4.0, 4.0)


def test_split_by_year() -> None:
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2013-12-31", "2014-01-01", "2019-12-31"])})
    train, held = split(df)
    assert train["date"].dt.year.tolist() == [2000, 2013]
    assert held["date"].dt.year.tolist() == [2014, 2019]
    with pytest.raises(ValueError, match="1999"):
        split(pd.DataFrame({"date": pd.to_datetime(["1999-06-01"])}))


def test_scope_note_and_building_kinds() -> None:
    assert "Open Space" in SCOPE_NOTE and "Residence" in SCOPE_NOTE
    df = pd.DataFrame(
        {"location": ["Education", "Commerce", "Open Space", "Residence", "Other", "Health Care"]}
    )
    assert in_scope(df)["building_kind"].tolist() == ["school", "office_like", "office_like"]


def test_in_scope_counts_match_independent_pandas(reference_path: Path, table: pd.DataFrame) -> None:
    raw = pd.read_csv(reference_path / reference.INCIDENTS_FILE)
    keep = ~raw["Location"].isin(["Open Space", "Residence", "Other"])
    year = pd.to_datetime(raw["Date"], format="%d-%b-%y").dt.year
    expected = (int(keep.sum()), int((keep & (year <= 2013)).sum()), int((keep & (year >= 2014)).sum()))
    scoped = in_scope(table)
    train, held = split(scoped)
    got = (len(scoped), len(train), len(held))
    print(f"in-scope incidents: all {got[0]}, train 2000-2013 {got[1]}, held out 2014-2019 {got[2]}")
    assert got == expected == (270, 154, 116)


def test_observed_targets_on_real_data(table: pd.DataFrame, targets: dict[str, Target]) -> None:
    n = len(in_scope(table))
    endings = [targets[f"ending_share.{c}"] for c in ENDING_CLASSES]
    assert all(t.n == n for t in endings)
    assert sum(t.observed for t in endings) == pytest.approx(1.0)
    for t in targets.values():
        assert t.ci_low <= t.observed <= t.ci_high, t.name
        assert t.source and t.description and t.kind in ("share", "mean", "quantile")
    for col in ("deaths", "wounded"):
        assert sum(targets[f"{col}_bin.{b}"].observed for b in BINS) == pytest.approx(1.0)
    # Wilson intervals are scipy's, for a data share
    k = round(targets["ending_share.fled"].observed * n)
    assert (targets["ending_share.fled"].ci_low, targets["ending_share.fled"].ci_high) == pytest.approx(
        scipy_wilson(k, n)
    )
    scoped = in_scope(table)
    assert targets["deaths_mean"].observed == pytest.approx(scoped["deaths"].mean())
    assert 2.0 < targets["deaths_mean"].observed < 5.0 and 2.0 < targets["wounded_mean"].observed < 6.0
    assert targets["deaths_bin.0"].observed == pytest.approx((scoped["deaths"] == 0).mean())
    assert targets["ending_share.other"].observed == 0.0  # bomb robot (Open Space), Joplin (Open Space)


def test_published_targets(targets: dict[str, Target]) -> None:
    t5, t2 = targets["ended_within_5min_share"], targets["ended_within_2min_share"]
    assert (t5.observed, t5.n) == (44 / 64, 64) and (t2.observed, t2.n) == (23 / 64, 64)
    assert (t5.ci_low, t5.ci_high) == pytest.approx(scipy_wilson(44, 64))
    before = targets["ended_before_police_share"]
    lo_a, hi_a = scipy_wilson(107, 160)
    lo_b, hi_b = scipy_wilson(96, 160)  # the 60.0% summary
    assert before.observed == 107 / 160
    assert (before.ci_low, before.ci_high) == pytest.approx((min(lo_a, lo_b), max(hi_a, hi_b)))
    shot = targets["officer_shot_given_engagement_share"]
    assert (shot.observed, shot.n) == (21 / 45, 45)
    assert all("Blair" in t.source for t in (t5, t2, before, shot))


def test_duration_tail_target(targets: dict[str, Target]) -> None:
    """Bracketed: at least the 4 in-scope 2000-2013 sieges at the scene of 154 (coded narratives), at most
    the 20 of 64 incidents of known duration that lasted over 5 min (published); value the midpoint."""
    tail = targets["lasted_10min_plus_share"]
    assert tail.n == 154
    assert tail.observed == pytest.approx((4 / 154 + 20 / 64) / 2)
    assert tail.ci_low == pytest.approx(scipy_wilson(4, 154)[0])
    assert tail.ci_high == pytest.approx(scipy_wilson(20, 64)[1])
    assert "Blair" in tail.source and "narratives" in tail.source
    assert "Giordano" in tail.description and "Tacoma Mall" in tail.description


def test_split_targets_differ_only_in_data_part(table: pd.DataFrame, stats: dict) -> None:
    train, held = split(table)
    a = {t.name: t for t in observed_targets(train, stats)}
    b = {t.name: t for t in observed_targets(held, stats)}
    assert a["ending_share.fled"].n == 154 and b["ending_share.fled"].n == 116
    assert a["ended_within_5min_share"] == b["ended_within_5min_share"]
    assert a["lasted_10min_plus_share"] == b["lasted_10min_plus_share"]  # always from 2000-2013


def outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deaths": [0, 1, 3, 8, 5],
            "wounded": [2, 0, 3, 12, 2],
            "end_reason": ["suicide_before_police", "fled", "police_shot", "police_shot", "ongoing"],
            "attack_duration_s": [100.0, 200.0, 400.0, 90.0, 900.0],
            "ended_before_police": [True, True, False, False, False],
            "first_contact_s": [np.nan, np.nan, 50.0, 20.0, 300.0],
            "officers_shot": [0, 0, 1, 0, 2],
            "first_shot_s": [12.0, 30.0, 8.0, 55.0, 20.0],
        }
    )


def test_attempts_without_a_shot_are_not_incidents() -> None:
    """A simulated attempt in which no shot was fired is left out of every target (the FBI data holds
    only incidents with shots fired)."""
    base = simulated_values(outcomes())
    no_shot = pd.DataFrame(
        {"deaths": [0], "wounded": [0], "end_reason": ["fled"], "attack_duration_s": [18.0],
         "ended_before_police": [True], "first_contact_s": [np.nan], "officers_shot": [0],
         "first_shot_s": [np.nan]}
    )  # fmt: skip
    with_attempt = simulated_values(pd.concat([outcomes(), no_shot], ignore_index=True))
    assert with_attempt == base
    only = simulated_values(no_shot)
    assert set(only) == set(base) and all(np.isnan(v) for v in only.values())


def test_simulated_values_by_hand() -> None:
    v = simulated_values(outcomes())
    expected = {
        "ending_share.attacker_before_police": 0.2,
        "ending_share.fled": 0.2,
        "ending_share.citizen_or_guard": 0.0,
        "ending_share.police_shot": 0.4,
        "ending_share.police_arrested": 0.0,
        "ending_share.suicide_on_police_arrival": 0.0,
        "ending_share.other": 0.2,
        "deaths_mean": 17 / 5,
        "wounded_mean": 19 / 5,
        "deaths_bin.0": 0.2,
        "deaths_bin.1": 0.2,
        "deaths_bin.2-3": 0.2,
        "deaths_bin.4-7": 0.2,
        "deaths_bin.8+": 0.2,
        "wounded_bin.0": 0.2,
        "wounded_bin.1": 0.0,
        "wounded_bin.2-3": 0.6,
        "wounded_bin.4-7": 0.0,
        "wounded_bin.8+": 0.2,
        "ended_within_5min_share": 0.6,  # 100, 200, 90 s
        "ended_within_2min_share": 0.4,  # 100, 90 s
        "lasted_10min_plus_share": 0.2,  # 900 s
        "ended_before_police_share": 0.4,
        "officer_shot_given_engagement_share": 2 / 3,  # engaged: rows 3-5, officers shot in rows 3 and 5
    }
    assert v == pytest.approx(expected)


def test_simulated_names_equal_target_names(targets: dict[str, Target]) -> None:
    assert set(simulated_values(outcomes())) == set(targets)


def test_simulated_values_edge_cases() -> None:
    df = outcomes().assign(first_contact_s=np.nan)
    assert math.isnan(simulated_values(df)["officer_shot_given_engagement_share"])
    with pytest.raises(ValueError, match="officers_shot"):
        simulated_values(outcomes().drop(columns="officers_shot"))
    with pytest.raises(KeyError, match="teleported"):
        simulated_values(outcomes().assign(end_reason="teleported"))


def test_comparison_table(targets: dict[str, Target]) -> None:
    cmp = comparison_table(list(targets.values()), simulated_values(outcomes()))
    assert cmp.index.tolist() == list(targets)
    assert {"observed", "ci_low", "ci_high", "simulated", "inside_ci"} <= set(cmp.columns)
    frame = targets_frame(list(targets.values()))
    assert frame.loc["ended_within_5min_share", "n"] == 64
