"""Model sanity guards: say when a scenario asks the model to extrapolate beyond what it was calibrated on.

A result is an extrapolation when a model parameter lies outside its calibrated (prior) range, or when the
scenario's situation lies outside the calibration ensemble and the published data behind it (police
arrival 1-12 minutes after the call, ALERRT 2000-2012; the ensemble's building templates).
"""

from __future__ import annotations

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
