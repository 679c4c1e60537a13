"""The calibration's posterior: its particles, found beside the calibration file and checked against it.

A fitted calibration file names its posterior (``[fit] posterior = "posterior.csv"``) and records that
file's SHA-256; the posterior file carries the calibration's version. Both must match, so a result never
mixes a calibration with another fit's particles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from responsesim.calibrate.abc_smc import Posterior
from responsesim.params import CalibratedParams, CalibrationError


def posterior_path(cal: CalibratedParams) -> Path | None:
    """Where the calibration's posterior file is, or None when it names none."""
    if not cal.posterior_file or not cal.directory:
        return None
    return Path(cal.directory) / cal.posterior_file


def load_posterior(cal: CalibratedParams) -> Posterior | None:
    """The posterior of ``cal`` (None when the calibration has none); ``CalibrationError`` when its file
    is missing, altered, or made by another fit."""
    path = posterior_path(cal)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalibrationError(
            f"{cal.source}: its posterior {path} cannot be read ({exc.strerror}); restore the file or use "
            "--point-estimate"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if cal.posterior_sha256 and digest != cal.posterior_sha256:
        raise CalibrationError(
            f"{path}: does not match the calibration {cal.version} (sha256 {digest[:12]}, the calibration "
            f"file records {cal.posterior_sha256[:12]}); it belongs to another fit"
        )
    try:
        post = Posterior.from_text(data.decode("utf-8"), str(path))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CalibrationError(f"{path}: {exc}") from exc
    version = post.meta.get("version")
    base_version = cal.version.removesuffix("+overrides")
    if version != base_version:
        raise CalibrationError(
            f"{path}: posterior version {version!r} is not the calibration's {base_version!r}"
        )
    return post


__all__ = ["load_posterior", "posterior_path"]
