"""Model sanity guards: say when a scenario asks the model to extrapolate beyond what it was calibrated on.

A result is an extrapolation when a model parameter lies outside its calibrated (prior) range, or when the
scenario's situation lies outside the calibration ensemble and the published data behind it (police
arrival 1-12 minutes after the call, ALERRT 2000-2012; the ensemble's building templates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from responsesim.params import PARAMETER_INFO
from responsesim.scenario.load import Scenario

CALIBRATED_TEMPLATES = ("three_floor_school", "elementary_wing", "office_floor")
PATROL_FIRST_RANGE_S = (60.0, 720.0)  # ALERRT 2000-2012: response times 1 to 12 minutes (n = 51)


def extrapolation_warnings(sc: Scenario) -> list[str]:
    """Plain-language warnings, empty when the scenario is inside the calibrated range."""
    out: list[str] = []
    for name, value in sc.calibration.values.items():
        info = PARAMETER_INFO[name]
        if not info.low <= value <= info.high:
            out.append(
                f"model.{name} = {value:g} is outside its calibrated range {info.low:g}-{info.high:g} "
                f"{info.unit}: the result is an extrapolation"
            )
    spec = sc.spec
    if spec.building.template not in CALIBRATED_TEMPLATES:
        out.append(
            "the building is not one of the calibration ensemble's templates "
            f"({', '.join(CALIBRATED_TEMPLATES)}): casualty figures are an extrapolation"
        )
    lo, hi = PATROL_FIRST_RANGE_S
    first = spec.responders.patrol.first_median_s
    if spec.responders.patrol.count > 0 and not lo <= first <= hi:
        out.append(
            f"responders.patrol.first_median_s = {first:g} s is outside the observed police response times "
            f"({lo:g}-{hi:g} s, ALERRT 2000-2012): the result is an extrapolation"
        )
    if not sc.calibration.fitted:
        out.append(
            f"calibration {sc.calibration.version} is not fitted: every model parameter is a prior guess"
        )
    return out


def points_warnings(points: Sequence[tuple[str, Scenario]]) -> list[str]:
    """Extrapolation warnings of several labelled scenarios (e.g. sweep points), grouped by warning.

    Each distinct warning appears once, followed by the labels of the points it applies to, so a sweep
    that strays outside the calibrated range at some points says which ones.
    """
    where: dict[str, list[str]] = {}
    for label, sc in points:
        for w in extrapolation_warnings(sc):
            where.setdefault(w, []).append(label)
    out = []
    for w, labels in where.items():
        if len(labels) == len(points):
            out.append(f"{w} (all points)")
        else:
            shown = ", ".join(labels[:12]) + (f" and {len(labels) - 12} more" if len(labels) > 12 else "")
            out.append(f"{w} (points: {shown})")
    return out


def sweep_warnings(points: Sequence[Any]) -> list[str]:
    """Extrapolation warnings of sweep points (objects with ``values`` and ``scenario``), each point
    labelled by its parameter values (``doctrine.kind=solo_entry, ...``)."""
    labelled = [
        (", ".join(f"{k}={v}" for k, v in p.values.items()) or f"#{p.point_id}", p.scenario) for p in points
    ]
    return points_warnings(labelled)
