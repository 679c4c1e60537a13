"""Compare response doctrines on one scenario with common random numbers.

Every arm runs the same scenario with the same seed and the same replication indices; only the
doctrine differs. Because the engine's random numbers depend only on (seed, replication index), the arms
are paired replication by replication, and the differences against the first doctrine get paired
Student-t confidence intervals (much narrower than unpaired ones).

Doctrine syntax: ``solo_entry``, ``perimeter``, ``no_entry``, ``backup_eta_rule[:threshold_s]``,
``wait_for_n[:n]``, ``hesitate[:delay_s]``. A parameter left out keeps the scenario's value.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from rich.markup import escape
from scipy import stats

from responsesim.analysis.incidents import RULE, shot_fired
from responsesim.analysis.summary import parameter_half_width
from responsesim.engine.backend import check_backend
from responsesim.engine.run import start
from responsesim.params import CalibrationError
from responsesim.scenario.building import BuildingFileError
from responsesim.scenario.errors import ScenarioError, from_validation_error
from responsesim.scenario.load import Scenario, build, load_scenario
from responsesim.scenario.schema import ScenarioSpec

EXIT_OK = 0
EXIT_BAD_INPUT = 2

COMPARE_METRICS: tuple[str, ...] = (
    "deaths",
    "killed",
    "died_awaiting_care",
    "wounded",
    "attack_duration_s",
    "officers_shot",
)

# doctrine kind -> (parameter field, type) or None for kinds without a parameter
_DOCTRINE_PARAM: dict[str, tuple[str, type] | None] = {
    "solo_entry": None,
    "perimeter": None,
    "no_entry": None,
    "backup_eta_rule": ("threshold_s", float),
    "wait_for_n": ("n", int),
    "hesitate": ("delay_s", float),
}


class DoctrineSyntaxError(ValueError):
    """A doctrine string that cannot be parsed (the message shows the accepted syntax)."""


_SYNTAX_HELP = (
    "expected one of solo_entry, perimeter, no_entry, backup_eta_rule[:SECONDS], wait_for_n[:N], "
    "hesitate[:SECONDS], optionally followed by +breach or +contain (what officers do at a barricaded "
    "attacker's door), or breach / contain alone (the scenario's entry doctrine kept)"
)
_BARRICADE = ("breach", "contain")


def parse_doctrine(text: str) -> dict[str, Any]:
    """``"hesitate:120"`` -> ``{"kind": "hesitate", "delay_s": 120.0}``; ``"solo_entry+contain"`` also sets
    ``barricade``; ``"breach"`` alone sets only ``barricade``. Bad syntax raises ``DoctrineSyntaxError``."""
    entry, plus, barricade = text.strip().partition("+")
    entry, barricade = entry.strip(), barricade.strip()
    if not plus and entry in _BARRICADE:
        return {"barricade": entry}
    if plus and barricade not in _BARRICADE:
        raise DoctrineSyntaxError(f"doctrine {text!r}: after '+' give breach or contain ({_SYNTAX_HELP})")
    out = _parse_entry(entry, text)
    if plus:
        out["barricade"] = barricade
    return out


def _parse_entry(raw: str, text: str) -> dict[str, Any]:
    """The entry doctrine part of a doctrine string (``kind[:param]``)."""
    kind, sep, arg = raw.partition(":")
    kind = kind.strip()
    if kind not in _DOCTRINE_PARAM:
        raise DoctrineSyntaxError(f"unknown doctrine {text!r}: {_SYNTAX_HELP}")
    param = _DOCTRINE_PARAM[kind]
    out: dict[str, Any] = {"kind": kind}
    if not sep:
        return out
    if param is None:
        raise DoctrineSyntaxError(f"doctrine {text!r}: {kind} takes no parameter ({_SYNTAX_HELP})")
    field, typ = param
    arg = arg.strip()
    try:
        value: float = typ(arg)
    except ValueError:
        what = "a whole number" if typ is int else "a number of seconds"
        raise DoctrineSyntaxError(f"doctrine {text!r}: {arg!r} is not {what} ({_SYNTAX_HELP})") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise DoctrineSyntaxError(f"doctrine {text!r}: {arg!r} must be finite")
    if value < 0 or (typ is int and value < 1):
        raise DoctrineSyntaxError(f"doctrine {text!r}: {field} must be {'>= 1' if typ is int else '>= 0'}")
    out[field] = value
    return out


def with_doctrine(sc: Scenario, doctrine: str) -> Scenario:
    """The scenario with its ``[doctrine]`` replaced by ``doctrine`` (other doctrine fields kept)."""
    fields = parse_doctrine(doctrine)
    data = sc.spec.model_dump()
    data["doctrine"] = {**data["doctrine"], **fields}
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, "command line", None) from exc
    return build(spec, sc.source, sc.text, sc.calibration, base_dir=sc.base_dir)


@dataclass(frozen=True)
class PairedDiff:
    """Mean of ``arm - baseline`` over paired replications with a paired-t confidence interval."""

    doctrine: str
    baseline: str
    metric: str
    n: int
    mean_arm: float
    mean_baseline: float
    mean_diff: float
    ci_low: float
    ci_high: float
    significant: bool
    interval: str = "monte_carlo"  # or "total": the calibration's parameter uncertainty and chance
    mc_low: float = math.nan  # the Monte Carlo part alone (with "total")
    mc_high: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def paired_diff(
    arm: np.ndarray, base: np.ndarray, confidence: float = 0.95
) -> tuple[int, float, float, float]:
    """(n, mean difference, CI low, CI high) of ``arm - base`` over pairs where both are not NaN.

    CI: ``mean ± t_{(1+c)/2, n-1} · sd(d) / sqrt(n)``; a constant difference has a zero-width interval;
    fewer than 2 pairs give NaN.
    """
    a = np.asarray(arm, dtype=float)
    b = np.asarray(base, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    n = int(d.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(np.mean(d))
    if n < 2:
        return n, mean, math.nan, math.nan
    if np.all(d == d[0]):
        return n, float(d[0]), float(d[0]), float(d[0])
    sem = float(np.std(d, ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sem
    return n, mean, mean - half, mean + half


def paired_interval(
    arm: np.ndarray, base: np.ndarray, draw: np.ndarray | None, confidence: float = 0.95
) -> tuple[int, float, float, float, str, float, float]:
    """(n, mean of the paired differences ``arm - base``, CI low, CI high, interval, MC low, MC high).

    Without ``draw`` (the posterior draw each pair ran at; None for a point-estimate run) the interval is
    chance alone (``paired_diff``, interval ``"monte_carlo"``, no separate MC part); with it, it covers
    the calibration's parameter uncertainty and chance (``"total"``, ``parameter_half_width`` of the
    differences, never narrower than chance alone), the paired-t interval kept as the MC part."""
    n, mean, lo, hi = paired_diff(arm, base, confidence)
    if draw is None or not n:
        return n, mean, lo, hi, "monte_carlo", math.nan, math.nan
    half = parameter_half_width(np.asarray(arm, float) - np.asarray(base, float), draw, confidence)
    if math.isnan(half):
        return n, mean, lo, hi, "monte_carlo", math.nan, math.nan
    # never narrower than chance alone (the two estimates differ slightly)
    return n, mean, min(mean - half, lo), max(mean + half, hi), "total", lo, hi


@dataclass(frozen=True)
class Comparison:
    scenario: str
    scenario_hash: str
    doctrines: tuple[str, ...]
    replications: int
    seed: int
    outcomes: dict[str, pd.DataFrame]
    diffs: tuple[PairedDiff, ...]
    confidence: float = 0.95
    incidents: int = 0  # replications in which a shot was fired in every arm (the figures use these)
    uncertainty: dict[str, Any] | None = None  # posterior draws or point estimate (api.ParameterDraws)

    def means(self) -> pd.DataFrame:
        """Mean of each compared metric (columns) per doctrine (rows)."""
        rows = {d: {m: float(self.outcomes[d][m].mean()) for m in COMPARE_METRICS} for d in self.doctrines}
        return pd.DataFrame.from_dict(rows, orient="index")

    def diff_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(x) for x in self.diffs])

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "doctrines": list(self.doctrines),
            "baseline": self.doctrines[0],
            "replications": self.replications,
            "seed": self.seed,
            "confidence": self.confidence,
            "common_random_numbers": True,
            "uncertainty": self.uncertainty or {"mode": "point"},
            "attempts": self.replications,
            "incidents": self.incidents,
            "no_shot_fired": {"count": self.replications - self.incidents, "rule": RULE},
            "means": {
                d: {m: _num(float(self.outcomes[d][m].mean())) for m in COMPARE_METRICS}
                for d in self.doctrines
            },
            "differences": [x.to_dict() for x in self.diffs],
        }


def _num(v: float) -> float | None:
    return None if math.isnan(v) else v


def compare(
    scenario: Scenario | str | Path | None,
    doctrines: list[str],
    replications: int,
    seed: int | None = None,
    *,
    workers: int | None = 1,
    chunk_size: int = 2500,
    confidence: float = 0.95,
    backend: str = "numba",
    uncertainty: str = "posterior",
) -> Comparison:
    """Run ``scenario`` under each doctrine with common random numbers; differences vs ``doctrines[0]``.

    Raises ``DoctrineSyntaxError`` (bad doctrine string, fewer than 2 doctrines, duplicates),
    ``ValueError`` (replications < 2) or ``ScenarioError``.
    """
    if len(doctrines) < 2:
        raise DoctrineSyntaxError("give at least two doctrines to compare (the first is the baseline)")
    if len(set(doctrines)) != len(doctrines):
        raise DoctrineSyntaxError("each doctrine may be given only once")
    if replications < 2:
        raise ValueError("replications must be >= 2 for a paired confidence interval")
    for d in doctrines:  # syntax errors before any simulation
        parse_doctrine(d)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sc = sc.with_run_settings(seed=seed)
    from responsesim.api import parameter_draws

    check_backend(backend)
    # the same posterior draws in every arm (seeded by the scenario's seed): differences stay paired
    draws = parameter_draws(sc, replications, uncertainty)
    outcomes: dict[str, pd.DataFrame] = {}
    for d in doctrines:
        arm = with_doctrine(sc, d)
        running = start(arm.params, replications, chunk_size=chunk_size, workers=workers, theta=draws.theta)
        df = running.result()
        if draws.draw is not None:
            df.insert(1, "draw", draws.draw.astype(np.int64))
        outcomes[d] = df.sort_values("rep").reset_index(drop=True)
    # incidents only (analysis/incidents.py): replications in which a shot was fired, in every arm
    fired = np.logical_and.reduce([shot_fired(outcomes[d]) for d in doctrines])
    outcomes = {d: df[fired].reset_index(drop=True) for d, df in outcomes.items()}
    base = doctrines[0]
    diffs: list[PairedDiff] = []
    for d in doctrines[1:]:
        for m in COMPARE_METRICS:
            a = outcomes[d][m].to_numpy(dtype=float)
            b = outcomes[base][m].to_numpy(dtype=float)
            draw = outcomes[base]["draw"].to_numpy() if draws.draw is not None else None
            n, mean, lo, hi, kind, mc_lo, mc_hi = paired_interval(a, b, draw, confidence)
            sig = bool(not math.isnan(lo) and (lo > 0 or hi < 0))
            diffs.append(
                PairedDiff(
                    doctrine=d,
                    baseline=base,
                    metric=m,
                    n=n,
                    mean_arm=float(np.nanmean(a)) if n else math.nan,
                    mean_baseline=float(np.nanmean(b)) if n else math.nan,
                    mean_diff=mean,
                    ci_low=lo,
                    ci_high=hi,
                    significant=sig,
                    interval=kind,
                    mc_low=mc_lo,
                    mc_high=mc_hi,
                )
            )
    return Comparison(
        scenario=sc.spec.name,
        scenario_hash=sc.sha256,
        doctrines=tuple(doctrines),
        replications=replications,
        seed=sc.spec.seed,
        outcomes=outcomes,
        diffs=tuple(diffs),
        confidence=confidence,
        incidents=int(fired.sum()),
        uncertainty=draws.to_json(),
    )


def _fmt(v: float) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:+.2f}"


def compare_command(
    scenario_path: Path | None,
    doctrines: list[str],
    replications: int,
    seed: int | None,
    as_json: bool,
    workers: int | None = 1,
    backend: str = "numba",
    point_estimate: bool = False,
) -> int:
    """CLI body of ``responsesim compare``: prints a table (or JSON); returns 0, or 2 on bad input."""
    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    try:
        res = compare(
            scenario_path, doctrines, replications, seed, workers=workers, backend=backend,
            uncertainty="point" if point_estimate else "posterior",
        )  # fmt: skip
    except (ScenarioError, BuildingFileError, CalibrationError, DoctrineSyntaxError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        return EXIT_BAD_INPUT
    if as_json:
        sys.stdout.write(json.dumps(res.to_json(), indent=2, allow_nan=False) + "\n")
        return EXIT_OK
    console = Console()
    table = Table(
        title=f"{escape(res.scenario)}: {res.incidents} paired incidents, seed {res.seed}",
        caption=f"no shot was fired in {res.replications - res.incidents} of {res.replications} simulated "
        "attempts: left out (an incident starts at the first shot)",
    )
    table.add_column("metric")
    for d in res.doctrines:
        table.add_column(f"{d}{' (baseline)' if d == res.doctrines[0] else ''}", justify="right")
    for m in COMPARE_METRICS:
        table.add_row(m, *[f"{float(res.outcomes[d][m].mean()):.2f}" for d in res.doctrines])
    console.print(table)
    unc = res.uncertainty or {"mode": "point"}
    what = (
        f"{100 * res.confidence:.0f}% interval: parameter uncertainty ({unc.get('draws')} posterior draws) "
        "and chance"
        if unc.get("mode") == "posterior"
        else f"{100 * res.confidence:.0f}% CI, chance only (point estimate)"
    )
    dt = Table(title=f"difference vs {res.doctrines[0]} (paired; {what})")
    for col in ("doctrine", "metric", "mean diff", "CI", "significant"):
        dt.add_column(col, justify="left" if col in ("doctrine", "metric") else "right")
    for x in res.diffs:
        dt.add_row(
            x.doctrine,
            x.metric,
            _fmt(x.mean_diff),
            f"[{_fmt(x.ci_low)}, {_fmt(x.ci_high)}]",
            "yes" if x.significant else "no",
        )
    console.print(dt)
    return EXIT_OK


__all__ = [
    "COMPARE_METRICS",
    "Comparison",
    "DoctrineSyntaxError",
    "PairedDiff",
    "compare",
    "compare_command",
    "paired_diff",
    "parse_doctrine",
    "with_doctrine",
]
