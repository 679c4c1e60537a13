"""Intervals for the debrief: 95% normal intervals for means and paired differences (over branches,
i.e. over chance from one moment), Wilson intervals for shares. Given each branch's posterior draw
(``draw``, two draws or more), an interval also covers the parameters' uncertainty: mean +- z x
sqrt(between-draw sd^2 + se^2) (``analysis.summary.parameter_half_width``, the runs' own rule), never
narrower than chance alone."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from responsesim.analysis.summary import parameter_half_width

__all__ = ["Z95", "Interval", "mean_interval", "paired_difference", "share_interval"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval (same unit as the estimate)."""

    value: float
    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        return asdict(self)

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _widen(iv: Interval, values: np.ndarray, draw: np.ndarray | None, lo: float, hi: float) -> Interval:
    """``iv`` widened to cover the parameters' uncertainty (when ``draw`` has two draws or more), clipped
    to [lo, hi]."""
    if draw is not None and np.unique(draw).size >= 2:
        half = parameter_half_width(np.asarray(values, dtype=float), np.asarray(draw))
        if math.isfinite(half):
            iv = Interval(iv.value, min(iv.low, iv.value - half), max(iv.high, iv.value + half))
    return Interval(iv.value, max(lo, iv.low), min(hi, iv.high))


def mean_interval(x: np.ndarray, draw: np.ndarray | None = None, lo: float = -math.inf) -> Interval:
    """Mean of ``x`` with its 95% interval (normal; over the draws too when ``draw`` is given), >= ``lo``."""
    x = np.asarray(x, dtype=float)
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else math.inf
    return _widen(Interval(m, m - Z95 * se, m + Z95 * se), x, draw, lo, math.inf)


def paired_difference(x: np.ndarray, y: np.ndarray, draw: np.ndarray | None = None) -> Interval:
    """Mean of ``x - y`` (paired by branch: common random numbers) with its 95% interval."""
    return mean_interval(np.asarray(x, dtype=float) - np.asarray(y, dtype=float), draw)


def share_interval(hits: np.ndarray, draw: np.ndarray | None = None) -> Interval:
    """Share of True in ``hits`` with the Wilson 95% interval (widened over the draws when given)."""
    n = int(np.size(hits))
    k = int(np.sum(hits))
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    iv = Interval(p, max(0.0, centre - half), min(1.0, centre + half))
    return _widen(iv, np.asarray(hits, dtype=float), draw, 0.0, 1.0)
