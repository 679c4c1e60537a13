"""The model-parameter registry: every calibrated model parameter declared once.

A declaration gives the name, unit, default, plausible range (the calibration prior), source (or
"assumption"), whether calibration fits it and whether it may vary per replication. Everything else is
derived from this list:

- the calibration file's ``[params]`` schema (``params.parse_calibration``: unknown keys refused, missing
  keys take the default here, ranges and kinds checked);
- the per-replication parameter container of the engine (``engine.types.Theta``: one field per
  per-replication parameter, plus the scenario levers of ``engine.types.LEVERS``);
- the table in ``docs/parameters.md`` (``responsesim params --markdown``);
- the priors of calibration and the ranges of sensitivity analysis.

Adding a parameter is one ``Parameter(...)`` line here plus its use in the rule that needs it
(``engine/rules.py`` reads it as ``th.<name>[i]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["rate", "probability", "factor", "time", "count"]

ASSUMPTION = "assumption"


@dataclass(frozen=True)
class Parameter:
    """One model parameter. ``low``-``high`` is the plausible range (calibration prior, sensitivity range).

    ``kind`` fixes the checks: probabilities lie in [0, 1], counts are whole numbers >= 1, everything else
    is >= 0. ``per_replication`` False means the value sizes something in the engine (a buffer) and must be
    the same for every replication of a batch.
    """

    name: str
    unit: str
    kind: Kind
    default: float
    low: float
    high: float
    source: str
    fitted: bool = False
    per_replication: bool = True

    def check(self, value: float) -> str | None:
        """A plain-language problem with ``value``, or None when it is acceptable."""
        if not value >= 0:
            return f"must be >= 0 (got {value:g})"
        if self.kind == "probability" and value > 1:
            return f"a probability must be <= 1 (got {value:g})"
        if self.kind == "count" and (value < 1 or value != int(value)):
            return f"must be a whole number >= 1 (got {value:g})"
        return None


A = ASSUMPTION
P = Parameter
PARAMETERS: tuple[Parameter, ...] = (
    # attacker's weapon and fire (abstract, calibrated to aggregate casualties)
    P("fire_rate_handgun", "shots/s", "rate", 0.584034, 0.3, 2.0, A + "; calibrated to casualties", True),
    P("fire_rate_rifle", "shots/s", "rate", 1.82637, 0.5, 3.0, A + "; calibrated", True),
    P("magazine_handgun", "rounds", "count", 15, 10, 17, "typical pistol magazine"),
    P("magazine_rifle", "rounds", "count", 30, 20, 30, "typical rifle magazine"),
    P("reload_s", "s", "time", 6.0, 3.0, 15.0, A),
    P("p_hit", "probability", "probability", 0.139792, 0.1, 0.6, A + "; calibrated", True),
    P("window_hit_factor", "factor", "probability", 0.3, 0.1, 0.6, A),
    P("window_fire_factor", "factor", "probability", 0.5, 0.2, 1.0, A),
    P("max_shots_per_tick", "shots", "count", 6, 4, 10, "truncation of the per-tick Poisson draw",
      per_replication=False),
    # the call to police
    P("call_delay_sigma", "log-sd", "factor", 0.5, 0.2, 1.0, A + ": spread of the delay before the call"),
    # wounds
    P("p_kill_handgun", "probability", "probability", 0.405051, 0.15, 0.6,
      A + "; calibrated to deaths/wounded ratio", True),
    P("p_kill_rifle", "probability", "probability", 0.5, 0.25, 0.75, A),
    P("p_critical", "probability", "probability", 0.4, 0.2, 0.6, A),
    P("critical_survival_median_s", "s", "time", 1800.0, 600.0, 3600.0, A + " (hemorrhage without care)"),
    P("critical_survival_sigma", "log-sd", "factor", 0.8, 0.3, 1.5, A),
    # how attacks end
    P("self_term_h", "1/s", "rate", 0.00134819, 1e-4, 5e-3, A + "; calibrated to the ending mix", True),
    P("police_scene_mult", "factor", "factor", 3.0, 1.0, 10.0, A + "; calibrated"),
    P("police_near_mult", "factor", "factor", 4.37131, 3.0, 100.0,
      A + "; calibrated to suicide on police arrival", True),
    P("flee_h", "1/s", "rate", 0.000864492, 1e-4, 5e-3, A + "; calibrated to the ending mix", True),
    P("quit_sigma", "log-sd", "factor", 0.0, 0.0, 2.5,
      "attackers differ in how long they go on (FBI 2000-2013: about a third of incidents with a known "
      "duration lasted over 5 min, most ended within 2): lognormal spread, median 1, of each attacker's "
      "self-termination and flight hazards; fitted", True),
    P("citizen_h", "1/s", "rate", 0.00122627, 1e-4, 1e-2,
      "FBI 2000-2013: 21 of 160 restrained by citizens; calibrated", True),
    P("reload_mult", "factor", "factor", 5.0, 1.0, 10.0, A),
    # how attackers react to police (docs/model.md, step 11 and *Barricade and standoff*)
    P("barricade_h", "1/s", "rate", 0.0002, 1e-5, 5e-3,
      "an attacker in a room shuts itself in (FBI 2000-2019 narratives: barricades, standoffs and hostages, "
      "coded by calibrate/narratives.py); fitted to the share of attacks lasting 10 min or more", True),
    P("barricade_near_mult", "factor", "factor", 10.0, 1.0, 50.0,
      A + ": attackers barricade when police close in (DOJ Uvalde review: the attacker stayed in rooms "
      "111-112 once officers reached the hallway); factor on barricade_h while an officer is within two "
      "spaces"),
    P("surrender_h", "1/s", "rate", 0.002, 1e-4, 2e-2,
      "FBI 2000-2019: attackers who surrendered to police; hazard while officers engage it or hold its "
      "door; fitted to the police-arrest endings", True),
    P("move_away_h", "1/s", "rate", 0.01, 0.0, 0.05,
      A + ": an attacker that hears officers within two spaces (not engaged) moves on, away from them"),
    P("barricade_fire_factor", "factor", "probability", 0.1, 0.02, 0.5,
      A + ": a barricaded attacker keeps firing at people in its room at this share of its rate (DOJ "
      "Uvalde review: shots inside the rooms after the officers withdrew)"),
    P("breach_exposure", "factor", "probability", 0.5, 0.2, 1.0,
      A + ": officers forcing the door are hit at this share of the engaged hazard (firing through the "
      "door: DOJ Uvalde review, two officers grazed at 11:37)"),
    # engagement with officers
    P("officer_stop_h", "1/s", "rate", 0.117231, 0.01, 0.5,
      A + "; calibrated to police endings and durations", True),
    P("rifle_factor_officer", "factor", "factor", 1.5, 1.0, 2.0, A),
    P("officer_pace", "factor", "factor", 1.0, 0.6, 1.4,
      A + ": an officer's walking pace relative to responders.officer_speed_mps (1 in runs; the review's "
      "counterfactual draws it per replication over this range)"),
    P("officer_hit_h", "1/s", "rate", 0.0276663, 0.002, 0.2,
      "FBI 2000-2013: officer shot in 21 of 45 engagements", True),
    P("officer_hit_factor_rifle", "factor", "factor", 2.0, 1.0, 3.0, A),
    P("p_officer_killed", "probability", "probability", 0.25, 0.1, 0.5,
      "FBI 2000-2013: 9 killed, 28 wounded"),
    P("p_police_shot", "probability", "probability", 0.701571, 0.2, 0.8,
      A + "; calibrated to shot vs arrested endings", True),
)  # fmt: skip

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
FITTED: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.fitted)
PER_REPLICATION: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.per_replication)
PROBABILITIES: frozenset[str] = frozenset(p.name for p in PARAMETERS if p.kind == "probability")
DEFAULTS: dict[str, float] = {p.name: float(p.default) for p in PARAMETERS}

__all__ = [
    "BY_NAME",
    "DEFAULTS",
    "FITTED",
    "NAMES",
    "PARAMETERS",
    "PER_REPLICATION",
    "PROBABILITIES",
    "Parameter",
]
