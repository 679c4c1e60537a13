"""The agreement helper (analysis/agreement.py) has the error rates its level promises: under equal
distributions it rejects about ``alpha`` of the time, and it detects a real difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from responsesim.analysis.agreement import compare_outcomes, means_agree, shares_agree

TRIALS = 2000
ALPHA = 0.05


def _rate_band(p: float, n: int) -> tuple[float, float]:
    """99.9 % binomial interval for the observed rejection rate when the true rate is p."""
    lo, hi = stats.binom.interval(0.999, n, p)
    return lo / n, hi / n


def test_welch_rejects_alpha_of_the_time_under_the_null() -> None:
    g = np.random.default_rng(11)
    rejected = sum(
        not means_agree("x", g.normal(1.0, 1.0, 40), g.normal(1.0, 3.0, 25), ALPHA).agree
        for _ in range(TRIALS)
    )
    lo, hi = _rate_band(ALPHA, TRIALS)
    assert lo <= rejected / TRIALS <= hi


def test_welch_detects_a_shift() -> None:
    g = np.random.default_rng(12)
    # a shift of 1 sd with n = 200 each: power ~ 1 at alpha = 0.001
    assert not means_agree("x", g.normal(0.0, 1.0, 200), g.normal(1.0, 1.0, 200), 0.001).agree


def test_fisher_rejects_at_most_alpha_under_the_null() -> None:
    g = np.random.default_rng(13)
    n = 300
    rejected = sum(
        not shares_agree("s", int(g.binomial(n, 0.2)), n, int(g.binomial(n, 0.2)), n, ALPHA).agree
        for _ in range(TRIALS)
    )
    # Fisher's exact test is conservative: its rate is at most alpha
    assert rejected / TRIALS <= _rate_band(ALPHA, TRIALS)[1]
    assert not shares_agree("s", 30, 300, 90, 300, 0.001).agree


def test_constant_samples_agree_only_when_equal() -> None:
    assert means_agree("c", np.zeros(5), np.zeros(9), ALPHA).agree
    assert not means_agree("c", np.zeros(5), np.ones(9), ALPHA).agree


def test_compare_outcomes_reads_means_and_shares() -> None:
    a = pd.DataFrame({"deaths": [1, 2, 3, 4], "end_reason": ["fled", "fled", "citizens", "fled"],
                      "ended_before_police": [True, False, True, True]})  # fmt: skip
    res = compare_outcomes(a, a, ["deaths"], {"fled": ("fled",), "ended_before_police": None}, ALPHA)
    assert [r.name for r in res] == ["mean deaths", "share fled", "share ended_before_police"]
    assert all(r.agree for r in res)
    assert res[1].a == 0.75 and res[2].b == 0.75
