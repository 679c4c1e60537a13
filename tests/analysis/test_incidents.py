"""An incident starts at the first shot: attempts without a shot are counted apart (analysis/incidents.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from responsesim.analysis.incidents import attempts, incidents, paired_incidents, shot_fired


def _table(first_shot: list[float]) -> pd.DataFrame:
    n = len(first_shot)
    return pd.DataFrame({"rep": np.arange(n), "first_shot_s": first_shot, "deaths": np.arange(n)})


def test_attempts_and_incidents() -> None:
    df = _table([3.0, np.nan, 10.0, np.nan, 7.0])
    assert list(shot_fired(df)) == [True, False, True, False, True]
    assert list(incidents(df)["rep"]) == [0, 2, 4]
    a = attempts(df)
    assert (a.attempts, a.incidents, a.no_shot) == (5, 3, 2)
    assert a.no_shot_share == 0.4
    ci = stats.binomtest(2, 5).proportion_ci(method="wilson")
    assert (a.no_shot_low, a.no_shot_high) == pytest.approx((ci.low, ci.high))
    js = a.to_json()
    assert js["no_shot_fired"]["count"] == 2 and js["incidents"] == 3 and "first shot" in js["rule"]
    assert "2 of 5 simulated attempts (40.0%)" in a.sentence()


def test_paired_incidents_keep_replications_that_are_incidents_in_both() -> None:
    a = _table([3.0, np.nan, 10.0, 4.0])
    b = _table([3.0, 5.0, np.nan, 4.0])
    x, y = paired_incidents(a, b)
    assert list(x["rep"]) == list(y["rep"]) == [0, 3]
    with pytest.raises(ValueError, match="same replications"):
        paired_incidents(a, b.iloc[::-1])


def test_empty_table() -> None:
    a = attempts(_table([]))
    assert a.attempts == 0 and np.isnan(a.no_shot_share)
    assert a.to_json()["no_shot_fired"]["share"] is None
