"""Incident files: the timeline of a real incident plus what the engine needs to simulate a responder in it.

TOML keys: ``name``; ``timeline`` (path relative to the file); ``start`` (t = 0; default the attacker's
first ``entered_building`` row); ``replications`` (paired draws); ``seed``; ``counterfactual`` (one
``ACTOR:EVENT@+Ns`` or a list, changed together); ``curve_points`` (most points of a delay curve);
``[facts]`` (``killed``, ``wounded``: totals the casualty rows must add up to); ``[survival]`` (ranges
overriding the record model's parameters, ``review/survival.py``); ``[scenario]`` (building, attacker,
responders, care keys of a scenario), ``[locations]`` (timeline location -> building space id) and
``[actors]`` (how many officers a group actor of the timeline stands for, e.g. ``"UPD-FIRST-OFFICERS" = 3``;
1 when not given: the counterfactual simulates that many units for a changed actor).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from responsesim.engine.types import Forcing
from responsesim.review.errors import ReviewInputError
from responsesim.review.timeline import Timeline, TimelineRow, load_timeline, parse_time
from responsesim.scenario.errors import ScenarioError, locate_toml_line
from responsesim.scenario.load import Scenario, build
from responsesim.scenario.schema import ScenarioSpec

__all__ = ["IncidentFile", "IncidentSpec", "attacker_forcing", "build_scenario", "load_incident"]


class Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    killed: int | None = Field(default=None, ge=0)
    wounded: int | None = Field(default=None, ge=0)


class IncidentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    timeline: str
    start: str | None = None
    replications: int = Field(default=2000, ge=2, le=1_000_000)
    seed: int = Field(default=1, ge=0)
    counterfactual: str | list[str] | None = None
    curve_points: int = Field(default=10, ge=2, le=50)
    facts: Facts = Facts()
    survival: dict[str, tuple[float, float]] = Field(default_factory=dict)
    scenario: dict[str, Any] = Field(default_factory=dict)
    locations: dict[str, str] = Field(default_factory=dict)
    actors: dict[str, int] = Field(default_factory=dict)  # officers an actor of the timeline stands for


@dataclass(frozen=True)
class IncidentFile:
    """A loaded incident file: the spec, its text (for line numbers), its timeline and t = 0."""

    path: Path
    spec: IncidentSpec
    text: str
    timeline: Timeline
    start: datetime

    def error(self, field: tuple[str, ...], message: str) -> ReviewInputError:
        return ReviewInputError(str(self.path), locate_toml_line(self.text, field), ".".join(field), message)

    def rel(self, t: datetime) -> float:
        return (t - self.start).total_seconds()


def load_incident(path: Path, timeline: Path | None = None) -> IncidentFile:
    """Read and check an incident file and its timeline (``ReviewInputError`` with file, line, field);
    ``timeline`` replaces the file's own (the web page's uploaded timeline)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ReviewInputError(str(path), None, None, f"cannot read incident file ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise ReviewInputError(str(path), None, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReviewInputError(str(path), None, None, f"TOML syntax error: {exc}") from exc
    try:
        spec = IncidentSpec.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = tuple(str(x) for x in e["loc"])
        raise ReviewInputError(str(path), locate_toml_line(text, loc), ".".join(loc), e["msg"]) from exc
    tl = load_timeline(timeline if timeline is not None else path.parent / spec.timeline)
    if spec.start is not None:
        try:
            start = parse_time(spec.start)
        except ValueError as exc:
            raise ReviewInputError(str(path), locate_toml_line(text, ("start",)), "start", str(exc)) from exc
    else:
        entered = [r for r in tl.rows if r.role == "attacker" and r.event == "entered_building"]
        if not entered:
            raise ReviewInputError(str(path), None, "start", "no attacker entered_building row: give 'start'")
        start = entered[0].time
    return IncidentFile(path, spec, text, tl, start)


def build_scenario(inc: IncidentFile, sro: bool, patrol: int) -> Scenario:
    """The incident's ``[scenario]`` with ``sro`` (present or not) and ``patrol`` other officers as the only
    responders (no tactical team: the record says when others came)."""
    scen: dict[str, Any] = {
        **inc.spec.scenario,
        "name": inc.spec.name,
        "seed": inc.spec.seed,
        "replications": inc.spec.replications,
    }
    resp = dict(scen.get("responders", {}))
    resp["sro"] = {**dict(resp.get("sro", {})), "present": sro}
    resp["patrol"] = {**dict(resp.get("patrol", {})), "count": patrol}
    resp["tactical"] = {**dict(resp.get("tactical", {})), "enabled": False}
    scen["responders"] = resp
    try:
        sspec = ScenarioSpec.model_validate(scen)
        return build(sspec, str(inc.path), inc.text, base_dir=inc.path.parent)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ("scenario", *(str(x) for x in e["loc"]))
        raise inc.error(loc, e["msg"]) from exc
    except ScenarioError as exc:
        raise ReviewInputError(str(inc.path), exc.line, f"scenario.{exc.field}", exc.message) from exc


def space_of(inc: IncidentFile, sc: Scenario, row: TimelineRow) -> int:
    """The building space a row's location maps to (``[locations]``), or -1 when it is not mapped."""
    sid = inc.spec.locations.get(row.location)
    if sid is None:
        return -1
    g = sc.building
    if sid not in g.space_ids:
        raise inc.error(("locations", row.location), f"unknown space {sid!r} in building {g.name!r}")
    return int(g.index(sid))


def attacker_forcing(inc: IncidentFile, sc: Scenario, end_s: float, n_units: int) -> Forcing:
    """The attacker's recorded path as waypoints (mapped locations, from t = 0), ending at ``end_s``;
    unit times all NaN (the caller sets them)."""
    ts: list[float] = []
    sp: list[int] = []
    shot: list[bool] = []
    for r in inc.timeline.rows:
        if r.role != "attacker":
            continue
        k = space_of(inc, sc, r)
        if k >= 0 and inc.rel(r.time) >= 0:
            ts.append(inc.rel(r.time))
            sp.append(k)
            shot.append(r.event == "shots_fired")
    nan = np.full(n_units, np.nan)
    return Forcing(
        wp_t=np.asarray(ts, dtype=np.float64),
        wp_space=np.asarray(sp, dtype=np.int64),
        wp_shot=np.asarray(shot, dtype=bool),
        end_t=end_s if math.isfinite(end_s) else math.inf,
        arrival_t=nan.copy(),
        entry_t=nan.copy(),
        withdraw_t=nan.copy(),
    )
