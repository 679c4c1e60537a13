"""Parkland in three parts (docs/review.md, *Parkland: the three parts*): record.csv + pre_attack.csv against
the post-1999 doctrine, the medical-response and the threat-assessment protocols."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from responsesim.review.command import review_command, run_review
from responsesim.review.sections import IncidentReview

REPO = Path(__file__).resolve().parents[2]
FILES = [REPO / "examples/parkland/record.csv", REPO / "examples/parkland/pre_attack.csv"]
PROTOCOLS = [REPO / "examples/protocols" / f"{n}.toml" for n in ("post1999_doctrine", "medical_response",
                                                                   "threat_assessment")]  # fmt: skip


@pytest.fixture(scope="module")
def rv() -> IncidentReview:
    return run_review(FILES, PROTOCOLS)


def rules(rv: IncidentReview, key: str) -> Counter[str]:
    sec = rv.section(key)
    assert sec is not None
    return Counter(f.rule_id for f in sec.findings)


def test_parts_in_order(rv: IncidentReview) -> None:
    assert [s.key for s in rv.sections] == ["police", "medical", "pre_attack"]


def test_medical_findings(rv: IncidentReview) -> None:
    assert rules(rv, "medical") == Counter(
        {
            "rtf-deploys": 1,
            "no-refusal-while-casualties-wait": 1,
            "ten-minutes-to-care": 2,
            "sixty-minutes-to-hospital": 4,
        }
    )
    by = {(f.rule_id, f.actor): f for f in rv.section("medical").findings}  # type: ignore[union-attr]
    rtf = by[("rtf-deploys", "CSPFD-MCNALLY")]
    assert (f"{rtf.start:%H:%M:%S}", f"{rtf.end:%H:%M:%S}", rtf.duration_s) == (
        "14:32:00",
        "15:01:44",
        1784.0,
    )
    refused = by[("no-refusal-while-casualties-wait", "BSO-CAPT-JORDAN")]
    assert "entry_refused 5 time(s)" in refused.summary and refused.wounded == 4 and refused.approximate
    f3 = by[("ten-minutes-to-care", "WOUNDED-F3")]
    assert "+40 min" in f3.summary and f3.duration_s == 2074.0 and f3.wounded == 4
    assert by[("ten-minutes-to-care", "VICTIM-FEIS")].open_ended


def test_pre_attack_findings(rv: IncidentReview) -> None:
    sec = rv.section("pre_attack")
    assert sec is not None and sec.attack is not None and sec.attack.when == "2018-02-14 14:21:44"
    got = sorted((f.rule_id, f.tip, f.agency, f.days_before_attack) for f in sec.findings)
    assert got == [
        ("assess-every-tip", "mass-2017-11", "BSO", 76),
        ("assess-every-tip", "msd-2017-01", "MSD-SCHOOL", 391),
        ("assess-every-tip", "pal-2018-01", "FBI-PAL", 40),
        ("no-closing-without-action", "mass-2017-11", "BSO", 76),
        ("no-closing-without-action", "pal-2018-01", "FBI-PAL", 40),
        ("no-closing-without-action", "pbso-2017-11", "PBSO", 78),
        ("tip-line-forwards", "pal-2018-01", "FBI-PAL", 40),
    ]


def test_police_part_unchanged_by_the_other_rows(rv: IncidentReview) -> None:
    alone = run_review(FILES[0], PROTOCOLS[0])
    assert [(f.rule_id, f.actor, f.start, f.end) for f in rv.findings] == [
        (f.rule_id, f.actor, f.start, f.end) for f in alone.findings
    ]


def test_json_keeps_the_police_keys_and_adds_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "parkland.html"
    assert review_command(FILES, PROTOCOLS, True, out) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["protocol"] == "post-1999 active-shooter doctrine"
    assert {f["rule_id"] for f in data["findings"]} >= {"not-a-barricade", "first-officer-enters"}
    assert set(data["sections"]) == {"police", "medical", "pre_attack"}
    pre = data["sections"]["pre_attack"]
    assert (
        pre["scale"] == "days" and pre["attack_start"] == "2018-02-14 14:21:44" and len(pre["findings"]) == 7
    )
    assert all(f["days_before_attack"] is not None for f in pre["findings"])
    assert data["sections"]["medical"]["attacker_active"]["start"] == "2018-02-14 14:21:44"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["parkland.html", "parkland.medical.png", "parkland.png", "parkland.pre_attack.png"]
    html = out.read_text()
    assert (
        html.count("data:image/png;base64,") == 3 and "Pre-attack warnings" in html and "pal-2018-01" in html
    )


def test_cli_output_fits_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert review_command(FILES, PROTOCOLS, False, None) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    for title in ("Initial police response", "Medical response", "Pre-attack warnings"):
        assert title in out


def test_docs_quote_the_three_parts(rv: IncidentReview) -> None:
    doc = (REPO / "docs" / "review.md").read_text()
    for sec in rv.sections[1:]:
        for f in sec.findings:
            assert f"`{f.rule_id}`" in doc and f.actor in doc
    for f in rv.section("pre_attack").findings:  # type: ignore[union-attr]
        assert f"{f.tip}" in doc and f"| {f.days_before_attack} |" in doc
