"""The counterfactual a commission can use: stand on the record, simulate only what would have changed.

*Had the named responder done what the protocol requires, how many of the people who died would likely
have lived, and at what risk to the responder?*

- **Observed arm = the record** (``review/record.py``): the casualties, their windows and the end of the
  attack as the timeline gives them. Nothing is re-simulated, so it reproduces the record exactly.
- **Protocol arm** (``review/divergence.py``): from the moment the responder's conduct diverges, the engine
  simulates that responder alone against the recorded attacker path, one posterior draw per replication,
  giving the time the attack would have been stopped and whether the responder was shot.
- **Against the record** (``review/survival.py``): people hit after that time would not have been shot;
  people killed before it get care earlier, with the published survivable share.

Each paired draw combines a posterior parameter draw, each person's time within its window, and chance;
every figure is a mean over draws with the 2.5-97.5 percentiles of the draws (what the record, the
parameters and chance leave open together). The delay curve re-runs the same draws at each entry delay.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from responsesim.parameters import BY_NAME, DEFAULTS
from responsesim.posterior import load_posterior
from responsesim.review.delays import round_delays
from responsesim.review.divergence import (
    CARE_CHANGES,
    Divergence,
    DivergentUnit,
    StopDraws,
    parse_divergences,
    resolve,
    simulate_stop,
)
from responsesim.review.errors import ReviewInputError
from responsesim.review.incident import IncidentFile, build_scenario, load_incident
from responsesim.review.intervals import Interval, Proportion
from responsesim.review.medical_change import MEDICAL_ASSUMPTION, MedicalResult, run_medical
from responsesim.review.record import ENTRY_EVENTS, IncidentRecord, conduct_of, read_record
from responsesim.review.survival import RECORD_PARAMETERS, RecordEffect, apply_stop, draw_people
from responsesim.scenario.load import Scenario

__all__ = ["ASSUMPTIONS", "CounterfactualResult", "Interval", "run_counterfactual"]

ASSUMPTIONS = (
    "The observed arm is the record: casualties, their time windows and the end of the attack as the "
    "timeline gives them; nothing in it is simulated.",
    "Only the named responder's conduct changes. From the moment it diverges the engine simulates that "
    "responder alone: it moves through the building toward the gunfire it can hear, at a pace drawn per run "
    "(0.6-1.4 times the scenario's officer speed), the attacker follows the recorded path, and the "
    "engagement uses the calibrated stop and officer-hit hazards (one posterior draw per run).",
    "Everyone else acts as recorded and, as the record shows, did not end the attack before its recorded "
    "end; the attacker does not stop on its own before then.",
    "A person hit at a time after the protocol arm stopped the attack would not have been shot; times inside "
    "a window are drawn uniformly.",
    "A person killed before that time could have lived only if the wound was potentially survivable "
    "(published share) and care, starting once the threat was stopped, came before death; time to death "
    "without care follows the engine's hemorrhage model.",
    "The building is a model of the real one (the incident file's template and location mapping): it sets "
    "the responder's path, not who was hit.",
)

#: the delay curve's columns (JSON ``delay_curve``)
_CURVE = [
    "delay_s",
    "lives_saved",
    "low",
    "high",
    "not_shot",
    "survived_care",
    "p_officer_shot",
    "p_officer_shot_low",
    "p_officer_shot_high",
    "p_stopped",
    "p_stopped_low",
    "p_stopped_high",
]

DUTY_NOTE = (
    "This estimates what compliance with the protocol would likely have changed for the people in the "
    "record. It does not judge culpability: the duty and the outcome are separate questions."
)


@dataclass(frozen=True)
class CounterfactualResult:
    """Everything the CLI, the JSON, the HTML report and the web tab show."""

    name: str
    divergences: tuple[Divergence, ...]
    units: tuple[DivergentUnit, ...]
    record: IncidentRecord
    n: int
    seed: int
    parameters: dict[str, Any]
    stops: StopDraws
    effect: RecordEffect
    curve: pd.DataFrame
    stopped_before: pd.DataFrame
    rows: pd.DataFrame
    conduct: dict[str, list[dict[str, Any]]]
    calibration: str
    flags: list[str] = field(default_factory=list)
    medical: MedicalResult | None = None  # the care side's change (stop the dying), if asked
    #: attacker rows whose location names no space of the building (``[locations]``): not used as waypoints
    unplaced: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lives_saved(self) -> Interval:
        return Interval.of(self.effect.lives_saved)

    @property
    def not_shot(self) -> Interval:
        return Interval.of(self.effect.not_shot)

    @property
    def survived_care(self) -> Interval:
        return Interval.of(self.effect.survived_care)

    @property
    def wounded_not_shot(self) -> Interval:
        return Interval.of(self.effect.wounded_not_shot)

    @property
    def p_any_saved(self) -> Proportion:
        return Proportion.of(self.effect.lives_saved >= 1)

    @property
    def p_officer_shot(self) -> Proportion:
        return Proportion.of(self.stops.officer_shot)

    @property
    def p_officer_killed(self) -> Proportion:
        return Proportion.of(self.stops.officer_killed)

    @property
    def p_stopped_earlier(self) -> Proportion:
        return Proportion.of(np.isfinite(self.stops.t_stop))

    @property
    def changed(self) -> bool:
        """False when the record already meets every change: the protocol arm is then the record."""
        return any(u.changed for u in self.units)

    @property
    def no_change(self) -> str | None:
        """Why the counterfactual changes nothing (None when it changes something)."""
        if self.changed:
            return None
        if not self.units:
            return "no change of the police side was asked"
        return "; ".join(_unchanged(u, self.record) for u in self.units)

    def split(self) -> dict[str, Any]:
        """The all-or-nothing answer as it is: the draws in which the attack is stopped before its recorded
        end (how many live then, the officers' risk then) and those in which it is not."""
        stopped = np.isfinite(self.stops.t_stop)
        out: dict[str, Any] = {}
        for key, sel in (("stopped", stopped), ("not_stopped", ~stopped)):
            k = int(sel.sum())
            out[key] = {
                "share": Proportion.of(sel).to_json(),
                "lives_saved": Interval.of(self.effect.lives_saved[sel]).to_json() if k else None,
                "p_officer_shot": Proportion.of(self.stops.officer_shot[sel]).to_json() if k else None,
                "p_officer_killed": Proportion.of(self.stops.officer_killed[sel]).to_json() if k else None,
            }
        values, counts = np.unique(self.effect.lives_saved, return_counts=True)
        out["lives_saved_histogram"] = [
            {"lives": int(v), "share": round(c / self.n, 4)} for v, c in zip(values, counts, strict=True)
        ]
        return out

    @property
    def change(self) -> str:
        return "; ".join(_describe(u, self.record) for u in self.units) or "no change of the police side"

    def _who_shot(self) -> str:
        """Who is shot: "the responder", or for a group actor "at least one of the N officers"."""
        n = sum(u.count for u in self.units if u.changed)
        return "the responder" if n <= 1 else f"at least one of the {n} officers"

    def summary(self) -> str:
        """One plain-language paragraph that keeps duty and outcome apart."""
        if self.medical is not None and not self.units:
            return self._dying() + " " + DUTY_NOTE
        if not self.changed:
            return (
                f"No change: {self.no_change}. The protocol arm is then the record, so there are no lives "
                "saved and no added risk to estimate; the delay curve shows earlier changes. "
                + (self._dying() + " " if self.medical is not None else "")
                + DUTY_NOTE
            )
        ls, ns, sc = self.lives_saved, self.not_shot, self.survived_care
        k = self.record.killed
        pos, kil = self.p_officer_shot, self.p_officer_killed
        stop = self.p_stopped_earlier
        med = np.median(self.stops.t_stop[np.isfinite(self.stops.t_stop)]) if stop.k else math.nan
        when = f" (median {self.record.clock(med)})" if stop.k else ""
        then = self.split()["stopped"]["lives_saved"]
        split = (
            f"then {then['mean']:.1f} of the {k} people killed would likely have lived (95% range "
            f"{then['low']:.0f} to {then['high']:.0f}); in the other {100 * (1 - stop.p):.0f}% it is "
            "not, and none would have"
            if then is not None
            else "in no draw is it stopped earlier, and none would have"
        )
        text = (
            f"Had {self.change}, the attack is stopped before its recorded end "
            f"({self.record.clock(self.record.end_s)}) in {100 * stop.p:.0f}% of {self.n:,} draws{when}: "
            f"{split}. Over all draws, {ls.mean:.1f} of the {k} would likely have lived (95% range "
            f"{ls.low:.0f} to {ls.high:.0f}): {ns.mean:.1f} would not have been shot and {sc.mean:.1f} would "
            f"have survived with earlier care. At least one life is saved in "
            f"{100 * self.p_any_saved.p:.0f}% of draws; {self._who_shot()} is shot in "
            f"{100 * pos.p:.0f}% of draws ({100 * pos.low:.0f}-{100 * pos.high:.0f}%) and killed in "
            f"{100 * kil.p:.0f}% ({100 * kil.low:.0f}-{100 * kil.high:.0f}%), "
            "the risk the training asks officers to accept. "
            + (self._dying() + " " if self.medical is not None else "")
            + DUTY_NOTE
        )
        if self.flags:
            text += " Figures rest on uncertain times: " + "; ".join(self.flags) + "."
        if self.unplaced:
            where = "; ".join(f"line {u['line']} ({u['location']})" for u in self.unplaced)
            text += (
                f" The attacker's path leaves out {len(self.unplaced)} row(s) at places the incident file "
                f"does not map to a room ([locations]): {where}."
            )
        return text

    def _dying(self) -> str:
        """The medical counterfactual in a sentence, beside lives from stopping the killing."""
        m = self.medical
        assert m is not None
        if not m.changed:
            return f"Stopping the dying: no change: {m.no_change}."
        ls = m.lives_saved
        beside = f", beside {self.lives_saved.mean:.1f} from stopping the killing" if self.changed else ""
        return (
            f"Stopping the dying: had {m.text}, with the attack as it was, {ls.mean:.1f} of the "
            f"{self.record.killed} people killed would likely have lived (95% range {ls.low:.0f} to "
            f"{ls.high:.0f}; at least one in {100 * m.p_any_saved.p:.0f}% of draws){beside}."
        )

    def side_by_side(self) -> dict[str, Any]:
        """Lives from stopping the killing (the police change) and from stopping the dying (the care change),
        each the mean and range over the same paired draws (None: not asked)."""
        return {
            "stopping_the_killing": self.lives_saved.to_json() if self.units else None,
            "stopping_the_dying": self.medical.lives_saved.to_json() if self.medical is not None else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "incident": self.name,
            "counterfactual": [d.text for d in self.divergences],
            "change": self.change,
            "changed": self.changed,
            "no_change": self.no_change,
            "draws": self.n,
            "seed": self.seed,
            "lives_saved": self.lives_saved.to_json(),
            "not_shot": self.not_shot.to_json(),
            "survived_care": self.survived_care.to_json(),
            "wounded_not_shot": self.wounded_not_shot.to_json(),
            "p_any_life_saved": self.p_any_saved.to_json(),
            "p_officer_shot": self.p_officer_shot.to_json(),
            "p_officer_killed": self.p_officer_killed.to_json(),
            "p_stopped_before_recorded_end": self.p_stopped_earlier.to_json(),
            "distribution": self.split(),
            "medical": self.medical.to_json() if self.medical is not None else None,
            "side_by_side": self.side_by_side(),
            "observed": {
                "killed": self.record.killed,
                "wounded": self.record.wounded,
                "attack_end": self.record.clock(self.record.end_s),
                "attack_end_event": self.record.end_event,
                "attack_end_line": self.record.end_line,
            },
            "stopped_before_later_shots": self.stopped_before.to_dict("records"),
            "delay_curve": self.curve.to_dict("records"),
            "casualty_rows": self.rows.to_dict("records"),
            "conduct": self.conduct,
            "parameters": self.parameters,
            "calibration": self.calibration,
            "flags": self.flags,
            "unplaced_attacker_rows": self.unplaced,
            "assumptions": [*ASSUMPTIONS, *([MEDICAL_ASSUMPTION] if self.medical is not None else [])],
            "summary": self.summary(),
            "note": DUTY_NOTE,
        }


def _describe(u: DivergentUnit, rec: IncidentRecord) -> str:
    if u.divergence.event == "no_withdrawal":
        return f"{u.actor} kept advancing instead of withdrawing at {rec.clock(u.anchor_s)}" + (
            f" ({u.divergence.delay_s:g} s later)" if u.divergence.delay_s else ""
        )
    return f"{u.actor} entered {u.divergence.delay_s:g} s after arriving ({rec.clock(u.diverge_s)})"


def _unchanged(u: DivergentUnit, rec: IncidentRecord) -> str:
    """Why unit ``u`` changes nothing: the record already meets it, or the attack was over by then."""
    end = f"the attack was over at {rec.clock(rec.end_s)} ({rec.end_event}, line {rec.end_line})"
    if u.divergence.event == "no_withdrawal":
        return f"{end} before {u.actor} would have re-advanced ({rec.clock(u.diverge_s)})"
    entry = next((r for r in rec.rows_of(u.actor) if r.event in ENTRY_EVENTS), None)
    if entry is not None and rec.rel(entry.time) <= min(u.diverge_s, rec.end_s):
        lag = rec.rel(entry.time) - u.anchor_s
        return (
            f"{u.actor} already went in at {rec.clock(rec.rel(entry.time))} in the record ({entry.event}, "
            f"line {entry.line}, {lag:g} s after arriving), no later than the "
            f"{u.divergence.delay_s:g} s asked"
        )
    return f"{end} before {u.actor} would have entered ({rec.clock(u.diverge_s)})"


def _check_facts(inc: IncidentFile, rec: IncidentRecord) -> None:
    facts = inc.spec.facts
    for key, have in (("killed", rec.killed), ("wounded", rec.wounded)):
        want = getattr(facts, key)
        if want is not None and want != have:
            rows = [c.line for c in rec.casualties if c.killed == (key == "killed")]
            raise inc.error(
                ("facts", key),
                f"the timeline's victim_{key} rows add up to {have} "
                f"(lines {', '.join(map(str, rows)) or 'none'}) "
                f"but the facts say {want}: fix the counts (count=N) or the facts",
            )  # fmt: skip
    if rec.killed == 0:
        raise ReviewInputError(
            inc.timeline.file, None, "event",
            "no victim_killed rows: the counterfactual stands on the record's casualties (add rows with "
            "count=N and, for a phase, until=HH:MM:SS)",
        )  # fmt: skip


def _check_survival(inc: IncidentFile) -> dict[str, tuple[float, float]]:
    known = {p.name for p in RECORD_PARAMETERS}
    for key, (lo, hi) in inc.spec.survival.items():
        if key not in known:
            raise inc.error(("survival", key), f"unknown parameter (known: {', '.join(sorted(known))})")
        if not 0 <= lo <= hi <= 1:
            raise inc.error(("survival", key), f"[{lo:g}, {hi:g}]: need 0 <= low <= high <= 1")
    return dict(inc.spec.survival)


def _theta(sc: Scenario, n: int, seed: int) -> tuple[dict[str, np.ndarray] | None, dict[str, Any]]:
    post = load_posterior(sc.calibration)
    if post is None:
        return None, {"mode": "point", "note": "the calibration has no posterior: every draw at its values"}
    idx = post.draw(n, seed=seed)
    theta = {name: post.particles[idx, j].astype(float) for j, name in enumerate(post.names)}
    info = {
        "mode": "posterior",
        "posterior_version": sc.calibration.version,
        "particles": len(post),
        "effective_sample_size": round(float(post.effective_size()), 1),
    }
    return theta, info


def _per_draw(sc: Scenario, theta: dict[str, np.ndarray] | None, name: str, n: int) -> np.ndarray:
    if theta is not None and name in theta:
        return theta[name]
    return np.full(n, float(sc.params.model.get(name, DEFAULTS[name])))


def run_counterfactual(
    path: Path,
    counterfactual: str | list[str] | None = None,
    replications: int | None = None,
    workers: int | None = None,
    timeline: Path | None = None,
) -> CounterfactualResult:
    """The record, the protocol arm's stop times, and their effect on the people in the record
    (``workers`` threads for the engine runs, None = all cores; ``timeline`` replaces the incident file's)."""
    inc = load_incident(Path(path), timeline)
    rec = read_record(inc.timeline, inc.start)
    _check_facts(inc, rec)
    overrides = _check_survival(inc)
    for actor in inc.spec.actors:
        if actor not in rec.officers:
            known = ", ".join(rec.officers)
            raise inc.error(("actors", actor), f"not an officer in the timeline (officers: {known})")
    text = counterfactual if counterfactual is not None else inc.spec.counterfactual
    if text is None:
        raise ReviewInputError(str(path), None, "counterfactual", "no counterfactual given")
    divs = parse_divergences(text, "--counterfactual" if counterfactual is not None else str(path))
    n = replications or inc.spec.replications
    seed = inc.spec.seed
    sc = build_scenario(inc, sro=False, patrol=1)  # the building, calibration and care settings
    police = tuple(d for d in divs if d.event not in CARE_CHANGES)
    care = next((d for d in divs if d.event in CARE_CHANGES), None)
    units = resolve(rec, inc, sc, police) if police else ()
    theta, info = _theta(sc, n, seed)
    # the responder's pace varies between draws (the registry's officer_pace range; 1 in ordinary runs)
    pace = BY_NAME["officer_pace"]
    paces = np.random.default_rng([seed, 17]).uniform(pace.low, pace.high, n)
    theta = {**(theta or {}), "officer_pace": paces}
    info["officer_pace"] = [pace.low, pace.high]
    people = draw_people(
        rec, n, seed,
        median_s=_per_draw(sc, theta, "critical_survival_median_s", n),
        sigma=_per_draw(sc, theta, "critical_survival_sigma", n),
        access_median_s=sc.params.rtf_access_median_s,
        access_sigma=sc.params.ems_access_sigma,
        overrides=overrides,
    )  # fmt: skip
    # the change itself and the delay curve (the same draws at delays from 0 to the observed delay), the
    # engine runs in threads (the compiled loop releases the GIL)
    far = max((u.observed_delay_s for u in units), default=0.0)
    delays = round_delays(far, inc.spec.curve_points) if units else []
    variants = [units, *(tuple(u.at_delay(d) for u in units) for d in delays)]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        runs = list(pool.map(lambda us: simulate_stop(rec, inc, us, n, theta), variants))
    stops = runs[0]
    effect = apply_stop(rec, people, stops.t_stop)
    curve = []
    for d, st in zip(delays, runs[1:], strict=True):
        ef = apply_stop(rec, people, st.t_stop)
        ls = Interval.of(ef.lives_saved)
        ps = Proportion.of(st.officer_shot)
        pe = Proportion.of(np.isfinite(st.t_stop))
        curve.append(
            {"delay_s": round(d, 1), "lives_saved": round(ls.mean, 4), "low": ls.low, "high": ls.high,
             "not_shot": round(float(ef.not_shot.mean()), 4),
             "survived_care": round(float(ef.survived_care.mean()), 4),
             "p_officer_shot": round(ps.p, 4), "p_officer_shot_low": round(ps.low, 4),
             "p_officer_shot_high": round(ps.high, 4), "p_stopped": round(pe.p, 4),
             "p_stopped_low": round(pe.low, 4), "p_stopped_high": round(pe.high, 4)}
        )  # fmt: skip
    first_div = min((u.diverge_s for u in units), default=math.inf)
    later = [s for s in rec.shots_s if s > first_div]
    stopped = pd.DataFrame(
        [{"time": rec.clock(s), "t_s": s, "observed": 0.0,
          "protocol": round(float((stops.t_stop < s).mean()), 4)} for s in later],
        columns=["time", "t_s", "observed", "protocol"],
    )  # fmt: skip
    rows = []
    flags = []
    for k, c in enumerate(rec.casualties):
        ns = float(effect.row_not_shot[:, k].mean())
        sv = float(effect.row_survived[:, k].mean())
        window = rec.clock(c.t0_s) + ("" if c.t1_s == c.t0_s else f"-{rec.clock(c.t1_s)}")
        rows.append(
            {"line": c.line, "outcome": "killed" if c.killed else "wounded", "count": c.count,
             "window": window, "location": c.location, "died": c.died, "not_shot": round(ns, 4),
             "survived_care": round(sv, 4), "care_assumed": k in effect.care_assumed,
             "care_line": c.care_line, "care": None if c.care_s is None else rec.clock(c.care_s),
             "died_at": None if c.death_s is None else rec.clock(c.death_s), "flagged": c.flagged,
             "source": c.source}
        )  # fmt: skip
        if c.flagged and (ns > 0 or sv > 0):
            flags.append(f"line {c.line} ({c.count} {rows[-1]['outcome']}, {window}, time uncertain)")
        if k in effect.care_assumed and sv > 0:
            flags.append(f"line {c.line}: care time not in the record, assumed the recorded end plus access")
    conduct = {
        a: [{"time": rec.clock(s.t_s), "state": s.state, "line": s.line, "location": s.location}
            for s in conduct_of(rec, a)]
        for a in rec.officers
    }  # fmt: skip
    params = {
        "engine": info,
        "record_model": {
            p.name: {"range": list(overrides.get(p.name, (p.low, p.high))), "source": p.source}
            for p in RECORD_PARAMETERS
        },
        "care_access_median_s": sc.params.rtf_access_median_s,
        "care_access_sigma": sc.params.ems_access_sigma,
    }
    return CounterfactualResult(
        name=inc.spec.name, divergences=divs, units=units, record=rec, n=n, seed=seed, parameters=params,
        stops=stops, effect=effect, curve=pd.DataFrame(curve, columns=_CURVE), stopped_before=stopped,
        rows=pd.DataFrame(rows),
        conduct=conduct, calibration=sc.calibration.version, flags=flags,
        unplaced=[{"line": r.line, "location": r.location, "event": r.event} for r in inc.timeline.rows
                  if r.role == "attacker" and r.location and r.location not in inc.spec.locations],
        medical=run_medical(rec, people, care, inc.spec.curve_points) if care is not None else None,
    )  # fmt: skip
