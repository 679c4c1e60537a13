"""The run's long-attack shares (issue 24): incidents lasting 10 minutes or more and barricades, with Wilson
intervals, in the JSON and the terminal."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest

from responsesim.api import long_attacks


def test_long_attack_shares_and_their_intervals() -> None:
    dur = np.array([30.0, 599.9, 600.0, 4000.0, 120.0, 900.0, 10.0, 60.0])
    barr = np.array([np.nan, 12.0, np.nan, 300.0, np.nan, np.nan, np.nan, np.nan])
    out = long_attacks({"attack_duration_s": dur, "barricade_s": barr})
    assert out["lasted_10min_plus"]["share"] == 3 / 8  # 600 s counts, 599.9 s does not
    assert out["barricaded"]["share"] == 2 / 8
    ci = binomtest(3, 8).proportion_ci(method="wilson")
    assert math.isclose(out["lasted_10min_plus"]["ci_low"], ci.low, rel_tol=1e-9)
    assert math.isclose(out["lasted_10min_plus"]["ci_high"], ci.high, rel_tol=1e-9)


def test_no_incident_gives_nan_not_an_error() -> None:
    out = long_attacks({"attack_duration_s": np.zeros(0), "barricade_s": np.zeros(0)})
    assert math.isnan(out["barricaded"]["share"]) and math.isnan(out["lasted_10min_plus"]["ci_low"])
