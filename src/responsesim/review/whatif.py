"""Planning what-if on a model building: re-simulate the occupants of a reviewed incident.

This is *not* an estimate about the real victims (that is ``review/counterfactual.py``, which stands on the
record): here the occupants are re-simulated on the incident file's building template, so the numbers
answer "what would change in a building like this", e.g. with hard corners or an earlier lockdown.

The observed attacker history is replayed (the attacker is put where the timeline places it at each
observed time, and the attack ends when the timeline says the attacker left) and the observed response is
imposed (each officer arrives and enters when the timeline says, or never). The protocol arm differs in
one thing: the named actor enters ``delay`` seconds after arriving on scene. Both arms run the same
replications with the same random numbers, so until the actor's arrival they are identical and every
difference after it is caused by the changed conduct. Between observed waypoints the attacker moves and
fires by the calibrated model; only police can end the attack before its observed end.

The incident file is the counterfactual's (``review/incident.py``); only its first change is used.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from responsesim.analysis.incidents import paired_incidents
from responsesim.codes import ROLE_SRO
from responsesim.engine.run import simulate
from responsesim.review.divergence import Divergence, parse_divergences
from responsesim.review.errors import ReviewInputError
from responsesim.review.incident import IncidentSpec, attacker_forcing, build_scenario, load_incident
from responsesim.review.record import ENTRY_EVENTS, OFFICER_ROLES
from responsesim.sanity import extrapolation_warnings
from responsesim.scenario.compile import Params
from responsesim.scenario.load import Scenario

WHAT_IF_NOTE = (
    "A what-if on a model building: the occupants are re-simulated on a template, so these numbers are "
    "about a building like this one, not an estimate about the real victims (for that, drop --what-if)."
)

ASSUMPTIONS = (
    "The attacker is replayed: placed where the timeline puts it at each observed time and stopped when it "
    "left; between those times it moves and fires by the calibrated model (a random walk, not the real "
    "path).",
    "Officers arrive and enter when the timeline says; in the protocol arm the named actor enters the given "
    "delay after arriving on scene and then moves to the last gunfire at tactical speed.",
    "Only police can end the replayed attack before its observed end (the real attacker did not stop).",
    "Both arms use the same random numbers, so the difference is due to the changed conduct; the absolute "
    "numbers depend on the building template, occupant placement and calibration, not on the real floor "
    "plan.",
)


@dataclass(frozen=True)
class CounterfactualSpec(Divergence):
    """One change for the what-if: an actor's entry ``delay_s`` after arriving (no withdrawal changes)."""


def parse_counterfactual(text: str, file: str = "--counterfactual") -> CounterfactualSpec:
    """Parse one ``ACTOR:EVENT@+Ns`` (e.g. ``SRO:entered_building@+30s``) with the counterfactual's parser
    (``divergence.parse_divergences``); the what-if takes a single entry change."""
    divs = parse_divergences(text, file)
    if len(divs) != 1:
        raise ReviewInputError(file, None, "counterfactual", "the what-if takes one change")
    (d,) = divs
    if d.event not in ENTRY_EVENTS:
        raise ReviewInputError(
            file, None, "counterfactual", f"event {d.event!r}: must be one of {', '.join(ENTRY_EVENTS)}"
        )
    return CounterfactualSpec(d.actor, d.event, d.delay_s)


@dataclass(frozen=True)
class Replay:
    """The observed incident compiled for the engine (times in s from ``start``)."""

    scenario: Scenario
    observed: Params
    protocol: Params
    start: datetime
    divergence_s: float
    later_shots_s: tuple[float, ...]
    actor: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class CounterfactualResult:
    replay: Replay
    spec: CounterfactualSpec
    replications: int
    seed: int
    observed: pd.DataFrame
    protocol: pd.DataFrame
    differences: pd.DataFrame  # metric, observed_mean, protocol_mean, diff (observed - protocol), ci
    stopped_before: pd.DataFrame  # later observed shot time, share of protocol runs already stopped

    def to_json(self) -> dict[str, Any]:
        return {
            "incident": self.replay.scenario.spec.name,
            "counterfactual": f"{self.spec.actor}:{self.spec.event}@+{self.spec.delay_s:g}s",
            "divergence_s": self.replay.divergence_s,
            "replications": self.replications,
            "seed": self.seed,
            "differences": self.differences.to_dict("records"),
            "stopped_before_later_shots": self.stopped_before.to_dict("records"),
            "assumptions": list(ASSUMPTIONS),
            "calibration": self.replay.scenario.calibration.version,
            "warnings": self.warnings,
        }

    @property
    def warnings(self) -> list[str]:
        """Extrapolation warnings of the incident scenario (``responsesim.sanity``)."""
        return extrapolation_warnings(self.replay.scenario)


def compile_replay(path: Path, spec: CounterfactualSpec) -> tuple[Replay, IncidentSpec]:
    """Build the two arms' engine parameters from an incident file and a counterfactual."""
    incf = load_incident(path)
    inc = incf.spec
    rows = incf.timeline.rows
    attacker_rows = [r for r in rows if r.role == "attacker"]
    start = incf.start

    def rel(t: datetime) -> float:
        return (t - start).total_seconds()

    # officers: SRO first (the scenario's SRO unit), then every other officer as a patrol unit
    officers: dict[str, list[Any]] = {}
    for r in rows:
        if r.role in OFFICER_ROLES:
            officers.setdefault(r.actor, []).append(r)
    if spec.actor not in officers:
        raise ReviewInputError(
            incf.timeline.file, None, "actor",
            f"counterfactual actor {spec.actor!r} is not an officer in the timeline "
            f"(officers: {', '.join(officers) or 'none'})",
        )  # fmt: skip
    sro = [a for a, rs in officers.items() if rs[0].role == "sro"][:1]
    others = [a for a in officers if a not in sro]
    units = tuple(sro + others)
    sc = build_scenario(incf, sro=bool(sro), patrol=len(others))
    left = [r for r in attacker_rows if r.event == "left_building"]
    end_s = rel(left[0].time) if left else math.inf

    arrival = []
    entry = []
    for a in units:
        rs = officers[a]
        arrival.append(rel(rs[0].time))
        ent = [r for r in rs if r.event in ENTRY_EVENTS]
        entry.append(rel(ent[0].time) if ent else math.inf)
    params = sc.params
    assert params.n_units == len(units)
    if bool(sro):
        assert params.unit_role[0] == ROLE_SRO
    forcing = attacker_forcing(incf, sc, end_s, len(units))._replace(
        arrival_t=np.asarray(arrival, dtype=np.float64), entry_t=np.asarray(entry, dtype=np.float64)
    )
    observed = dataclasses.replace(params, forcing=forcing)
    j = units.index(spec.actor)
    divergence = arrival[j]
    entry_cf = list(entry)
    entry_cf[j] = min(entry[j], divergence + spec.delay_s)
    protocol = dataclasses.replace(
        params, forcing=forcing._replace(entry_t=np.asarray(entry_cf, dtype=np.float64))
    )
    shots = tuple(rel(r.time) for r in attacker_rows if r.event == "shots_fired" and rel(r.time) > divergence)
    return Replay(sc, observed, protocol, start, divergence, shots, spec.actor, units), inc


METRICS = ("deaths", "killed", "died_awaiting_care", "wounded")


def run_counterfactual(
    path: Path, counterfactual: str | None = None, replications: int | None = None, workers: int | None = 1
) -> CounterfactualResult:
    """Simulate the observed and the protocol response (common random numbers) and compare them."""
    inc_text = counterfactual
    if inc_text is None:
        given = load_incident(path).spec.counterfactual
        if given is None:
            raise ReviewInputError(str(path), None, "counterfactual", "no counterfactual given")
        inc_text = given if isinstance(given, str) else given[0]
    spec = parse_counterfactual(inc_text)
    replay, inc = compile_replay(path, spec)
    n = replications or inc.replications
    obs = simulate(replay.observed, n, workers=workers)
    pro = simulate(replay.protocol, n, workers=workers)
    obs, pro = paired_incidents(obs, pro)  # an incident starts at the first shot (analysis/incidents.py)
    k = len(obs)
    rows = []
    for m in METRICS:
        d = obs[m].to_numpy(float) - pro[m].to_numpy(float)
        mean = float(d.mean()) if k else math.nan
        se = float(d.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
        half = float(stats.t.ppf(0.975, k - 1) * se) if se > 0 else 0.0
        rows.append(
            {"metric": m, "observed_mean": float(obs[m].mean()), "protocol_mean": float(pro[m].mean()),
             "difference": mean, "ci_low": mean - half, "ci_high": mean + half}
        )  # fmt: skip
    end = (pro["first_shot_s"].fillna(0) + pro["attack_duration_s"]).to_numpy(float)
    stopped = [
        {"time": (replay.start + pd.Timedelta(seconds=s)).strftime("%H:%M:%S"), "t_s": s,
         "share_stopped_before": float((end < s).mean())}
        for s in replay.later_shots_s
    ]  # fmt: skip
    return CounterfactualResult(
        replay, spec, n, inc.seed, obs, pro, pd.DataFrame(rows), pd.DataFrame(stopped, columns=["time", "t_s",
        "share_stopped_before"])
    )  # fmt: skip
