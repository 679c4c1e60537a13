"""Side-by-side comparison of two stored runs: means with intervals, and the difference b - a.

When both runs used the same seed and the same number of replications, replication k of one and of the
other share their random numbers (common random numbers), so the difference gets a paired Student-t
interval (``compare.paired_diff``); otherwise the runs are independent and the difference gets a Welch
interval. Missing values (e.g. no officer entered) are left out (pairwise when paired), and so are
attempts in which no shot was fired (``analysis.incidents``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from responsesim.analysis.incidents import incidents, paired_incidents
from responsesim.analysis.summary import DEFAULT_METRICS, t_ci, wilson_ci
from responsesim.compare import paired_diff

__all__ = ["COMPARE_METRICS", "compare_rows", "welch_diff"]

COMPARE_METRICS: tuple[str, ...] = tuple(m.column for m in DEFAULT_METRICS)
_SHARES = {m.column for m in DEFAULT_METRICS if m.kind == "share"}


def welch_diff(b: np.ndarray, a: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean(b) - mean(a), CI low, CI high) with the Welch-Satterthwaite t interval; NaN if either has < 2
    values. Two constant samples give a zero-width interval."""
    b = b[np.isfinite(b)]
    a = a[np.isfinite(a)]
    if a.size < 2 or b.size < 2:
        diff = float(b.mean() - a.mean()) if a.size and b.size else math.nan
        return diff, math.nan, math.nan
    diff = float(b.mean() - a.mean())
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    se2 = va + vb
    if se2 == 0:
        return diff, diff, diff
    dof = se2**2 / ((va**2 / (a.size - 1) if va else 0.0) + (vb**2 / (b.size - 1) if vb else 0.0))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, dof)) * math.sqrt(se2)
    return diff, diff - half, diff + half


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _mean_ci(values: np.ndarray, share: bool) -> tuple[float, float, float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    if share:
        lo, hi = wilson_ci(int(v.sum()), int(v.size))
    else:
        lo, hi = t_ci(v)
    return float(v.mean()), lo, hi


def _column(frame: pd.DataFrame, metric: str) -> np.ndarray:
    if metric not in frame.columns:
        return np.full(len(frame), np.nan)
    col = frame[metric]
    if col.dtype == object or col.dtype == bool:
        col = col.map(lambda x: np.nan if x is None or (isinstance(x, float) and math.isnan(x)) else float(x))
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


def compare_rows(
    a: pd.DataFrame, b: pd.DataFrame, paired: bool, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """One row per metric: means with intervals of ``a`` and ``b`` and the difference ``b - a``, over the
    incidents (attempts with a shot fired; paired: replications that are incidents in both runs)."""
    if paired:
        a = a.sort_values("rep").reset_index(drop=True)
        b = b.sort_values("rep").reset_index(drop=True)
        if len(a) != len(b) or not np.array_equal(a["rep"].to_numpy(), b["rep"].to_numpy()):
            paired = False
    if paired:
        a, b = paired_incidents(a, b)
    else:
        a, b = incidents(a), incidents(b)
    rows: list[dict[str, Any]] = []
    for metric in COMPARE_METRICS:
        va, vb = _column(a, metric), _column(b, metric)
        share = metric in _SHARES
        ma, la, ha = _mean_ci(va, share)
        mb, lb, hb = _mean_ci(vb, share)
        if paired:
            _, diff, lo, hi = paired_diff(vb, va, confidence)
        else:
            diff, lo, hi = welch_diff(vb, va, confidence)
        rows.append(
            {
                "metric": metric,
                "a_mean": _num(ma),
                "a_ci": [_num(la), _num(ha)],
                "b_mean": _num(mb),
                "b_ci": [_num(lb), _num(hb)],
                "diff": _num(diff),
                "diff_ci": [_num(lo), _num(hi)],
                "method": "paired" if paired else "welch",
            }
        )
    return rows
