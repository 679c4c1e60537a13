"""The calibration's simulations: ensemble attempts at parameter points, and the record of a fit.

``simulate_points`` runs the same ensemble attempts (cells drawn once per seed) at each parameter point;
many points run in one engine batch, each replication carrying its own parameters. The sampler itself is
pyabc's ABC-SMC (``abc_smc.py``); ``FitResult`` is what the report and the calibration file record of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from responsesim.calibrate.ensemble import Ensemble, batch_params, cell_choices
from responsesim.engine.run import run_chunk
from responsesim.params import PARAMETER_INFO, CalibratedParams

DistanceFn = Callable[[pd.DataFrame], float]


def fitted_names() -> list[str]:
    return [k for k, v in PARAMETER_INFO.items() if v.fitted]


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
