"""Tests for the counter-based random numbers (engine/rng.py).

Statistical tests use fixed seeds, so each is deterministic; tolerances are derived from the sampling
distribution of the statistic under the null hypothesis (written next to each check) and set at about
5 standard errors (two-sided p ~ 6e-7) or p > 1e-4 for goodness-of-fit tests, so that a correct generator
passes with overwhelming probability while a biased one (a shift of a few standard errors) is caught.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from responsesim.engine import rng

SEED = 20260101
Z = 5.0  # tolerance in standard errors (two-sided p ~ 5.7e-7 under the null)


def block(seed: int = SEED, reps: int = 1000, tick: int = 7, stream: int = rng.S_SHOTS, width: int = 1000):
    """A [reps, width] block of uniforms: ~1e6 draws by default."""
    return rng.uniform_block(rng.replication_keys(seed, np.arange(reps)), tick, stream, width)


def poisson(u: np.ndarray, lam: np.ndarray | float, cap: int) -> np.ndarray:
    """The engine's scalar ``rng.poisson`` applied elementwise."""
    return np.asarray(np.vectorize(rng.poisson, otypes=[np.int64])(u, lam, cap))


def lognormal(u1: np.ndarray, u2: np.ndarray, median: object, sigma: object) -> np.ndarray:
    return np.asarray(np.vectorize(rng.lognormal, otypes=[np.float64])(u1, u2, median, sigma))


def normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    return np.asarray(np.vectorize(rng.normal, otypes=[np.float64])(u1, u2))


def exponential(u: np.ndarray, mean: object) -> np.ndarray:
    return np.asarray(np.vectorize(rng.exponential, otypes=[np.float64])(u, mean))


def corr_ok(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson r of paired draws and its tolerance: under independence r ~ N(0, 1/n) for large n."""
    x, y = x.ravel(), y.ravel()
    r = float(np.corrcoef(x, y)[0, 1])
    return r, Z / np.sqrt(x.size)


def joint_uniform_p(x: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Chi-square p-value that pairs (x, y) are uniform on the unit square (catches non-linear dependence)."""
    h, _, _ = np.histogram2d(x.ravel(), y.ravel(), bins=bins, range=[[0, 1], [0, 1]])
    return float(stats.chisquare(h.ravel()).pvalue)


# ------------------------------------------------------------------------------------------ uniforms


def test_uniform_range_mean_variance_and_ks() -> None:
    u = block()
    n = u.size
    assert u.shape == (1000, 1000)
    assert u.dtype == np.float64
    assert (u > 0).all() and (u < 1).all()
    # mean of n U(0,1): sd sqrt(1/12/n) (~2.9e-4 for n = 1e6)
    assert abs(u.mean() - 0.5) < Z * np.sqrt(1 / 12 / n)
    # sample variance: Var((U - 1/2)^2) = 1/80 - 1/144 = 1/180, so sd ~ sqrt(1/180/n) (~7.5e-5)
    assert abs(u.var() - 1 / 12) < Z * np.sqrt(1 / 180 / n)
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4


@pytest.mark.parametrize("tick", [-2, -1, 0, 1, 3599])
def test_uniform_ks_other_ticks_and_streams(tick: int) -> None:
    for stream in (rng.S_INIT_GROUP, rng.S_END, rng.S_CARE):
        u = block(reps=300, tick=tick, stream=stream, width=300)
        assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4


def test_uniform_is_pure_function_of_key_tick_stream_slot() -> None:
    keys = rng.replication_keys(SEED, np.arange(50))
    a = rng.uniform_block(keys, 11, rng.S_SHOT_HIT, 8)
    b = rng.uniform_block(keys, 11, rng.S_SHOT_HIT, 8)
    np.testing.assert_array_equal(a, b)
    # a subset of keys, in another order, gives the same rows; a wider call the same first columns
    np.testing.assert_array_equal(rng.uniform_block(keys[[40, 2, 7]], 11, rng.S_SHOT_HIT, 8), a[[40, 2, 7]])
    np.testing.assert_array_equal(rng.uniform_block(keys, 11, rng.S_SHOT_HIT, 20)[:, :8], a)


def test_adjacent_slots_uncorrelated() -> None:
    u = block()
    r, tol = corr_ok(u[:, :-1], u[:, 1:])
    assert abs(r) < tol, (r, tol)
    assert joint_uniform_p(u[:, :-1], u[:, 1:]) > 1e-4


def test_adjacent_ticks_uncorrelated() -> None:
    a = block(tick=7)
    b = block(tick=8)
    r, tol = corr_ok(a, b)
    assert abs(r) < tol, (r, tol)
    assert joint_uniform_p(a, b) > 1e-4
    # the start-of-run tick (-1) and the first tick (0) too
    r, tol = corr_ok(block(tick=-1, width=200), block(tick=0, width=200))
    assert abs(r) < tol, (r, tol)


def test_adjacent_replications_uncorrelated() -> None:
    u = block()
    r, tol = corr_ok(u[:-1], u[1:])
    assert abs(r) < tol, (r, tol)
    assert joint_uniform_p(u[:-1], u[1:]) > 1e-4


def test_streams_and_seeds_uncorrelated() -> None:
    a = block(stream=rng.S_SHOTS)
    b = block(stream=rng.S_SHOT_TARGET)
    r, tol = corr_ok(a, b)
    assert abs(r) < tol, (r, tol)
    assert joint_uniform_p(a, b) > 1e-4
    c = block(seed=SEED + 1)
    r, tol = corr_ok(a, c)
    assert abs(r) < tol, (r, tol)
    assert not np.array_equal(a, c)


def _unxorshift(y: int, s: int) -> int:
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x & (2**64 - 1)


def _inv_mix64(z: int) -> int:
    """Inverse of the SplitMix64 finaliser (xorshifts and odd multipliers are invertible mod 2**64)."""
    z = _unxorshift(z, 31)
    z = (z * pow(0x94D049BB133111EB, -1, 2**64)) % 2**64
    z = _unxorshift(z, 27)
    z = (z * pow(0xBF58476D1CE4E5B9, -1, 2**64)) % 2**64
    return _unxorshift(z, 30)


def test_inverse_mixer_helper_is_exact() -> None:
    for v in (0, 1, 12345, 2**63 + 7, 2**64 - 1):
        assert int(rng.mix64(np.uint64(_inv_mix64(v)))) == v


def test_uniform_open_interval_at_the_extremes() -> None:
    # Build the key whose mixed word is the largest (2**64 - 1) and the smallest (0) for one counter.
    tick, stream = 5, rng.S_SHOTS
    counter = ((tick + 1) << 32) | (stream << 24)
    mc = int(rng.mix64(np.uint64(counter)))
    keys = np.array([(_inv_mix64(2**64 - 1) - mc) % 2**64, (_inv_mix64(0) - mc) % 2**64], dtype=np.uint64)
    u = rng.uniform_block(keys, tick, stream, 1)[:, 0]
    assert u[1] > 0.0
    assert u[0] < 1.0, f"uniform returned {u[0]!r}"


# ------------------------------------------------------------------------------------ replication keys


def test_replication_keys_depend_only_on_seed_and_rep() -> None:
    full = rng.replication_keys(SEED, np.arange(10))
    np.testing.assert_array_equal(rng.replication_keys(SEED, np.array([3, 4])), full[3:5])
    np.testing.assert_array_equal(rng.replication_keys(SEED, np.array([9, 0, 5])), full[[9, 0, 5]])
    np.testing.assert_array_equal(rng.replication_keys(SEED, np.array([7])), full[7:8])
    big = rng.replication_keys(SEED, np.arange(100_000))
    np.testing.assert_array_equal(big[:10], full)
    assert big.dtype == np.uint64
    assert np.unique(big).size == big.size
    other = rng.replication_keys(SEED + 1, np.arange(10))
    assert not np.isin(other, full).any()


# ------------------------------------------------------------------------------------ distributions


@pytest.mark.parametrize("lam", [0.3, 1.2, 3.0])
def test_poisson_matches_scipy_pmf(lam: float) -> None:
    u = block(reps=400, width=500, stream=rng.S_SHOTS).ravel()  # 2e5 draws
    cap = 60  # P(X > 60) is negligible for these lam, so the truncation is invisible
    k = poisson(u, lam, cap)
    assert k.dtype.kind == "i" and k.min() >= 0
    # chi-square goodness of fit on bins 0..K-1 and a tail bin K+, with K chosen so every expected count >= 5
    n = k.size
    kmax = int(stats.poisson.ppf(1 - 5 / n, lam))
    observed = np.array([(k == j).sum() for j in range(kmax)] + [(k >= kmax).sum()])
    expected = n * np.append(stats.poisson.pmf(np.arange(kmax), lam), stats.poisson.sf(kmax - 1, lam))
    assert expected.min() >= 5
    assert observed.sum() == n
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    # mean of n Poisson(lam): sd sqrt(lam / n)
    assert abs(k.mean() - lam) < Z * np.sqrt(lam / n)
    # inversion: the same u gives scipy's quantile (equal except possibly at floating-point ties)
    mismatch = (k != stats.poisson.ppf(u, lam)).mean()
    assert mismatch <= 1e-4


def test_poisson_truncates_at_cap() -> None:
    u = block(reps=400, width=500, stream=rng.S_SHOTS).ravel()
    lam, cap = 3.0, 2
    k = poisson(u, lam, cap)
    assert k.max() == cap
    # the tail above cap is put at cap: same draw, same value as the untruncated one clipped
    np.testing.assert_array_equal(k, np.minimum(poisson(u, lam, 60), cap))
    # share at cap ~ P(X >= cap); binomial sd sqrt(p (1 - p) / n)
    p = stats.poisson.sf(cap - 1, lam)
    assert abs((k == cap).mean() - p) < Z * np.sqrt(p * (1 - p) / k.size)
    assert poisson(u, lam, 0).max() == 0


def test_poisson_per_element_rates_and_zero_rate() -> None:
    u = block(reps=300, width=300, stream=rng.S_SHOTS)
    lam = np.where(np.arange(300) % 3 == 0, 0.0, np.where(np.arange(300) % 3 == 1, 0.5, 4.0))[:, None]
    k = poisson(u, lam, 6)
    assert k.shape == u.shape
    assert (k[lam[:, 0] == 0.0] == 0).all()
    for value in (0.5, 4.0):
        rows = lam[:, 0] == value
        np.testing.assert_array_equal(k[rows], poisson(u[rows], value, 6))


def test_lognormal_median_and_log_sd() -> None:
    keys = rng.replication_keys(SEED, np.arange(400))
    u = rng.uniform_block(keys, -1, rng.S_INIT_GROUP, 1000).reshape(-1, 2)  # 2e5 pairs
    median, sigma = 60.0, 0.5
    x = lognormal(u[:, 0], u[:, 1], median, sigma)
    n = x.size
    assert (x > 0).all()
    logx = np.log(x)
    # log x ~ N(log median, sigma): mean has sd sigma/sqrt(n); sample sd has sd ~ sigma/sqrt(2n)
    assert abs(logx.mean() - np.log(median)) < Z * sigma / np.sqrt(n)
    assert abs(logx.std(ddof=1) - sigma) < Z * sigma / np.sqrt(2 * n)
    # sample median of a normal: sd ~ sigma * sqrt(pi / 2) / sqrt(n) on the log scale
    assert abs(np.log(np.median(x)) - np.log(median)) < Z * sigma * np.sqrt(np.pi / 2 / n)
    assert stats.kstest((logx - np.log(median)) / sigma, "norm").pvalue > 1e-4
    # the standard normal helper itself
    zz = normal(u[:, 0], u[:, 1])
    assert stats.kstest(zz, "norm").pvalue > 1e-4
    # array parameters broadcast elementwise, and sigma = 0 gives the median exactly
    medians = np.arange(1.0, 6.0)
    np.testing.assert_allclose(lognormal(u[:5, 0], u[:5, 1], medians, 0.0), medians)


def test_exponential_mean() -> None:
    u = block(reps=400, width=500, stream=rng.S_INIT_UNIT).ravel()
    mean = 45.0
    x = exponential(u, mean)
    n = x.size
    assert (x > 0).all()
    # exponential sd = mean, so the sample mean has sd mean/sqrt(n)
    assert abs(x.mean() - mean) < Z * mean / np.sqrt(n)
    assert stats.kstest(x, "expon", args=(0, mean)).pvalue > 1e-4
