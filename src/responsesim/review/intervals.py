"""Figures over paired draws: a mean with the 2.5-97.5 percentiles of the draws, and a share of draws with
its exact (Clopper-Pearson) 95% interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "Proportion"]


@dataclass(frozen=True)
class Interval:
    """A mean over draws with the 2.5 and 97.5 percentiles of the draws."""

    mean: float
    low: float
    high: float

    @staticmethod
    def of(x: np.ndarray) -> Interval:
        x = np.asarray(x, dtype=float)
        return Interval(float(x.mean()), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975)))

    def to_json(self) -> dict[str, float]:
        return {"mean": round(self.mean, 4), "low": round(self.low, 4), "high": round(self.high, 4)}


@dataclass(frozen=True)
class Proportion:
    """A share of draws with its Clopper-Pearson 95% interval."""

    p: float
    low: float
    high: float
    k: int
    n: int

    @staticmethod
    def of(flags: np.ndarray) -> Proportion:
        k, n = int(np.sum(flags)), len(flags)
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        return Proportion(k / n, float(ci.low), float(ci.high), k, n)

    def to_json(self) -> dict[str, float]:
        return {"p": round(self.p, 4), "low": round(self.low, 4), "high": round(self.high, 4), "k": self.k,
                "n": self.n}  # fmt: skip
