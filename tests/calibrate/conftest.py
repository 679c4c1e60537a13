"""Shared fixtures: the real reference data, the package's own copy (never skipped: it ships inside)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from responsesim.calibrate import reference


@pytest.fixture(scope="session")
def reference_path() -> Path:
    return reference.reference_dir()


@pytest.fixture(scope="session")
def incidents(reference_path: Path) -> pd.DataFrame:
    return reference.load_incidents(reference_path / reference.INCIDENTS_FILE)


@pytest.fixture(scope="session")
def narratives(reference_path: Path) -> pd.DataFrame:
    return reference.load_narratives(reference_path / reference.NARRATIVES_FILE)
