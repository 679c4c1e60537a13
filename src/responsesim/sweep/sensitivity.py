"""Sobol sensitivity indices of deaths over the uncertain inputs (SALib, Saltelli sampling).

The inputs (``--factors``):

- ``posterior`` (default): the scenario parameters (``SCENARIO_PARAMETERS``, uniform over their ranges)
  and ONE factor for the model's parameters, ``model parameters (posterior draw)``: a uniform ``u`` that
  picks a particle of the calibration's posterior by its weight (``posterior_index``). The posterior's
  parameters are correlated, so per-parameter Sobol indices would be ill-defined; as one group they
  answer "how much of the spread comes from what the calibration does not know?".
- ``point``: the scenario parameters only, the model at the calibration's values (``--point-estimate``).
- ``model-ranges``: every fitted parameter (``PARAMETER_INFO`` with ``fitted``) uniform over its whole
  plausible range (the calibration's prior box) plus the scenario parameters: a question about the
  model's structure (which rule matters), not about an incident.

``N`` base samples give ``N * (D + 2)`` points (first and total order only); each point is the base
scenario with those values, run for ``replications`` replications with the SAME replication indices at
every point (common random numbers: less noise in the differences that Sobol estimators are built on).
The output is the mean of the metric over the incidents among those replications.

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
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from responsesim.engine.run import OUTCOME_COLUMNS
from responsesim.params import PARAMETER_INFO, CalibratedParams, CalibrationError

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


#: the one factor standing for the model's parameters drawn jointly from the posterior
POSTERIOR_FACTOR = "model parameters (posterior draw)"


def default_parameters() -> list[tuple[str, float, float]]:
    """``(name, low, high)``: ``model.<p>`` for every fitted calibrated parameter, then the scenario ones
    (the ``model-ranges`` factor set)."""
    model = [(f"model.{k}", float(v.low), float(v.high)) for k, v in PARAMETER_INFO.items() if v.fitted]
    return model + list(SCENARIO_PARAMETERS)


class FactorSet(NamedTuple):
    """What ``--factors NAME`` analyses: its inputs, a title for the plot and a note for readers."""

    parameters: Callable[[], list[tuple[str, float, float]]]  # (name, low, high) of each input
    title: str
    note: str


#: the factor sets ``--factors`` may ask for (see the module docstring)
FACTOR_SETS: dict[str, FactorSet] = {
    "posterior": FactorSet(
        lambda: [*SCENARIO_PARAMETERS, (POSTERIOR_FACTOR, 0.0, 1.0)],
        "model from the posterior",
        f"Inputs: the scenario parameters over their ranges and '{POSTERIOR_FACTOR}', one factor that draws "
        "all fitted model parameters together from the calibration's posterior (they are correlated, so "
        "they are not split); its index is the share of the spread due to what the calibration does not "
        "know.",
    ),
    "point": FactorSet(
        lambda: list(SCENARIO_PARAMETERS),
        "model at the point estimate",
        "Inputs: the scenario parameters over their ranges; the model at the calibration's values (its own "
        "uncertainty is left out).",
    ),
    "model-ranges": FactorSet(
        default_parameters,
        "model parameters over their whole ranges",
        "Inputs: every fitted model parameter over its whole plausible range (the calibration's prior, "
        "wider than the posterior) and the scenario parameters: which model rule matters, not how "
        "uncertain an incident's numbers are.",
    ),
}


def factor_parameters(factors: str) -> list[tuple[str, float, float]]:
    """The ``(name, low, high)`` inputs of a factor set (``FACTOR_SETS``)."""
    if factors not in FACTOR_SETS:
        raise ValueError(f"factors must be one of {', '.join(FACTOR_SETS)}, not {factors!r}")
    return FACTOR_SETS[factors].parameters()


def posterior_index(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The particle each ``u`` in [0, 1] picks: the inverse of the weights' cumulative sum, so a uniform
    ``u`` picks particle ``i`` with probability ``weights[i]`` (weights sum to 1)."""
    c = np.cumsum(np.asarray(weights, dtype=float))
    idx = np.searchsorted(c, np.asarray(u, dtype=float) * c[-1], side="right")
    return np.minimum(idx, len(c) - 1)


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
    build per row; attempts with no shot fired are left out, ``analysis.incidents``). A
    ``POSTERIOR_FACTOR`` column picks the posterior particle every replication of that row runs at."""
    from responsesim.analysis.incidents import incidents
    from responsesim.engine.run import run_chunk
    from responsesim.posterior import load_posterior
    from responsesim.scenario.load import build, load_scenario
    from responsesim.scenario.schema import ScenarioSpec

    scenario_path, names, rows, replications, metric = args
    base = load_scenario(scenario_path)
    base_data = base.spec.model_dump(mode="json")
    reps = np.arange(replications, dtype=np.int64)
    spec_names = [n for n in names if n != POSTERIOR_FACTOR]
    spec_cols = [j for j, n in enumerate(names) if n != POSTERIOR_FACTOR]
    post = load_posterior(base.calibration) if POSTERIOR_FACTOR in names else None
    if POSTERIOR_FACTOR in names and post is None:
        raise ValueError(f"{base.calibration.source}: the calibration has no posterior to draw from")
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        spec = ScenarioSpec.model_validate(_point_spec(base_data, spec_names, [row[j] for j in spec_cols]))
        sc = build(spec, base.source, base.text, base.calibration, base_dir=base.base_dir)
        theta = None
        if post is not None:
            k = int(posterior_index(np.array([row[names.index(POSTERIOR_FACTOR)]]), post.weights)[0])
            theta = {n: np.full(replications, post.particles[k, j]) for j, n in enumerate(post.names)}
        out[i] = float(incidents(run_chunk(sc.params, reps, theta=theta))[metric].mean())
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
    factors: str = "posterior",
) -> SobolResult:
    """Sobol indices of ``metric`` (mean over ``replications``) over ``parameters`` (default: the factor
    set ``factors``, see ``factor_parameters``) around ``scenario`` (default: the built-in scenario)."""
    params = list(parameters) if parameters is not None else factor_parameters(factors)
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


def _posterior_problem(cal: CalibratedParams) -> str:
    """Why ``cal`` offers no posterior to draw from ("" when it does)."""
    from responsesim.posterior import load_posterior

    try:
        post = load_posterior(cal)
    except CalibrationError as exc:
        return str(exc)
    if post is None:
        extra = (
            " (the scenario overrides calibrated values under [model])" if "+overrides" in cal.version else ""
        )
        return f"the calibration {cal.version} has no posterior{extra}"
    return ""


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
    factors: str = "posterior",
) -> int:
    """CLI body: run the Sobol analysis, write ``<outdir>/sobol_<metric>.png`` and ``.json`` (with a
    ``_<factors>`` suffix for a factor set other than ``posterior``; and refresh ``<outdir>/index.html``),
    print the indices. Returns 0, or 2 on bad input."""
    if factors not in FACTOR_SETS:
        print(f"error: --factors: unknown set {factors!r}; choose one of: {', '.join(FACTOR_SETS)}",
              file=sys.stderr)  # fmt: skip
        return 2
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
    from responsesim.scenario.errors import ScenarioError
    from responsesim.scenario.load import load_scenario

    try:
        cal = load_scenario(scenario).calibration
    except (ScenarioError, CalibrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if factors == "posterior":
        why = _posterior_problem(cal)
        if why:
            print(f"error: --factors posterior: {why}; use --point-estimate (or --factors model-ranges)",
                  file=sys.stderr)  # fmt: skip
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
        progress=progress, factors=factors,
    )  # fmt: skip
    stem = f"sobol_{metric}" + ("" if factors == "posterior" else f"_{factors.replace('-', '_')}")
    where = scenario.name if scenario else "built-in scenario"
    png = plot_sobol(
        res, outdir / f"{stem}.png", f"Sobol sensitivity of {metric} ({where}; {FACTOR_SETS[factors].title})"
    )
    from responsesim.sweep.report import _clean, write_index

    cmd = (
        f"responsesim sensitivity --n {n} --replications {replications} --metric {metric}"
        + ("" if factors == "posterior" else f" --factors {factors}")
        + f" --outdir {outdir}"
        + (f" --scenario {scenario}" if scenario else "")
    )
    doc = {
        "stem": stem,
        "kind": "sobol",
        "name": f"Sobol sensitivity of {metric}" + ("" if factors == "posterior" else f" ({factors})"),
        "factors": factors,
        "factors_note": FACTOR_SETS[factors].note,
        "calibration": cal.version,
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
    import textwrap

    print(textwrap.fill(FACTOR_SETS[factors].note, width=80))
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
    ap.add_argument("--factors", default="posterior", choices=list(FACTOR_SETS))
    ap.add_argument("--point-estimate", action="store_true", help="same as --factors point")
    a = ap.parse_args(argv)
    return sensitivity_command(
        a.outdir, n=a.n, replications=a.replications, metric=a.metric, scenario=a.scenario,
        workers=a.workers or None, seed=a.seed, as_json=a.json,
        factors="point" if a.point_estimate else a.factors,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
