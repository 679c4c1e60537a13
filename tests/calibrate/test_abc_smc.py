"""ABC-SMC (calibrate/abc_smc.py, pyabc): the posterior's intervals have their stated coverage on a model
whose posterior is known, weighted quantiles are right, the posterior file round-trips."""

from __future__ import annotations

import logging

import numpy as np
import pyabc
import pytest
from scipy import stats

from responsesim.calibrate.abc_smc import Posterior, log_scale, prior, run_smc, zscore_distance

SE = 0.2  # standard error of the observed mean in the analytic model
FITS = 25


@pytest.fixture(autouse=True)
def quiet_pyabc() -> None:
    for name in ("ABC", "Epsilon", "Population", "Sampler", "Data", "Distance", "Acceptor", "History"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _model(p: dict[str, float]) -> dict[str, float]:
    return {"ybar": float(np.random.normal(p["mu"], SE))}


def test_posterior_intervals_cover_the_truth_at_their_level() -> None:
    """Repeated fits of a normal mean (prior U(-3, 3), observed mean with standard error SE): the 90 %
    interval must contain the true value in about 90 % of fits. With FITS fits the count is
    Binomial(FITS, 0.9) if the coverage is right; we accept its central 99.9 % range. The intervals must
    also be about as wide as the exact posterior's (2 x 1.645 x SE), not merely wide enough to cover."""
    covered = 0
    widths = []
    for k in range(FITS):
        truth = float(np.random.default_rng(k).uniform(-2.0, 2.0))
        obs = {"ybar": float(np.random.default_rng(1000 + k).normal(truth, SE))}
        res = run_smc(_model, obs, zscore_distance({"ybar": SE}), ["mu"], population=200, max_generations=5,
                      seed=k, prior_override=pyabc.Distribution(mu=pyabc.RV("uniform", -3, 6)))  # fmt: skip
        lo, hi = res.posterior.interval(0.05, 0.95)["mu"]
        covered += lo <= truth <= hi
        widths.append(hi - lo)
        assert len(res.posterior) == 200
    low, high = stats.binom.interval(0.999, FITS, 0.9)
    assert low <= covered <= high, covered
    exact = 2 * stats.norm.ppf(0.95) * SE
    assert 0.8 * exact <= float(np.mean(widths)) <= 1.6 * exact, (np.mean(widths), exact)


def test_weighted_quantiles_and_draws() -> None:
    post = Posterior(("a",), np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([1.0, 1.0, 1.0, 5.0]))
    assert post.weights.sum() == pytest.approx(1.0)
    assert post.quantile("a", 0.5) == 4.0  # half the weight is on 4
    assert post.quantile("a", 0.1) == 1.0
    assert post.effective_size() == pytest.approx(1 / ((1 / 8) ** 2 * 3 + (5 / 8) ** 2))
    idx = post.draw(20000, seed=3)
    share = np.bincount(idx, minlength=4) / idx.size
    # multinomial shares: sd sqrt(p (1 - p) / n); 5 sd tolerance
    assert np.all(np.abs(share - post.weights) < 5 * np.sqrt(post.weights * (1 - post.weights) / idx.size))
    np.testing.assert_array_equal(idx, post.draw(20000, seed=3))


def test_posterior_file_round_trip_and_bad_files() -> None:
    post = Posterior(("p_hit", "flee_h"), np.array([[0.2, 1e-3], [0.3, 2e-3]]), np.array([0.25, 0.75]),
                     {"version": "x-1", "method": "test"})  # fmt: skip
    again = Posterior.from_text(post.to_text())
    np.testing.assert_array_equal(again.particles, post.particles)
    np.testing.assert_array_equal(again.weights, post.weights)
    assert again.meta == {"version": "x-1", "method": "test"} and again.names == post.names
    with pytest.raises(ValueError, match="unknown parameter"):
        Posterior.from_text("weight,nonsense\n1,2\n", "bad.csv")
    with pytest.raises(ValueError, match=r"bad\.csv"):
        Posterior.from_text("weight,p_hit\n1,x\n", "bad.csv")


def test_prior_is_log_uniform_for_wide_ranges() -> None:
    assert log_scale("self_term_h") and not log_scale("p_hit")
    d = prior(["p_hit", "self_term_h"])
    np.random.seed(0)
    xs = [d.rvs() for _ in range(2000)]
    ph = np.array([x["p_hit"] for x in xs])
    st = np.array([x["self_term_h"] for x in xs])  # sampled as log(self_term_h)
    assert ph.min() >= 0.1 and ph.max() <= 0.6
    # log-uniform on [1e-4, 5e-3]: the log is uniform; KS test against that uniform
    log_uniform = stats.uniform(np.log(1e-4), np.log(5e-3) - np.log(1e-4))
    assert stats.kstest(st, log_uniform.cdf).pvalue > 1e-3


def test_fit_on_a_dask_cluster_recovers_the_analytic_posterior() -> None:
    """The same analytic fit with its simulations on a real Dask cluster (LocalCluster, 2 worker
    processes): the posterior is a posterior of the right place and width (the exact posterior of the mean
    is N(observed, SE); its 90% interval is 2 x 1.645 x SE wide)."""
    from dask.distributed import LocalCluster

    obs = {"ybar": 0.7}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res = run_smc(_model, obs, zscore_distance({"ybar": SE}), ["mu"], population=200, max_generations=4,
                      seed=3, scheduler=cluster.scheduler_address,
                      prior_override=pyabc.Distribution(mu=pyabc.RV("uniform", -3, 6)))  # fmt: skip
    lo, hi = res.posterior.interval(0.05, 0.95)["mu"]
    assert len(res.posterior) == 200
    assert lo < 0.7 < hi
    exact = 2 * stats.norm.ppf(0.95) * SE
    assert 0.6 * exact <= hi - lo <= 2.0 * exact, (lo, hi)
