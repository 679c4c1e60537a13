"""The outcome table's per-replication median time to care equals ``np.median`` of each replication's
finite values (engine/run.py ``_median_by``, vectorised for speed)."""

from __future__ import annotations

import numpy as np

from responsesim.engine.run import _median_by


def test_median_by_matches_numpy_median() -> None:
    g = np.random.default_rng(3)
    for trial in range(200):
        r = int(g.integers(1, 50))
        m = int(g.integers(0, 300))
        pos = g.integers(0, r, m)
        v = g.lognormal(3.0, 1.0, m)
        v[g.random(m) < 0.2] = np.inf  # care never came
        v[g.random(m) < 0.05] = np.nan
        if trial % 3 == 0:
            v = np.round(v)  # ties
        ref = np.full(r, np.nan)
        for i in range(r):
            seg = v[pos == i]
            seg = seg[np.isfinite(seg)]
            if seg.size:
                ref[i] = float(np.median(seg))
        np.testing.assert_array_equal(_median_by(pos, v, r), ref, err_msg=f"trial {trial}")
