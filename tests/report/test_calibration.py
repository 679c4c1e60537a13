"""The fit's report (report/calibration.py): a tiny real fit written as the page and its plots."""

from __future__ import annotations

from pathlib import Path

from responsesim.calibrate.misses import explain
from responsesim.calibrate.pipeline import Settings, calibrate
from responsesim.report.calibration import write_report


def test_fit_report_has_every_target_and_a_reason_per_miss(tmp_path: Path) -> None:
    # a deliberately tiny fit (one generation of 20 particles): the page, not the fit, is under test
    out = calibrate(Settings(n_points=20, incidents=30, rounds=1, validation_incidents=200, workers=1))
    page_path = write_report(out, tmp_path)
    page = page_path.read_text()
    for png in ("targets.png", "means.png", "posterior.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    cmp = out.comparison
    assert page.count("<tr class=") == len(cmp)  # one row per (set, target)
    misses = explain(cmp)
    for (set_, name), m in misses.items():
        assert f"<b>{name}</b> ({set_}), <i>{m.cause}</i>:" in page
    assert f"<b>{int(cmp['inside'].sum())} of {len(cmp)}</b>" in page
