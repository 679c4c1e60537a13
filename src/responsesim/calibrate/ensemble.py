"""The generic incident ensemble: weighted cells (building, SRO, weapon, alerting, doctrine) from priors.

The priors are stated in one readable file, ``data/ensemble.toml``. Every combination of its choices is
a *cell* (a scenario) with the product of the weights; sampling incidents from the cells by weight gives
a sample of generic incidents to compare with the FBI data.
"""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from responsesim.parameters import PER_REPLICATION
from responsesim.params import CalibratedParams
from responsesim.scenario.building import apply_overrides, compile_building, template
from responsesim.scenario.compile import Params, compile_params, doctrine_code
from responsesim.scenario.schema import BuildingSection, ScenarioSpec


class EnsembleError(ValueError):
    """The ensemble file is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuildingChoice(_Strict):
    template: str
    weight: float = Field(gt=0)
    sro_present: float = Field(ge=0, le=1)


class WeaponChoice(_Strict):
    weapon: str
    weight: float = Field(gt=0)


class AlertingChoice(_Strict):
    lockdown_at_s: float | str
    weight: float = Field(gt=0)


class DoctrineChoice(_Strict):
    kind: str
    weight: float = Field(gt=0)
    n: int | None = None
    delay_s: float | None = None
    threshold_s: float | None = None
    barricade: Literal["breach", "contain"] | None = None  # at a barricaded attacker's door (default breach)


class PatrolPrior(_Strict):
    count: int = 6
    first_median_s: float = 180.0
    first_sigma: float = 0.6


class EnsembleSpec(_Strict):
    version: str
    building: tuple[BuildingChoice, ...]
    weapon: tuple[WeaponChoice, ...]
    alerting: tuple[AlertingChoice, ...]
    doctrine: tuple[DoctrineChoice, ...]
    patrol: PatrolPrior = PatrolPrior()


@dataclass(frozen=True)
class Cell:
    """One combination of choices: its probability and its scenario."""

    label: str
    weight: float
    spec: ScenarioSpec
    rifle: bool


@dataclass(frozen=True)
class Ensemble:
    version: str
    sha256: str
    source: str
    cells: tuple[Cell, ...]

    @property
    def weights(self) -> np.ndarray:
        w = np.array([c.weight for c in self.cells])
        return np.asarray(w / w.sum())


def _cells(e: EnsembleSpec) -> list[Cell]:
    cells: list[Cell] = []
    for b, w, a, d in itertools.product(e.building, e.weapon, e.alerting, e.doctrine):
        for sro in (True, False):
            p_sro = b.sro_present if sro else 1 - b.sro_present
            if p_sro <= 0:
                continue
            doctrine: dict[str, Any] = {"kind": d.kind}
            for k in ("n", "delay_s", "threshold_s", "barricade"):
                if getattr(d, k) is not None:
                    doctrine[k] = getattr(d, k)
            who = "sro" if sro else "no-sro"
            label = f"{b.template}/{who}/{w.weapon}/lockdown {a.lockdown_at_s}/{d.kind}"
            if d.barricade is not None:
                label += f"/{d.barricade}"
            data = {
                "name": label,
                "building": {"template": b.template},
                "attacker": {"weapon": w.weapon},
                "alerting": {"lockdown_at_s": a.lockdown_at_s},
                "responders": {
                    "sro": {"present": sro},
                    "patrol": e.patrol.model_dump(),
                },
                "doctrine": doctrine,
            }
            spec = ScenarioSpec.model_validate(data)
            cells.append(
                Cell(spec.name, b.weight * p_sro * w.weight * a.weight * d.weight, spec, w.weapon == "rifle")
            )
    return cells


#: The response era's ensemble files (package data): the training years' and the held-out years'.
ERA_FILES: dict[str, str] = {"2000-2013": "data/ensemble.toml", "2014-2019": "data/ensemble_2014_2019.toml"}
HELD_ERA = "2014-2019"


def _read(path: Path | str | None) -> tuple[str, str, Path | None]:
    """(text, source label, directory for a ``base`` file or None for package data)."""
    if path is None or isinstance(path, str):
        name = path or ERA_FILES["2000-2013"]
        text = resources.files("responsesim").joinpath(name).read_text(encoding="utf-8")
        return text, f"responsesim/{name}", None
    return path.read_text(encoding="utf-8"), str(path), path.parent


def _with_era(era: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with an era file's changes: ``doctrine_weight`` (kind -> new weight of the base's doctrine
    choices of that kind, every kind named once), ``patrol`` (fields replaced), other sections replaced."""
    out = dict(base)
    weights = era.get("doctrine_weight")
    if weights is not None:
        kinds = {d["kind"] for d in base["doctrine"]}
        if set(weights) != kinds:
            raise ValueError(f"doctrine_weight must name each base doctrine kind once: {sorted(kinds)}")
        out["doctrine"] = [{**d, "weight": weights[d["kind"]]} for d in base["doctrine"]]
    if "patrol" in era:
        out["patrol"] = {**base.get("patrol", {}), **era["patrol"]}
    for k, v in era.items():
        if k not in ("base", "doctrine_weight", "patrol", "era", "sources"):
            out[k] = v
    return out


def load_ensemble(path: Path | str | None = None) -> Ensemble:
    """The shipped ensemble (default), a package data file (``str``, e.g. ``ERA_FILES[...]``) or the file
    at ``path``. A file with ``base = "<file>"`` (beside it) states only how its era differs from that
    base (``_with_era``); its SHA-256 covers both texts."""
    text, source, where = _read(path)
    try:
        data = tomllib.loads(text)
        if "base" in data:
            base_name = str(data["base"])
            base_text, _, _ = _read(where / base_name if where else f"data/{base_name}")
            data = _with_era(data, tomllib.loads(base_text))
            text = base_text + text
        spec = EnsembleSpec.model_validate(data)
        cells = _cells(spec)
    except (tomllib.TOMLDecodeError, ValidationError, ValueError, OSError) as exc:
        raise EnsembleError(f"{source}: {exc}") from exc
    return Ensemble(spec.version, hashlib.sha256(text.encode()).hexdigest(), source, tuple(cells))


def load_era_ensemble(era: str) -> Ensemble:
    """The ensemble of a response era (``ERA_FILES``: "2000-2013" or "2014-2019")."""
    try:
        return load_ensemble(ERA_FILES[era])
    except KeyError:
        raise EnsembleError(f"unknown era {era!r}: one of {sorted(ERA_FILES)}") from None


def cell_params(cell: Cell, cal: CalibratedParams) -> Params:
    """Compile a cell's scenario with the given calibration."""
    bspec = apply_overrides(
        template(cell.spec.building.template or ""), cell.spec.building or BuildingSection()
    )
    return compile_params(cell.spec, compile_building(bspec), cal)


_BATCH_PARAMS: dict[tuple[str, str, str], Params] = {}  # (ensemble sha256, building, CalibratedParams.key)


def batch_params(ens: Ensemble, building: str, cal: CalibratedParams) -> Params:
    """Params shared by every cell of one building template (SRO unit present; per-replication choices
    come from ``cell_choices``). Compiled once per ensemble, building and calibration values in a process
    (a fit evaluates thousands of parameter points on the same few buildings; compiling them again each
    time was half of every evaluation)."""
    key = (ens.sha256, building, cal.key)
    hit = _BATCH_PARAMS.get(key)
    if hit is None:
        cells = [c for c in ens.cells if c.spec.building.template == building]
        cells.sort(key=lambda c: not c.spec.responders.sro.present)
        hit = _BATCH_PARAMS[key] = cell_params(cells[0], cal)
    return hit


def cell_choices(cell: Cell, cal: Mapping[str, Any]) -> dict[str, Any]:
    """Per-replication engine values of a cell (``engine.types.make_theta`` overrides: model parameters by
    registry name and the scenario levers), given calibration values (floats or arrays)."""
    out: dict[str, Any] = {k: cal[k] for k in PER_REPLICATION}
    out["rifle"] = 1.0 if cell.rifle else 0.0
    lock = cell.spec.alerting.lockdown_at_s
    out["lockdown_t"] = float("inf") if lock is None else float(lock)
    out["sro_present"] = 1.0 if cell.spec.responders.sro.present else 0.0
    code, param = doctrine_code(cell.spec.doctrine)
    out["doctrine_code"] = float(code)
    out["doctrine_param"] = param
    out["breach"] = 1.0 if cell.spec.doctrine.barricade == "breach" else 0.0
    return out
