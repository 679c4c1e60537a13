"""The debrief: for each of the trainee's decisions, every alternative run on from the same saved moment
(``branching.run_branches``, common random numbers), summarised in lives and in the officer's risk, in
plain words. Saved as JSON (``Debrief.save`` / ``Debrief.load``) so a trainer can open it later.

Intervals are 95%: over chance from that moment (the branches) and, by default, over the calibration's
posterior (branch b of every choice at posterior draw b % k; ``uncertainty.py``); the difference between
two choices is the mean of the paired differences, branch by branch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from responsesim.engine.version import model_version
from responsesim.exercise.branching import BranchOutcomes, run_branches
from responsesim.exercise.session import Exercise, ExerciseError
from responsesim.exercise.stats import Interval, mean_interval, paired_difference, share_interval
from responsesim.exercise.uncertainty import BranchParameters, branch_parameters

__all__ = ["DEBRIEF_FORMAT", "AlternativeSummary", "Debrief", "DecisionDebrief", "debrief", "doing"]

DEBRIEF_FORMAT = 1

_DOING = {
    "enter_now": "entering now",
    "wait_for_next": "waiting for the next officer",
    "hold_perimeter": "holding the perimeter",
    "breach": "breaching",
    "contain": "containing and waiting for the tactical team",
    "keep_searching": "searching on",
    "fall_back": "falling back outside",
}


def doing(alt_id: str) -> str:
    """A choice as words that can start a sentence's subject ("waiting for 3 officers")."""
    m = re.fullmatch(r"wait_for_(\d+)", alt_id)
    if m:
        return f"waiting until {m.group(1)} officers are on scene"
    return _DOING.get(alt_id, alt_id.replace("_", " "))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _n(x: float) -> str:
    """A number of people: one decimal from 1 up, two below (0.04, not 0.0)."""
    return f"{x:.1f}" if abs(x) >= 0.995 else f"{x:.2f}"


def _signed(x: float) -> str:
    """Two decimals with a sign, never "-0.00"."""
    return f"{round(x, 2) + 0.0:+.2f}"


def _lives(x: float) -> str:
    return f"{_n(x)} {'life' if _n(x) == '1.0' else 'lives'}"


@dataclass(frozen=True)
class AlternativeSummary:
    """One alternative's outcomes from the moment (people; shares 0-1)."""

    id: str
    label: str
    chosen: bool
    doctrine: bool
    n: int
    deaths: Interval
    died_awaiting_care: Interval
    officers_shot: Interval
    you_shot: Interval
    deaths_vs_chosen: Interval | None  # this alternative minus the trainee's choice, paired by branch
    sentence: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k) for k in ("id", "label", "chosen", "doctrine", "n", "sentence")
        }
        for k in ("deaths", "died_awaiting_care", "officers_shot", "you_shot"):
            out[k] = getattr(self, k).to_json()
        out["deaths_vs_chosen"] = self.deaths_vs_chosen.to_json() if self.deaths_vs_chosen else None
        return out

    @staticmethod
    def from_json(d: dict[str, Any]) -> AlternativeSummary:
        iv = {k: Interval(**d[k]) for k in ("deaths", "died_awaiting_care", "officers_shot", "you_shot")}
        vs = Interval(**d["deaths_vs_chosen"]) if d.get("deaths_vs_chosen") else None
        return AlternativeSummary(
            id=d["id"],
            label=d["label"],
            chosen=d["chosen"],
            doctrine=d["doctrine"],
            n=d["n"],
            deaths=iv["deaths"],
            died_awaiting_care=iv["died_awaiting_care"],
            officers_shot=iv["officers_shot"],
            you_shot=iv["you_shot"],
            deaths_vs_chosen=vs,
            sentence=d["sentence"],
        )


@dataclass(frozen=True)
class DecisionDebrief:
    """One decision: when, what the officer knew, the choice, the doctrine's, and every alternative."""

    index: int
    kind: str
    title: str
    t_s: float
    since_first_shot_s: float | None
    view: list[str]
    chosen: str
    doctrine_choice: str | None
    alternatives: list[AlternativeSummary]
    seconds: float  # time the branches took (s, wall clock)
    cpu_seconds: float = 0.0  # and in processor time (s)

    def to_json(self) -> dict[str, Any]:
        keys = ("index", "kind", "title", "t_s", "since_first_shot_s", "view", "chosen", "doctrine_choice",
                "seconds", "cpu_seconds")  # fmt: skip
        out = {k: getattr(self, k) for k in keys}
        out["alternatives"] = [a.to_json() for a in self.alternatives]
        return out

    @staticmethod
    def from_json(d: dict[str, Any]) -> DecisionDebrief:
        alts = [AlternativeSummary.from_json(a) for a in d["alternatives"]]
        return DecisionDebrief(**{k: v for k, v in d.items() if k != "alternatives"}, alternatives=alts)

    @property
    def headline(self) -> list[str]:
        """The plain-words sentences: the trainee's choice first, then each other alternative."""
        return [a.sentence for a in sorted(self.alternatives, key=lambda a: not a.chosen)]


@dataclass(frozen=True)
class Debrief:
    """The debrief of one exercise; ``save``/``load`` as JSON."""

    scenario: str
    scenario_hash: str
    seed: int
    replication: int
    unit: str
    model_version: str
    calibration_key: str
    branches: int
    outcome: dict[str, Any]
    decisions: list[DecisionDebrief]
    uncertainty: str = "point"  # "posterior": intervals cover the parameters' uncertainty and chance
    uncertainty_note: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DEBRIEF_FORMAT,
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "replication": self.replication,
            "unit": self.unit,
            "model_version": self.model_version,
            "calibration_key": self.calibration_key,
            "branches": self.branches,
            "outcome": self.outcome,
            "decisions": [d.to_json() for d in self.decisions],
            "uncertainty": self.uncertainty,
            "uncertainty_note": self.uncertainty_note,
            "created": self.created,
        }

    def save(self, path: Path | str) -> Path:
        """Write the debrief as JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        return path

    @staticmethod
    def load(path: Path | str) -> Debrief:
        """Read a debrief written by ``save`` (``ExerciseError`` when it is not one)."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            if d.get("format") != DEBRIEF_FORMAT:
                raise ExerciseError(
                    f"{path}: debrief format {d.get('format')}, this version reads {DEBRIEF_FORMAT}"
                )
            decisions = [DecisionDebrief.from_json(x) for x in d["decisions"]]
            keep = {k: v for k, v in d.items() if k not in ("format", "decisions")}
            return Debrief(**keep, decisions=decisions)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ExerciseError):
                raise
            raise ExerciseError(f"{path}: not a saved debrief ({exc})") from exc


def _sentence(
    alt: BranchOutcomes, mine: BranchOutcomes, diff: Interval | None, draw: np.ndarray | None
) -> str:
    you = share_interval(alt.unit_shot, draw)
    if diff is None:
        d = mean_interval(alt.deaths, draw, 0.0)
        return (
            f"Your choice, {doing(alt.alternative.id)}: {_n(d.value)} deaths in the incident on average, "
            f"run on from this moment ({_n(d.low)}-{_n(d.high)}); you were shot in {_pct(you.value)} of "
            f"the runs ({_pct(you.low)}-{_pct(you.high)})."
        )
    who = doing(alt.alternative.id).capitalize() + " here"
    if diff.value == 0 and diff.low == diff.high:
        lives = "would have made no difference in lives (the same deaths in every run)"
    elif diff.excludes_zero() and diff.value > 0:
        lives = f"would have cost {_lives(diff.value)} on average ({_n(diff.low)}-{_n(diff.high)})"
    elif diff.excludes_zero():
        lives = f"would have saved {_lives(-diff.value)} on average ({_n(-diff.high)}-{_n(-diff.low)})"
    else:
        lives = (
            f"would have made no clear difference in lives ({_signed(diff.value)} on average, "
            f"{_signed(diff.low)} to {_signed(diff.high)})"
        )
    mine_p = float(mine.unit_shot.mean())
    if abs(you.value - mine_p) < 0.005:
        risk = f"left your risk of being shot at {_pct(mine_p)}"
    else:
        way = "raised" if you.value > mine_p else "lowered"
        risk = f"{way} your risk of being shot from {_pct(mine_p)} to {_pct(you.value)}"
    return f"{who} {lives} and {risk}."


def debrief(ex: Exercise, n: int = 1000, uncertainty: str = "posterior", workers: int = 1) -> Debrief:
    """Run every decision's alternatives ``n`` times from its saved moment and summarise them.

    ``uncertainty``: "posterior" spreads the branches over the calibration's posterior draws (when it has
    one; else as "point"), so intervals cover the parameters' uncertainty and chance; "point" runs every
    branch at the replication's parameter values (chance alone). ``workers``: processes per decision
    (``run_branches``)."""
    if not ex.decisions:
        raise ExerciseError("no decision was made in this exercise: nothing to debrief")
    out = []
    modes: list[BranchParameters] = []
    for i, dec in enumerate(ex.decisions):
        p = dec.point
        par = branch_parameters(ex.scenario, p.moment, n, uncertainty)
        br = run_branches(p.moment, ex.scenario, p.choices, n, sim=ex.sim, thetas=par.theta, workers=workers)
        mine = br.of(dec.choice)
        dr = par.draw if par.mode == "posterior" else None
        modes.append(par)
        alts = []
        for o in br.outcomes:
            chosen = o.alternative.id == dec.choice
            diff = None if chosen else paired_difference(o.deaths, mine.deaths, dr)
            alts.append(
                AlternativeSummary(
                    id=o.alternative.id,
                    label=o.alternative.label,
                    chosen=chosen,
                    doctrine=o.alternative.id == p.doctrine_choice,
                    n=o.n,
                    deaths=mean_interval(o.deaths, dr, 0.0),
                    died_awaiting_care=mean_interval(o.died_awaiting_care, dr, 0.0),
                    officers_shot=mean_interval(o.officers_shot, dr, 0.0),
                    you_shot=share_interval(o.unit_shot, dr),
                    deaths_vs_chosen=diff,
                    sentence=_sentence(o, mine, diff, dr),
                )
            )
        out.append(
            DecisionDebrief(
                index=i + 1,
                kind=p.kind,
                title=p.title,
                t_s=p.t_s,
                since_first_shot_s=p.view.since_first_shot_s,
                view=p.view.lines(),
                chosen=dec.choice,
                doctrine_choice=p.doctrine_choice,
                alternatives=alts,
                seconds=br.seconds,
                cpu_seconds=br.cpu_seconds,
            )
        )
    first = ex.decisions[0].point.moment
    return Debrief(
        scenario=ex.scenario.spec.name,
        scenario_hash=ex.scenario.sha256,
        seed=int(ex.scenario.spec.seed),
        replication=ex.replication,
        unit=ex.unit_role,
        model_version=model_version(),
        calibration_key=first.calibration_key,
        branches=n,
        outcome=ex.outcome() if ex.finished else {},
        decisions=out,
        uncertainty=modes[0].mode,
        uncertainty_note=modes[0].note,
    )
