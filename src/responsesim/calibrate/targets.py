"""Observed calibration targets with their sampling uncertainty, and the same quantities from simulations.

Data-derived targets come from the FBI incident table (``incidents_2000_2019.csv``) restricted to the
model's scope (``SCOPE_NOTE``); published targets come from ``published_stats.toml`` (Blair & Schweit 2014,
all 160 incidents of 2000-2013). The duration tail (``lasted_10min_plus_share``) brackets the share of
attacks lasting 10 minutes or more between the coded narratives (``narratives.py``, a lower bound) and the
published 5-minute figure (an upper bound): :func:`duration_tail_target`. Shares carry Wilson 95% intervals
(``scipy.stats.binomtest``), means a bootstrap 95% interval (BCa, 2000 resamples, seed ``BOOTSTRAP_SEED``).
Target names are the keys of :func:`simulated_values`, so observed and simulated values can be compared
name by name.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from responsesim.analysis.incidents import incidents
from responsesim.calibrate.endings import ENDING_CLASSES, ENGINE_TO_CLASS, ending_class_from_record
from responsesim.calibrate.reference import load_incidents, load_narratives, load_published_stats

#: FBI location type -> building kind simulated for it (only these are in scope).
BUILDING_KIND: dict[str, str] = {
    "Education": "school",
    "Commerce": "office_like",
    "Government": "office_like",
    "Health Care": "office_like",
    "House of Worship": "office_like",
}
OUT_OF_SCOPE_LOCATIONS = ("Open Space", "Residence", "Other")

SCOPE_NOTE = (
    "In scope: incidents whose FBI location type is a building the model simulates: Education (-> school) "
    "and Commerce, Government, Health Care, House of Worship (-> office_like). Left out: Open Space, "
    "Residence and Other, because the model simulates one attack inside one building (occupants, doors, "
    "responding police), not open-air, roadside or home shootings. Some in-scope Commerce incidents still "
    "span several sites ('Multiple Locations in ...'); they are kept as the FBI classifies them."
)

TRAIN_YEARS = (2000, 2013)  # the period of Blair & Schweit (2014), whose published figures are also targets
HELDOUT_YEARS = (2014, 2019)  # later FBI reports, kept back to check the calibrated model out of sample

#: Casualty bins (label, lowest, highest inclusive) for the deaths and wounded distributions.
CASUALTY_BINS: tuple[tuple[str, float, float], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8+", 8, math.inf),
)

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601

FBI_SOURCE = "FBI active-shooter reports 2000-2019, incidents_2000_2019.csv (responsesim/data/reference)"

#: Columns :func:`simulated_values` needs in a simulated outcome table (engine OUTCOME_COLUMNS).
SIMULATED_COLUMNS = (
    "deaths",
    "wounded",
    "end_reason",
    "attack_duration_s",
    "ended_before_police",
    "first_contact_s",
    "officers_shot",
    "first_shot_s",
)
#: The keys :func:`simulated_values` returns.
SIMULATED_TARGET_NAMES: tuple[str, ...] = (
    *(f"ending_share.{c}" for c in ENDING_CLASSES),
    "deaths_mean",
    "wounded_mean",
    *(f"{col}_bin.{label}" for col in ("deaths", "wounded") for label, _, _ in CASUALTY_BINS),
    "ended_within_5min_share",
    "ended_within_2min_share",
    "lasted_10min_plus_share",
    "ended_before_police_share",
    "officer_shot_given_engagement_share",
)


@dataclass(frozen=True)
class Target:
    """One observed calibration target: value, 95% interval, sample size and source."""

    name: str
    description: str
    kind: Literal["share", "mean", "quantile"]
    observed: float
    ci_low: float
    ci_high: float
    n: int
    source: str


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial share k/n (scipy.stats.binomtest(...).proportion_ci)."""
    if n <= 0:
        raise ValueError(f"Wilson interval needs n > 0, got k={k}, n={n}")
    ci = sps.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa bootstrap interval of a mean (scipy.stats.bootstrap, 2000 resamples, fixed seed)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap interval needs at least one value")
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    gen = np.random.default_rng(BOOTSTRAP_SEED)
    seed_kw = "rng" if "rng" in inspect.signature(sps.bootstrap).parameters else "random_state"
    res = sps.bootstrap(
        (x,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=confidence,
        method="BCa",
        **{seed_kw: gen},
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def in_scope(df: pd.DataFrame) -> pd.DataFrame:
    """The in-scope incidents (``BUILDING_KIND`` locations), with a ``building_kind`` column (SCOPE_NOTE)."""
    out = df[df["location"].isin(list(BUILDING_KIND))].copy()
    out["building_kind"] = out["location"].map(BUILDING_KIND)
    return out


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by incident year: train 2000-2013 (``TRAIN_YEARS``), held out 2014-2019 (``HELDOUT_YEARS``).

    The train period is the one the published 2000-2013 statistics describe; the held-out years (FBI reports
    of 2014-2019) are used only to check the calibrated model. Raises ``ValueError`` for other years.
    """
    year = df["date"].dt.year if "year" not in df else df["year"]
    train = year.between(*TRAIN_YEARS)
    held = year.between(*HELDOUT_YEARS)
    if not (train | held).all():
        bad = sorted(set(year[~(train | held)].tolist()))
        raise ValueError(f"incident years outside {TRAIN_YEARS[0]}-{HELDOUT_YEARS[1]}: {bad}")
    return df[train].copy(), df[held].copy()


def incident_table(
    incidents: pd.DataFrame | None = None, narratives: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Incidents joined with their narratives, with an ``ending`` class per incident (all locations).

    Defaults load both files from the reference directory. ``ending`` is
    :func:`~responsesim.calibrate.endings.ending_class_from_record` (structured field, narrative where it
    is silent or unclear). Raises ``ValueError`` if an incident has no narrative.
    """
    inc = load_incidents() if incidents is None else incidents
    nar = load_narratives() if narratives is None else narratives
    keys = ["source_id", "incident_name"]
    df = inc.merge(nar[[*keys, "narrative"]], on=keys, how="left", validate="one_to_one")
    missing = df["narrative"].isna()
    if missing.any():
        raise ValueError(f"incidents without a narrative: {df.loc[missing, 'incident_name'].tolist()}")
    df["ending"] = _endings(df)
    return df


def _endings(df: pd.DataFrame) -> pd.Series:
    if "ending" in df:
        return df["ending"]
    narr = df["narrative"] if "narrative" in df else pd.Series([None] * len(df), index=df.index)
    return pd.Series(
        [ending_class_from_record(te, nv) for te, nv in zip(df["terminating_event"], narr, strict=True)],
        index=df.index,
    )


def _bin_mask(x: pd.Series, lo: float, hi: float) -> pd.Series:
    return (x >= lo) & (x <= hi)


def _share(name: str, description: str, k: int, n: int, source: str) -> Target:
    lo, hi = wilson(k, n)
    return Target(name, description, "share", k / n, lo, hi, n, source)


def _published(stats: dict[str, Any]) -> list[Target]:
    fbi = stats["fbi_2000_2013"]
    src = fbi["source"]
    note = "all 160 incidents 2000-2013, every location type (not restricted to the model's scope)"
    n_dur, n_inc, n_eng = fbi["duration_known"], fbi["incidents"], fbi["law_enforcement_engaged"]
    k_high = round(fbi["ended_before_police_share_high"] * n_inc)
    k_low = round(fbi["ended_before_police_share_low"] * n_inc)
    lo_a, hi_a = wilson(k_high, n_inc)
    lo_b, hi_b = wilson(k_low, n_inc)
    return [
        _share(
            "ended_within_5min_share",
            f"share of incidents of known duration that ended within 5 min (300 s); {note}",
            fbi["ended_within_5_min"],
            n_dur,
            f"{src} ended_within_5_min/duration_known",
        ),
        _share(
            "ended_within_2min_share",
            f"share of incidents of known duration that ended within 2 min (120 s); {note}",
            fbi["ended_within_2_min"],
            n_dur,
            f"{src} ended_within_2_min/duration_known",
        ),
        Target(
            "ended_before_police_share",
            f"share of incidents that ended before police arrived: {k_high}/{n_inc} "
            f"({k_high / n_inc:.1%}); another summary of the same study says {k_low / n_inc:.1%} "
            f"({k_low}/{n_inc}), so the interval spans both estimates' Wilson intervals; {note}",
            "share",
            k_high / n_inc,
            min(lo_a, lo_b),
            max(hi_a, hi_b),
            n_inc,
            f"{src} ended_before_police_share_high/low",
        ),
        _share(
            "officer_shot_given_engagement_share",
            "share of police engagements of the attacker in which an officer was shot (killed or wounded); "
            f"{note}",
            fbi["law_enforcement_casualties_in"],
            n_eng,
            f"{src} law_enforcement_casualties_in/law_enforcement_engaged",
        ),
    ]


TAIL_S = 600.0  # the duration tail's threshold: 10 minutes


def duration_tail_target(stats: dict[str, Any], train_scoped: pd.DataFrame) -> Target:
    """``lasted_10min_plus_share``: the share of incidents lasting 10 minutes or more, bracketed.

    No source gives this share directly, so it is bracketed by two FBI figures:

    - at least ``k_low / n_low``: the in-scope 2000-2013 incidents ``train_scoped`` (an
      :func:`incident_table` part) whose narrative reports 10+ minutes at the scene
      (``narratives.long_at_scene``: a stated duration of 10 min or more, or a standoff or barricade after
      the shooting began, not after a flight). Narratives seldom state a duration, so this is a lower bound;
    - at most ``(duration_known - ended_within_5_min) / duration_known`` (20 of 64): the incidents of known
      duration that lasted over 5 minutes (Blair & Schweit 2014; every location type).

    The value is the midpoint of the two bounds (the bracket says no more), the interval runs from the lower
    bound's Wilson low to the upper bound's Wilson high, and ``n`` is the lower bound's denominator.
    """
    from responsesim.calibrate.narratives import code_incidents

    coded = code_incidents(train_scoped.assign(ending=_endings(train_scoped)))
    k_low, n_low = int(coded["long_at_scene"].sum()), len(coded)
    fbi = stats["fbi_2000_2013"]
    n_up = int(fbi["duration_known"])
    k_up = n_up - int(fbi["ended_within_5_min"])
    lo, _ = wilson(k_low, n_low)
    _, hi = wilson(k_up, n_up)
    low, up = k_low / n_low, k_up / n_up
    long_names = ", ".join(f"{r.incident_name} {r.year}" for r in coded[coded["long_at_scene"]].itertuples())
    return Target(
        "lasted_10min_plus_share",
        f"share of incidents lasting 10 min (600 s) or more: at least {k_low}/{n_low} ({low:.1%}; in-scope "
        f"2000-2013 incidents whose narrative reports 10+ min at the scene: {long_names}) and at most "
        f"{k_up}/{n_up} ({up:.1%}; incidents of known duration over 5 min, all locations); value: the "
        "midpoint, interval: from the lower bound's Wilson low to the upper bound's Wilson high",
        "share",
        (low + up) / 2.0,
        lo,
        hi,
        n_low,
        f"{FBI_SOURCE}, narratives coded by responsesim.calibrate.narratives (long_at_scene); "
        f"{fbi['source']} (duration_known - ended_within_5_min)/duration_known",
    )


def _train_scoped(scoped: pd.DataFrame) -> pd.DataFrame:
    """The in-scope 2000-2013 incidents of ``scoped``, or of the reference data if it holds none."""
    year = scoped["date"].dt.year
    part = scoped[year.between(*TRAIN_YEARS)]
    if len(part):
        return part
    full = in_scope(incident_table())
    return full[full["date"].dt.year.between(*TRAIN_YEARS)]


def observed_targets(df: pd.DataFrame, stats: dict[str, Any] | None = None) -> list[Target]:
    """The calibration targets observed in the incidents ``df`` (restricted to scope here) and in ``stats``.

    ``df`` is an incident table (:func:`incident_table`, or a split of it); its ``ending`` column is used
    if present, else endings are classified here. ``stats`` defaults to ``published_stats.toml``.
    Targets: ``ending_share.<class>`` (Wilson), ``deaths_mean``/``wounded_mean`` (people per incident,
    shooters excluded; bootstrap), ``deaths_bin.<bin>``/``wounded_bin.<bin>`` (share of incidents per bin,
    Wilson), the published shares of :func:`_published` and the duration tail of
    :func:`duration_tail_target` (both the same for every ``df`` holding the 2000-2013 incidents).
    """
    scoped = in_scope(df)
    n = len(scoped)
    if n == 0:
        raise ValueError("no in-scope incidents in the table")
    years = f"{int(scoped['date'].dt.year.min())}-{int(scoped['date'].dt.year.max())}"
    src = f"{FBI_SOURCE}; {n} in-scope incidents {years}"
    endings = _endings(scoped)
    unknown = set(endings) - set(ENDING_CLASSES)
    if unknown:
        raise ValueError(f"unknown ending classes {sorted(unknown)}")
    out = [
        _share(f"ending_share.{c}", f"share of incidents ending as {c!r}", int((endings == c).sum()), n, src)
        for c in ENDING_CLASSES
    ]
    for col, what in (("deaths", "killed (shooters excluded)"), ("wounded", "wounded")):
        x = scoped[col].to_numpy(dtype=float)
        lo, hi = bootstrap_mean_ci(x)
        desc = f"mean people {what} per incident"
        out.append(Target(f"{col}_mean", desc, "mean", float(x.mean()), lo, hi, n, src))
    for col, what in (("deaths", "killed"), ("wounded", "wounded")):
        for label, lo_b, hi_b in CASUALTY_BINS:
            k = int(_bin_mask(scoped[col], lo_b, hi_b).sum())
            desc = f"share of incidents with {label} people {what}"
            out.append(_share(f"{col}_bin.{label}", desc, k, n, src))
    stats = load_published_stats() if stats is None else stats
    out.extend(_published(stats))
    out.append(duration_tail_target(stats, _train_scoped(scoped)))
    return out


def targets_frame(targets: list[Target]) -> pd.DataFrame:
    """The targets as a table, one row per target (columns = Target fields), indexed by name."""
    return pd.DataFrame([t.__dict__ for t in targets]).set_index("name")


def simulated_values(outcomes: pd.DataFrame) -> dict[str, float]:
    """The target quantities computed from a simulated outcome table (one row per replication).

    Only incidents count (attempts with a shot fired, ``analysis.incidents``): the FBI data holds only
    incidents with shots fired; with none, every value is NaN. Needs ``SIMULATED_COLUMNS``. Ending
    classes via ``ENGINE_TO_CLASS`` (unknown end reason -> KeyError); the duration shares are over rows
    with a known (non-NaN) ``attack_duration_s`` (s; an attack still ongoing at the horizon counts with
    the time it had run; ``lasted_10min_plus_share``: at least ``TAIL_S``);
    ``officer_shot_given_engagement_share`` is over replications with an engagement (``first_contact_s`` not
    NaN), NaN if there is none. Keys: ``SIMULATED_TARGET_NAMES`` (Target names).
    """
    missing = [c for c in SIMULATED_COLUMNS if c not in outcomes]
    if missing:
        raise ValueError(f"outcome table lacks column(s) {missing}")
    if outcomes.empty:
        raise ValueError("outcome table is empty")
    outcomes = incidents(outcomes)
    if outcomes.empty:
        return dict.fromkeys(SIMULATED_TARGET_NAMES, math.nan)
    ending = outcomes["end_reason"].map(lambda r: ENGINE_TO_CLASS[str(r)])
    out: dict[str, float] = {f"ending_share.{c}": float((ending == c).mean()) for c in ENDING_CLASSES}
    for col in ("deaths", "wounded"):
        x = outcomes[col].astype(float)
        out[f"{col}_mean"] = float(x.mean())
    for col in ("deaths", "wounded"):
        x = outcomes[col].astype(float)
        for label, lo, hi in CASUALTY_BINS:
            out[f"{col}_bin.{label}"] = float(_bin_mask(x, lo, hi).mean())
    dur = outcomes["attack_duration_s"].astype(float)
    dur = dur[dur.notna()]
    out["ended_within_5min_share"] = float((dur <= 300.0).mean()) if len(dur) else math.nan
    out["ended_within_2min_share"] = float((dur <= 120.0).mean()) if len(dur) else math.nan
    out["lasted_10min_plus_share"] = float((dur >= TAIL_S).mean()) if len(dur) else math.nan
    out["ended_before_police_share"] = float(outcomes["ended_before_police"].astype(bool).mean())
    engaged = outcomes["first_contact_s"].astype(float).notna()
    shot = outcomes.loc[engaged, "officers_shot"].astype(float) > 0
    out["officer_shot_given_engagement_share"] = float(shot.mean()) if engaged.any() else math.nan
    return out


def comparison_table(targets: list[Target], simulated: dict[str, float]) -> pd.DataFrame:
    """Targets beside simulated values: adds ``simulated`` and ``inside_ci`` columns (NaN/False if absent)."""
    df = targets_frame(targets)
    df["simulated"] = [simulated.get(name, math.nan) for name in df.index]
    df["inside_ci"] = (df["simulated"] >= df["ci_low"]) & (df["simulated"] <= df["ci_high"])
    return df
