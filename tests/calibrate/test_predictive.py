"""Posterior predictive check: one row per target, intervals from simulated data sets of the observed size,
two-sided p-values consistent with the interval, and the CLI's JSON and bad-flag handling."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from responsesim.calibrate.pipeline import check, predictive_check
from responsesim.cli import app


def test_predictive_check_rows_and_consistency() -> None:
    res = predictive_check(draws=20, seed=5)
    t = res.table
    targets = check(incidents_n=200, seed=1).comparison
    assert list(t["name"]) == list(targets["name"])  # the same targets as --check, in order
    assert ((t.pp_low <= t.pp_median) & (t.pp_median <= t.pp_high)).all()
    assert t.p_value.between(0, 1).all()
    # the p-value and the interval come from the same simulated data sets: outside the interpolated
    # 2.5-97.5% quantiles, at most 2.5% + 1/n of the n data sets lie beyond, so p <= 2 (0.025 + 1/n)
    n = res.draws
    outside = ~t.inside
    assert (t.p_value[outside] <= 2 * (0.025 + 1 / n) + 1e-9).all()
    assert (t.inside[t.p_value > 2 * (0.025 + 1 / n)]).all()
    doc = res.to_json()
    assert doc["total"] == len(t) and doc["draws"] == 20


def test_cli_predictive_json_and_flag_needs_check() -> None:
    r = CliRunner().invoke(app, ["calibrate", "--check", "--predictive", "--draws", "20", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {"inside", "total", "targets", "note"} <= set(doc)
    bad = CliRunner().invoke(app, ["calibrate", "--predictive"])
    assert bad.exit_code == 2 and "--predictive goes with --check" in bad.output


def test_predictive_report_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from responsesim.report.calibration import write_predictive_report

    res = predictive_check(draws=20, seed=5)
    page = write_predictive_report(res, tmp_path / "cal")
    text = page.read_text()
    assert f"{int(res.table.inside.sum())} of {len(res.table)}" in text
    assert (tmp_path / "cal" / "predictive.png").read_bytes()[:4] == b"\x89PNG"


def test_misses_said_to_pass_the_predictive_check_do(reference_path) -> None:  # type: ignore[no-untyped-def]
    """A documented reason that says "the predictive check puts the observed share inside" is true of the
    shipped calibration's predictive check as `calibrate --check --predictive` runs it (200 draws)."""
    from responsesim.calibrate.misses import explain

    pred = predictive_check().table.set_index(["set", "name"])
    claims = [k for k, m in explain(check(workers=1).comparison).items() if "predictive check puts" in m.text]
    assert claims
    for key in claims:
        assert bool(pred.loc[key, "inside"]), key
