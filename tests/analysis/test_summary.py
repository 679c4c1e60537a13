"""Tests for outcome summaries: intervals against textbook formulas, coverage, quartiles, missing values."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from responsesim.analysis import (
    DEFAULT_METRICS,
    Metric,
    Summary,
    end_reason_shares,
    summarize,
    summary_frame,
    summary_json,
)
from responsesim.analysis.summary import t_ci, wilson_ci


def outcomes(n: int = 200, seed: int = 1) -> pd.DataFrame:
    """A synthetic outcomes frame with every default metric column."""
    rng = np.random.default_rng(seed)
    killed = rng.poisson(3.0, n)
    died = rng.poisson(1.0, n)
    entry = rng.lognormal(5.0, 0.5, n)
    entry[rng.random(n) < 0.2] = np.nan  # no officer entered
    return pd.DataFrame(
        {
            "killed": killed,
            "died_awaiting_care": died,
            "deaths": killed + died,
            "wounded": rng.poisson(4.0, n),
            "evacuated": rng.poisson(300.0, n),
            "attack_duration_s": rng.lognormal(5.5, 0.6, n),
            "first_entry_s": entry,
            "median_time_to_care_s": np.where(rng.random(n) < 0.5, rng.lognormal(6.5, 0.4, n), np.nan),
            "officers_shot": rng.binomial(2, 0.1, n),
            "ended_before_police": rng.random(n) < 0.3,
            "end_reason": rng.choice(["stopped", "suicide", "horizon"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def by_name(summaries: list[Summary]) -> dict[str, Summary]:
    return {s.name: s for s in summaries}


def test_default_metrics_order_and_kinds() -> None:
    assert [m.column for m in DEFAULT_METRICS] == [
        "killed",
        "died_awaiting_care",
        "deaths",
        "wounded",
        "evacuated",
        "attack_duration_s",
        "first_entry_s",
        "median_time_to_care_s",
        "officers_shot",
        "ended_before_police",
    ]
    kinds = {m.column: m.kind for m in DEFAULT_METRICS}
    assert kinds["attack_duration_s"] == kinds["first_entry_s"] == "time"
    assert kinds["ended_before_police"] == "share"
    assert kinds["killed"] == "count"
    summaries = summarize(outcomes())
    assert [s.name for s in summaries] == [m.column for m in DEFAULT_METRICS]


def test_t_interval_equals_textbook_formula() -> None:
    x = np.random.default_rng(20260101).normal(10.0, 3.0, 200)
    (s,) = summarize(pd.DataFrame({"t": x}), [Metric("t", "t", "s", "time")])
    n = len(x)
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)
    assert s.n == 200 and s.n_missing == 0
    assert s.mean == pytest.approx(x.mean(), rel=1e-12)
    assert s.ci_low == pytest.approx(x.mean() - half, rel=1e-12)
    assert s.ci_high == pytest.approx(x.mean() + half, rel=1e-12)
    # a 90 % interval is narrower by the ratio of the t quantiles
    (s90,) = summarize(pd.DataFrame({"t": x}), [Metric("t", "t", "s", "time")], confidence=0.90)
    ratio = (s90.ci_high - s90.ci_low) / (s.ci_high - s.ci_low)
    assert ratio == pytest.approx(stats.t.ppf(0.95, n - 1) / stats.t.ppf(0.975, n - 1), rel=1e-12)


def test_quartiles_match_numpy_percentiles() -> None:
    x = np.random.default_rng(7).exponential(60.0, 101)
    (s,) = summarize(pd.DataFrame({"t": x}), [Metric("t", "t", "s", "time")])
    q25, q50, q75 = np.percentile(x, [25, 50, 75])
    assert (s.q25, s.median, s.q75) == pytest.approx((q25, q50, q75), rel=1e-12)
    assert s.q25 <= s.median <= s.q75


def test_wilson_equals_formula() -> None:
    k, n, z = 17, 50, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_ci(k, n) == pytest.approx((centre - half, centre + half), rel=1e-9)
    df = pd.DataFrame({"b": [True] * k + [False] * (n - k)})
    (s,) = summarize(df, [Metric("b", "b", "", "share")])
    assert (s.mean, s.ci_low, s.ci_high) == pytest.approx((p, centre - half, centre + half), rel=1e-9)
    assert math.isnan(s.median) and math.isnan(s.q25) and math.isnan(s.q75)


def test_wilson_coverage_within_binomial_tolerance() -> None:
    """Over 2000 datasets of n=50 Bernoulli(0.3), the 95 % Wilson CI covers 0.3 in 93-97 % of cases.

    The exact coverage c of the interval at n=50, p=0.3 is the binomial probability of the k whose
    interval contains p (about 0.957). The number of covering datasets is Binomial(2000, c), so the
    observed rate must lie within 4 binomial standard deviations of c (false alarm < 1e-4), and in the
    nominal band [93 %, 97 %] (about 2.9 standard deviations above c: false alarm about 0.2 %).
    """
    trials, n, p, level = 2000, 50, 0.3, 0.95
    exact = sum(
        stats.binom.pmf(k, n, p)
        for k in range(n + 1)
        if wilson_ci(k, n, level)[0] <= p <= wilson_ci(k, n, level)[1]
    )
    tol = 4.0 * math.sqrt(exact * (1 - exact) / trials)  # about 0.018
    assert 0.94 <= exact <= 0.96  # Wilson is close to nominal here

    rng = np.random.default_rng(12345)
    metric = [Metric("b", "b", "", "share")]
    covered = 0
    for _ in range(trials):
        (s,) = summarize(pd.DataFrame({"b": rng.random(n) < p}), metric, confidence=level)
        covered += s.ci_low <= p <= s.ci_high
    assert abs(covered / trials - exact) <= tol, covered / trials
    assert 0.93 <= covered / trials <= 0.97


def test_t_coverage_within_binomial_tolerance() -> None:
    trials, n, mu, level = 2000, 30, 5.0, 0.95
    rng = np.random.default_rng(777)
    covered = 0
    for _ in range(trials):
        low, high = t_ci(rng.normal(mu, 2.0, n), level)
        covered += low <= mu <= high
    tol = 4.0 * math.sqrt(level * (1 - level) / trials)
    assert abs(covered / trials - level) <= tol, covered / trials


def test_missing_values_counted_and_skipped() -> None:
    x = np.array([1.0, np.nan, 3.0, 5.0, np.nan])
    (s,) = summarize(pd.DataFrame({"t": x}), [Metric("t", "t", "s", "time")])
    assert (s.n, s.n_missing) == (3, 2)
    assert s.mean == pytest.approx(3.0)
    assert s.median == pytest.approx(3.0)


def test_first_entry_missing_reported() -> None:
    df = outcomes()
    s = by_name(summarize(df))["first_entry_s"]
    assert s.n_missing == int(df["first_entry_s"].isna().sum()) > 0
    assert s.n + s.n_missing == len(df)
    assert s.mean == pytest.approx(np.nanmean(df["first_entry_s"]))


def test_all_nan_time_gives_nan_not_error() -> None:
    df = outcomes(20)
    df["first_entry_s"] = np.nan
    s = by_name(summarize(df))["first_entry_s"]
    assert (s.n, s.n_missing) == (0, 20)
    for v in (s.mean, s.ci_low, s.ci_high, s.median, s.q25, s.q75):
        assert math.isnan(v)
    assert s.to_dict()["mean"] is None


def test_constant_column_zero_width() -> None:
    df = pd.DataFrame({"c": [0.1] * 50, "k": [0] * 50})
    a, b = summarize(df, [Metric("c", "c", "s", "time"), Metric("k", "k", "people", "count")])
    assert a.ci_low == a.ci_high == a.mean == 0.1
    assert b.ci_low == b.ci_high == b.mean == 0.0


def test_single_value_has_no_interval() -> None:
    (s,) = summarize(pd.DataFrame({"t": [4.0]}), [Metric("t", "t", "s", "time")])
    assert s.mean == 4.0 and s.median == 4.0
    assert math.isnan(s.ci_low) and math.isnan(s.ci_high)


def test_share_with_missing_and_nullable_boolean() -> None:
    col = pd.array([True, False, None, True], dtype="boolean")
    (s,) = summarize(pd.DataFrame({"b": col}), [Metric("b", "b", "", "share")])
    assert (s.n, s.n_missing, s.mean) == (3, 1, pytest.approx(2 / 3))
    with pytest.raises(ValueError, match="booleans"):
        summarize(pd.DataFrame({"b": ["yes", "no"]}), [Metric("b", "b", "", "share")])


def test_errors() -> None:
    with pytest.raises(KeyError, match="deaths"):
        summarize(outcomes().drop(columns=["deaths"]))
    with pytest.raises(ValueError, match="confidence"):
        summarize(outcomes(), confidence=95)
    with pytest.raises(ValueError, match="kind"):
        Metric("x", "x", "s", "ratio")  # type: ignore[arg-type]


def test_frame_and_json() -> None:
    summaries = summarize(outcomes())
    frame = summary_frame(summaries)
    assert list(frame.index) == [m.column for m in DEFAULT_METRICS]
    assert frame.loc["killed", "mean"] == summaries[0].mean
    assert math.isnan(frame.loc["ended_before_police", "median"])
    obj = summary_json(summaries, {"confidence": 0.95, "replications": 200})
    assert obj["confidence"] == 0.95 and obj["replications"] == 200
    assert list(obj["metrics"]) == [m.column for m in DEFAULT_METRICS]
    assert set(obj["metrics"]["killed"]) == set(Summary.__dataclass_fields__)
    assert obj["metrics"]["ended_before_police"]["median"] is None
    json.dumps(obj, allow_nan=False)  # strict JSON: no NaN
    with pytest.raises(ValueError, match="metrics"):
        summary_json(summaries, {"metrics": 1})


def test_end_reason_shares() -> None:
    df = pd.DataFrame({"end_reason": ["stopped"] * 6 + ["suicide"] * 3 + ["horizon"] + [None] * 2})
    shares = end_reason_shares(df)
    assert list(shares) == ["stopped", "suicide", "horizon"]
    assert sum(v[0] for v in shares.values()) == pytest.approx(1.0)
    assert shares["stopped"][0] == pytest.approx(0.6)
    assert shares["suicide"][1:] == pytest.approx(wilson_ci(3, 10))
    for share, low, high in shares.values():
        assert low <= share <= high


def test_parameter_spread_recovers_the_between_draw_sd() -> None:
    """values = theta_d + noise, theta_d ~ N(0, tau^2), noise ~ N(0, sigma^2), m replications per draw:
    the method-of-moments estimate of tau^2 has sd about sqrt(2 / (K - 1)) (tau^2 + sigma^2 / m); the
    tolerance is 5 of those sds."""
    from responsesim.analysis.summary import parameter_spread

    k, m, sigma = 400, 25, 3.0
    for tau in (1.0, 0.0):
        g = np.random.default_rng(17 + int(tau))
        theta = g.normal(0.0, tau, k)
        draw = np.repeat(np.arange(k), m)
        values = theta[draw] + g.normal(0.0, sigma, k * m)
        between, se = parameter_spread(values, draw)
        sd_est = np.sqrt(2 / (k - 1)) * (tau**2 + sigma**2 / m)
        assert abs(between**2 - tau**2) < 5 * sd_est, (tau, between)
        # the pooled mean's standard error: sqrt(var(draw means) / K)
        assert se == pytest.approx(np.sqrt((tau**2 + sigma**2 / m) / k), rel=0.25)


def test_intervals_respect_the_range_of_the_quantity() -> None:
    """Three incidents with deaths 0, 0, 12: the t interval of the mean would reach below 0 (about -13);
    deaths cannot be negative, so the interval starts at 0. Shares stay within 0-1; a time that can be
    negative (first entry before the first shot) is not clipped."""
    import pandas as pd

    from responsesim.analysis.summary import DEFAULT_METRICS, summarize

    df = pd.DataFrame({
        "killed": [0, 0, 12], "died_awaiting_care": [0, 0, 1], "deaths": [0, 0, 13], "wounded": [0, 1, 9],
        "evacuated": [0, 300, 0], "attack_duration_s": [5.0, 10.0, 900.0],
        "first_entry_s": [-60.0, -50.0, 40.0], "median_time_to_care_s": [float("nan"), 300.0, 2000.0],
        "officers_shot": [0, 0, 1], "ended_before_police": [True, False, False],
    })  # fmt: skip
    out = {s.name: s for s in summarize(df, DEFAULT_METRICS)}
    for name in ("killed", "deaths", "evacuated", "attack_duration_s", "officers_shot"):
        assert out[name].ci_low >= 0, name
        assert out[name].ci_high > out[name].mean
    assert out["first_entry_s"].ci_low < -50  # unbounded below: the plain t interval
    assert 0 <= out["ended_before_police"].ci_low <= out["ended_before_police"].ci_high <= 1
