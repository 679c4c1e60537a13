"""ABC-SMC with pyabc: a weighted particle posterior of the fitted model parameters.

The sampler is pyabc's (Klinger, Rickert & Hasenauer 2018): sequential Monte Carlo with importance
weights, an adaptive epsilon (a quantile of the previous population's distances) and a multivariate
normal transition fitted to the previous population. responsesim supplies the prior (uniform, or
log-uniform for parameters whose range spans more than a factor of 20, over the registry's ranges in
``responsesim.parameters``), the model (an ensemble of simulated attempts at one parameter point, summarised
as the calibration targets) and the distance (root mean square of the differences to the observed
targets, each divided by the half-width of the observed 95 % interval).

The result is a ``Posterior``: particles with normalised weights, kept in a versioned text file beside the
calibration file (``data/posterior.csv``); run, compare, sweep and the counterfactual can draw each
replication's parameters from it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from responsesim.parameters import BY_NAME

ModelFn = Callable[[Mapping[str, float]], dict[str, float]]


def log_scale(name: str) -> bool:
    """Whether a parameter's prior is log-uniform (its range spans more than a factor of 20). Such
    parameters are sampled as their logarithm (uniform prior there), so pyabc's normal transition works on
    the log scale and the importance weights stay even."""
    p = BY_NAME.get(name)
    return p is not None and p.low > 0 and p.high / p.low > 20


class _OnValueScale:
    """The model called with log-scale parameters turned back into values (picklable)."""

    def __init__(self, model: ModelFn, names: Sequence[str]) -> None:
        self.model = model
        self.logs = tuple(n for n in names if log_scale(n))

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        vals = {k: float(v) for k, v in dict(pars).items()}
        for n in self.logs:
            vals[n] = math.exp(vals[n])
        return self.model(vals)


@dataclass(frozen=True)
class Posterior:
    """Weighted particles [P, K] of parameters ``names``; weights sum to 1."""

    names: tuple[str, ...]
    particles: np.ndarray
    weights: np.ndarray
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.particles.shape != (self.weights.shape[0], len(self.names)):
            raise ValueError("particles must be [n_particles, n_parameters] matching weights and names")
        w = np.asarray(self.weights, dtype=float)
        if (w < 0).any() or not w.sum() > 0:
            raise ValueError("posterior weights must be >= 0 and not all 0")
        object.__setattr__(self, "weights", w / w.sum())

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def quantile(self, name: str, q: float) -> float:
        """Weighted quantile of one parameter (inverse of the weighted empirical distribution)."""
        j = self.names.index(name)
        order = np.argsort(self.particles[:, j], kind="stable")
        x, w = self.particles[order, j], self.weights[order]
        c = np.cumsum(w)
        return float(x[min(int(np.searchsorted(c, q * c[-1], side="left")), len(x) - 1)])

    def median(self) -> dict[str, float]:
        return {n: self.quantile(n, 0.5) for n in self.names}

    def interval(self, low: float = 0.05, high: float = 0.95) -> dict[str, tuple[float, float]]:
        return {n: (self.quantile(n, low), self.quantile(n, high)) for n in self.names}

    def effective_size(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))

    def draw(self, n: int, seed: int) -> np.ndarray:
        """Indices of ``n`` particles drawn with replacement by weight (seeded, reproducible)."""
        return np.random.default_rng(seed).choice(len(self), size=n, p=self.weights)

    # ------------------------------------------------------------------------------------------ file
    def to_text(self) -> str:
        """CSV with ``# key = value`` header lines (version, method, ...), then weight and parameters."""
        head = [f"# {k} = {v}" for k, v in self.meta.items()]
        rows = [",".join(["weight", *self.names])]
        for w, row in zip(self.weights, self.particles, strict=True):
            rows.append(",".join([repr(float(w)), *(repr(float(x)) for x in row)]))
        return "\n".join([*head, *rows]) + "\n"

    @staticmethod
    def from_text(text: str, source: str = "<posterior>") -> Posterior:
        meta: dict[str, str] = {}
        lines = [ln for ln in text.splitlines() if ln.strip()]
        body = []
        for ln in lines:
            if ln.startswith("#"):
                k, _, v = ln[1:].partition("=")
                meta[k.strip()] = v.strip()
            else:
                body.append(ln)
        if not body:
            raise ValueError(f"{source}: no particles")
        header = body[0].split(",")
        if header[0] != "weight":
            raise ValueError(f"{source}: first column must be 'weight'")
        unknown = [n for n in header[1:] if n not in BY_NAME]
        if unknown:
            raise ValueError(f"{source}: unknown parameter(s) {', '.join(unknown)}")
        try:
            data = np.array([[float(x) for x in ln.split(",")] for ln in body[1:]], dtype=float)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from exc
        if data.ndim != 2 or data.shape[1] != len(header):
            raise ValueError(f"{source}: every row needs {len(header)} values")
        return Posterior(tuple(header[1:]), data[:, 1:], data[:, 0], meta)


def prior(names: Sequence[str]) -> Any:
    """The pyabc prior: uniform over each parameter's registry range (over the log of the range for wide
    ones, whose values pyabc then sees as logarithms: ``_OnValueScale`` turns them back)."""
    import pyabc

    rvs = {}
    for n in names:
        p = BY_NAME[n]
        if log_scale(n):  # sampled as log(value): uniform there is log-uniform in the value
            rvs[n] = pyabc.RV("uniform", math.log(p.low), math.log(p.high) - math.log(p.low))
        else:
            rvs[n] = pyabc.RV("uniform", p.low, p.high - p.low)
    return pyabc.Distribution(**rvs)


def zscore_distance(scales: Mapping[str, float], nan_penalty: float = 10.0) -> Callable[..., float]:
    """RMS of (simulated - observed) / scale over the observed statistics; a missing value costs
    ``nan_penalty`` standard units (two missing values agree)."""
    keys = tuple(scales)

    def distance(x: Mapping[str, float], x0: Mapping[str, float], *_: Any) -> float:
        total = 0.0
        for k in keys:
            a, b = float(x.get(k, math.nan)), float(x0[k])
            if math.isnan(a) and math.isnan(b):
                z = 0.0
            elif math.isnan(a) or math.isnan(b):
                z = nan_penalty
            else:
                z = (a - b) / scales[k]
            total += z * z
        return math.sqrt(total / len(keys))

    return distance


@dataclass(frozen=True)
class SMCRun:
    """A finished ABC-SMC run: the last population as a posterior, and one row per generation."""

    posterior: Posterior
    generations: list[dict[str, float]]  # t, epsilon, particles, samples (simulations), acceptance


def run_smc(
    model: ModelFn,
    observed: Mapping[str, float],
    distance: Callable[..., float],
    names: Sequence[str],
    *,
    population: int = 1000,
    max_generations: int = 8,
    min_acceptance: float = 0.02,
    min_epsilon: float = 0.0,
    seed: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    db: Path | None = None,
    prior_override: Any = None,
    progress: Callable[[str], None] | None = None,
) -> SMCRun:
    """Run pyabc's ABC-SMC and return the final population as a ``Posterior``.

    ``workers`` > 1 uses pyabc's multicore sampler (forked processes); 1 the single-core sampler, which
    with ``seed`` is reproducible; ``scheduler`` (a Dask scheduler address, e.g. ``tcp://host:8786``) runs
    the simulations on that cluster with pyabc's Dask sampler instead (its workers need responsesim).
    Stops after ``max_generations``, or when the acceptance rate falls below
    ``min_acceptance``, or epsilon below ``min_epsilon``.
    """
    import pyabc

    np.random.seed(seed)  # pyabc draws from NumPy's global generator
    client = None
    if scheduler is not None:
        from dask.distributed import Client

        client = Client(scheduler, timeout=30)
        sampler: Any = pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=8)
    elif workers > 1:
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)
    else:
        sampler = pyabc.sampler.SingleCoreSampler()
    abc = pyabc.ABCSMC(
        _OnValueScale(model, names),
        prior_override if prior_override is not None else prior(names),
        distance,
        population_size=population,
        sampler=sampler,
        eps=pyabc.epsilon.QuantileEpsilon(alpha=0.5),
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = db or Path(tmp) / "abc.db"
            abc.new(f"sqlite:///{path}", dict(observed))
            history = abc.run(
                minimum_epsilon=min_epsilon,
                max_nr_populations=max_generations,
                min_acceptance_rate=min_acceptance,
            )
            pops = history.get_all_populations()
            df, w = history.get_distribution(m=0, t=history.max_t)
    finally:
        if client is not None:
            client.close()
    gens = []
    for r in pops.to_dict("records"):
        t = int(r["t"])
        if t < 0:
            continue
        samples = int(r["samples"])
        gens.append({"t": t, "epsilon": float(r["epsilon"]), "particles": int(r["particles"]),
                     "samples": samples, "acceptance": float(r["particles"]) / max(samples, 1)})  # fmt: skip
        if progress:
            progress(f"generation {t}: epsilon {r['epsilon']:.3g}, {samples} simulations")
    particles = df[list(names)].to_numpy(dtype=float, copy=True)
    for j, n in enumerate(names):
        if log_scale(n):
            particles[:, j] = np.exp(particles[:, j])
    post = Posterior(tuple(names), particles, np.asarray(w, dtype=float))
    return SMCRun(post, gens)


__all__ = ["Posterior", "SMCRun", "log_scale", "prior", "run_smc", "zscore_distance"]
