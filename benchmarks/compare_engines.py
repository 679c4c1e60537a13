"""Compare the outcome tables of two engine versions written by ``benchmarks/engine_tables.py``.

    python benchmarks/compare_engines.py OLD_DIR NEW_DIR

For every table present in both directories: the share of rows identical in every column (floats to a
relative 1e-9), and for deaths, killed and attack duration the paired mean difference (new - old) with its
95 % t interval (the same replications, so the pairing removes the common randomness). Exit 1 when a
paired difference is significant at the 0.1 % level, else 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

METRICS = ("deaths", "killed", "attack_duration_s")


def identical_rows(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    same = np.ones(len(a), dtype=bool)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
            same &= np.isclose(x.astype(float), y.astype(float), rtol=1e-9, atol=0, equal_nan=True)
        else:
            text = [pd.Series(v).fillna("").astype(str).to_numpy() for v in (x, y)]
            same &= text[0] == text[1]
    return same


def main() -> int:
    old_dir, new_dir = (Path(x) for x in sys.argv[1:3])
    bad = False
    print(f"{'table':32} {'rows':>6} {'identical':>10}  paired difference new - old (95% CI)")
    for f in sorted(old_dir.glob("*.csv")):
        g = new_dir / f.name
        if not g.exists():
            continue
        a, b = pd.read_csv(f), pd.read_csv(g)
        if list(a["rep"]) != list(b["rep"]):
            print(f"{f.stem}: different replications, not comparable")
            bad = True
            continue
        same = identical_rows(a, b)
        parts = []
        for m in METRICS:
            d = b[m].to_numpy(float) - a[m].to_numpy(float)
            d = d[~np.isnan(d)]
            if d.size < 2 or d.std() == 0:
                parts.append(f"{m} {d.mean() if d.size else 0:+.3g} (exact)")
                continue
            res = stats.ttest_1samp(d, 0.0)
            ci = res.confidence_interval(0.95)
            parts.append(f"{m} {d.mean():+.3g} ({ci.low:+.3g} to {ci.high:+.3g})")
            bad |= bool(res.pvalue < 0.001)
        print(f"{f.stem:32} {len(a):6d} {same.mean():10.1%}  " + "; ".join(parts))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
