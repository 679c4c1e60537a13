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

from responsesim.parameters import BY_NAME, DEFAULTS, NAMES, Parameter

#: every calibrated model parameter by name (declared once in ``responsesim.parameters``)
PARAMETER_INFO: dict[str, Parameter] = BY_NAME


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
    posterior_file: str | None = None  # the posterior's particles (``[fit] posterior``), beside the file
    posterior_sha256: str | None = None  # their file's hash as the calibration file records it
    directory: str | None = None  # where the calibration file is (to find the posterior)

    @property
    def key(self) -> str:
        """Identifies the values (not only the file): ``<version>:<16 hex of the values' hash>``; stored
        with every sweep chunk, so results made under other values are never mixed in."""
        text = ",".join(f"{k}={float(v)!r}" for k, v in sorted(self.values.items()))
        return f"{self.version}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"

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
        # overridden values are fixed points: the posterior no longer describes them
        post = None if overrides else self.posterior_file
        return CalibratedParams(
            self.version + tag,
            self.sha256,
            self.fitted,
            vals,
            self.source,
            post,
            self.posterior_sha256,
            self.directory,
        )


def _check(vals: Mapping[str, float], where: str) -> None:
    for k, v in vals.items():
        problem = BY_NAME[k].check(v) if k in BY_NAME else None
        if problem:
            raise CalibrationError(f"{where}.{k}: {problem}")


def parse_calibration(text: str, source: str, directory: str | None = None) -> CalibratedParams:
    """Parse and check a calibration TOML text (``directory``: where its posterior file would be)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{source}: {exc}") from exc
    params = doc.get("params")
    if not isinstance(params, dict):
        raise CalibrationError(f"{source}: missing [params] table")
    unknown = [k for k in params if k not in BY_NAME]
    if unknown:
        raise CalibrationError(
            f"{source}: [params] has unknown {', '.join(unknown)} (known: {', '.join(NAMES)})"
        )
    vals = dict(DEFAULTS)  # a parameter the file does not give takes its registry default
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise CalibrationError(f"{source}: params.{k} must be a number")
        vals[k] = float(v)
    _check(vals, f"{source}: params")
    fit_doc = doc.get("fit")
    fit: dict[str, object] = fit_doc if isinstance(fit_doc, dict) else {}
    post = fit.get("posterior")
    post_sha = fit.get("posterior_sha256")
    return CalibratedParams(
        version=str(doc.get("version", "unversioned")),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        fitted=bool(doc.get("fitted", False)),
        values=vals,
        source=source,
        posterior_file=str(post) if isinstance(post, str) and post else None,
        posterior_sha256=str(post_sha) if isinstance(post_sha, str) and post_sha else None,
        directory=directory,
    )


def default_calibration_text() -> str:
    return resources.files("responsesim").joinpath("data/calibration.toml").read_text(encoding="utf-8")


def default_calibration_path() -> Path:
    """The calibration file `run` uses by default (inside the installed package)."""
    return Path(str(resources.files("responsesim").joinpath("data/calibration.toml")))


def load_calibration(path: Path | None = None) -> CalibratedParams:
    """The shipped calibration (default) or the file at ``path``."""
    if path is None:
        return parse_calibration(
            default_calibration_text(),
            "responsesim/data/calibration.toml",
            str(default_calibration_path().parent),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_calibration(text, str(path), str(path.parent))
