"""The figures the README and docs/sweeps.md quote are what the shipped sweep files produce now.

The entry-delay sweep is re-run at a reduced replication count (its first 300 replication indices of
1,000, the same seeds and posterior draws) and the quoted cost per minute of delay must lie inside the
reduced run's 99.9 % interval: a figure from a stale store (another calibration, another model, attempts
without a shot counted) fails. Regenerate the quotes with the commands in docs/sweeps.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from responsesim.analysis.incidents import incidents
from responsesim.api import parameter_draws
from responsesim.engine.run import start
from responsesim.sweep import load_sweep
from responsesim.sweep.analysis import delay_slope

ROOT = Path(__file__).resolve().parents[2]
REDUCED = 300


def quoted_slope() -> tuple[float, float, float]:
    text = " ".join((ROOT / "README.md").read_text().split())
    pattern = (
        r"waits after arriving costs \+([0-9.]+) deaths per incident, with a 95% interval of "
        r"(-?[0-9.]+) to \+?([0-9.]+)"
    )
    m = re.search(pattern, text)
    assert m, "README no longer quotes the cost of a minute of delay in the expected words"
    return float(m[1]), float(m[2]), float(m[3])


def test_readme_and_docs_quote_the_same_delay_cost() -> None:
    value, low, high = quoted_slope()
    docs = " ".join((ROOT / "docs" / "sweeps.md").read_text().split())
    assert f"deaths: +{value:.3f} per minute of delay, 95% interval {low:.3f} to +{high:.3f}" in docs


def test_quoted_delay_cost_matches_the_sweep_file() -> None:
    sweep = load_sweep(ROOT / "examples" / "sweeps" / "entry_delay.toml")
    # the sweep's posterior draws (its first REDUCED replications), as sweep.run does
    draws = parameter_draws(sweep.points[0].scenario, sweep.replications_per_point)
    assert draws.mode == "posterior" and draws.theta is not None and draws.draw is not None
    theta = {k: v[:REDUCED] for k, v in draws.theta.items()}
    parts = []
    for p in sweep.points:
        df = start(p.scenario.params, REDUCED, workers=2, theta=theta).result()
        df["draw"] = draws.draw[:REDUCED]
        df["doctrine.delay_s"] = p.values["doctrine.delay_s"]
        parts.append(df)
    reps = incidents(pd.concat(parts, ignore_index=True))
    got = delay_slope(reps, "doctrine.delay_s", "deaths", confidence=0.999)
    value, _, _ = quoted_slope()
    assert got.ci_low <= value <= got.ci_high, (value, got)
    assert got.n_reps > 0.7 * REDUCED  # most attempts are incidents


def test_docs_sobol_tables_are_the_shipped_json_at_the_shipped_calibration() -> None:
    """docs/sweeps.md's Sobol rows are the numbers in docs/sweeps/sobol_deaths*.json, and the default
    (posterior) analysis was made under the calibration that ships (else regenerate with the commands in
    docs/sweeps.md)."""
    import json

    from responsesim.params import load_calibration

    docs = (ROOT / "docs" / "sweeps.md").read_text()
    for stem, k in (("sobol_deaths", None), ("sobol_deaths_model_ranges", 5)):
        doc = json.loads((ROOT / "docs" / "sweeps" / f"{stem}.json").read_text())
        for r in doc["figures"]["indices"][:k]:
            row = f"| {r['name']} | {r['ST']:.2f} ± {r['ST_conf']:.2f} | {r['S1']:.2f} ± {r['S1_conf']:.2f} |"
            assert row in docs, f"docs/sweeps.md lacks {row!r} from {stem}.json"
    doc = json.loads((ROOT / "docs" / "sweeps" / "sobol_deaths.json").read_text())
    assert doc["factors"] == "posterior"
    assert doc["calibration"] == load_calibration().version
