"""A saved moment: the full engine state of one replication at a tick, with what produced it.

The moment is what branching runs on from (``branching.py``). It names the model version
(``engine.version.model_version``), the calibration key, the scenario hash and seed, the replication and
the tick, and keeps the replication's per-replication parameters (``THETA_DTYPE`` row). Saved as one
``.npz`` file (the state's arrays, the parameter row, and the provenance as JSON); loading it under
another model version raises ``MomentVersionError``, and running it on another scenario or calibration
raises ``MomentMismatchError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from responsesim.engine.types import THETA_DTYPE, State
from responsesim.engine.version import model_version
from responsesim.scenario.load import Scenario

__all__ = ["MOMENT_FORMAT", "Moment", "MomentError", "MomentMismatchError", "MomentVersionError", "capture"]

#: version of the file layout (not of the model)
MOMENT_FORMAT = 1


class MomentError(ValueError):
    """A saved moment cannot be used."""


class MomentVersionError(MomentError):
    """The moment was saved under other model rules (or another file format)."""


class MomentMismatchError(MomentError):
    """The moment was saved from another scenario or calibration than the one it is run with."""


@dataclass(frozen=True)
class Moment:
    """One replication's state at tick ``tick`` (t = tick x dt s) and its provenance.

    ``state`` has one row; ``theta`` is its parameter row (``THETA_DTYPE`` [1]); ``unit`` is the trainee's
    unit index (-1: none)."""

    state: State
    theta: np.ndarray
    unit: int
    model_version: str
    calibration_key: str
    scenario_hash: str
    scenario_name: str
    seed: int
    rep: int
    dt: float
    kind: str = ""  # the decision point this moment is (``decisions.KINDS``), "" when none

    @property
    def tick(self) -> int:
        """Ticks done at this moment."""
        return int(self.state.tick[0])

    @property
    def t_s(self) -> float:
        """Time of the moment (s after the attacker entered)."""
        return self.tick * self.dt

    @property
    def key(self) -> int:
        """The replication's random-number key (uint64 as an int)."""
        return int(self.state.key[0])

    def meta(self) -> dict[str, Any]:
        """The provenance as JSON-ready values."""
        return {
            "format": MOMENT_FORMAT,
            "model_version": self.model_version,
            "calibration_key": self.calibration_key,
            "scenario_hash": self.scenario_hash,
            "scenario_name": self.scenario_name,
            "seed": self.seed,
            "rep": self.rep,
            "tick": self.tick,
            "dt": self.dt,
            "unit": self.unit,
            "kind": self.kind,
        }

    def check_scenario(self, scenario: Scenario) -> None:
        """``MomentMismatchError`` unless ``scenario`` (and calibration) is the one it was saved from."""
        cal = scenario.calibration.key
        if scenario.sha256 != self.scenario_hash:
            raise MomentMismatchError(
                f"this moment was saved from scenario {self.scenario_name!r} "
                f"(hash {self.scenario_hash[:12]}), not from {scenario.spec.name!r} "
                f"(hash {scenario.sha256[:12]}): load that scenario to run it"
            )
        if int(scenario.spec.seed) != self.seed:
            raise MomentMismatchError(
                f"this moment was saved from seed {self.seed}, not {scenario.spec.seed}: its random numbers "
                "came from that seed"
            )
        # the values decide the numbers: compare their hash (the key's part after the last ':'), since
        # the version label of the same values can differ (a scenario's overrides re-applied)
        if cal.rsplit(":", 1)[-1] != self.calibration_key.rsplit(":", 1)[-1]:
            raise MomentMismatchError(
                f"this moment was saved under calibration {self.calibration_key}, not {cal}: "
                "its state was made by other parameter values"
            )

    def save(self, path: Path | str) -> Path:
        """Write the moment to ``path`` (``.npz``); returns the path written."""
        path = Path(path)
        arrays: dict[str, Any] = {f"state_{n}": np.asarray(getattr(self.state, n)) for n in State._fields}
        arrays.update(theta=self.theta, meta=np.array(json.dumps(self.meta())))
        np.savez_compressed(path, **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @staticmethod
    def load(path: Path | str) -> Moment:
        """Read a moment written by ``save``; ``MomentVersionError`` when this engine's model version (or
        the file format) is not the one it was saved under, ``MomentError`` when it is not a moment."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                data = {k: np.array(z[k]) for k in z.files}
        except (OSError, ValueError, KeyError) as exc:
            raise MomentError(f"{path}: not a saved exercise moment ({exc})") from exc
        if meta.get("format") != MOMENT_FORMAT:
            raise MomentVersionError(
                f"{path}: saved moment format {meta.get('format')}, this version reads format {MOMENT_FORMAT}"
            )
        now = model_version()
        if meta.get("model_version") != now:
            raise MomentVersionError(
                f"{path}: this moment was saved under model {meta.get('model_version')}, and the engine "
                f"is now {now}: the rules differ, so its state cannot be run on. Replay the exercise "
                "(same scenario, seed and choices) to make the moment again under this model"
            )
        missing = [n for n in State._fields if f"state_{n}" not in data]
        if missing or data["theta"].dtype != THETA_DTYPE:
            lacks = ", ".join(missing) or "its parameters"
            raise MomentVersionError(f"{path}: the saved state lacks {lacks}")
        state = State(*(np.require(data[f"state_{n}"], requirements=["C", "W", "A"]) for n in State._fields))
        return Moment(
            state=state,
            theta=np.require(data["theta"], requirements=["C", "W", "A"]),
            unit=int(meta["unit"]),
            model_version=str(meta["model_version"]),
            calibration_key=str(meta["calibration_key"]),
            scenario_hash=str(meta["scenario_hash"]),
            scenario_name=str(meta["scenario_name"]),
            seed=int(meta["seed"]),
            rep=int(meta["rep"]),
            dt=float(meta["dt"]),
            kind=str(meta.get("kind", "")),
        )


def capture(
    st: State, row: int, theta: np.ndarray, scenario: Scenario, unit: int = -1, kind: str = ""
) -> Moment:
    """A moment of row ``row`` of ``st`` (copied), with parameter row ``theta[row]`` (or ``theta[0]`` when
    ``theta`` has one row)."""
    one = State(*(np.array(x[row : row + 1], copy=True, order="C") for x in st))
    th = np.array(theta[row : row + 1] if theta.shape[0] > 1 else theta[:1], copy=True)
    return Moment(
        state=one,
        theta=th,
        unit=unit,
        model_version=model_version(),
        calibration_key=scenario.calibration.key,
        scenario_hash=scenario.sha256,
        scenario_name=scenario.spec.name,
        seed=int(scenario.spec.seed),
        rep=int(one.rep[0]),
        dt=float(scenario.params.dt),
        kind=kind,
    )
