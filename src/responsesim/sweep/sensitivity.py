"""Sobol sensitivity indices of deaths over the uncertain parameters (SALib, Saltelli sampling).

The uncertain parameters are the calibrated model parameters (``responsesim.params.PARAMETER_INFO``
entries with ``fit=True``, over their documented plausible range) plus a few scenario parameters
(``SCENARIO_PARAMETERS``). ``N`` base samples give ``N * (D + 2)`` points (first and total order only);
each point is the base scenario with those values, run for ``replications`` replications with the SAME
replication indices at every point (common random numbers: less noise in the differences that Sobol
estimators are built on). The output is the mean of the metric over those replications.

    python -m responsesim.sweep.sensitivity --n 64 --replications 32 --outdir docs/sweeps

Python: ``sobol_indices(problem, func, n)`` (any vectorised function; checked on the Ishigami function),
``run_sensitivity(...)`` and ``sensitivity_command(...)`` (CLI body, returns an exit code).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.engine.run import OUTCOME_COLUMNS
from responsesim.params import PARAMETER_INFO

# scenario parameters (dotted path into the scenario, low, high); ranges from the schema's documented spans
SCENARIO_PARAMETERS: tuple[tuple[str, float, float], ...] = (
    ("responders.patrol.first_median_s", 60.0, 600.0),  # ALERRT: 1-12 min
    ("responders.patrol.gap_mean_s", 15.0, 120.0),
    ("responders.sro.response_median_s", 30.0, 180.0),
)


@dataclass(frozen=True)
class SobolResult:
    """First-order (S1) and total (ST) indices with the half-widths of their bootstrap CIs."""

    names: tuple[str, ...]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    n_base: int
    n_evaluations: int
    y_mean: float
    y_var: float

    def frame(self) -> pd.DataFrame:
        """One row per parameter, sorted by ST (largest first)."""
        df = pd.DataFrame(
            {
                "name": self.names,
                "S1": self.S1,
                "S1_conf": self.S1_conf,
                "ST": self.ST,
                "ST_conf": self.ST_conf,
            }
        )
        return df.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def default_parameters() -> list[tuple[str, float, float]]:
    """``(name, low, high)``: ``model.<p>`` for every fitted calibrated parameter, then the scenario ones."""
    model = [(f"model.{k}", float(v.low), float(v.high)) for k, v in PARAMETER_INFO.items() if v.fitted]
    return model + list(SCENARIO_PARAMETERS)


def make_problem(parameters: Sequence[tuple[str, float, float]]) -> dict[str, Any]:
    return {
        "num_vars": len(parameters),
        "names": [p[0] for p in parameters],
        "bounds": [[p[1], p[2]] for p in parameters],
    }


def saltelli_sample(problem: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """``n * (D + 2)`` points (``calc_second_order=False``); ``n`` should be a power of 2."""
    from SALib.sample import sobol as sobol_sample

    return np.asarray(sobol_sample.sample(problem, n, calc_second_order=False, seed=seed % 2**32))


def analyze(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, n: int, seed: int = 0) -> SobolResult:
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    si = sobol.analyze(
        problem, y, calc_second_order=False, conf_level=0.95, print_to_console=False, seed=seed % 2**32
    )
    return SobolResult(
        names=tuple(problem["names"]),
        S1=np.asarray(si["S1"], dtype=float),
        S1_conf=np.asarray(si["S1_conf"], dtype=float),
        ST=np.asarray(si["ST"], dtype=float),
        ST_conf=np.asarray(si["ST_conf"], dtype=float),
        n_base=n,
        n_evaluations=len(y),
        y_mean=float(y.mean()),
        y_var=float(y.var()),
    )


def sobol_indices(
    problem: dict[str, Any], func: Callable[[np.ndarray], np.ndarray], n: int, seed: int = 0
) -> SobolResult:
    """Saltelli sample of ``problem`` (SALib dict), ``func`` on all rows at once, first and total indices."""
    x = saltelli_sample(problem, n, seed)
    return analyze(problem, x, np.asarray(func(x), dtype=float), n, seed)


# ------------------------------------------------------------------------------------------ simulation
def _point_spec(base: dict[str, Any], names: Sequence[str], row: Sequence[float]) -> dict[str, Any]:
    data = json.loads(json.dumps(base))
    for name, v in zip(names, row, strict=True):
        parts = name.split(".")
        cur = data
        for part in parts[:-1]:
            if cur.get(part) is None:
                cur[part] = {}
            cur = cur[part]
        cur[parts[-1]] = float(v)
    return data


def _eval_rows(args: tuple[str | None, list[str], np.ndarray, int, str]) -> np.ndarray:
    """Worker: mean of ``metric`` over the incidents among replications 0..R-1 at each row (one scenario
    build per row; attempts with no shot fired are left out, ``analysis.incidents``)."""
    from responsesim.analysis.incidents import incidents
    from responsesim.engine.run import run_chunk
    from responsesim.scenario.load import build, load_scenario
    from responsesim.scenario.schema import ScenarioSpec

    scenario_path, names, rows, replications, metric = args
    base = load_scenario(scenario_path)
    base_data = base.spec.model_dump(mode="json")
    reps = np.arange(replications, dtype=np.int64)
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        spec = ScenarioSpec.model_validate(_point_spec(base_data, names, row))
        sc = build(spec, base.source, base.text, base.calibration, base_dir=base.base_dir)
        out[i] = float(incidents(run_chunk(sc.params, reps))[metric].mean())
    return out


def evaluate(
    x: np.ndarray,
    names: Sequence[str],
    *,
    replications: int = 32,
    metric: str = "deaths",
    scenario: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """The mean of ``metric`` at every row of ``x`` (columns named by ``names``), on a process pool."""
    n_workers = workers if workers else os.cpu_count() or 1
    blocks = np.array_split(np.arange(len(x)), max(1, min(len(x), n_workers * 8)))
    sp = str(scenario) if scenario is not None else None
    tasks = [(sp, list(names), x[b], replications, metric) for b in blocks if len(b)]
    y = np.empty(len(x))
    done = 0
    if n_workers <= 1:
        for b, t in zip(blocks, tasks, strict=False):
            y[b] = _eval_rows(t)
            done += len(b)
            if progress:
                progress(done, len(x))
        return y
    with cf.ProcessPoolExecutor(max_workers=n_workers) as ex:
        futs = {ex.submit(_eval_rows, t): b for b, t in zip(blocks, tasks, strict=False)}
        for f in cf.as_completed(futs):
            y[futs[f]] = f.result()
            done += len(futs[f])
            if progress:
                progress(done, len(x))
    return y


def run_sensitivity(
    *,
    n: int = 64,
    replications: int = 32,
    metric: str = "deaths",
    parameters: Sequence[tuple[str, float, float]] | None = None,
    scenario: Path | None = None,
    workers: int | None = None,
    seed: int = 20260101,
    progress: Callable[[int, int], None] | None = None,
) -> SobolResult:
    """Sobol indices of ``metric`` (mean over ``replications``) over ``parameters`` (default:
    ``default_parameters()``) around ``scenario`` (default: the built-in scenario)."""
    params = list(parameters) if parameters is not None else default_parameters()
    problem = make_problem(params)
    x = saltelli_sample(problem, n, seed)
    y = evaluate(
        x, problem["names"], replications=replications, metric=metric, scenario=scenario, workers=workers,
        progress=progress,
    )  # fmt: skip
    return analyze(problem, x, y, n, seed)


def plot_sobol(result: SobolResult, path: Path, title: str = "") -> Path:
    """Horizontal bars of S1 and ST with their 95% CIs, parameters sorted by ST."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = result.frame()
    y = np.arange(len(df))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(df) + 1.8))
    h = 0.38
    ax.barh(y - h / 2, df["ST"], h, xerr=df["ST_conf"], capsize=2, label="total (ST)", color="tab:blue")
    ax.barh(
        y + h / 2, df["S1"], h, xerr=df["S1_conf"], capsize=2, label="first order (S1)", color="tab:orange"
    )
    ax.set_yticks(y, df["name"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Sobol index (95% bootstrap CI)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    sub = (
        f"N = {result.n_base} (Saltelli), {result.n_evaluations} points; "
        f"output mean {result.y_mean:.2f}, variance {result.y_var:.2f}"
    )
    ax.set_title((title + "\n" if title else "") + sub, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


#: outcomes whose sensitivity can be analysed: the numeric columns of the outcome table
METRICS: tuple[str, ...] = tuple(c for c in OUTCOME_COLUMNS if c not in ("rep", "end_reason", "stopped_by"))


def sensitivity_command(
    outdir: Path,
    *,
    n: int = 64,
    replications: int = 32,
    metric: str = "deaths",
    scenario: Path | None = None,
    workers: int | None = None,
    seed: int = 20260101,
    as_json: bool = False,
) -> int:
    """CLI body: run the Sobol analysis, write ``<outdir>/sobol_<metric>.png`` and ``.json`` (and refresh
    ``<outdir>/index.html``), print the indices. Returns 0, or 2 on bad input."""
    if n < 2 or (n & (n - 1)) != 0:
        print(f"error: --n must be a power of 2 (got {n})", file=sys.stderr)
        return 2
    if metric not in METRICS:
        known = ", ".join(METRICS)
        print(f"error: --metric: unknown outcome {metric!r}; choose one of: {known}", file=sys.stderr)
        return 2
    if workers is not None and workers < 0:
        print(f"error: --workers must be >= 0 (0 = all cores), not {workers}", file=sys.stderr)
        return 2
    if replications < 1:
        print("error: --replications must be >= 1", file=sys.stderr)
        return 2
    if scenario is not None and not scenario.is_file():
        print(f"error: scenario {scenario} does not exist", file=sys.stderr)
        return 2
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: --outdir {outdir}: {exc.strerror}", file=sys.stderr)
        return 2
    t0 = time.time()

    def progress(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            print(f"\r{done}/{total} points", end="", file=sys.stderr)

    res = run_sensitivity(
        n=n, replications=replications, metric=metric, scenario=scenario, workers=workers, seed=seed,
        progress=progress,
    )  # fmt: skip
    stem = f"sobol_{metric}"
    png = plot_sobol(res, outdir / f"{stem}.png", f"Sobol sensitivity of {metric} (built-in scenario)")
    from responsesim.sweep.report import _clean, write_index

    cmd = (
        f"python -m responsesim.sweep.sensitivity --n {n} --replications {replications} --metric {metric}"
        f" --outdir {outdir}" + (f" --scenario {scenario}" if scenario else "")
    )
    doc = {
        "stem": stem,
        "kind": "sobol",
        "name": f"Sobol sensitivity of {metric}",
        "seed": seed,
        "replications_per_point": replications,
        "points": res.n_evaluations,
        "command": cmd,
        "png": png.name,
        "seconds": round(time.time() - t0, 1),
        "figures": {
            "indices": res.frame().to_dict(orient="records"),
            "y_mean": res.y_mean,
            "y_var": res.y_var,
        },
    }
    (outdir / f"{stem}.json").write_text(json.dumps(_clean(doc), indent=1) + "\n")
    write_index(outdir)
    if as_json:
        sys.stdout.write(json.dumps(_clean(doc), indent=2) + "\n")
        return 0
    print(f"\n{doc['name']}: {res.n_evaluations} points x {replications} replications -> {png}")
    print(res.frame().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m responsesim.sweep.sensitivity", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--n", type=int, default=64, help="Saltelli base sample size (power of 2)")
    ap.add_argument("--replications", type=int, default=32)
    ap.add_argument("--metric", default="deaths")
    ap.add_argument("--scenario", type=Path, default=None)
    ap.add_argument("--outdir", type=Path, default=Path("docs/sweeps"))
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    return sensitivity_command(
        a.outdir, n=a.n, replications=a.replications, metric=a.metric, scenario=a.scenario,
        workers=a.workers or None, seed=a.seed, as_json=a.json,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
