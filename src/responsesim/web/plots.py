"""Outcome histograms of a stored run (PNG, matplotlib Agg without pyplot, so threads do not share state).

A run never changes once stored, so each PNG is drawn once and kept under the data folder
(``plots/<run_id>/<metric>.v<PLOT_FORMAT>.png``).

The chart is drawn at the size the page shows it (``WIDTH_IN`` inches, about 360 CSS pixels: the width of
a column of the page's plot grid and of a phone), at twice the pixel density, so its labels read at about
12 px on any screen (issue 26 item 4: 560x340 images shrunk to about 360 px had 4-5 px tick labels); the
axes have a few round ticks.
"""

from __future__ import annotations

import io
import os
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["DPI", "PLOT_FORMAT", "PLOT_METRICS", "TICK_PT", "WIDTH_IN", "histogram_png", "plot_path"]

#: the drawing's version (kept PNGs of another version are drawn again)
PLOT_FORMAT = 2
WIDTH_IN, HEIGHT_IN, DPI = 3.6, 3.0, 200  # shown about 360 CSS px wide: 2 image pixels a CSS pixel
TICK_PT, LABEL_PT, TITLE_PT = 9.0, 9.5, 9.5

# metric column -> (title, x-axis label)
PLOT_METRICS: dict[str, tuple[str, str]] = {
    "deaths": ("Deaths per replication", "deaths (people)"),
    "killed": ("Killed at once", "killed (people)"),
    "died_awaiting_care": ("Died awaiting care", "people"),
    "wounded": ("Wounded and survived", "people"),
    "evacuated": ("Evacuated", "people"),
    "attack_duration_s": ("Attack duration", "minutes from the first shot"),
    "first_entry_s": ("Time to first officer entry", "minutes after the first shot"),
    "first_police_s": ("Time to first armed officer on scene", "minutes after the first shot"),
    "median_time_to_care_s": ("Median time to care of critical casualties", "minutes after wounding"),
    "officers_shot": ("Officers shot", "officers"),
    "shots_fired": ("Shots fired", "rounds"),
}
_COUNT_METRICS = {
    "deaths", "killed", "died_awaiting_care", "wounded", "evacuated", "officers_shot", "shots_fired"
}  # fmt: skip
_DRAW_LOCK = threading.Lock()


def _fixed(x: float) -> str:
    """A plain number as the page's table writes it (never 1.06e+03): 2 decimals below 10, else 1."""
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"


def plot_path(data_dir: Path, run_id: str, metric: str) -> Path:
    """Where the PNG of ``metric`` for ``run_id`` is kept (both already validated by the caller)."""
    return data_dir / "plots" / run_id / f"{metric}.v{PLOT_FORMAT}.png"


def histogram_png(outcomes: pd.DataFrame, metric: str, title_suffix: str = "") -> bytes:
    """PNG bytes: histogram of ``metric`` over the replications with its mean and median marked."""
    title, xlabel = PLOT_METRICS[metric]
    values = pd.to_numeric(outcomes[metric], errors="coerce").to_numpy(dtype=float)
    minutes = metric.endswith("_s")  # times in minutes, as in the page's table
    if minutes:
        values = values / 60.0
    unit = " min" if minutes else ""
    finite = values[np.isfinite(values)]
    missing = int(values.size - finite.size)
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if finite.size:
        if metric in _COUNT_METRICS:
            hi = int(finite.max())
            step = max(1, int(np.ceil((hi + 1) / 60)))
            edges = np.arange(-0.5, hi + step + 0.5, step)
        else:
            edges = np.histogram_bin_edges(finite, bins=min(60, max(1, int(np.sqrt(finite.size)) + 1)))
        ax.hist(finite, bins=list(edges), color="#4C72B0", edgecolor="white", linewidth=0.5)
        mean, median = float(finite.mean()), float(np.median(finite))
        ax.axvline(mean, color="#C44E52", linewidth=1.5, label=f"mean {_fixed(mean)}{unit}")
        label = f"median {_fixed(median)}{unit}"
        ax.axvline(median, color="#55A868", linewidth=1.5, linestyle="--", label=label)
        ax.legend(frameon=False, fontsize=TICK_PT)
    else:
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
    note = f"\n({missing} without a value)" if missing else ""
    ax.set_title(textwrap.fill(f"{title}{title_suffix}", 44), fontsize=TITLE_PT)
    ax.set_xlabel(xlabel + note, fontsize=LABEL_PT)
    ax.set_ylabel("incidents", fontsize=LABEL_PT)
    ax.xaxis.set_major_locator(
        MaxNLocator(nbins=5, integer=metric in _COUNT_METRICS, steps=[1, 2, 2.5, 5, 10])
    )
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.tick_params(labelsize=TICK_PT)
    fig.tight_layout()
    buf = io.BytesIO()
    with _DRAW_LOCK:
        fig.savefig(buf, format="png")
    return buf.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder (no partial files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prune_oldest(folder: Path, pattern: str, keep: int) -> None:
    """Delete all but the newest ``keep`` files matching ``pattern`` under ``folder`` (a bounded cache)."""
    files = [p for p in folder.glob(pattern) if p.is_file()]
    if len(files) <= keep:
        return
    files.sort(key=lambda p: p.stat().st_mtime)
    for old in files[: len(files) - keep]:
        old.unlink(missing_ok=True)
