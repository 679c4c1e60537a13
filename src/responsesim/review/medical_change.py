"""The medical counterfactual: stop the dying, with the attack as it was.

*Had rescue (a rescue task force, EMS with an escort) reached the casualties N seconds after the attack
ended, who among the people killed would likely have lived?* ``RESCUE:care_after_end@+Ns``: care reaches
every casualty at the recorded end plus N s, where that is earlier than the care the record gives the row
(each row its own, ``record.care_of``). Nobody is spared being shot; the record model of
``review/survival.py`` decides who lives with that earlier care (the same paired draws as the police
counterfactual, so the two answers stand side by side: lives from stopping the killing, lives from stopping
the dying). The delay curve runs N from 0 to the latest care after the end among the people who could have
been saved (``died=`` not ``at_once``; in any draw, where the care time is assumed): from there on the
change is no change, and the curve's last point is the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from responsesim.review.delays import round_delays
from responsesim.review.divergence import Divergence
from responsesim.review.intervals import Interval, Proportion
from responsesim.review.record import IncidentRecord
from responsesim.review.survival import PersonDraws, RecordEffect, apply_care, observed_care_times

__all__ = ["MEDICAL_ASSUMPTION", "MedicalResult", "run_medical"]

MEDICAL_ASSUMPTION = (
    "Stopping the dying (care_after_end): the attack is as recorded; only when care reaches the casualties "
    "changes, to the recorded end plus the delay given, where that is earlier than the care the record gives "
    "each row. 'Care' is the first care reaching them, as in the record's care times; whether it would have "
    "saved them follows the same record model (survivable share, time to death without care)."
)


@dataclass(frozen=True)
class MedicalResult:
    """Lives from earlier care after the attack ended, per paired draw, and its curve against N."""

    change: Divergence
    record: IncidentRecord
    effect: RecordEffect
    curve: pd.DataFrame  # delay_s, lives_saved, low, high, p_any
    far_s: float  # the delay beyond which nothing changes (s after the recorded end)
    n: int

    @property
    def care_s(self) -> float:
        return self.record.end_s + self.change.delay_s

    @property
    def lives_saved(self) -> Interval:
        return Interval.of(self.effect.survived_care)

    @property
    def p_any_saved(self) -> Proportion:
        return Proportion.of(self.effect.survived_care >= 1)

    @property
    def changed(self) -> bool:
        return bool(self.effect.survived_care.any()) or self.change.delay_s < self.far_s

    @property
    def text(self) -> str:
        rec = self.record
        return (
            f"rescue reached the casualties {self.change.delay_s:g} s after the attack ended "
            f"({rec.clock(self.care_s)}; recorded end {rec.clock(rec.end_s)})"
        )

    @property
    def no_change(self) -> str | None:
        if self.changed:
            return None
        return (
            f"the record's care already reached every casualty who could have been saved by "
            f"{self.record.clock(self.record.end_s + self.far_s)}, no later than {self.text}"
        )

    def rows(self) -> list[dict[str, Any]]:
        """Per killed row: how many would have lived with the earlier care (mean over draws)."""
        eff = self.effect
        return [
            {"line": c.line, "survived_care": round(float(eff.row_survived[:, k].mean()), 4),
             "care_assumed": k in eff.care_assumed}
            for k, c in enumerate(self.record.casualties)
            if c.killed
        ]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "counterfactual": self.change.text,
            "change": self.text,
            "changed": self.changed,
            "no_change": self.no_change,
            "care_at": self.record.clock(self.care_s),
            "lives_saved": self.lives_saved.to_json(),
            "p_any_life_saved": self.p_any_saved.to_json(),
            "rows": self.rows(),
            "delay_curve": self.curve.to_dict("records"),
        }


def _far(rec: IncidentRecord, people: PersonDraws) -> float:
    """The latest care after the recorded end, in any draw, among the people who could have been saved (s
    after the end): from there on the change is no change."""
    c_obs, _ = observed_care_times(rec, people)
    could = (people.q > 0).any(axis=0)
    if not could.any():
        return 0.0
    return max(float(c_obs[:, could].max()) - rec.end_s, 0.0)


def run_medical(rec: IncidentRecord, people: PersonDraws, change: Divergence, points: int) -> MedicalResult:
    """Care at the recorded end plus ``change.delay_s`` for every casualty, and the curve over that delay."""
    n = people.u.shape[0]
    effect = apply_care(rec, people, rec.end_s + change.delay_s)
    far = _far(rec, people)
    curve = []
    for d in round_delays(far, points):
        ef = apply_care(rec, people, rec.end_s + float(d))
        ls = Interval.of(ef.survived_care)
        curve.append(
            {"delay_s": round(float(d), 1), "lives_saved": round(ls.mean, 4), "low": ls.low, "high": ls.high,
             "p_any": round(float((ef.survived_care >= 1).mean()), 4)}
        )  # fmt: skip
    return MedicalResult(change, rec, effect, pd.DataFrame(curve), far, n)
