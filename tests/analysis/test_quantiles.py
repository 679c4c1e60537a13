"""The summaries' normal and t quantiles (no SciPy at run time) against SciPy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from responsesim.analysis.quantiles import EXPANSION_DF, normal_quantile, t_quantile

PS = (0.0005, 0.025, 0.1, 0.45, 0.5, 0.55, 0.6, 0.75, 0.9, 0.95, 0.975, 0.995, 0.9995)
DFS = (*range(1, 61), 99, 199, 500, 700, EXPANSION_DF - 1, EXPANSION_DF, 2000, 8599, 10**5, 10**7)


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_is_scipys(df: int) -> None:
    for p in PS:
        assert t_quantile(p, df) == pytest.approx(float(special.stdtrit(df, p)), rel=5e-13, abs=1e-300)
    assert t_quantile(0.975, df) == pytest.approx(float(stats.t.ppf(0.975, df)), rel=5e-13)


def test_normal_quantile_is_scipys() -> None:
    for p in np.linspace(1e-6, 1 - 1e-6, 2001):
        assert normal_quantile(float(p)) == pytest.approx(float(special.ndtri(p)), rel=2e-15, abs=1e-15)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, float("nan")])
def test_quantiles_refuse_p_outside_0_1(p: float) -> None:
    with pytest.raises(ValueError, match="p must be"):
        normal_quantile(p)
    with pytest.raises(ValueError, match="p must be"):
        t_quantile(p, 5)


@pytest.mark.parametrize("df", [0, -1, 2.5])
def test_t_quantile_refuses_bad_degrees_of_freedom(df: float) -> None:
    with pytest.raises(ValueError, match="df must be"):
        t_quantile(0.975, df)  # type: ignore[arg-type]
