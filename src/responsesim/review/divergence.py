"""The protocol arm: simulate only the responders whose conduct the counterfactual changes.

A counterfactual is one or more ``ACTOR:EVENT@+Ns`` changes made together:

- ``ACTOR:entered_building@+Ns`` (or ``moved_toward_threat``, ``engaged_attacker``): the actor enters N s
  after arriving on scene (a change only when the record has them enter later, or never, before the attack
  ended);
- ``ACTOR:no_withdrawal`` (``@+Ns``: re-advances N s after withdrawing): the actor, inside and withdrawing in
  the record, keeps going toward the attacker from where the record puts them;
- ``FIRST_OFFICERS:...``: the officer(s) first on scene;
- ``RESCUE:care_after_end@+Ns`` (any name for who brings care): the care side, not the police side: rescue
  reaches every casualty N s after the recorded end of the attack (``review/medical_change.py``).

From the moment of divergence the engine simulates those responders alone (``engine.run.run_outcomes``, the
same rules as every other run): they move through the building graph toward the gunfire, the attacker
follows the recorded path (waypoints) until they make contact, and the engagement draws the calibrated
stop and officer-hit hazards, one posterior draw per replication. Everyone else acts as recorded, and the
record says they did not end the attack before its recorded end; the attacker's other endings are off
until then (it did not stop on its own). The result per draw is the time the attack would have been
stopped (inf: not before the recorded end) and whether the simulated responder was shot.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from responsesim.codes import POLICE_ARRESTED, POLICE_SHOT
from responsesim.engine.run import run_outcomes
from responsesim.review.errors import ReviewInputError
from responsesim.review.incident import IncidentFile, attacker_forcing, build_scenario, space_of
from responsesim.review.record import ENTRY_EVENTS, WITHDRAWAL_EVENTS, IncidentRecord, conduct_of
from responsesim.scenario.compile import Params
from responsesim.scenario.load import Scenario
from responsesim.scenario.schema import MAX_TICKS

__all__ = [
    "CARE_CHANGES",
    "DIVERGENCE_EVENTS",
    "FIRST_OFFICERS",
    "Divergence",
    "DivergentUnit",
    "StopDraws",
    "parse_divergences",
    "record_horizon",
    "resolve",
    "simulate_stop",
]

FIRST_OFFICERS = "FIRST_OFFICERS"
DIVERGENCE_EVENTS = (*ENTRY_EVENTS, "no_withdrawal")
#: changes of the care side (the medical counterfactual), not simulated by the engine
CARE_CHANGES = ("care_after_end",)
_SPEC_RE = re.compile(r"^\s*(?P<actor>[^:@]+):(?P<event>[a-z_]+)(@\+(?P<delay>\d+(\.\d+)?)s)?\s*$")


@dataclass(frozen=True)
class Divergence:
    """One change of conduct: ``actor`` does ``event`` ``delay_s`` after its anchor (arrival, or the
    recorded withdrawal for ``no_withdrawal``)."""

    actor: str
    event: str
    delay_s: float

    @property
    def text(self) -> str:
        return f"{self.actor}:{self.event}@+{self.delay_s:g}s"


def parse_divergences(text: str | list[str], file: str = "--counterfactual") -> tuple[Divergence, ...]:
    """``"SRO:entered_building@+30s"``, several separated by ``;`` or given as a list."""
    parts = [p for t in ([text] if isinstance(text, str) else text) for p in t.split(";") if p.strip()]
    if not parts:
        raise ReviewInputError(file, None, "counterfactual", "empty: expected ACTOR:EVENT@+SECONDSs")
    out = []
    for part in parts:
        m = _SPEC_RE.match(part)
        if not m:
            raise ReviewInputError(
                file, None, "counterfactual", f"{part.strip()!r}: expected ACTOR:EVENT@+SECONDSs"
            )
        if m["event"] not in (*DIVERGENCE_EVENTS, *CARE_CHANGES):
            raise ReviewInputError(
                file, None, "counterfactual",
                f"event {m['event']!r}: must be one of {', '.join((*DIVERGENCE_EVENTS, *CARE_CHANGES))}",
            )  # fmt: skip
        if m["delay"] is None and m["event"] != "no_withdrawal":
            raise ReviewInputError(
                file, None, "counterfactual", f"{part.strip()!r}: give the delay, e.g. {m['event']}@+30s"
            )
        out.append(Divergence(m["actor"].strip(), m["event"], float(m["delay"] or 0.0)))
    actors = [d.actor for d in out]
    if len(set(actors)) != len(actors):
        raise ReviewInputError(file, None, "counterfactual", "an actor is named twice")
    if sum(d.event in CARE_CHANGES for d in out) > 1:
        raise ReviewInputError(file, None, "counterfactual", "at most one change of the care side at once")
    return tuple(out)


@dataclass(frozen=True)
class DivergentUnit:
    """A responder the protocol arm simulates: from ``diverge_s`` it is inside at ``space`` (-1: the
    entrance nearest the gunfire); ``anchor_s`` + delay = ``diverge_s``; ``observed_delay_s``: the delay the
    record shows (entry or end of the attack after the anchor), the far end of the delay curve."""

    divergence: Divergence
    actor: str
    role: str
    arrival_s: float
    anchor_s: float
    diverge_s: float
    observed_delay_s: float
    space: int
    changed: bool
    count: int = 1  # officers the actor stands for (the incident file's [actors]): that many engine units

    def at_delay(self, delay_s: float) -> DivergentUnit:
        d = self.anchor_s + delay_s
        return dataclasses.replace(
            self, divergence=dataclasses.replace(self.divergence, delay_s=delay_s), diverge_s=d,
            changed=delay_s < self.observed_delay_s,
        )  # fmt: skip


def _arrival(rec: IncidentRecord, actor: str, file: str) -> float:
    rows = rec.rows_of(actor)
    arr = [r for r in rows if r.event == "arrived_on_scene"] or [r for r in rows if r.event in ENTRY_EVENTS]
    if not arr:
        raise ReviewInputError(
            file, rows[0].line if rows else None, "actor",
            f"counterfactual actor {actor!r} has no arrival in the record (no arrived_on_scene or "
            "entered_building row): the change has no starting point",
        )  # fmt: skip
    return rec.rel(arr[0].time)


def resolve(
    rec: IncidentRecord, inc: IncidentFile, sc: Scenario, divs: tuple[Divergence, ...]
) -> tuple[DivergentUnit, ...]:
    """Place each change on the record (``ReviewInputError`` for an unknown actor or one with no arrival,
    or ``no_withdrawal`` for an actor who never withdrew)."""
    file = inc.timeline.file
    units = []
    for d in divs:
        actors = [d.actor]
        if d.actor == FIRST_OFFICERS:
            arr = {a: _arrival(rec, a, file) for a in rec.officers if _has_arrival(rec, a)}
            if not arr:
                raise ReviewInputError(file, None, "actor", "no officer in the record has an arrival")
            first = min(arr.values())
            actors = [a for a, t in arr.items() if t == first]
        for actor in actors:
            if actor not in rec.officers:
                raise ReviewInputError(
                    file, None, "actor",
                    f"counterfactual actor {actor!r} is not an officer in the timeline "
                    f"(officers: {', '.join(rec.officers) or 'none'})",
                )  # fmt: skip
            arrival = _arrival(rec, actor, file)
            rows = rec.rows_of(actor)
            if d.event == "no_withdrawal":
                spans = conduct_of(rec, actor)
                w = [s for s in spans if s.state == "withdrawn"]
                if not w:
                    raise ReviewInputError(
                        file, rows[0].line, "actor",
                        f"{actor!r} never withdrew in the record (no {' or '.join(WITHDRAWAL_EVENTS)} row "
                        "after "
                        "entering or contact): no_withdrawal changes nothing",
                    )  # fmt: skip
                anchor = w[0].t_s
                wrow = next(r for r in rows if r.line == w[0].line)
                before = [r for r in rows if r.time <= wrow.time and space_of(inc, sc, r) >= 0]
                space = space_of(inc, sc, before[-1]) if before else -1
                observed = rec.end_s - anchor
            else:
                anchor = arrival
                ent = [r for r in rows if r.event in ENTRY_EVENTS]
                observed = (rec.rel(ent[0].time) if ent else rec.end_s) - anchor
                space = -1
            observed = max(min(observed, rec.end_s - anchor), 0.0)
            count = inc.spec.actors.get(actor, 1)
            if count < 1 or count > 50 or (rec.officers[actor] == "sro" and count != 1):
                why = f"{count}: an actor stands for 1-50 officers (an SRO for 1)"
                raise inc.error(("actors", actor), why)
            units.append(
                DivergentUnit(
                    d, actor, rec.officers[actor], arrival, anchor, anchor + d.delay_s, observed, space,
                    changed=d.delay_s < observed, count=count,
                )
            )  # fmt: skip
    return tuple(units)


def _has_arrival(rec: IncidentRecord, actor: str) -> bool:
    return any(r.event == "arrived_on_scene" or r.event in ENTRY_EVENTS for r in rec.rows_of(actor))


@dataclass(frozen=True)
class StopDraws:
    """Per paired draw [D]: when the protocol response stopped the attack (s; inf = not before the recorded
    end) and whether a simulated responder was shot; ``simulated`` False when nothing changed."""

    t_stop: np.ndarray
    officer_shot: np.ndarray
    officer_killed: np.ndarray
    simulated: bool


#: z of the access delay's 99.9th percentile: the care window the horizon leaves after the recorded end
CARE_Z = 3.09


def record_horizon(rec: IncidentRecord, sc: Scenario) -> float:
    """The protocol arm's horizon (s from t = 0): the recorded end plus the care window (to the latest care
    time the record gives, and at least the care access delay's 99.9th percentile), never less than the
    scenario's own ``horizon_s``. No draw is then cut before the record ends, however long it ran (a
    replication still ends at the recorded end: the engine's replayed attack stops there).
    ``ReviewInputError`` (the end's line) when that is more engine ticks than a run may take."""
    care = [t for t in (*rec.care_s, *(c.care_s for c in rec.casualties)) if t is not None]
    access = sc.params.rtf_access_median_s * math.exp(CARE_Z * sc.params.ems_access_sigma)
    window = max([access, *(t - rec.end_s for t in care)])
    horizon = max(sc.params.horizon_s, rec.end_s + window)
    if horizon / sc.params.dt > MAX_TICKS:
        raise ReviewInputError(
            rec.timeline.file, rec.end_line, "time",
            f"the record ends {rec.end_s / 3600:.1f} h after the start: with the care window the "
            f"counterfactual needs {horizon:,.0f} s, more than {MAX_TICKS:,} engine ticks of "
            f"{sc.params.dt:g} s (raise scenario.tick_s in the incident file)",
        )  # fmt: skip
    return horizon


def unit_params(
    rec: IncidentRecord, inc: IncidentFile, units: tuple[DivergentUnit, ...]
) -> tuple[Params, tuple[DivergentUnit, ...]]:
    """Engine parameters for the changed responders (SRO first, as the scenario orders units)."""
    live = tuple(sorted((u for u in units if u.changed), key=lambda u: u.role != "sro"))
    n_sro = sum(u.role == "sro" for u in live)
    if n_sro > 1:
        raise ReviewInputError(inc.timeline.file, None, "actor", "at most one SRO can be changed at once")
    each = [u for u in live for _ in range(u.count)]  # a group actor: one engine unit per officer
    sc = build_scenario(inc, sro=n_sro == 1, patrol=len(each) - n_sro)
    fo = attacker_forcing(inc, sc, rec.end_s, len(each))
    fo.arrival_t[:] = [min(u.arrival_s, u.diverge_s) for u in each]
    fo.entry_t[:] = [u.diverge_s for u in each]
    params = dataclasses.replace(
        sc.params, forcing=fo._replace(units_out_ends=True), horizon_s=record_horizon(rec, sc)
    )
    spaces = [u.space for u in live if u.space >= 0]
    if spaces:
        params = dataclasses.replace(params, officer_entry=spaces[0])
    return params, live


def simulate_stop(
    rec: IncidentRecord,
    inc: IncidentFile,
    units: tuple[DivergentUnit, ...],
    n: int,
    theta: Mapping[str, np.ndarray] | None,
) -> StopDraws:
    """Run the changed responders ``n`` times (replication r at posterior draw r of ``theta``)."""
    inf = np.full(n, math.inf)
    no = np.zeros(n, dtype=bool)
    if not any(u.changed for u in units):
        return StopDraws(inf, no, no.copy(), simulated=False)
    params, _ = unit_params(rec, inc, units)
    out = run_outcomes(params, np.arange(n, dtype=np.int64), theta)
    fs = np.nan_to_num(out.first_shot_s, nan=0.0)
    end = fs + out.attack_duration_s
    police = (out.end_reason == POLICE_SHOT) | (out.end_reason == POLICE_ARRESTED)
    t_stop = np.where(police & (end < rec.end_s), end, math.inf)
    return StopDraws(t_stop, out.officers_shot > 0, out.officers_killed > 0, simulated=True)
