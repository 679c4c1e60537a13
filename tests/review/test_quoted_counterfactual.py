"""The counterfactual figures quoted in docs/review.md are what the examples give today (regenerate with
``python -m responsesim.review.counterfactual_report examples/parkland/incident.toml
examples/uvalde/incident.toml`` and paste the tables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from responsesim.review.counterfactual import run_counterfactual
from responsesim.review.counterfactual_report import markdown

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("example", ["parkland", "uvalde"])
def test_docs_quote_the_current_figures(example: str) -> None:
    table = markdown(run_counterfactual(ROOT / "examples" / example / "incident.toml"))
    assert table.strip() in (ROOT / "docs" / "review.md").read_text(), table
