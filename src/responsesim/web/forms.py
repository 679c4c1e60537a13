"""The page's parameter form <-> scenario: read the main levers of a scenario, apply edited ones.

FORM keys: ``doctrine`` (a schema doctrine kind), ``threshold_s`` (the doctrine's parameter: the backup
ETA threshold or the hesitation delay in seconds, the officer count for ``wait_for_n``; null for kinds
without one), ``barricade`` (``breach`` or ``contain``: what officers do at a barricaded attacker's door),
``sro_present``, ``sro_armed``, ``patrol_first_median_s`` (s), ``lockdown_at_s`` (s after
the attack starts; null = never), ``hard_corners``, ``replications``, ``seed``.

Applying a form only changes the keys whose value differs from the scenario's own form, so sending back an
unedited form reproduces the scenario exactly. The result is rebuilt from TOML text written from the
edited spec (``spec_to_toml``), so the stored scenario text is the scenario that actually ran and a
replay re-simulates exactly that.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import ValidationError

from responsesim.scenario.errors import ScenarioError, from_validation_error
from responsesim.scenario.load import Scenario, loads
from responsesim.scenario.schema import DoctrineKind, ScenarioSpec
from responsesim.web.errors import ApiError

__all__ = [
    "BARRICADE_CHOICES",
    "DOCTRINES",
    "FORM_KEYS",
    "apply_form",
    "doctrine_list",
    "lever_changes",
    "scenario_form",
    "spec_to_toml",
]

DOCTRINE_KINDS: tuple[str, ...] = get_args(DoctrineKind)

# kind -> (label, the schema field that FORM.threshold_s sets, or None)
DOCTRINES: dict[str, tuple[str, str | None]] = {
    "perimeter": ("perimeter: wait outside for the tactical team (pre-1999)", None),
    "solo_entry": ("solo entry: the first armed officer goes in at once", None),
    "wait_for_n": ("wait for N officers (threshold = N officers)", "n"),
    "backup_eta_rule": (
        "backup-ETA rule: wait only if backup is closer than the threshold (s)",
        "threshold_s",
    ),
    "hesitate": ("hesitate: enter after a delay (threshold = delay, s)", "delay_s"),
    "no_entry": ("no entry: officers stay outside", None),
}
assert set(DOCTRINES) == set(DOCTRINE_KINDS), "DOCTRINES must list every schema doctrine kind"

#: what officers do at a barricaded attacker's door (schema ``doctrine.barricade``)
BARRICADE_CHOICES: dict[str, str] = {
    "breach": "force the door at once (the attacker has people in reach)",
    "contain": "hold the door and wait for the tactical team",
}

FORM_KEYS: tuple[str, ...] = (
    "doctrine",
    "threshold_s",
    "barricade",
    "sro_present",
    "sro_armed",
    "patrol_first_median_s",
    "lockdown_at_s",
    "hard_corners",
    "replications",
    "seed",
)

# FORM key -> the spec field it edits (used to name the form field when the scenario rejects a value)
_FIELD_OF: dict[str, str] = {
    "doctrine.kind": "doctrine",
    "doctrine.threshold_s": "threshold_s",
    "doctrine.n": "threshold_s",
    "doctrine.delay_s": "threshold_s",
    "doctrine.barricade": "barricade",
    "responders.sro.present": "sro_present",
    "responders.sro.armed": "sro_armed",
    "responders.patrol.first_median_s": "patrol_first_median_s",
    "alerting.lockdown_at_s": "lockdown_at_s",
    "building.hard_corners": "hard_corners",
    "replications": "replications",
    "seed": "seed",
}

FORM_SOURCE = "form"

#: the page's bounds of an edited value: FORM key -> (the field's label, unit shown, seconds per unit, low,
#: high), as index.html's inputs give them (min/max, in the unit the page shows); a scenario file may hold
#: other values, which run as written while the form leaves them unchanged
FORM_LIMITS: dict[str, tuple[str, str, float, float, float]] = {
    "patrol_first_median_s": ("First patrol officer: median arrival", "minutes", 60.0, 0.1, 120.0),
    "lockdown_at_s": ("Lockdown announced at", "minutes", 60.0, 0.0, 600.0),
    "threshold_s": ("The doctrine's number", "", 1.0, 0.0, 3600.0),
}
SEED_MAX = 2**63 - 1


def doctrine_list() -> list[dict[str, Any]]:
    """``GET /api/doctrines``: kind, label, whether ``threshold_s`` applies, and what it means."""
    units = {"n": "officers", "threshold_s": "s", "delay_s": "s"}
    return [
        {
            "kind": kind,
            "label": label,
            "needs_threshold": field is not None,
            "threshold_unit": units[field] if field is not None else None,
        }
        for kind, (label, field) in DOCTRINES.items()
    ]


def _hard_corners(sc: Scenario) -> bool:
    """The scenario's hard-corner setting: the override if given, else whether most rooms have one."""
    given = sc.spec.building.hard_corners
    if given is not None:
        return bool(given)
    b = sc.building
    rooms = int(b.lockable.sum())
    return rooms > 0 and 2 * int((b.hard_corner & b.lockable).sum()) > rooms


def scenario_form(sc: Scenario) -> dict[str, Any]:
    """The FORM of a scenario (its current values of the main levers)."""
    spec = sc.spec
    field = DOCTRINES[spec.doctrine.kind][1]
    threshold = float(getattr(spec.doctrine, field)) if field is not None else None
    return {
        "doctrine": spec.doctrine.kind,
        "threshold_s": threshold,
        "barricade": spec.doctrine.barricade,
        "sro_present": spec.responders.sro.present,
        "sro_armed": spec.responders.sro.armed,
        "patrol_first_median_s": float(spec.responders.patrol.first_median_s),
        "lockdown_at_s": None if spec.alerting.lockdown_at_s is None else float(spec.alerting.lockdown_at_s),
        "hard_corners": _hard_corners(sc),
        "replications": int(spec.replications),
        "seed": int(spec.seed),
    }


# ---------------------------------------------------------------------------------------------- checking


def _bad(key: str, message: str) -> ApiError:
    return ApiError(400, f"form.{key}: {message}", field=key)


def _number(key: str, v: Any, *, allow_null: bool = False) -> float | None:
    if v is None and allow_null:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _bad(key, f"must be a finite number{' or null' if allow_null else ''}, not {v!r}")
    if v < 0:
        raise _bad(key, f"must be >= 0, not {v!r}")
    return float(v)


def _integer(key: str, v: Any) -> int:
    if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, float) and v.is_integer())):
        raise _bad(key, f"must be a whole number, not {v!r}")
    return int(v)


def _plain(x: float) -> str:
    """A number as a planner reads it: ``1,000,000,000``, ``2.5`` (never ``1e+09``)."""
    if abs(x) >= 1e15:
        return f"{x:.3g}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _check_limits(changed: Mapping[str, Any]) -> None:
    """400 naming the field for an edited value outside the bounds the page's field gives."""
    for key, (label, unit, per, low, high) in FORM_LIMITS.items():
        v = changed.get(key)
        if v is None:
            continue
        x = v / per
        if not low <= x <= high:
            units = f" {unit}" if unit else ""
            raise _bad(
                key,
                f"{label} must be from {_plain(low)} to {_plain(high)}{units}, not {_plain(x)}{units}",
            )


def _flag(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _bad(key, f"must be true or false, not {v!r}")
    return v


def check_form(form: Any, max_replications: int) -> dict[str, Any]:
    """Type-check a FORM subset: 400 for an unknown key or a wrong type, 422 for absurd replications."""
    if form is None:
        return {}
    if not isinstance(form, Mapping):
        raise ApiError(400, "form must be an object with keys of the form", field="form")
    unknown = sorted(set(form) - set(FORM_KEYS))
    if unknown:
        known = ", ".join(FORM_KEYS)
        raise ApiError(400, f"form: unknown key(s) {', '.join(unknown)} (known: {known})", field=unknown[0])
    out: dict[str, Any] = {}
    for key, v in form.items():
        if key == "doctrine":
            if v not in DOCTRINES:
                raise _bad(key, f"unknown doctrine {v!r} (one of {', '.join(DOCTRINES)})")
            out[key] = v
        elif key == "barricade":
            if v not in BARRICADE_CHOICES:
                raise _bad(key, f"at a barricaded door officers either breach or contain, not {v!r}")
            out[key] = v
        elif key in ("threshold_s", "lockdown_at_s"):
            out[key] = _number(key, v, allow_null=True)
        elif key == "patrol_first_median_s":
            value = _number(key, v)
            if value == 0:
                raise _bad(key, "must be > 0 seconds")
            out[key] = value
        elif key in ("sro_present", "sro_armed", "hard_corners"):
            out[key] = _flag(key, v)
        elif key == "replications":
            n = _integer(key, v)
            if not 1 <= n <= max_replications:
                raise ApiError(
                    422,
                    f"form.replications: {n} is outside the allowed range 1-{max_replications} "
                    "(max_replications, set by the server)",
                    field="replications",
                )
            out[key] = n
        elif key == "seed":
            seed = _integer(key, v)
            if not 0 <= seed <= SEED_MAX:
                shown = _plain(v) if isinstance(v, float) else f"{seed:,}"
                raise _bad(key, f"the random seed must be a whole number from 0 to {SEED_MAX:,}, not {shown}")
            out[key] = seed
    return out


def check_replications(sc: Scenario, max_replications: int) -> None:
    """422 when the scenario itself asks for more replications than the server allows."""
    n = sc.spec.replications
    if n > max_replications:
        raise ApiError(
            422,
            f"replications = {n} is more than the server allows ({max_replications}, max_replications); "
            "set a smaller count in the form",
            field="replications",
        )


# ---------------------------------------------------------------------------------------------- applying


def apply_form(sc: Scenario, form: Mapping[str, Any], max_replications: int) -> Scenario:
    """The scenario with the form's edits applied (keys equal to the scenario's value are ignored).

    Raises ``ApiError`` 400 (wrong type, or a value the scenario schema rejects; ``field`` names the form
    key) or 422 (replications outside 1..``max_replications``).
    """
    edits = check_form(form, max_replications)
    current = scenario_form(sc)
    changed = {k: v for k, v in edits.items() if v != current[k]}
    if not changed:
        return sc
    _check_limits(changed)
    data = sc.spec.model_dump()
    kind = changed.get("doctrine", current["doctrine"])
    if "doctrine" in changed:
        data["doctrine"]["kind"] = kind
    field = DOCTRINES[kind][1]
    value = edits.get("threshold_s")
    if field is not None and value is not None and ("threshold_s" in changed or "doctrine" in changed):
        data["doctrine"][field] = int(value) if field == "n" and float(value).is_integer() else value
    if "barricade" in changed:
        data["doctrine"]["barricade"] = changed["barricade"]
    if "sro_present" in changed:
        data["responders"]["sro"]["present"] = changed["sro_present"]
    if "sro_armed" in changed:
        data["responders"]["sro"]["armed"] = changed["sro_armed"]
    if "patrol_first_median_s" in changed:
        data["responders"]["patrol"]["first_median_s"] = changed["patrol_first_median_s"]
    if "lockdown_at_s" in changed:
        data["alerting"]["lockdown_at_s"] = changed["lockdown_at_s"]
    if "hard_corners" in changed:
        data["building"]["hard_corners"] = changed["hard_corners"]
    if "replications" in changed:
        data["replications"] = changed["replications"]
    if "seed" in changed:
        data["seed"] = changed["seed"]
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        err = from_validation_error(exc, FORM_SOURCE, None)
        key = _FIELD_OF.get(err.field or "", err.field)
        raise ApiError(400, f"form.{key}: {err.message}", field=key) from exc
    header = f"# {sc.source} with the page's form edits: {', '.join(sorted(changed))}\n"
    try:
        return loads(header + spec_to_toml(spec), sc.source, sc.calibration)
    except ScenarioError as exc:
        raise ApiError(400, f"form: {exc.message}", field=_FIELD_OF.get(exc.field or "", exc.field)) from exc


# ---------------------------------------------------------------------------------------------- TOML text

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# keys whose None means "never" (the schema's OptionalTime); other None values are simply left out
_NEVER_KEYS = {("alerting", "lockdown_at_s"), ("alerting", "fire_alarm_at_s")}


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _string(k)


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _table(path: tuple[str, ...], data: Mapping[str, Any], out: list[str]) -> None:
    scalars: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for k, v in data.items():
        if v is None:
            if (*path, k) in _NEVER_KEYS:
                scalars.append(f'{_key(k)} = "never"')
        elif isinstance(v, Mapping):
            tables.append((k, v))
        elif isinstance(v, list | tuple) and v and all(isinstance(x, Mapping) for x in v):
            arrays.append((k, list(v)))
        elif isinstance(v, list | tuple) and not v:
            continue  # an empty array of tables is the default
        else:
            scalars.append(f"{_key(k)} = {_value(v)}")
    if path and (scalars or not (tables or arrays)):
        out.append(f"\n[{'.'.join(_key(p) for p in path)}]")
    out.extend(scalars)
    for k, items in arrays:
        for item in items:
            out.append(f"\n[[{'.'.join(_key(p) for p in (*path, k))}]]")
            out.extend(f"{_key(ik)} = {_value(iv)}" for ik, iv in item.items() if iv is not None)
    for k, sub in tables:
        _table((*path, k), sub, out)


def spec_to_toml(spec: ScenarioSpec) -> str:
    """TOML text that parses back to ``spec`` (every field written; None as "never" or left out)."""
    out: list[str] = []
    _table((), spec.model_dump(), out)
    return "\n".join(out).lstrip("\n") + "\n"


def _minutes(s: float) -> str:
    m, sec = divmod(round(s), 60)
    return f"{m} min" + (f" {sec:02d} s" if sec else "")


def lever_changes(base: Scenario, edited: Scenario) -> list[str]:
    """The page's levers that differ between the scenario as written (``base``) and the run (``edited``),
    in plain words: e.g. ``["doctrine: perimeter", "no SRO", "lockdown: never"]``; [] when none differ."""
    a, b = scenario_form(base), scenario_form(edited)
    out: list[str] = []
    if (a["doctrine"], a["threshold_s"]) != (b["doctrine"], b["threshold_s"]):
        kind = b["doctrine"]
        field = DOCTRINES[kind][1]
        unit = " officers" if field == "n" else " s"
        out.append(f"doctrine: {kind.replace('_', ' ')}" + (f" {b['threshold_s']:g}{unit}" if field else ""))
    if a["barricade"] != b["barricade"]:
        out.append(f"at a barricaded door: {b['barricade']}")
    if a["sro_present"] != b["sro_present"]:
        out.append("SRO present" if b["sro_present"] else "no SRO")
    elif b["sro_present"] and a["sro_armed"] != b["sro_armed"]:
        out.append("SRO armed" if b["sro_armed"] else "SRO unarmed")
    if a["patrol_first_median_s"] != b["patrol_first_median_s"]:
        out.append(f"patrol arrives median {_minutes(b['patrol_first_median_s'])}")
    if a["lockdown_at_s"] != b["lockdown_at_s"]:
        lock = b["lockdown_at_s"]
        out.append("lockdown: never" if lock is None else f"lockdown at {_minutes(lock)}")
    if a["hard_corners"] != b["hard_corners"]:
        out.append("hard corners" if b["hard_corners"] else "no hard corners")
    return out
