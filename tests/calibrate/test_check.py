"""`responsesim calibrate --check`: every target against the shipped calibration, no refit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from responsesim.calibrate.pipeline import check
from responsesim.cli import app


def test_check_lists_every_target_with_an_honest_inside_flag(reference_path) -> None:
    res = check(incidents_n=400, seed=5, workers=1)
    js = res.to_json()
    assert js["total"] == len(js["targets"]) == 43
    sets = {t["set"] for t in js["targets"]}
    assert sets == {"train 2000-2013", "held out 2014-2019"}
    for t in js["targets"]:
        lo, hi = t["observed_ci"]
        assert lo <= t["observed"] <= hi
        sim = t["simulated"]
        assert t["inside"] == (sim is not None and lo <= sim <= hi)
        if sim is not None and t["simulated_ci"][0] is not None:
            assert t["simulated_ci"][0] <= sim <= t["simulated_ci"][1]
    assert js["inside"] == sum(t["inside"] for t in js["targets"])
    assert js["calibration"]["key"].startswith(js["calibration"]["version"])


def test_check_command_json(reference_path) -> None:
    out = CliRunner().invoke(app, ["calibrate", "--check", "--validation", "200", "--workers", "1", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.stdout)
    assert obj["attempts"] == 200 and obj["total"] == 43
    bad = CliRunner().invoke(app, ["calibrate", "--check", "--calibration", "/nonexistent/cal.toml"])
    assert bad.exit_code == 2 and "cannot read" in bad.output


def test_every_miss_of_the_shipped_calibration_has_a_documented_reason(reference_path) -> None:
    """Issue 13: every target inside the data's interval, or a documented reason per miss (as
    `calibrate --check` runs it: 4,000 attempts, its default seed)."""
    js = check(workers=1).to_json()
    for t in js["targets"]:
        if t["inside"]:
            assert t["reason"] is None
        else:
            assert t["reason"]["cause"] in ("era", "point estimate", "structure", "data"), t
            assert len(t["reason"]["text"]) > 40


def test_check_at_a_point_and_bad_at_values(reference_path) -> None:
    """--at checks another point (labelled as overridden); malformed or unknown values exit 2."""
    ok = CliRunner().invoke(
        app, ["calibrate", "--check", "--validation", "200", "--workers", "1", "--at", "officer_hit_h=0.06",
              "--json"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["calibration"]["version"].endswith("+overrides")
    for bad in (["--at", "officer_hit_h"], ["--at", "nonsense=1"], ["--at", "p_hit=7"]):
        res = CliRunner().invoke(app, ["calibrate", "--check", "--validation", "200", *bad])
        assert res.exit_code == 2, (bad, res.output)
    alone = CliRunner().invoke(app, ["calibrate", "--at", "p_hit=0.2"])
    assert alone.exit_code == 2 and "--at goes with --check" in alone.output


def test_check_report_page_lists_every_miss_with_its_reason(reference_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--check --report DIR writes check.html and check.png: the table and one reason per miss."""
    out = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--check",
            "--validation",
            "400",
            "--workers",
            "1",
            "--report",
            str(tmp_path),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    page = (tmp_path / "check.html").read_text()
    assert (tmp_path / "check.png").read_bytes()[:4] == b"\x89PNG"
    assert f"<b>{doc['inside']} of {doc['total']}</b>" in page
    misses = [t for t in doc["targets"] if not t["inside"]]
    assert misses  # 400 attempts: some targets miss
    assert page.count("<li><b>") == len(misses)
    for t in misses:
        assert f"<b>{t['target']}</b> ({t['set']}), <i>{t['reason']['cause']}</i>" in page
    assert "`" not in page.split("Why the misses")[1].split("</ul>")[0]  # commands shown as <code>


def test_readme_quotes_of_check_at_other_points_are_current(reference_path) -> None:  # type: ignore[no-untyped-def]
    """Every README quote of the form "`responsesim calibrate --check --at NAME=VALUE ...` gives N of M
    targets inside" is what the command gives now (its defaults: 4,000 attempts, seed 2024); a stale quote
    fails, and so does a README that quotes none."""
    import re
    from pathlib import Path

    from responsesim.params import load_calibration

    text = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    quotes = re.findall(
        r"`responsesim calibrate --check((?: --at \w+=[0-9.e-]+)+)` gives (\d+) of (\d+)", text
    )
    assert quotes, "README no longer quotes a --check at another point in the expected words"
    cal = load_calibration()
    for ats, inside, total in quotes:
        over = {k: float(v) for k, v in re.findall(r"--at (\w+)=([0-9.e-]+)", ats)}
        res = check(cal.with_overrides(over), 4000, 2024, workers=2).to_json()
        assert (res["inside"], res["total"]) == (int(inside), int(total)), (ats, res["inside"], res["total"])
