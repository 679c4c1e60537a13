"""`responsesim calibrate`: fit the model to the FBI data, check it on held-back years, write the file.

Steps: observed targets (train years 2000-2013 and the published 2000-2013 figures, incidents only: a
shot fired) -> ABC-SMC with pyabc (``abc_smc.py``): a weighted particle posterior -> a validation run of
many incidents at the posterior median -> comparison with the train and the held-out (2014-2019)
targets (simulated with the 2014-2019 response inputs, ``data/ensemble_2014_2019.toml``, the parameters
unchanged: the era test), each with the data's interval and the simulation's -> a versioned calibration
file that ``run`` uses by default, the posterior's particles beside it (``posterior.csv``, same version),
and a report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.analysis.incidents import incidents
from responsesim.calibrate.abc_smc import Posterior, SMCRun, run_smc, zscore_distance
from responsesim.calibrate.ensemble import HELD_ERA, Ensemble, load_ensemble, load_era_ensemble
from responsesim.calibrate.fit import FitResult, fitted_names, simulate_points
from responsesim.calibrate.reference import load_incidents, load_published_stats
from responsesim.calibrate.targets import (
    Target,
    incident_table,
    observed_targets,
    simulated_values,
    split,
    wilson,
)
from responsesim.params import (
    PARAMETER_INFO,
    CalibratedParams,
    CalibrationError,
    load_calibration,
    parse_calibration,
)

# targets that are shares (simulation interval: Wilson) vs means (simulation interval: t)
MEAN_TARGETS = ("deaths_mean", "wounded_mean")


@dataclass(frozen=True)
class Settings:
    n_points: int = 1000  # ABC-SMC population size (particles)
    incidents: int = 150  # simulated ensemble attempts per particle evaluation
    rounds: int = 6  # most ABC-SMC generations
    accept: float = 0.02  # stop when the acceptance rate falls below this
    validation_incidents: int = 4000
    seed: int = 2024
    workers: int = 2
    backend: str = "numba"  # engine backend (the numbers do not depend on it)
    scheduler: str | None = None  # a Dask scheduler address: the fit's simulations run on that cluster


@dataclass(frozen=True)
class CalibrationOutcome:
    fit: FitResult
    comparison: pd.DataFrame  # one row per (set, target)
    calibration_text: str
    settings: Settings
    ensemble: Ensemble
    validation: pd.DataFrame
    posterior: Posterior | None = None
    posterior_text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": target_rows(self.comparison, "within_interval"),
            "fitted": self.fit.fitted,
            "posterior_5_95": {k: list(v) for k, v in self.fit.interval.items()},
            "inside": int(self.comparison["inside"].sum()),
            "total": len(self.comparison),
            "ensemble": {"version": self.ensemble.version, "sha256": self.ensemble.sha256},
        }


def target_rows(comparison: pd.DataFrame, inside_key: str) -> list[dict[str, Any]]:
    """JSON rows of a target comparison (``compare``'s table); ``inside_key`` names the inside flag."""
    return [
        {
            "set": r["set"],
            "target": r["name"],
            "description": r["description"],
            "observed": r["observed"],
            "observed_ci": [r["ci_low"], r["ci_high"]],
            "simulated": _none(r["simulated"]),
            "simulated_ci": [_none(r["sim_low"]), _none(r["sim_high"])],
            inside_key: bool(r["inside"]),
            "n": int(r["n"]),
        }
        for r in comparison.to_dict("records")
    ]


def _none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def simulation_intervals(outcomes: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Simulated value and 95% interval of each target (Wilson for shares, t for means), over incidents."""
    vals = simulated_values(outcomes)
    outcomes = incidents(outcomes)
    out: dict[str, tuple[float, float, float]] = {}
    n = len(outcomes)
    for name, v in vals.items():
        if math.isnan(v):
            out[name] = (v, math.nan, math.nan)
            continue
        if name in MEAN_TARGETS:
            x = outcomes[name.removesuffix("_mean")].astype(float)
            se = float(x.std(ddof=1) / math.sqrt(len(x)))
            out[name] = (v, v - 1.96 * se, v + 1.96 * se)
            continue
        denom = n
        if name == "officer_shot_given_engagement_share":
            denom = int(outcomes["first_contact_s"].notna().sum())
        k = round(v * denom)
        lo, hi = wilson(k, denom) if denom > 0 else (math.nan, math.nan)
        out[name] = (v, lo, hi)
    return out


class EnsembleModel:
    """The pyabc model: ``incidents`` ensemble attempts at one parameter point, summarised as the
    calibration targets (over incidents). Picklable, so pyabc's samplers can run it in other processes."""

    def __init__(self, ens: Ensemble, cal: CalibratedParams, names: tuple[str, ...], incidents: int) -> None:
        self.ens, self.cal, self.names, self.incidents = ens, cal, names, incidents

    def __call__(self, pars: Any) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))  # pyabc seeds NumPy's global generator per run
        point = np.array([[float(pars[n]) for n in self.names]])
        return simulated_values(simulate_points(self.ens, self.cal, self.names, point, self.incidents, seed))


def fit_result(smc: SMCRun) -> FitResult:
    """The fit record the report and the calibration file use, from a finished ABC-SMC run."""
    post = smc.posterior
    history = tuple(
        {"round": g["t"] + 1, "threshold": g["epsilon"], "best": g["epsilon"], "samples": g["samples"]}
        for g in smc.generations
    )
    return FitResult(
        names=post.names,
        rounds=len(smc.generations),
        points=post.particles,
        distances=np.zeros(len(post)),
        accepted=np.arange(len(post)),
        fitted=post.median(),
        interval=post.interval(0.05, 0.95),
        history=history,
    )


def compare(targets: list[Target], sim: dict[str, tuple[float, float, float]], label: str) -> pd.DataFrame:
    rows = []
    for t in targets:
        v, lo, hi = sim.get(t.name, (math.nan, math.nan, math.nan))
        inside = (not math.isnan(v)) and (t.ci_low <= v <= t.ci_high)
        rows.append(
            {"set": label, "name": t.name, "description": t.description, "observed": t.observed,
             "ci_low": t.ci_low, "ci_high": t.ci_high, "n": t.n, "simulated": v, "sim_low": lo,
             "sim_high": hi, "inside": inside, "source": t.source}
        )  # fmt: skip
    return pd.DataFrame(rows)


def calibration_version(base: CalibratedParams, fit: FitResult) -> str:
    """``<date>-<8 hex of the fitted values>``: the id shared by the calibration and posterior files."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    vals = dict(base.values)
    vals.update(fit.fitted)
    return f"{stamp}-{hashlib.sha256(repr(sorted(vals.items())).encode()).hexdigest()[:8]}"


def posterior_file_text(posterior: Posterior, version: str, settings: Settings, fit: FitResult) -> str:
    """``posterior.csv``: the final ABC-SMC population (weights and particles) with its version."""
    meta = {
        "responsesim posterior": "particles of the last ABC-SMC generation, weights normalised",
        "version": version,
        "method": "ABC-SMC, pyabc 0.13",
        "population": str(len(posterior)),
        "generations": str(fit.rounds),
        "effective_sample_size": f"{posterior.effective_size():.1f}",
        "seed": str(settings.seed),
    }
    return Posterior(posterior.names, posterior.particles, posterior.weights, meta).to_text()


def calibration_file_text(
    base: CalibratedParams, fit: FitResult, settings: Settings, ens: Ensemble, posterior_sha256: str = ""
) -> str:
    """The versioned calibration TOML with the fitted values and a record of the fit."""
    vals = dict(base.values)
    vals.update(fit.fitted)
    version = calibration_version(base, fit)
    lines = [
        "# responsesim calibrated model parameters, written by `responsesim calibrate`.",
        "# Fitted parameters: the posterior median of an ABC-SMC fit (pyabc) to the FBI 2000-2013 in-scope",
        "# incidents and the published 2000-2013 figures; the posterior's particles are in posterior.csv",
        "# (same version). The others are fixed assumptions (docs/parameters.md).",
        f'version = "{version}"',
        "fitted = true",
        'description = "ABC-SMC fit to FBI 2000-2013 (train); checked on 2014-2019 (held out)."',
        "",
        "[params]",
    ]
    for k in base.values:
        mark = "  # fitted" if k in fit.fitted else ""
        lines.append(f"{k} = {vals[k]:.6g}{mark}")
    lines += [
        "",
        "[fit]",
        'method = "ABC-SMC (pyabc 0.13: importance weights, quantile epsilon 0.5); distance: RMS z-score"',
        f"generations = {fit.rounds}",
        f"population = {settings.n_points}",
        f"incidents_per_particle = {settings.incidents}",
        f"min_acceptance = {settings.accept}",
        f"simulations = {sum(int(h.get('samples', 0)) for h in fit.history)}",
        f"seed = {settings.seed}",
        f'ensemble_version = "{ens.version}"',
        f'ensemble_sha256 = "{ens.sha256}"',
        f"final_epsilon = {fit.history[-1]['threshold']:.4g}",
        'posterior = "posterior.csv"',
        f'posterior_sha256 = "{posterior_sha256}"',
        "",
        "[fit.posterior_5_95]",
    ]
    for k, (lo, hi) in fit.interval.items():
        lines.append(f"{k} = [{lo:.6g}, {hi:.6g}]")
    return "\n".join(lines) + "\n"


TRAIN_SET = "train 2000-2013"
HELD_SET = "held out 2014-2019"


def observed_target_sets() -> tuple[list[Target], list[Target]]:
    """The observed targets: training 2000-2013 (all) and held out 2014-2019 (endings and casualties)."""
    stats = load_published_stats()
    train, heldout = split(incident_table(load_incidents()))
    held = [t for t in observed_targets(heldout, stats) if t.name.startswith(("ending", "deaths", "wounded"))]
    return observed_targets(train, stats), held


@contextmanager
def _threads(workers: int) -> Iterator[Executor | None]:
    """A thread pool of ``workers`` for ``simulate_points`` (None for one worker), shut down after use."""
    if workers <= 1:
        yield None
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield pool


def calibrate(
    settings: Settings,
    base: CalibratedParams | None = None,
    ensemble: Ensemble | None = None,
    progress: Callable[[str], None] | None = None,
) -> CalibrationOutcome:
    """Run the whole calibration; nothing is written here (see ``write``)."""
    base = base or load_calibration()
    ens = ensemble or load_ensemble()
    train_t, held_t = observed_target_sets()
    names = tuple(fitted_names())
    model = EnsembleModel(ens, base, names, settings.incidents)
    # one evaluation here first: the engine is loaded (or compiled) once in this process, and the
    # sampler's forked workers inherit it instead of each loading it again
    model({n: float(base.values[n]) for n in names})
    observed = {t.name: t.observed for t in train_t}
    scales = {t.name: max((t.ci_high - t.ci_low) / 2.0, 1e-3) for t in train_t}
    smc = run_smc(
        model, observed, zscore_distance(scales), names,
        population=settings.n_points, max_generations=settings.rounds, min_acceptance=settings.accept,
        seed=settings.seed, workers=settings.workers, scheduler=settings.scheduler, progress=progress,
    )  # fmt: skip
    fit = fit_result(smc)
    if progress:
        progress(f"validation: {settings.validation_incidents} incidents at the posterior median")
    point = np.array([[fit.fitted[n] for n in names]])
    val = simulate_points(
        ens, base, list(names), point, settings.validation_incidents, settings.seed + 7,
        backend=settings.backend,
    )  # fmt: skip
    held_val = simulate_points(
        load_era_ensemble(HELD_ERA), base, list(names), point, settings.validation_incidents,
        settings.seed + 7, backend=settings.backend,
    )  # fmt: skip
    comparison = pd.concat(
        [compare(train_t, simulation_intervals(val), TRAIN_SET),
         compare(held_t, simulation_intervals(held_val), HELD_SET)]
    )  # fmt: skip
    post_text = posterior_file_text(smc.posterior, calibration_version(base, fit), settings, fit)
    text = calibration_file_text(base, fit, settings, ens, hashlib.sha256(post_text.encode()).hexdigest())
    parse_calibration(text, "<new calibration>")  # refuses to produce a file `run` could not read
    return CalibrationOutcome(
        fit, comparison.reset_index(drop=True), text, settings, ens, val, smc.posterior, post_text
    )


@dataclass(frozen=True)
class CheckOutcome:
    """The shipped (or given) calibration re-evaluated against every target, without refitting."""

    calibration: CalibratedParams
    comparison: pd.DataFrame  # one row per (set, target), as CalibrationOutcome.comparison
    incidents: int  # simulated attempts (incidents are those with a shot fired)
    seed: int
    held_ensemble: Ensemble | None = None  # the response era the held-out targets were simulated with

    def to_json(self) -> dict[str, Any]:
        from responsesim.calibrate.misses import explain

        rows = target_rows(self.comparison, "inside")
        misses = explain(self.comparison)
        for row in rows:
            m = misses.get((row["set"], row["target"]))
            row["reason"] = None if m is None else {"cause": m.cause, "text": m.text}
        cal = self.calibration
        return {
            "calibration": {
                "version": cal.version,
                "sha256": cal.sha256,
                "key": cal.key,
                "source": cal.source,
            },
            "attempts": self.incidents,
            "seed": self.seed,
            "held_out_ensemble": None
            if self.held_ensemble is None
            else {"source": self.held_ensemble.source, "version": self.held_ensemble.version},
            "inside": int(self.comparison["inside"].sum()),
            "total": len(self.comparison),
            "targets": rows,
        }


def check(
    cal: CalibratedParams | None = None,
    incidents_n: int = 4000,
    seed: int = 2031,
    ensemble: Ensemble | None = None,
    workers: int = 2,
    held_ensemble: Ensemble | None = None,
) -> CheckOutcome:
    """Re-evaluate a calibration (default: the shipped one) against every training and held-out target:
    ``incidents_n`` ensemble attempts at its values, no fitting (``responsesim calibrate --check``).

    Training targets are simulated with ``ensemble`` (default the 2000-2013 one), held-out targets with
    ``held_ensemble`` (default the 2014-2019 response era's, ``ensemble_2014_2019.toml``): same parameters,
    same seed (so the same incidents' situations), the later era's response inputs."""
    cal = cal or load_calibration()
    ens = ensemble or load_ensemble()
    held_ens = held_ensemble or load_era_ensemble(HELD_ERA)
    train_t, held_t = observed_target_sets()
    names = [k for k, v in PARAMETER_INFO.items() if v.fitted]
    point = np.array([[float(cal.values[n]) for n in names]])
    with _threads(workers) as executor:
        sim_df = simulate_points(ens, cal, names, point, incidents_n, seed, executor=executor)
        held_df = simulate_points(held_ens, cal, names, point, incidents_n, seed, executor=executor)
    comparison = pd.concat(
        [compare(train_t, simulation_intervals(sim_df), TRAIN_SET),
         compare(held_t, simulation_intervals(held_df), HELD_SET)]
    )  # fmt: skip
    return CheckOutcome(cal, comparison.reset_index(drop=True), incidents_n, seed, held_ens)


def fitted_range_check(values: dict[str, float]) -> list[str]:
    """Fitted values at the edge of their prior range (a sign the prior or the model is too narrow)."""
    out = []
    for k, v in values.items():
        i = PARAMETER_INFO[k]
        span = i.high - i.low
        if v < i.low + 0.02 * span or v > i.high - 0.02 * span:
            out.append(k)
    return out


def write_calibration(text: str, path: Path) -> None:
    """Write atomically (temp file + rename) so an interrupted write never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@dataclass(frozen=True)
class PredictiveCheck:
    """Posterior predictive check: for each target, the distribution of the statistic in simulated data sets
    as large as the observed one, each at its own posterior draw (parameters and chance together)."""

    calibration: CalibratedParams
    table: pd.DataFrame  # set, name, observed, n, pp_low, pp_median, pp_high, p_value, inside
    draws: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.table.to_dict("records")
        ]
        return {
            "calibration": {"version": self.calibration.version, "sha256": self.calibration.sha256},
            "draws": self.draws,
            "seed": self.seed,
            "inside": int(self.table["inside"].sum()),
            "total": len(self.table),
            "note": "pp_low/pp_high: 2.5-97.5% of the statistic over simulated data sets of the observed "
            "size, one posterior draw each; p_value: two-sided share of data sets at least as extreme as "
            "observed",
            "targets": rows,
        }


def predictive_check(
    cal: CalibratedParams | None = None, draws: int = 200, seed: int = 2032, workers: int = 2
) -> PredictiveCheck:
    """Posterior predictive check of every training and held-out target (``calibrate --check
    --predictive``): ``draws`` posterior particles, each simulating a data set with as many incidents as
    the observed set (training or held out), summarised as the targets."""
    from responsesim.posterior import load_posterior

    cal = cal or load_calibration()
    post = load_posterior(cal)
    if post is None:
        raise CalibrationError(f"{cal.source}: this calibration has no posterior to check")
    ens = {TRAIN_SET: load_ensemble(), HELD_SET: load_era_ensemble(HELD_ERA)}
    train_t, held = observed_target_sets()
    # data sets as large as the set's in-scope incidents (the ending shares' n: 154 and 116); targets over
    # fewer incidents (durations, engagements) get a narrower, so stricter, interval than their own n
    sets = {
        TRAIN_SET: (train_t, max(t.n for t in train_t if t.name.startswith("ending"))),
        HELD_SET: (held, max(t.n for t in held if t.name.startswith("ending"))),
    }
    idx = post.draw(draws, seed=seed)
    names = list(post.names)
    points = post.particles[idx]
    rows = []
    with _threads(workers) as executor:
        for label, (targets, n_obs) in sets.items():
            attempts = math.ceil(n_obs / 0.8)  # about a fifth of attempts fire no shot
            per_draw = []
            # batches of 10 draws, each batch with its own mix of situations (cells are drawn per seed)
            for b in range(0, len(points), 10):
                sim = simulate_points(ens[label], cal, names, points[b : b + 10], attempts,
                                      seed + 7919 * (b + 1) + len(label), executor=executor)  # fmt: skip
                per_draw += [simulated_values(g) for _, g in sim.groupby("point")]
            for t in targets:
                vals = np.array([d.get(t.name, math.nan) for d in per_draw], dtype=float)
                vals = vals[np.isfinite(vals)]
                if len(vals):
                    lo, med, hi = (float(np.quantile(vals, q)) for q in (0.025, 0.5, 0.975))
                    p = 2 * min(float((vals >= t.observed).mean()), float((vals <= t.observed).mean()))
                else:
                    lo = med = hi = p = math.nan
                rows.append({"set": label, "name": t.name, "observed": t.observed, "n": t.n,
                             "pp_low": float(lo), "pp_median": float(med), "pp_high": float(hi),
                             "p_value": min(1.0, p), "inside": bool(lo <= t.observed <= hi)})  # fmt: skip
    return PredictiveCheck(cal, pd.DataFrame(rows), draws, seed)
