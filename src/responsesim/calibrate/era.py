"""The era test: fitted on 2000-2013, given the 2014-2019 response inputs, does the model predict the
2014-2019 ending mix?

The calibration's parameters stay as fitted on 2000-2013; only the ensemble's response inputs change
(``data/ensemble_2014_2019.toml``: the first officers' doctrine of the later years, with its sources).
:func:`era_test` simulates the same incidents (same seed) under both eras' inputs and sets the two
predictions of each held-out ending share beside the observed 2014-2019 share and the observed 2000-2013
one. ``python -m responsesim.calibrate.era [--validation N] [--seed S]`` prints the table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from responsesim.calibrate.endings import ENDING_CLASSES
from responsesim.calibrate.ensemble import ERA_FILES, load_era_ensemble
from responsesim.calibrate.fit import fitted_names, simulate_points
from responsesim.calibrate.pipeline import _threads, observed_target_sets, simulation_intervals
from responsesim.params import CalibratedParams, load_calibration

ERAS = ("2000-2013", "2014-2019")


@dataclass(frozen=True)
class EraTest:
    """The held-out ending shares observed and predicted under each era's response inputs."""

    table: pd.DataFrame  # one row per ending class (see era_test)
    calibration: str
    attempts: int
    seed: int

    def inside(self, era: str) -> int:
        """How many of the 2014-2019 ending shares the prediction with ``era``'s inputs puts inside."""
        return int(self.table[f"inside_{era}"].sum())

    def markdown(self) -> str:
        """The table as Markdown (shares to 3 decimals, intervals in brackets)."""
        head = (
            "| ending | observed 2000-2013 | observed 2014-2019 (95% CI) | predicted, 2000-2013 inputs "
            "(95% CI) | predicted, 2014-2019 inputs (95% CI) |\n|---|---:|---:|---:|---:|"
        )
        rows = []
        for r in self.table.itertuples():
            cells = [
                f"`{r.ending}`",
                f"{r.observed_train:.3f}",
                f"{r.observed:.3f} ({r.ci_low:.3f}-{r.ci_high:.3f})",
            ]
            for era in ERAS:
                v, lo, hi, ok = (
                    getattr(r, f"{k}_{era.replace('-', '_')}") for k in ("sim", "lo", "hi", "in")
                )
                cells.append(f"{v:.3f} ({lo:.3f}-{hi:.3f}){'' if ok else ' *outside*'}")
            rows.append("| " + " | ".join(cells) + " |")
        foot = (
            f"\nInside the observed 2014-2019 interval: {self.inside(ERAS[0])} of {len(self.table)} with the "
            f"2000-2013 inputs, {self.inside(ERAS[1])} of {len(self.table)} with the 2014-2019 inputs "
            f"(calibration {self.calibration}, {self.attempts} attempts per era, seed {self.seed})."
        )
        return "\n".join([head, *rows]) + "\n" + foot


def era_test(
    cal: CalibratedParams | None = None, incidents_n: int = 4000, seed: int = 2024, workers: int = 2
) -> EraTest:
    """The 2014-2019 ending mix predicted with each era's response inputs (``ERA_FILES``), the parameters
    fixed at the calibration's values (default: the shipped one), ``incidents_n`` attempts each, seed
    ``seed`` (2024, as ``responsesim calibrate --check``, so the 2014-2019 column equals its held-out
    ending rows).

    Table columns: ``ending``, ``observed``/``ci_low``/``ci_high`` (2014-2019, Wilson), ``observed_train``
    (2000-2013), and per era (``2000_2013``, ``2014_2019``) ``sim_``, ``lo_``, ``hi_`` (the simulation's
    Wilson interval over its incidents) and ``in_`` (the prediction inside the observed interval); plus the
    column ``inside_<era>`` (same flag, keyed by the era's name).
    """
    cal = cal or load_calibration()
    train_t, held_t = observed_target_sets()
    names = fitted_names()
    point = np.array([[float(cal.values[n]) for n in names]])
    sims = {}
    with _threads(workers) as executor:
        for era in ERAS:
            df = simulate_points(
                load_era_ensemble(era), cal, names, point, incidents_n, seed, executor=executor
            )
            sims[era] = simulation_intervals(df)
    train = {t.name: t for t in train_t}
    rows = []
    for t in held_t:
        if not t.name.startswith("ending_share."):
            continue
        row: dict[str, object] = {
            "ending": t.name.removeprefix("ending_share."),
            "observed": t.observed,
            "ci_low": t.ci_low,
            "ci_high": t.ci_high,
            "observed_train": train[t.name].observed,
        }
        for era in ERAS:
            v, lo, hi = sims[era][t.name]
            key = era.replace("-", "_")
            ok = bool(t.ci_low <= v <= t.ci_high)
            row.update(
                {f"sim_{key}": v, f"lo_{key}": lo, f"hi_{key}": hi, f"in_{key}": ok, f"inside_{era}": ok}
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["ending"] = pd.Categorical(table["ending"], categories=list(ENDING_CLASSES), ordered=True)
    return EraTest(table.sort_values("ending").reset_index(drop=True), cal.key, incidents_n, seed)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m responsesim.calibrate.era``: the era test's table (Markdown)."""
    ap = argparse.ArgumentParser(prog="python -m responsesim.calibrate.era", description=__doc__)
    ap.add_argument("--validation", type=int, default=4000, help="ensemble attempts per era (4000)")
    ap.add_argument("--seed", type=int, default=2024, help="seed (2024, as calibrate --check)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    res = era_test(incidents_n=args.validation, seed=args.seed, workers=args.workers)
    print(f"Response inputs: {', '.join(f'{e}: {f}' for e, f in ERA_FILES.items())}\n")
    print(res.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
