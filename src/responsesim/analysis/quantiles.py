"""Quantiles of the standard normal and Student t distributions, without SciPy.

``scipy.special`` has them (``ndtri``, ``stdtrit``), but importing it costs 0.1-0.2 s (it loads SciPy's
array-API layer): about a tenth of ``responsesim run``'s start-up, for the two or three quantiles a summary
needs. These agree with SciPy's to 1e-13 relative or better (tests/analysis/test_quantiles.py), far
below any digit an interval is reported with.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

#: from this many degrees of freedom the t quantile is its Cornish-Fisher expansion in 1/df (the first
#: term left out is below 3e-14 relative at the 99.95 % quantile, 4e-15 at 99.5 %); below it, Newton's
#: method on the exact distribution function
EXPANSION_DF = 1000


@functools.cache
def normal_quantile(p: float) -> float:
    """The ``p`` quantile of the standard normal distribution, 0 < p < 1 (Wichura's algorithm AS 241)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p}")
    return NormalDist().inv_cdf(p)


@functools.cache
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom (a whole number >= 1,
    as for the mean of ``df + 1`` values), 0 < p < 1: ``scipy.stats.t.ppf(p, df)``."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p}")
    if df < 1 or df != int(df):
        raise ValueError(f"df must be a whole number >= 1, not {df}")
    nu = int(df)
    if p < 0.5:
        return -t_quantile(1.0 - p, nu)
    if p == 0.5:
        return 0.0
    c = 2.0 * p - 1.0  # P(|T| <= x) at the quantile x
    if nu == 1:
        return math.tan(math.pi * c / 2.0)
    if nu == 2:
        return c * math.sqrt(2.0 / ((1.0 - c) * (1.0 + c)))
    x = _cornish_fisher(normal_quantile(p), nu)
    if nu >= EXPANSION_DF:
        return x
    for _ in range(50):
        # Newton on P(|T| <= x) = c: concave for x > 0, so after the first step the iterates rise to the root
        new = x + (c - _central(x, nu)) / (2.0 * _density(x, nu))
        new = new if new > 0.0 else x / 2.0
        if abs(new - x) <= 4e-16 * x:
            return new
        x = new
    return x


def _cornish_fisher(z: float, nu: int) -> float:
    """The t quantile from the normal one ``z``: terms to 1/nu^4 (Abramowitz and Stegun 26.7.5)."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu


def _central(x: float, nu: int) -> float:
    """P(|T| <= x) for whole ``nu`` >= 2: the finite series of Abramowitz and Stegun 26.7.3 (odd) and
    26.7.4 (even) in theta = atan(x / sqrt(nu))."""
    theta = math.atan(x / math.sqrt(nu))
    s, c = math.sin(theta), math.cos(theta)
    cc = c * c
    term = total = 1.0
    if nu % 2 == 0:  # sin(theta) (1 + 1/2 cos^2 + 1.3/(2.4) cos^4 + ... up to cos^(nu-2))
        for k in range(1, nu // 2):
            term *= cc * (2 * k - 1) / (2 * k)
            total += term
        return s * total
    for k in range(1, (nu - 1) // 2):  # 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2.4/(3.5) cos^4 + ...))
        term *= cc * (2 * k) / (2 * k + 1)
        total += term
    return 2.0 / math.pi * (theta + s * c * total)


def _density(x: float, nu: int) -> float:
    """The t density at ``x``."""
    log_norm = math.lgamma((nu + 1) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(nu * math.pi)
    return math.exp(log_norm - (nu + 1) / 2.0 * math.log1p(x * x / nu))


__all__ = ["EXPANSION_DF", "normal_quantile", "t_quantile"]
