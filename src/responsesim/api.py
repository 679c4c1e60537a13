"""Python API mirroring the CLI: load a scenario, run it, get a DataFrame of outcomes and summaries.

>>> import responsesim as rs
>>> sc = rs.load_scenario()                 # built-in default, or a path to a TOML file
>>> res = rs.run(sc, replications=200)
>>> res.outcomes.deaths.mean(), res.summary_table()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from responsesim.analysis.summary import Summary, end_reason_shares, summarize, summary_frame, summary_json
from responsesim.engine.run import simulate
from responsesim.sanity import extrapolation_warnings
from responsesim.scenario.load import Scenario, load_scenario
from responsesim.store import ResultStore, RunMeta

BACKEND = "numpy"


def code_version() -> str:
    try:
        return metadata.version("responsesim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@dataclass(frozen=True)
class RunResult:
    """Outcomes (one row per replication) of a scenario run, with their summaries and provenance."""

    scenario: Scenario
    replications: int
    seed: int
    outcomes: pd.DataFrame
    summaries: tuple[Summary, ...]

    def summary_table(self) -> pd.DataFrame:
        return summary_frame(list(self.summaries))

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by ``responsesim run --json`` (keys documented in the README)."""
        reasons = end_reason_shares(self.outcomes)
        return summary_json(
            list(self.summaries),
            {
                "scenario": self.scenario.spec.name,
                "scenario_source": self.scenario.source,
                "scenario_hash": self.scenario.sha256,
                "replications": self.replications,
                "seed": self.seed,
                "confidence": 0.95,
                "end_reasons": {
                    k: {"share": v[0], "ci_low": v[1], "ci_high": v[2]} for k, v in reasons.items()
                },
                "calibration": {
                    "version": self.scenario.calibration.version,
                    "sha256": self.scenario.calibration.sha256,
                    "fitted": self.scenario.calibration.fitted,
                },
                "backend": BACKEND,
                "code_version": code_version(),
                "warnings": extrapolation_warnings(self.scenario),
            },
        )

    def meta(self) -> RunMeta:
        return RunMeta(
            scenario_name=self.scenario.spec.name,
            scenario_hash=self.scenario.sha256,
            scenario_toml=self.scenario.text,
            seed=self.seed,
            replications=self.replications,
            backend=BACKEND,
            code_version=code_version(),
            calibration_hash=self.scenario.calibration.sha256,
        )

    def save(self, path: Path) -> str:
        """Write one row per replication (and the run's metadata) to a DuckDB file; returns the run id."""
        with ResultStore(path) as store:
            return store.write_run(self.meta(), self.outcomes, self.to_json())


def run(
    scenario: Scenario | str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    chunk_size: int = 2500,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario (object, path, or None for the default) and summarise its outcomes."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sc = sc.with_run_settings(replications, seed)
    n = sc.spec.replications
    df = simulate(sc.params, n, chunk_size=chunk_size, workers=workers, progress=progress)
    return RunResult(sc, n, sc.spec.seed, df, tuple(summarize(df)))


__all__ = ["RunResult", "Scenario", "load_scenario", "run"]
