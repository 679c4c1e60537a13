"""Intervals for the debrief: 95% normal intervals for means and paired differences (over branches,
i.e. over chance from one moment), Wilson intervals for shares."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

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


def mean_interval(x: np.ndarray) -> Interval:
    """Mean of ``x`` with the normal 95% interval of the mean."""
    x = np.asarray(x, dtype=float)
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else math.inf
    return Interval(m, m - Z95 * se, m + Z95 * se)


def paired_difference(x: np.ndarray, y: np.ndarray) -> Interval:
    """Mean of ``x - y`` (paired by branch: common random numbers) with its 95% interval."""
    return mean_interval(np.asarray(x, dtype=float) - np.asarray(y, dtype=float))


def share_interval(hits: np.ndarray) -> Interval:
    """Share of True in ``hits`` with the Wilson 95% interval."""
    n = int(np.size(hits))
    k = int(np.sum(hits))
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))
