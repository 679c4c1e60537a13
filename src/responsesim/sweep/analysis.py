"""Figures of the built-in sweeps, computed from the stored replications.

Every point of a sweep uses the same seed and replication indices (common random numbers), so two points
can be compared replication by replication: the difference of their outcomes in replication ``r`` is one
paired observation, and the mean of the paired differences has a much tighter CI than the difference of
two independent means. All CIs here are Student t intervals over replications (the independent units).

* ``delay_slope``: deaths per minute of entry delay (per-replication least-squares slopes, averaged).
* ``paired_differences`` / ``go_wait_table`` / ``crossing``: wait-for-n minus solo entry vs backup gap, and
  the gap above which going alone is better.
* ``lever_table``: each one-lever change from a baseline point, paired with the baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from responsesim.analysis.incidents import incidents
from responsesim.analysis.summary import parameter_half_width
from responsesim.sweep.store import SweepStore

NEVER = "never"


def t_ci(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student t CI of ``x`` (NaN bounds with fewer than two values)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def value_key(v: Any) -> str:
    """A hashable, printable key for a parameter value (``None`` = never)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):  # pandas stores None as NaN in numbers
        return NEVER
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def load_replications(out: Path, sweep_id: str) -> pd.DataFrame:
    """Every stored replication of a sweep that is an incident (a shot was fired: ``analysis.incidents``),
    with one column per swept parameter (its value as stored)."""
    with SweepStore(out, read_only=True) as store:
        points = store.points(sweep_id)
        reps = store.replications(sweep_id)
    reps = incidents(reps)
    params = pd.DataFrame([json.loads(s) for s in points["params_json"]])
    params["point_id"] = points["point_id"].to_numpy()
    return reps.merge(params, on="point_id", how="left")


# ---------------------------------------------------------------------------------------- delay slope
@dataclass(frozen=True)
class Slope:
    """A fitted slope of ``metric`` per unit of the x parameter, with its CI over replications."""

    metric: str
    per: str
    slope: float
    ci_low: float
    ci_high: float
    n_reps: int
    interval: str = "monte_carlo"  # "total": parameter uncertainty (posterior draws) and chance
    mc_low: float = float("nan")
    mc_high: float = float("nan")


def delay_slope(
    reps: pd.DataFrame, x: str, metric: str, per_s: float = 60.0, confidence: float = 0.95
) -> Slope:
    """Slope of ``metric`` vs ``x`` (seconds), in units per ``per_s`` seconds (default: per minute).

    Each replication index is run at every x (common random numbers): its own least-squares slope over
    the x values is one independent observation; the result is their mean and Student t CI. (This equals
    the pooled least-squares slope when every replication is complete, with an honest CI.)
    """
    wide = reps.pivot_table(index="rep", columns=x, values=metric, aggfunc="mean").dropna()
    xs = np.array(wide.columns, dtype=float)
    xc = xs - xs.mean()
    denom = float((xc**2).sum())
    if len(xs) < 2 or denom == 0:
        raise ValueError(f"need at least two distinct values of {x} to fit a slope")
    slopes = (wide.to_numpy(float) @ xc) / denom * per_s
    m, lo, hi = t_ci(slopes, confidence)
    per = "minute" if per_s == 60 else f"{per_s:g} s"
    if "draw" in reps.columns and (reps["draw"] >= 0).all():
        # replications ran at posterior draws: the interval covers parameter uncertainty and chance
        draw = reps.groupby("rep")["draw"].first().reindex(wide.index).to_numpy()
        tlo, thi, total = with_draws(slopes, draw, m, lo, hi, confidence)
        if total:
            return Slope(metric, per, m, tlo, thi, len(slopes), "total", lo, hi)
    return Slope(metric, per, m, lo, hi, len(slopes))


def point_means(reps: pd.DataFrame, by: list[str], metric: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t CI of ``metric`` per combination of ``by`` (columns ``mean, ci_low, ci_high, n``)."""
    rows = []
    for key, g in reps.groupby(by, sort=True, dropna=False):
        key_t = key if isinstance(key, tuple) else (key,)
        m, lo, hi = t_ci(g[metric].to_numpy(float), confidence)
        rows.append(
            {**dict(zip(by, key_t, strict=True)), "mean": m, "ci_low": lo, "ci_high": hi, "n": len(g)}
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- go / wait
def with_draws(
    values: np.ndarray, draw: np.ndarray | None, m: float, lo: float, hi: float, confidence: float
) -> tuple[float, float, bool]:
    """Widen the chance-only interval ``lo``-``hi`` of the mean ``m`` of ``values`` to cover the
    calibration's parameter uncertainty when the replications ran at posterior draws (``draw`` >= 0, two or
    more of them): ``parameter_half_width``, never narrower than chance alone. The flag says whether the
    parameters' uncertainty could be counted (the interval is then the "total" one)."""
    if draw is None:
        return lo, hi, False
    draw = np.asarray(draw)
    ok = draw >= 0
    if np.unique(draw[ok]).size < 2:
        return lo, hi, False
    half = parameter_half_width(np.asarray(values, float)[ok], draw[ok], confidence)
    if np.isnan(half):
        return lo, hi, False
    return min(m - half, lo), max(m + half, hi), True


def paired_differences(
    a: pd.DataFrame, b: pd.DataFrame, metric: str, confidence: float = 0.95
) -> tuple[float, float, float, int]:
    """Mean of ``a[metric] - b[metric]`` paired by ``rep`` (replications in both only) with its 95% interval:
    chance (t) and, when the replications ran at posterior draws (column ``draw``, the same in both arms
    since they are paired), the calibration's parameter uncertainty too."""
    cols = ["rep", metric] + (["draw"] if "draw" in a and "draw" in b else [])
    j = a[cols].merge(b[["rep", metric]], on="rep", suffixes=("_a", "_b"))
    d = j[f"{metric}_a"].to_numpy(float) - j[f"{metric}_b"].to_numpy(float)
    m, lo, hi = t_ci(d, confidence)
    lo, hi, _ = with_draws(d, j["draw"].to_numpy() if "draw" in j else None, m, lo, hi, confidence)
    return m, lo, hi, len(d)


def go_wait_table(
    reps: pd.DataFrame,
    gap: str = "responders.patrol.gap_mean_s",
    metric: str = "deaths",
    kind: str = "doctrine.kind",
    n: str = "doctrine.n",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """For each team size n and gap: deaths(wait_for_n) - deaths(solo_entry), paired by replication.

    Columns: ``n, gap, diff_mean, diff_ci_low, diff_ci_high, pairs, wait_mean, solo_mean``. The solo
    replications at a gap are taken from one solo_entry point (all solo points at a gap are the same
    scenario; if several were stored, their replications are averaged per rep).
    """
    solo = reps[reps[kind] == "solo_entry"]
    wait = reps[reps[kind] == "wait_for_n"]
    rows = []
    for g_val in sorted(reps[gap].unique()):
        agg = {metric: "mean", **({"draw": "first"} if "draw" in solo else {})}
        s = solo[solo[gap] == g_val].groupby("rep", as_index=False).agg(agg)
        for n_val in sorted(wait[n].unique()):
            w = wait[(wait[gap] == g_val) & (wait[n] == n_val)]
            m, lo, hi, k = paired_differences(w, s, metric, confidence)
            rows.append(
                {
                    "n": int(n_val),
                    "gap": float(g_val),
                    "diff_mean": m,
                    "diff_ci_low": lo,
                    "diff_ci_high": hi,
                    "pairs": k,
                    "wait_mean": float(w[metric].mean()),
                    "solo_mean": float(s[metric].mean()),
                }
            )
    return pd.DataFrame(rows)


def crossing(x: np.ndarray, y: np.ndarray) -> float | None:
    """The first x where ``y`` goes from <= 0 to > 0 (linear interpolation), scanning in increasing x.

    ``x[0]`` if ``y`` is already > 0 there; ``None`` if ``y`` never becomes positive.
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    if ys.size == 0:
        return None
    if ys[0] > 0:
        return float(xs[0])
    for i in range(1, ys.size):
        if ys[i] > 0 >= ys[i - 1]:
            return float(xs[i - 1] + (xs[i] - xs[i - 1]) * (0 - ys[i - 1]) / (ys[i] - ys[i - 1]))
    return None


@dataclass(frozen=True)
class Threshold:
    """Backup gap above which entering alone beats waiting for n officers (``None``: not in the range).

    ``low``/``high`` are where the upper/lower CI bound of the difference crosses 0 (a rough band)."""

    n: int
    gap: float | None
    low: float | None
    high: float | None
    below_range: bool  # going alone is already better (difference > 0) at the smallest gap


def thresholds(table: pd.DataFrame) -> list[Threshold]:
    out = []
    for _, g in table.groupby("n", sort=True):
        g = g.sort_values("gap")
        n_val = int(g["n"].iloc[0])
        x = g["gap"].to_numpy(float)
        out.append(
            Threshold(
                n_val,
                crossing(x, g["diff_mean"].to_numpy(float)),
                crossing(x, g["diff_ci_high"].to_numpy(float)),
                crossing(x, g["diff_ci_low"].to_numpy(float)),
                bool(g["diff_mean"].iloc[0] > 0),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- levers
def lever_table(
    reps: pd.DataFrame,
    parameters: list[str],
    baseline: dict[str, Any],
    metrics: tuple[str, ...] = ("deaths", "died_awaiting_care"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The baseline point and every point differing from it in exactly one swept parameter.

    Columns: ``label, parameter, value, metric, mean, ci_low, ci_high, diff_mean, diff_ci_low,
    diff_ci_high`` (differences from the baseline, paired by replication; 0 for the baseline row).
    Parameters that take a single value are ignored.
    """
    varied = [p for p in parameters if reps[p].map(value_key).nunique() > 1]
    keys = reps[varied].apply(lambda c: c.map(value_key)) if varied else pd.DataFrame(index=reps.index)
    base_key = {p: value_key(baseline[p]) for p in varied}
    is_base = np.ones(len(reps), dtype=bool)
    for p in varied:
        is_base &= (keys[p] == base_key[p]).to_numpy()
    base = reps[is_base]
    if base.empty:
        raise ValueError(f"no stored replications at the baseline {base_key}")
    rows: list[dict[str, Any]] = []

    def add(label: str, param: str, value: str, sel: pd.DataFrame) -> None:
        for m in metrics:
            mean, lo, hi = t_ci(sel[m].to_numpy(float), confidence)
            lo, hi, _ = with_draws(sel[m].to_numpy(float), sel["draw"].to_numpy() if "draw" in sel else None,
                                   mean, lo, hi, confidence)  # fmt: skip
            if param:
                d, dlo, dhi, _ = paired_differences(sel, base, m, confidence)
            else:
                d, dlo, dhi = 0.0, 0.0, 0.0
            rows.append(
                {
                    "label": label,
                    "parameter": param,
                    "value": value,
                    "metric": m,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff_mean": d,
                    "diff_ci_low": dlo,
                    "diff_ci_high": dhi,
                    "n": len(sel),
                }
            )

    add("baseline", "", "", base)
    for p in varied:
        others = np.ones(len(reps), dtype=bool)
        for q in varied:
            if q != p:
                others &= (keys[q] == base_key[q]).to_numpy()
        for v in dict.fromkeys(keys[p]):
            if v == base_key[p]:
                continue
            sel = reps[others & (keys[p] == v).to_numpy()]
            if not sel.empty:
                add(f"{p.split('.')[-1]} = {v}", p, v, sel)
    return pd.DataFrame(rows)
