"""Shared fixtures: the real reference data, read in place (tests skip if the directory is missing)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from responsesim.calibrate import reference


@pytest.fixture(scope="session")
def reference_path() -> Path:
    try:
        return reference.reference_dir()
    except FileNotFoundError as exc:
        pytest.skip(f"reference data not available (set {reference.ENV_VAR}): {exc}")


@pytest.fixture(scope="session")
def incidents(reference_path: Path) -> pd.DataFrame:
    return reference.load_incidents(reference_path / reference.INCIDENTS_FILE)


@pytest.fixture(scope="session")
def narratives(reference_path: Path) -> pd.DataFrame:
    return reference.load_narratives(reference_path / reference.NARRATIVES_FILE)
