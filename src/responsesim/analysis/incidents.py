"""What counts as an incident: an attack in which at least one shot was fired.

The reference data (FBI active-shooter incidents) contains only incidents with shots fired, and an
incident's clock starts at its first shot. A simulated attempt in which no shot was fired (the attacker
fled, was stopped or gave up before firing) is therefore not an incident: such attempts are counted and
reported apart ("no shot fired in 14 % of simulated attempts") and left out of every outcome figure,
comparison and calibration target. The engine's outcome table keeps every attempt; this module splits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from responsesim.analysis.summary import Table, column_array, isna, wilson_ci

if TYPE_CHECKING:
    import pandas as pd

RULE = (
    "An incident starts at the first shot: simulated attempts in which no shot was fired are counted "
    "apart and left out of every figure."
)


def shot_fired(df: Table) -> np.ndarray:
    """Per row: whether the attempt became an incident (a first shot was fired)."""
    return ~isna(column_array(df, "first_shot_s"))


def incidents(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of an outcome table that are incidents (a shot was fired), index reset."""
    return df[shot_fired(df)].reset_index(drop=True)


def incident_columns(table: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``incidents`` of an outcome table held as NumPy columns."""
    keep = shot_fired(table)
    return {name: np.asarray(values)[keep] for name, values in table.items()}


def paired_incidents(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two outcome tables of the same replications (same ``rep`` order), kept where both are incidents.

    Under common random numbers an arm's first shot does not depend on the response (officers are called
    by the first shot), so the same attempts are dropped from both arms."""
    if len(a) != len(b) or not (a["rep"].to_numpy() == b["rep"].to_numpy()).all():
        raise ValueError("paired outcome tables must hold the same replications in the same order")
    keep = shot_fired(a) & shot_fired(b)
    return a[keep].reset_index(drop=True), b[keep].reset_index(drop=True)


@dataclass(frozen=True)
class Attempts:
    """How many simulated attempts became incidents; the share with no shot fired and its 95 % interval."""

    attempts: int
    incidents: int
    no_shot: int
    no_shot_share: float
    no_shot_low: float
    no_shot_high: float

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "incidents": self.incidents,
            "no_shot_fired": {
                "count": self.no_shot,
                "share": _plain(self.no_shot_share),
                "ci_low": _plain(self.no_shot_low),
                "ci_high": _plain(self.no_shot_high),
            },
            "rule": RULE,
        }

    def sentence(self) -> str:
        """Plain words for reports: how many attempts were left out and why."""
        if self.attempts == 0:
            return "no attempts simulated"
        return (
            f"{self.incidents:,} incidents: no shot was fired in {self.no_shot:,} of {self.attempts:,} "
            f"simulated attempts ({100 * self.no_shot_share:.1f}%), left out of every figure "
            "(an incident starts at the first shot)"
        )


def attempts(df: Table) -> Attempts:
    """Count the attempts of an outcome table and those in which no shot was fired."""
    fired_rows = shot_fired(df)
    n = len(fired_rows)
    fired = int(fired_rows.sum())
    no_shot = n - fired
    low, high = wilson_ci(no_shot, n) if n else (float("nan"), float("nan"))
    share = no_shot / n if n else float("nan")
    return Attempts(n, fired, no_shot, share, low, high)


def _plain(x: float) -> float | None:
    return None if x != x else float(x)


__all__ = ["RULE", "Attempts", "attempts", "incident_columns", "incidents", "paired_incidents", "shot_fired"]
