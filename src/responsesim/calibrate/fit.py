"""Likelihood-free calibration: approximate Bayesian computation by population Monte Carlo (ABC-PMC).

Round 1 draws parameter points from the prior (a Latin hypercube over each fitted parameter's range in
``params.PARAMETER_INFO``, log-uniform for rates and multipliers that span more than a factor of 20);
each point simulates ``incidents`` generic incidents from the ensemble and is scored by its distance to
the observed targets (each difference divided by the target's half 95% interval). The closest
``accept`` share is kept; later rounds draw from a Gaussian around the kept points (twice their
covariance, clipped to the prior box), as in Beaumont et al. (2009). The fitted value of each parameter
is the median of the final kept points; their 5-95% range is its posterior interval.

Many parameter points run in one engine batch: each replication carries its own parameters (``Theta``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from responsesim.calibrate.ensemble import Ensemble, batch_params, cell_choices
from responsesim.engine.run import run_chunk
from responsesim.params import PARAMETER_INFO, CalibratedParams

DistanceFn = Callable[[pd.DataFrame], float]


def fitted_names() -> list[str]:
    return [k for k, v in PARAMETER_INFO.items() if v.fitted]


def _log_scale(name: str) -> bool:
    info = PARAMETER_INFO[name]
    return info.low > 0 and info.high / info.low > 20


def to_unit(names: Sequence[str], x: np.ndarray) -> np.ndarray:
    """Parameter values -> [0, 1] box coordinates (log scale where the range is wide)."""
    u = np.empty_like(x, dtype=np.float64)
    for j, n in enumerate(names):
        i = PARAMETER_INFO[n]
        if _log_scale(n):
            u[:, j] = (np.log(x[:, j]) - np.log(i.low)) / (np.log(i.high) - np.log(i.low))
        else:
            u[:, j] = (x[:, j] - i.low) / (i.high - i.low)
    return u


def from_unit(names: Sequence[str], u: np.ndarray) -> np.ndarray:
    x = np.empty_like(u, dtype=np.float64)
    for j, n in enumerate(names):
        i = PARAMETER_INFO[n]
        if _log_scale(n):
            x[:, j] = np.exp(np.log(i.low) + u[:, j] * (np.log(i.high) - np.log(i.low)))
        else:
            x[:, j] = i.low + u[:, j] * (i.high - i.low)
    return x


def _batch_task(
    args: tuple[Ensemble, str, CalibratedParams, np.ndarray, dict[str, np.ndarray], str],
) -> pd.DataFrame:
    ens, building, cal, reps, theta, backend = args
    return run_chunk(batch_params(ens, building, cal), reps, theta=theta, backend=backend)


def simulate_points(
    ens: Ensemble,
    cal: CalibratedParams,
    names: Sequence[str],
    points: np.ndarray,
    incidents: int,
    seed: int,
    executor: Executor | None = None,
    chunk: int = 5000,
    backend: str = "numba",
) -> pd.DataFrame:
    """Outcomes of ``incidents`` ensemble incidents at each parameter point; columns ``point``, ``cell``.

    The incidents' cells are drawn once (seed ``seed``) and shared by every point, so points differ by
    their parameters, not by the mix of situations. Replication indices are ``point * incidents + j``.
    Cells of one building template run in the same batches (their differences are per-replication).
    ``backend`` names the engine backend (every backend gives the same outcomes).
    """
    n_points = points.shape[0]
    assign = np.random.default_rng(seed).choice(len(ens.cells), size=incidents, p=ens.weights)
    base = {k: float(v) for k, v in cal.values.items()}
    tasks = []
    labels = []
    for building in sorted({ens.cells[c].spec.building.template or "" for c in np.unique(assign)}):
        js = np.flatnonzero([ens.cells[c].spec.building.template == building for c in assign])
        reps = (np.arange(n_points)[:, None] * incidents + js[None, :]).ravel().astype(np.int64)
        pidx = reps // incidents
        cells = assign[reps % incidents]
        for a in range(0, reps.size, chunk):
            sl = slice(a, a + chunk)
            vals: dict[str, np.ndarray] = {k: np.full(reps[sl].size, v) for k, v in base.items()}
            for j, n in enumerate(names):
                vals[n] = points[pidx[sl], j]
            theta: dict[str, np.ndarray] = {}
            for c in np.unique(cells[sl]):
                m = cells[sl] == c
                for k, v in cell_choices(ens.cells[c], {k: vv[m] for k, vv in vals.items()}).items():
                    theta.setdefault(k, np.zeros(reps[sl].size))[m] = v
            tasks.append((ens, building, cal, reps[sl], theta, backend))
            labels.append(cells[sl])
    parts = [_batch_task(t) for t in tasks] if executor is None else list(executor.map(_batch_task, tasks))
    for part, lab in zip(parts, labels, strict=True):
        part["cell"] = lab
    df = pd.concat(parts, ignore_index=True)
    df["point"] = (df["rep"] // incidents).astype(np.int64)
    return df


@dataclass(frozen=True)
class FitResult:
    names: tuple[str, ...]
    rounds: int
    points: np.ndarray  # [n, P] last round's points
    distances: np.ndarray  # [n]
    accepted: np.ndarray  # [k] indices into points
    fitted: dict[str, float]
    interval: dict[str, tuple[float, float]]
    history: tuple[dict[str, float], ...]  # per round: acceptance threshold and best distance

    def table(self) -> pd.DataFrame:
        rows = []
        for n in self.names:
            i = PARAMETER_INFO[n]
            lo, hi = self.interval[n]
            rows.append(
                {"parameter": n, "fitted": self.fitted[n], "low_5": lo, "high_95": hi, "prior_low": i.low,
                 "prior_high": i.high, "unit": i.unit}
            )  # fmt: skip
        return pd.DataFrame(rows)


def abc_pmc(
    ens: Ensemble,
    cal: CalibratedParams,
    distance: DistanceFn,
    names: Sequence[str] | None = None,
    n_points: int = 200,
    incidents: int = 150,
    rounds: int = 3,
    accept: float = 0.1,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    backend: str = "numba",
) -> FitResult:
    """Fit ``names`` (default: every parameter marked ``fit``) so the ensemble matches the targets."""
    names = tuple(names or fitted_names())
    rng = np.random.default_rng(seed)
    p = len(names)
    u = qmc.LatinHypercube(d=p, seed=rng).random(n_points)
    history: list[dict[str, float]] = []
    executor: Executor | None = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        for r in range(rounds):
            pts = from_unit(names, u)
            df = simulate_points(ens, cal, names, pts, incidents, seed + 1000 * r, executor, backend=backend)
            dist = np.array([distance(g) for _, g in df.groupby("point", sort=True)])
            k = max(2, round(accept * n_points))
            order = np.argsort(dist, kind="stable")
            kept = order[:k]
            history.append({"round": r + 1, "threshold": float(dist[kept[-1]]), "best": float(dist[kept[0]])})
            if progress:
                progress(f"round {r + 1}/{rounds}: best distance {dist[kept[0]]:.2f}, kept {k}")
            if r + 1 < rounds:
                ku = u[kept]
                cov = 2.0 * np.cov(ku, rowvar=False) + 1e-6 * np.eye(p)
                centres = ku[rng.integers(0, k, n_points)]
                u = np.clip(centres + rng.multivariate_normal(np.zeros(p), cov, n_points), 0.0, 1.0)
    finally:
        if executor is not None:
            executor.shutdown()
    kept_x = pts[kept]
    fitted = {n: float(np.median(kept_x[:, j])) for j, n in enumerate(names)}
    interval = {
        n: (float(np.quantile(kept_x[:, j], 0.05)), float(np.quantile(kept_x[:, j], 0.95)))
        for j, n in enumerate(names)
    }
    return FitResult(names, rounds, pts, dist, kept, fitted, interval, tuple(history))


def normalised_distance(
    observed: Mapping[str, tuple[float, float, float]],
    simulate_values: Callable[[pd.DataFrame], Mapping[str, float]],
) -> DistanceFn:
    """Root mean square of (simulated - observed) / half-width of the observed 95% interval."""

    def dist(df: pd.DataFrame) -> float:
        sim = simulate_values(df)
        z = []
        for name, (obs, lo, hi) in observed.items():
            v = sim.get(name, np.nan)
            scale = max((hi - lo) / 2.0, 1e-3)
            z.append(0.0 if np.isnan(v) and np.isnan(obs) else (v - obs) / scale)
        arr = np.nan_to_num(np.asarray(z, dtype=np.float64), nan=10.0)
        return float(np.sqrt(np.mean(arr**2)))

    return dist
