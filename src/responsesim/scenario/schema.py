"""Scenario file schema (pydantic): what a user may write in a scenario TOML, validated at the edge.

Every numeric field carries its unit in the name (``_s`` seconds, ``_m`` metres, ``_mps`` metres per
second) and, in ``json_schema_extra``, its source or the word *assumption*: the parameter table in the
docs and reports is generated from these models.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

DoctrineKind = Literal["perimeter", "solo_entry", "wait_for_n", "backup_eta_rule", "hesitate", "no_entry"]
Weapon = Literal["handgun", "rifle"]
DoorLock = Literal["none", "standard", "reinforced"]
BarricadeDoctrine = Literal["breach", "contain"]
NEVER = "never"
DEFAULT_TEMPLATE = "three_floor_school"
MAX_TICKS = 200_000
"""Most engine steps one replication may take (horizon_s / tick_s): a tiny tick would make a run never end."""


def src(text: str) -> dict[str, Any]:
    """Field metadata naming the source of a default (or 'assumption: range ...')."""
    return {"source": text}


class Strict(BaseModel):
    """Base: unknown keys are an error, numbers must be finite (``inf``/``nan`` are rejected: use "never"
    for a time that never comes), values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


NonNegS = Annotated[float, Field(ge=0.0)]
OptionalTime = float | Literal["never"] | None


def _time_or_never(v: Any) -> float | None:
    if v is None or v == NEVER:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError('must be a number of seconds (>= 0) or "never"')
    try:
        seconds = float(v)
    except OverflowError:  # an integer too large for a float
        seconds = math.inf
    if not math.isfinite(seconds):
        raise ValueError('must be a finite number of seconds (>= 0) or "never"')
    if seconds < 0:
        raise ValueError('must be >= 0 seconds (or "never")')
    return seconds


class SpaceOverride(Strict):
    """Change attributes of one space of a template."""

    id: str
    lockable: bool | None = None
    hard_corner: bool | None = None
    door_window: bool | None = None
    door_lock: DoorLock | None = None
    occupants: int | None = Field(default=None, ge=0)


class BuildingSection(Strict):
    """Which building: a built-in template by name, or a JSON/TOML graph file, with overrides."""

    template: str | None = Field(default=None, description="built-in template name")
    file: str | None = Field(
        default=None, description="path to a building JSON/TOML file, relative to the scenario"
    )
    hard_corners: bool | None = Field(
        default=None, description="override: every lockable room has (true) or lacks (false) a hard corner"
    )
    door_windows: bool | None = Field(default=None, description="override: every lockable door has a window")
    occupants_per_classroom: int | None = Field(default=None, ge=0, le=200)
    spaces: tuple[SpaceOverride, ...] = ()

    @model_validator(mode="after")
    def _one_source(self) -> BuildingSection:
        if self.template is not None and self.file is not None:
            raise ValueError("give either 'template' or 'file', not both")
        return self


class OccupantsSection(Strict):
    group_size_max: int = Field(
        default=40, ge=1, le=1000, json_schema_extra=src("assumption: a class with its teacher")
    )
    reaction_median_s: float = Field(default=10.0, gt=0, json_schema_extra=src("assumption: 5-30 s"))
    reaction_sigma: float = Field(default=0.5, ge=0, le=3)
    p_lockdown: float = Field(
        default=0.9,
        ge=0,
        le=1,
        json_schema_extra=src("assumption: share of alerted classes that lock down, 0.6-1"),
    )
    p_evacuate_open: float = Field(
        default=0.8,
        ge=0,
        le=1,
        json_schema_extra=src("assumption: share of alerted groups in open spaces that flee"),
    )
    lock_time_min_s: float = Field(default=5.0, ge=0, json_schema_extra=src("assumption"))
    lock_time_max_s: float = Field(default=30.0, ge=0, json_schema_extra=src("assumption"))
    lock_works_prob: float = Field(default=0.97, ge=0, le=1, json_schema_extra=src("assumption: 0.8-1"))
    use_hard_corner_prob: float = Field(default=0.9, ge=0, le=1, json_schema_extra=src("assumption: 0.5-1"))
    evac_speed_mps: float = Field(default=1.8, gt=0, le=10, json_schema_extra=src("assumption: 1.2-3 m/s"))
    avoid_penalty_m: float = Field(default=200.0, ge=0, json_schema_extra=src("assumption"))

    @model_validator(mode="after")
    def _lock_range(self) -> OccupantsSection:
        if self.lock_time_max_s < self.lock_time_min_s:
            raise ValueError("lock_time_max_s must be >= lock_time_min_s")
        return self


class AlertingSection(Strict):
    lockdown_at_s: OptionalTime = Field(
        default=60.0, description='seconds after the attack starts, or "never"'
    )
    fire_alarm_at_s: OptionalTime = Field(
        default=None, description='seconds after the attack starts, or "never"'
    )
    hear_hops: int = Field(
        default=3, ge=0, le=50, json_schema_extra=src("assumption: gunfire heard within 2-5 spaces")
    )

    @field_validator("lockdown_at_s", "fire_alarm_at_s", mode="before")
    @classmethod
    def _never(cls, v: Any) -> float | None:
        return _time_or_never(v)


class AttackerSection(Strict):
    weapon: Weapon = Field(
        default="handgun", json_schema_extra=src("ALERRT 2000-2012: pistol 0.59, rifle 0.26")
    )
    entry_space: str | None = Field(default=None, description="exit space where the attacker enters")
    speed_mps: float = Field(
        default=1.4, gt=0, le=10, json_schema_extra=src("assumption: walking 1.2-1.6 m/s")
    )
    dwell_min_s: float = Field(default=10.0, ge=0, json_schema_extra=src("assumption"))
    dwell_max_s: float = Field(default=60.0, ge=0, json_schema_extra=src("assumption"))
    w_unvisited: float = Field(default=3.0, gt=0, json_schema_extra=src("assumption"))

    @model_validator(mode="after")
    def _dwell(self) -> AttackerSection:
        if self.dwell_max_s < self.dwell_min_s:
            raise ValueError("dwell_max_s must be >= dwell_min_s")
        return self


class DoctrineSpec(Strict):
    """A response doctrine: when an armed officer on scene enters the building."""

    kind: DoctrineKind = "backup_eta_rule"
    threshold_s: float = Field(
        default=60.0, ge=0, description="backup_eta_rule: wait only if backup is this close"
    )
    n: int = Field(default=4, ge=1, le=100, description="wait_for_n: officers needed before entering")
    delay_s: float = Field(default=120.0, ge=0, description="hesitate: delay after arrival")
    barricade: BarricadeDoctrine = Field(
        default="breach",
        description="an attacker barricaded in a room with people in reach: 'breach' (the officers at the "
        "door force it at once: post-Columbine and post-Uvalde training) or 'contain' (hold the door, wait "
        "for the tactical team, negotiate)",
        json_schema_extra=src("ALERRT / FBI active-shooter training; DOJ Uvalde critical incident review"),
    )


class SroSection(Strict):
    present: bool = True
    armed: bool = True
    weapon: Weapon = "handgun"
    response_median_s: float = Field(
        default=60.0, gt=0, json_schema_extra=src("assumption: 30-180 s on campus")
    )
    response_sigma: float = Field(default=0.5, ge=0, le=3)
    calls_lockdown: bool = Field(default=True, description="the SRO announces the lockdown on arrival")
    lockdown_delay_s: float = Field(default=10.0, ge=0)
    doctrine: DoctrineSpec | None = Field(default=None, description="the SRO's own doctrine, if it differs")


class PatrolSection(Strict):
    count: int = Field(default=6, ge=0, le=200)
    first_median_s: float = Field(
        default=180.0, gt=0, json_schema_extra=src("ALERRT 2000-2012: median response 3 min (n = 51)")
    )
    first_sigma: float = Field(default=0.6, ge=0, le=3, json_schema_extra=src("ALERRT range 1-12 min"))
    gap_mean_s: float = Field(default=45.0, gt=0, json_schema_extra=src("assumption: 15-120 s"))
    rifle_share: float = Field(default=0.0, ge=0, le=1)
    call_delay_median_s: float = Field(default=45.0, gt=0, json_schema_extra=src("assumption: 20-120 s"))


class TacticalSection(Strict):
    enabled: bool = True
    size: int = Field(default=4, ge=1, le=50)
    median_s: float = Field(
        default=2400.0, gt=0, json_schema_extra=src("assumption: 20-60 min after the call")
    )
    sigma: float = Field(default=0.3, ge=0, le=3)


class BreachSection(Strict):
    """How long officers need to force the door of a barricaded attacker's room, by the door's lock
    (``door_lock`` of the space): the median of a lognormal time from the first officer at the door."""

    none_s: float = Field(default=10.0, ge=0, json_schema_extra=src("assumption: 5-30 s, a door pushed open"))
    standard_s: float = Field(
        default=90.0,
        ge=0,
        json_schema_extra=src(
            "assumption: 30-300 s, a locked classroom door opened with a key or a pry tool"
        ),
    )
    reinforced_s: float = Field(
        default=600.0, ge=0, json_schema_extra=src("assumption: 3-20 min, a security door needing tools")
    )
    sigma: float = Field(default=0.5, ge=0, le=3, json_schema_extra=src("assumption"))


class SearchSection(Strict):
    """Officers who no longer hear the attacker clear the building room by room."""

    clear_room_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        json_schema_extra=src("assumption: 15-60 s for one officer or team to clear a classroom"),
    )
    location_info_s: OptionalTime = Field(
        default=None,
        description="officers learn the attacker's room this long after it gets there (a witness, a camera, "
        'a radio report), or "never"',
    )

    @field_validator("location_info_s", mode="before")
    @classmethod
    def _never(cls, v: Any) -> float | None:
        return _time_or_never(v)


class RespondersSection(Strict):
    sro: SroSection = SroSection()
    patrol: PatrolSection = PatrolSection()
    tactical: TacticalSection = TacticalSection()
    breach: BreachSection = BreachSection()
    search: SearchSection = SearchSection()
    officer_speed_mps: float = Field(default=1.5, gt=0, le=10, json_schema_extra=src("assumption: 1-2.5 m/s"))
    entry_space: str | None = Field(
        default=None, description="exit where officers enter (default: the exit nearest the last gunfire)"
    )


class CareSection(Strict):
    rescue_task_force: bool = False
    ems_access_median_s: float = Field(
        default=900.0, gt=0, json_schema_extra=src("assumption: 5-30 min after the threat is stopped")
    )
    ems_access_sigma: float = Field(default=0.5, ge=0, le=3)
    rtf_ready_s: float = Field(default=300.0, ge=0, json_schema_extra=src("assumption: 2-10 min after entry"))
    rtf_access_median_s: float = Field(default=180.0, gt=0, json_schema_extra=src("assumption"))


class ScenarioSpec(Strict):
    """A whole scenario file."""

    name: str = "unnamed scenario"
    description: str = ""
    seed: int = Field(default=20260101, ge=0, lt=2**63)
    replications: int = Field(default=1000, ge=1, le=10_000_000)
    horizon_s: float = Field(default=3600.0, gt=0, le=86_400)
    tick_s: float = Field(default=1.0, gt=0, le=10)
    building: BuildingSection = BuildingSection(template="three_floor_school")
    occupants: OccupantsSection = OccupantsSection()
    alerting: AlertingSection = AlertingSection()
    attacker: AttackerSection = AttackerSection()
    responders: RespondersSection = RespondersSection()
    doctrine: DoctrineSpec = DoctrineSpec()
    care: CareSection = CareSection()
    model: dict[str, float] = Field(default_factory=dict, description="overrides of calibrated parameters")

    @field_validator("tick_s")
    @classmethod
    def _tick_count(cls, v: float, info: ValidationInfo) -> float:
        horizon = info.data.get("horizon_s")
        if isinstance(horizon, float) and horizon / v > MAX_TICKS:
            ticks = horizon / v
            raise ValueError(f"horizon_s / tick_s = {ticks:.3g} ticks: at most {MAX_TICKS:,} (raise tick_s)")
        return v

    @model_validator(mode="after")
    def _building_source(self) -> ScenarioSpec:
        # a [building] table with only overrides applies them to the default template
        if self.building.template is None and self.building.file is None:
            building = self.building.model_copy(update={"template": DEFAULT_TEMPLATE})
            object.__setattr__(self, "building", building)
        return self
