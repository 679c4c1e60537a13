"""The outcome table's per-replication median time to care equals ``np.median`` of the replication's
finite values (engine/rules.py ``median_in_place``, which sorts in place without allocating)."""

from __future__ import annotations

import numpy as np

from responsesim.engine.rules import median_in_place


def test_median_in_place_matches_numpy_median() -> None:
    g = np.random.default_rng(3)
    for trial in range(300):
        m = int(g.integers(0, 60))
        v = g.lognormal(3.0, 1.0, m + 5)  # a scratch buffer longer than the values
        if trial % 3 == 0:
            v = np.round(v)  # ties
        want = float(np.median(v[:m])) if m else np.nan
        got = median_in_place(v, m)
        np.testing.assert_equal(got, want, err_msg=f"trial {trial}")
        assert (np.diff(v[:m]) >= 0).all()
