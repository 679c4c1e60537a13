"""Per-point summaries of a stored sweep (mean and 95% CI of each outcome) and a plot per sweep."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.analysis.incidents import incidents
from responsesim.analysis.summary import DEFAULT_METRICS, Metric, summarize, with_parameter_uncertainty
from responsesim.store import StoreError
from responsesim.sweep.store import SweepStore

SWEEP_METRICS: tuple[Metric, ...] = tuple(
    m
    for m in DEFAULT_METRICS
    if m.column
    in (
        "deaths",
        "killed",
        "died_awaiting_care",
        "wounded",
        "attack_duration_s",
        "officers_shot",
        "ended_before_police",
    )
)
PLOT_METRICS = ("deaths", "died_awaiting_care")


def sweep_summary(out: Path, sweep_id: str, confidence: float = 0.95) -> pd.DataFrame:
    """One row per point: ``point_id``, the parameter values, ``n`` (stored replications: simulated
    attempts), ``incidents`` (those with a shot fired: every figure is over these), and for each metric
    ``<metric>_mean``, ``<metric>_ci_low``, ``<metric>_ci_high`` (Student t; Wilson for shares)."""
    with SweepStore(out, read_only=True) as store:
        meta = store.con.execute("SELECT name FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchone()
        if meta is None:
            raise StoreError(f"results store {out}: no sweep {sweep_id!r}")
        points = store.points(sweep_id)
        reps = store.replications(sweep_id)
    rows: list[dict[str, Any]] = []
    groups = dict(tuple(reps.groupby("point_id"))) if len(reps) else {}
    for pid, params_json in zip(points["point_id"], points["params_json"], strict=True):
        row: dict[str, Any] = {"point_id": int(pid), **json.loads(params_json)}
        df = groups.get(pid)
        row["n"] = 0 if df is None else len(df)
        df = None if df is None else incidents(df)
        row["incidents"] = 0 if df is None else len(df)
        sums = summarize(df, SWEEP_METRICS, confidence) if df is not None and len(df) else []
        if sums and df is not None and "draw" in df.columns and (df["draw"] >= 0).all():
            sums = with_parameter_uncertainty(sums, df, df["draw"].to_numpy(), confidence)
        for s in sums:
            row[f"{s.name}_mean"] = s.mean
            row[f"{s.name}_ci_low"] = s.ci_low
            row[f"{s.name}_ci_high"] = s.ci_high
        rows.append(row)
    return pd.DataFrame(rows)


def summary_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The summary frame as JSON-ready records (NaN -> None)."""

    def clean(v: Any) -> Any:
        v = v.item() if hasattr(v, "item") else v
        return None if isinstance(v, float) and math.isnan(v) else v

    return [{str(k): clean(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


def _label(v: Any) -> str:
    return "never" if v is None else str(v)


def plot_sweep(frame: pd.DataFrame, parameters: list[str], path: Path, title: str = "") -> Path:
    """PNG: each metric in ``PLOT_METRICS`` vs the first parameter (mean with CI band), one line per
    combination of the other parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first, others = parameters[0], parameters[1:]
    xs = list(frame[first])
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    cats = list(dict.fromkeys(_label(x) for x in xs))
    fig, axes = plt.subplots(1, len(PLOT_METRICS), figsize=(6 * len(PLOT_METRICS), 4.2), squeeze=False)
    groups = frame.groupby([frame[o].map(_label) for o in others], sort=False) if others else [((), frame)]
    for ax, metric in zip(axes[0], PLOT_METRICS, strict=True):
        for key, g in groups:
            key_t = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{o}={k}" for o, k in zip(others, key_t, strict=True)) or None
            if f"{metric}_mean" not in g:
                continue
            if numeric:
                x = np.array(g[first], dtype=float)
            else:
                x = np.array([cats.index(_label(v)) for v in g[first]], dtype=float)
            order = np.argsort(x, kind="stable")
            mean = g[f"{metric}_mean"].to_numpy(float)[order]
            lo = g[f"{metric}_ci_low"].to_numpy(float)[order]
            hi = g[f"{metric}_ci_high"].to_numpy(float)[order]
            (line,) = ax.plot(x[order], mean, marker="o", ms=3, label=label)
            ax.fill_between(x[order], lo, hi, alpha=0.2, color=line.get_color())
        if not numeric:
            ax.set_xticks(range(len(cats)), cats)
        ax.set_xlabel(first)
        ax.set_ylabel(f"{metric.replace('_', ' ')} (mean, 95% CI)")
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
