"""Do two implementations agree in distribution? Means and shares compared with scipy.stats.

Used to check the compiled engine against the independent per-agent reference and the Mesa peer, which
draw different random numbers: they can agree only in distribution. Each comparison is a two-sided test
at level ``alpha``: a difference of means by Welch's t-test (``scipy.stats.ttest_ind``, unequal
variances; agreement when the (1 - alpha) confidence interval of the difference contains 0), a
difference of shares by Fisher's exact test (``scipy.stats.fisher_exact``; agreement when p >= alpha).
Two constant samples agree only when equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Agreement:
    """One comparison: what was compared, the two estimates, the test's interval or p-value, the verdict."""

    name: str
    a: float
    b: float
    low: float  # (1 - alpha) interval of a - b (means); NaN for shares
    high: float
    p_value: float
    agree: bool

    def __str__(self) -> str:
        if np.isnan(self.low):
            return f"{self.name}: {self.a:.4g} vs {self.b:.4g} (Fisher p = {self.p_value:.3g})"
        return (
            f"{self.name}: {self.a:.4g} vs {self.b:.4g}, difference interval "
            f"[{self.low:.4g}, {self.high:.4g}] (Welch p = {self.p_value:.3g})"
        )


def means_agree(name: str, a: np.ndarray, b: np.ndarray, alpha: float) -> Agreement:
    """Welch's t-test of equal means (NaN values are left out)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    ma, mb = float(a.mean()), float(b.mean())
    if a.std() == 0 and b.std() == 0:
        same = ma == mb
        return Agreement(name, ma, mb, ma - mb, ma - mb, 1.0 if same else 0.0, same)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    low, high = float(ci.low), float(ci.high)
    return Agreement(name, ma, mb, low, high, float(res.pvalue), low <= 0 <= high)


def shares_agree(name: str, xa: int, na: int, xb: int, nb: int, alpha: float) -> Agreement:
    """Fisher's exact test of equal shares ``xa / na`` and ``xb / nb``."""
    p = float(stats.fisher_exact([[xa, na - xa], [xb, nb - xb]]).pvalue)
    return Agreement(name, xa / na, xb / nb, float("nan"), float("nan"), p, p >= alpha)


def compare_outcomes(
    a: pd.DataFrame,
    b: pd.DataFrame,
    means: Sequence[str],
    shares: Mapping[str, Sequence[str] | None],
    alpha: float,
) -> list[Agreement]:
    """Compare two outcome tables: the mean of each column of ``means`` and, for each share, the share of
    rows whose ``end_reason`` is in the given reasons (``None``: the boolean column of that name)."""
    out = [means_agree(f"mean {c}", a[c].to_numpy(float), b[c].to_numpy(float), alpha) for c in means]
    for share, reasons in shares.items():

        def hits(df: pd.DataFrame, reasons: Sequence[str] | None = reasons, share: str = share) -> int:
            flags = df[share] if reasons is None else df["end_reason"].isin(list(reasons))
            return int(np.asarray(flags, dtype=bool).sum())

        out.append(shares_agree(f"share {share}", hits(a), len(a), hits(b), len(b), alpha))
    return out


__all__ = ["Agreement", "compare_outcomes", "means_agree", "shares_agree"]
