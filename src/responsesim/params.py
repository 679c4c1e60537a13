"""Calibrated model parameters: the shipped calibration file, its version and hash, and overrides.

The calibration file (``data/calibration.toml``) holds the parameters of the abstract attacker, the
engagement and the wound model. ``responsesim calibrate`` rewrites it with fitted values; every result
names the version and hash of the file it used.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

REQUIRED = (
    "fire_rate_handgun", "fire_rate_rifle", "magazine_handgun", "magazine_rifle", "reload_s", "p_hit",
    "window_hit_factor", "window_fire_factor", "p_kill_handgun", "p_kill_rifle", "p_critical",
    "critical_survival_median_s", "critical_survival_sigma", "self_term_h", "police_scene_mult",
    "police_near_mult", "flee_h", "citizen_h", "reload_mult", "barricade_h", "officer_stop_h",
    "rifle_factor_officer", "officer_hit_h", "officer_hit_factor_rifle", "p_officer_killed", "p_police_shot",
    "max_shots_per_tick",
)  # fmt: skip

PROBABILITIES = {
    "p_hit", "window_hit_factor", "p_kill_handgun", "p_kill_rifle", "p_critical", "p_officer_killed",
    "p_police_shot", "window_fire_factor",
}  # fmt: skip


@dataclass(frozen=True)
class ParamInfo:
    """What a calibrated parameter means: unit, plausible range (the calibration prior), source."""

    unit: str
    low: float
    high: float
    source: str
    fit: bool = True  # fitted by `responsesim calibrate` (False: fixed at its value)


A = "assumption"
PARAMETER_INFO: dict[str, ParamInfo] = {
    "fire_rate_handgun": ParamInfo("shots/s", 0.3, 2.0, A + "; calibrated to casualties"),
    "fire_rate_rifle": ParamInfo("shots/s", 0.5, 3.0, A + "; calibrated"),
    "magazine_handgun": ParamInfo("rounds", 10, 17, "typical pistol magazine", fit=False),
    "magazine_rifle": ParamInfo("rounds", 20, 30, "typical rifle magazine", fit=False),
    "reload_s": ParamInfo("s", 3.0, 15.0, A, fit=False),
    "p_hit": ParamInfo("probability", 0.1, 0.6, A + "; calibrated"),
    "window_hit_factor": ParamInfo("factor", 0.1, 0.6, A, fit=False),
    "window_fire_factor": ParamInfo("factor", 0.2, 1.0, A, fit=False),
    "p_kill_handgun": ParamInfo("probability", 0.15, 0.6, A + "; calibrated to deaths/wounded ratio"),
    "p_kill_rifle": ParamInfo("probability", 0.25, 0.75, A, fit=False),
    "p_critical": ParamInfo("probability", 0.2, 0.6, A, fit=False),
    "critical_survival_median_s": ParamInfo("s", 600.0, 3600.0, A + " (hemorrhage without care)", fit=False),
    "critical_survival_sigma": ParamInfo("log-sd", 0.3, 1.5, A, fit=False),
    "self_term_h": ParamInfo("1/s", 1e-4, 5e-3, A + "; calibrated to the ending mix"),
    "police_scene_mult": ParamInfo("factor", 1.0, 10.0, A + "; calibrated", fit=False),
    "police_near_mult": ParamInfo("factor", 3.0, 100.0, A + "; calibrated to suicide on police arrival"),
    "flee_h": ParamInfo("1/s", 1e-4, 5e-3, A + "; calibrated to the ending mix"),
    "citizen_h": ParamInfo("1/s", 1e-4, 1e-2, "FBI 2000-2013: 21 of 160 restrained by citizens; calibrated"),
    "reload_mult": ParamInfo("factor", 1.0, 10.0, A, fit=False),
    "barricade_h": ParamInfo("1/s", 0.0, 1e-3, A, fit=False),
    "officer_stop_h": ParamInfo("1/s", 0.01, 0.5, A + "; calibrated to police endings and durations"),
    "rifle_factor_officer": ParamInfo("factor", 1.0, 2.0, A, fit=False),
    "officer_hit_h": ParamInfo("1/s", 0.002, 0.2, "FBI 2000-2013: officer shot in 21 of 45 engagements"),
    "officer_hit_factor_rifle": ParamInfo("factor", 1.0, 3.0, A, fit=False),
    "p_officer_killed": ParamInfo("probability", 0.1, 0.5, "FBI 2000-2013: 9 killed, 28 wounded", fit=False),
    "p_police_shot": ParamInfo("probability", 0.2, 0.8, A + "; calibrated to shot vs arrested endings"),
    "max_shots_per_tick": ParamInfo("shots", 4, 10, "truncation of the per-tick Poisson draw", fit=False),
}


class CalibrationError(ValueError):
    """A calibration file or a parameter override is invalid."""


@dataclass(frozen=True)
class CalibratedParams:
    """Model parameters with the version and content hash of the file they came from."""

    version: str
    sha256: str
    fitted: bool
    values: Mapping[str, float]
    source: str

    def with_overrides(self, overrides: Mapping[str, float], where: str = "model") -> CalibratedParams:
        """A copy with some values replaced; unknown names or out-of-range values raise."""
        vals = dict(self.values)
        for k, v in overrides.items():
            if k not in vals:
                raise CalibrationError(
                    f"{where}.{k}: unknown model parameter (known: {', '.join(sorted(vals))})"
                )
            vals[k] = float(v)
        _check(vals, where)
        tag = "+overrides" if overrides else ""
        return CalibratedParams(self.version + tag, self.sha256, self.fitted, vals, self.source)


def _check(vals: Mapping[str, float], where: str) -> None:
    for k, v in vals.items():
        if not v >= 0:
            raise CalibrationError(f"{where}.{k}: must be >= 0 (got {v})")
        if k in PROBABILITIES and v > 1:
            raise CalibrationError(f"{where}.{k}: a probability must be <= 1 (got {v})")
    for k in ("magazine_handgun", "magazine_rifle", "max_shots_per_tick"):
        if k in vals and vals[k] < 1:
            raise CalibrationError(f"{where}.{k}: must be >= 1 (got {vals[k]})")


def parse_calibration(text: str, source: str) -> CalibratedParams:
    """Parse and check a calibration TOML text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{source}: {exc}") from exc
    params = doc.get("params")
    if not isinstance(params, dict):
        raise CalibrationError(f"{source}: missing [params] table")
    missing = [k for k in REQUIRED if k not in params]
    if missing:
        raise CalibrationError(f"{source}: [params] lacks {', '.join(missing)}")
    unknown = [k for k in params if k not in REQUIRED]
    if unknown:
        raise CalibrationError(f"{source}: [params] has unknown {', '.join(unknown)}")
    vals = {}
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise CalibrationError(f"{source}: params.{k} must be a number")
        vals[k] = float(v)
    _check(vals, f"{source}: params")
    return CalibratedParams(
        version=str(doc.get("version", "unversioned")),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        fitted=bool(doc.get("fitted", False)),
        values=vals,
        source=source,
    )


def default_calibration_text() -> str:
    return resources.files("responsesim").joinpath("data/calibration.toml").read_text(encoding="utf-8")


def default_calibration_path() -> Path:
    """The calibration file `run` uses by default (inside the installed package)."""
    return Path(str(resources.files("responsesim").joinpath("data/calibration.toml")))


def load_calibration(path: Path | None = None) -> CalibratedParams:
    """The shipped calibration (default) or the file at ``path``."""
    if path is None:
        return parse_calibration(default_calibration_text(), "responsesim/data/calibration.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_calibration(text, str(path))
