"""Run (or resume) a built-in sweep and draw its figure; keep an HTML page of all figures.

    python -m responsesim.sweep.report examples/sweeps/entry_delay.toml --store sweeps.duckdb \
        --outdir docs/sweeps

The kind of figure follows from the swept parameters:

* ``doctrine.delay_s`` swept -> "delay": deaths and deaths awaiting care vs delay (95% CI bands) and the
  fitted deaths per minute of delay with its CI;
* ``doctrine.kind`` in {solo_entry, wait_for_n} and ``doctrine.n`` swept -> "go_wait": deaths(wait) -
  deaths(solo) vs the backup gap per n (paired by replication) and the gap where going alone becomes better;
* otherwise -> "levers": bars of each one-lever change from the baseline (first value of each parameter).

Writes ``<outdir>/<stem>.png`` and ``<outdir>/<stem>.json`` (the figures), then rebuilds
``<outdir>/index.html`` from every ``*.json`` there.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.sanity import sweep_warnings
from responsesim.sweep.analysis import (
    delay_slope,
    go_wait_table,
    lever_table,
    load_replications,
    point_means,
    thresholds,
    value_key,
)
from responsesim.sweep.run import run_sweep
from responsesim.sweep.spec import Sweep, load_sweep

DELAY = "doctrine.delay_s"
METRICS = ("deaths", "died_awaiting_care")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_kind(parameters: list[str], reps: pd.DataFrame | None = None) -> str:
    if DELAY in parameters:
        return "delay"
    if "doctrine.kind" in parameters and "doctrine.n" in parameters:
        return "go_wait"
    return "levers"


def _fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


# ---------------------------------------------------------------------------------------------- delay
def plot_delay(reps: pd.DataFrame, path: Path, title: str = "", x: str = DELAY) -> dict[str, Any]:
    """Deaths and deaths awaiting care vs delay (minutes), 95% CI bands, fitted slope per minute."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    figures: dict[str, Any] = {}
    for metric, color in zip(METRICS, ("tab:red", "tab:purple"), strict=True):
        pm = point_means(reps, [x], metric).sort_values(x)
        mins = pm[x].to_numpy(float) / 60
        sl = delay_slope(reps, x, metric)
        kind = "interval, parameters and chance" if sl.interval == "total" else "CI"
        label = (
            f"{metric.replace('_', ' ')}: {sl.slope:+.3f} per minute of delay "
            f"(95% {kind} {sl.ci_low:+.3f} to {sl.ci_high:+.3f})"
        )
        ax.plot(mins, pm["mean"], marker="o", ms=3, color=color, label=label)
        ax.fill_between(mins, pm["ci_low"], pm["ci_high"], color=color, alpha=0.2)
        # the fitted line through the mean point
        xm, ym = float(np.mean(mins)), float(pm["mean"].mean())
        ax.plot(mins, ym + sl.slope * (mins - xm), ls="--", lw=1, color=color)
        figures[metric] = {
            "per_minute": sl.slope,
            "ci_low": sl.ci_low,
            "ci_high": sl.ci_high,
            "replications": sl.n_reps,
            "interval": sl.interval,
            "mc_low": sl.mc_low,
            "mc_high": sl.mc_high,
            "at_0": float(pm["mean"].iloc[0]),
            "at_max": float(pm["mean"].iloc[-1]),
        }
    d = figures["deaths"]
    ax.set_title(
        (title + "\n" if title else "") + f"deaths per minute of delay: {d['per_minute']:.3f} "
        f"(95% {'interval' if d.get('interval') == 'total' else 'CI'} "
        f"{d['ci_low']:.3f} to {d['ci_high']:.3f})",
        fontsize=10,
    )
    ax.set_xlabel("entry delay after arrival (minutes)")
    ax.set_ylabel("per incident (mean; band: 95% CI, chance only)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return figures


# -------------------------------------------------------------------------------------------- go/wait
def plot_go_wait(
    reps: pd.DataFrame, path: Path, title: str = "", gap: str = "responders.patrol.gap_mean_s"
) -> dict[str, Any]:
    """Per n: deaths(wait for n) - deaths(enter alone) vs the gap between officers, paired CI bands, and
    the gap where the difference crosses 0 (above it, going alone is better)."""
    plt = _plt()
    table = go_wait_table(reps, gap=gap)
    ths = {t.n: t for t in thresholds(table)}
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    ax.axhline(0, color="black", lw=0.8)
    out: dict[str, Any] = {"table": table.to_dict(orient="records"), "thresholds": {}}
    for _, g in table.groupby("n", sort=True):
        g = g.sort_values("gap")
        n_val = int(g["n"].iloc[0])
        mins = g["gap"].to_numpy(float) / 60
        t = ths[n_val]
        where = (
            "waiting never worse in range" if t.gap is None else f"alone better above {t.gap / 60:.1f} min"
        )
        if t.below_range:
            where = f"alone better at every gap (>= {mins[0]:.2f} min)"
        (line,) = ax.plot(mins, g["diff_mean"], marker="o", ms=3, label=f"wait for {n_val}: {where}")
        ax.fill_between(mins, g["diff_ci_low"], g["diff_ci_high"], alpha=0.2, color=line.get_color())
        if t.gap is not None and not t.below_range:
            ax.axvline(t.gap / 60, color=line.get_color(), ls=":", lw=1.2)
        out["thresholds"][str(n_val)] = {
            "gap_s": t.gap,
            "band_s": [t.low, t.high],
            "alone_better_at_smallest_gap": t.below_range,
        }
    ax.set_xlabel("mean time between arriving officers (backup ETA, minutes)")
    ax.set_ylabel("deaths(wait) - deaths(go alone now)\n(paired mean, 95% CI)")
    ax.set_title(
        (title + "\n" if title else "") + "above 0: waiting costs lives; dotted: crossover", fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return out


# --------------------------------------------------------------------------------------------- levers
def plot_levers(
    reps: pd.DataFrame, parameters: list[str], baseline: dict[str, Any], path: Path, title: str = ""
) -> dict[str, Any]:
    """Bars: mean deaths (and deaths awaiting care) at the baseline and each one-lever change, 95% CI;
    the difference from the baseline (paired by replication) is printed next to each bar."""
    plt = _plt()
    table = lever_table(reps, parameters, baseline, METRICS)
    labels = list(dict.fromkeys(table["label"]))
    fig, axes = plt.subplots(1, len(METRICS), figsize=(12, 0.42 * len(labels) + 1.6), squeeze=False)
    for ax, metric in zip(axes[0], METRICS, strict=True):
        t = table[table["metric"] == metric].set_index("label").loc[labels]
        y = np.arange(len(labels))
        base = float(t["mean"].iloc[0])
        colors = (
            ["grey"]
            + [
                "tab:green" if hi < 0 else "tab:red" if lo > 0 else "lightsteelblue"  # CI excludes 0 / not
                for lo, hi in zip(t["diff_ci_low"].iloc[1:], t["diff_ci_high"].iloc[1:], strict=True)
            ]
        )
        err = np.vstack([t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]])
        ax.barh(y, t["mean"], xerr=err, color=colors, alpha=0.75, capsize=3)
        ax.axvline(base, color="black", lw=0.8, ls="--")
        for yi, (_, r) in zip(y[1:], t.iloc[1:].iterrows(), strict=True):
            ax.text(
                r["ci_high"],
                yi,
                f"  {r['diff_mean']:+.2f} [{r['diff_ci_low']:+.2f}, {r['diff_ci_high']:+.2f}]",
                va="center",
                fontsize=7,
            )
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"{metric.replace('_', ' ')} per attack (mean, 95% CI)")
        ax.grid(axis="x", alpha=0.3)
        xmax = float(np.nanmax(t["ci_high"]))
        ax.set_xlim(0, xmax * 1.45 if xmax > 0 else 1)
    base_txt = ", ".join(f"{p.split('.')[-1]}={value_key(baseline[p])}" for p in parameters)
    fig.suptitle(
        (title + ": " if title else "")
        + "one lever at a time vs baseline (difference paired by replication; green/red: CI excludes 0)\n"
        + f"baseline: {base_txt}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"table": table.to_dict(orient="records"), "baseline": {p: baseline[p] for p in parameters}}


# --------------------------------------------------------------------------------------------- report
def baseline_of(sweep: Sweep) -> dict[str, Any]:
    """The first value of each parameter (the first point of the cartesian product)."""
    return dict(sweep.points[0].values)


def report_sweep(
    sweep_path: Path, store: Path, outdir: Path, *, workers: int | None = None, seed: int | None = None
) -> dict[str, Any]:
    """Run/resume the sweep into ``store``; write ``<outdir>/<stem>.png`` and ``.json``; return figures."""
    sweep = load_sweep(sweep_path, seed=seed)
    res = run_sweep(sweep, store, workers=workers)
    if not res.complete:
        raise RuntimeError(f"sweep {sweep.sweep_id} is incomplete in {store}")
    reps = load_replications(store, sweep.sweep_id)
    params = list(sweep.parameters)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{sweep_path.stem}.png"
    kind = figure_kind(params)
    if kind == "delay":
        figures = plot_delay(reps, png, sweep.name)
    elif kind == "go_wait":
        gap = next(p for p in params if p not in ("doctrine.kind", "doctrine.n") and reps[p].nunique() > 1)
        figures = plot_go_wait(reps, png, sweep.name, gap=gap)
    else:
        figures = plot_levers(reps, params, baseline_of(sweep), png, sweep.name)
    doc = {
        "stem": sweep_path.stem,
        "kind": kind,
        "name": sweep.name,
        "sweep_file": str(sweep_path),
        "sweep_id": sweep.sweep_id,
        "seed": sweep.seed,
        "replications_per_point": sweep.replications_per_point,
        "points": len(sweep.points),
        "command": f"python -m responsesim.sweep.report {sweep_path} --store {store.name} --outdir {outdir}",
        "png": png.name,
        "figures": figures,
        "warnings": sweep_warnings(sweep.points),
    }
    (outdir / f"{sweep_path.stem}.json").write_text(json.dumps(_clean(doc), indent=1) + "\n")
    write_index(outdir)
    return doc


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The key figures of one report as short lines of text."""
    f = doc["figures"]
    kind = doc["kind"]
    if kind == "delay":
        return [
            f"{m.replace('_', ' ')}: {_fmt(f[m]['per_minute'], 3)} per minute of delay "
            f"(95% {'interval: parameters and chance' if f[m].get('interval') == 'total' else 'CI'} "
            f"{_fmt(f[m]['ci_low'], 3)} to {_fmt(f[m]['ci_high'], 3)}); "
            f"{_fmt(f[m]['at_0'])} at 0 s, {_fmt(f[m]['at_max'])} at the longest delay"
            for m in METRICS
            if m in f
        ]
    if kind == "go_wait":
        out = []
        for n, t in f["thresholds"].items():
            if t["alone_better_at_smallest_gap"]:
                out.append(f"wait for {n}: going alone is better at every gap swept")
            elif t["gap_s"] is None:
                out.append(f"wait for {n}: waiting is never worse within the range swept")
            else:
                lo, hi = t["band_s"]
                band = (
                    f" (CI crossings {_fmt(lo, 0)}-{_fmt(hi, 0)} s)"
                    if lo is not None or hi is not None
                    else ""
                )
                out.append(
                    f"wait for {n}: going alone is better when officers arrive more than "
                    f"{t['gap_s']:.0f} s apart{band}"
                )
        return out
    if kind == "sobol":
        return [
            f"{r['name']}: ST {_fmt(r['ST'])} ± {_fmt(r['ST_conf'])}, "
            f"S1 {_fmt(r['S1'])} ± {_fmt(r['S1_conf'])}"
            for r in f["indices"][:5]
        ]
    rows = [r for r in f["table"] if r["metric"] == "deaths" and r["parameter"]]
    rows.sort(key=lambda r: r["diff_mean"])
    return [
        f"{r['label']}: {r['diff_mean']:+.2f} deaths vs baseline "
        f"(95% CI {_fmt(r['diff_ci_low'])} to {_fmt(r['diff_ci_high'])})"
        for r in rows
    ]


def write_index(outdir: Path) -> Path:
    """``<outdir>/index.html``: every figure (``*.json`` with a ``png``), its key numbers and command."""
    docs = []
    for p in sorted(outdir.glob("*.json")):
        try:
            d = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(d, dict) and "png" in d and "kind" in d:
            docs.append(d)
    order = {"delay": 0, "go_wait": 1, "levers": 2, "sobol": 3}
    docs.sort(key=lambda d: (order.get(d["kind"], 9), d.get("stem", "")))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>responsesim built-in sweeps</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "img{max-width:100%;border:1px solid #ddd}"
        ".warn{background:#fff4d6;border-left:4px solid #c80;padding:.4em}"
        "code{background:#f4f4f4;padding:2px 4px}</style>",
        "</head><body><h1>responsesim: built-in sweeps</h1>",
        "<p>Each figure is regenerated by the command under it. CIs are 95% Student t intervals over "
        "replications; differences are paired by replication (common random numbers).</p>",
    ]
    for d in docs:
        parts.append(f"<h2>{html.escape(d['name'])}</h2>")
        meta = f"{d.get('points', '?')} points x {d.get('replications_per_point', '?')} replications"
        parts.append(f"<p>{html.escape(meta)}; seed {d.get('seed', '?')}</p>")
        parts.append(f"<p><code>{html.escape(d['command'])}</code></p>")
        for w in d.get("warnings") or []:
            parts.append(f"<p class='warn'><strong>Extrapolation:</strong> {html.escape(w)}</p>")
        parts.append(f"<img src='{html.escape(d['png'])}' alt='{html.escape(d['name'])}'>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in summary_lines(d)) + "</ul>")
    parts.append("</body></html>")
    path = outdir / "index.html"
    path.write_text("\n".join(parts) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m responsesim.sweep.report", description=__doc__.split("\n")[0]
    )
    ap.add_argument("sweep_file", type=Path)
    ap.add_argument("--store", type=Path, default=Path("sweeps.duckdb"))
    ap.add_argument("--outdir", type=Path, default=Path("docs/sweeps"))
    ap.add_argument("--workers", type=int, default=0, help="local processes (0 = all cores)")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args(argv)
    doc = report_sweep(a.sweep_file, a.store, a.outdir, workers=a.workers or None, seed=a.seed)
    print(f"{doc['name']}: {a.outdir / doc['png']}")
    for line in summary_lines(doc):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
