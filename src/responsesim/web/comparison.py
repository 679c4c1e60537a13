"""Side-by-side comparison of two stored runs: each run's mean with its interval, and the difference b - a.

One interval, one meaning (issue 26 item 2): each run's mean and interval are those of its stored summary,
the figures Results and Past runs show (with posterior draws they cover the calibration's uncertainty and
chance; otherwise chance alone), never an interval recomputed here.

The difference says what it is:

* **paired** (``diff_kind`` ``"mean_of_paired_differences"``): both runs used the same seed, replications
  and parameter draws, so replication k of one and of the other share their random numbers and their
  parameters; the difference is the mean of the per-incident differences over the ``n_pairs`` incidents
  with a value in both runs (a paired Student-t interval for chance, widened by the calibration's
  uncertainty when the runs drew parameters: ``compare.paired_interval``). It need not equal B's mean minus
  A's, which are over each run's own incidents.
* **independent** (``"difference_of_means"``): otherwise, B's mean minus A's over each run's incidents,
  with a Welch interval; when either run drew parameters, the two runs' own intervals combined
  (``sqrt(half_a**2 + half_b**2)``, never narrower than Welch): conservative, as the calibration's
  uncertainty moves both runs alike.

Missing values (e.g. no officer entered) are left out, and so are attempts in which no shot was fired
(``analysis.incidents``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from responsesim.analysis.incidents import incidents, paired_incidents
from responsesim.analysis.summary import DEFAULT_METRICS, parameter_half_width, t_ci, wilson_ci
from responsesim.compare import paired_interval

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


def _num(x: float | None) -> float | None:
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


def _draws(frame: pd.DataFrame) -> np.ndarray | None:
    """The posterior draw of each replication (None for a point-estimate run)."""
    if "draw" not in frame.columns or frame["draw"].isna().any():
        return None
    return frame["draw"].to_numpy(dtype=np.int64)


def _same_draws(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    da, db = _draws(a), _draws(b)
    return (da is None and db is None) or (da is not None and db is not None and np.array_equal(da, db))


def _run_figures(summary: dict[str, Any], metric: str, values: np.ndarray, share: bool) -> dict[str, Any]:
    """A run's mean and interval as Results shows them (its stored summary); computed from the incidents'
    values (chance alone) only for a metric the stored summary lacks."""
    m = (summary.get("metrics") or {}).get(metric) or {}
    if m.get("mean") is not None:
        return {"mean": m["mean"], "ci": [m.get("ci_low"), m.get("ci_high")],
                "interval": m.get("interval", "monte_carlo")}  # fmt: skip
    mean, lo, hi = _mean_ci(values, share)
    return {"mean": _num(mean), "ci": [_num(lo), _num(hi)], "interval": "monte_carlo"}


def _own_half(values: np.ndarray, draw: np.ndarray | None, confidence: float) -> float:
    """Half-width of a run's interval of the mean: parameters and chance with draws, else chance (t)."""
    ok = np.isfinite(values)
    if draw is not None:
        return parameter_half_width(values[ok], draw[ok], confidence)
    v = values[ok]
    if v.size < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + confidence / 2.0, v.size - 1)) * float(v.std(ddof=1)) / math.sqrt(v.size)


def _independent(
    va: np.ndarray, vb: np.ndarray, da: np.ndarray | None, db: np.ndarray | None, confidence: float
) -> tuple[float, float, float, str, float, float]:
    """(b - a, low, high, interval, MC low, MC high) of two independent runs' means."""
    diff, lo, hi = welch_diff(vb, va, confidence)
    if da is None and db is None:
        return diff, lo, hi, "monte_carlo", math.nan, math.nan
    half = math.hypot(_own_half(va, da, confidence), _own_half(vb, db, confidence))
    if math.isnan(half) or math.isnan(lo):
        return diff, lo, hi, "monte_carlo", math.nan, math.nan
    return diff, min(diff - half, lo), max(diff + half, hi), "total", lo, hi


def compare_rows(
    a: pd.DataFrame,
    b: pd.DataFrame,
    paired: bool,
    confidence: float = 0.95,
    summaries: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
) -> list[dict[str, Any]]:
    """One row per metric: each run's mean and interval (from ``summaries``, the stored run summaries, as
    Results shows them) and the difference ``b - a`` with its interval, labelled for what it is
    (``diff_kind``, ``method``, ``diff_interval``; module doc)."""
    if paired:
        a = a.sort_values("rep").reset_index(drop=True)
        b = b.sort_values("rep").reset_index(drop=True)
        same_reps = len(a) == len(b) and np.array_equal(a["rep"].to_numpy(), b["rep"].to_numpy())
        paired = same_reps and _same_draws(a, b)
    ia, ib = incidents(a), incidents(b)
    pa, pb = paired_incidents(a, b) if paired else (ia, ib)
    draw = _draws(pa) if paired else None
    rows: list[dict[str, Any]] = []
    for metric in COMPARE_METRICS:
        share = metric in _SHARES
        va, vb = _column(ia, metric), _column(ib, metric)
        fa, fb = _run_figures(summaries[0], metric, va, share), _run_figures(summaries[1], metric, vb, share)
        if paired:
            n, diff, lo, hi, kind, mc_lo, mc_hi = paired_interval(
                _column(pb, metric), _column(pa, metric), draw, confidence
            )
            n_values: Any = n
        else:
            diff, lo, hi, kind, mc_lo, mc_hi = _independent(va, vb, _draws(ia), _draws(ib), confidence)
            n_values = {"a": int(np.isfinite(va).sum()), "b": int(np.isfinite(vb).sum())}
        rows.append(
            {
                "metric": metric,
                "a_mean": fa["mean"],
                "a_ci": fa["ci"],
                "a_interval": fa["interval"],
                "b_mean": fb["mean"],
                "b_ci": fb["ci"],
                "b_interval": fb["interval"],
                "diff": _num(diff),
                "diff_ci": [_num(lo), _num(hi)],
                "diff_interval": kind,
                "diff_mc_ci": [_num(mc_lo), _num(mc_hi)],
                "diff_kind": "mean_of_paired_differences" if paired else "difference_of_means",
                "n_values": n_values,
                "method": "paired" if paired else ("welch" if kind == "monte_carlo" else "independent"),
            }
        )
    return rows
