"""Bad input (issue 25 item 8): an incident whose recorded end precedes its first shot is refused with one
line naming the file, the row and both times, exit code 2."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from responsesim.cli import app

ROOT = Path(__file__).resolve().parents[2]
UVALDE = ROOT / "examples" / "uvalde"


def test_an_end_before_the_first_shot_is_refused(tmp_path: Path) -> None:
    for name in ("timeline.csv", "incident.toml"):
        shutil.copy(UVALDE / name, tmp_path / name)
    lines = (tmp_path / "timeline.csv").read_text().splitlines(keepends=True)
    end = next(i for i, row in enumerate(lines) if ",attacker_stopped," in row)
    moved = lines.pop(end).replace("2022-05-24 12:50:00", "2022-05-24 11:28:30", 1)
    lines.insert(2, moved)  # after the attacker's arrival (11:28:25), before its first shot (11:29:02)
    (tmp_path / "timeline.csv").write_text("".join(lines))
    protocol = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(protocol)]
    res = CliRunner().invoke(
        app, [*args, "--incident", str(tmp_path / "incident.toml")], env={"COLUMNS": "300"}
    )
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert "timeline.csv:3: time:" in msg and "before its first shot (11:29:02, line 4)" in msg, msg
    assert "Traceback" not in res.output


def test_attacker_rows_off_the_plan_are_named_not_dropped_silently() -> None:
    """The attacker's recorded path uses rows whose location maps to a room; those that do not (outside
    the building) are listed in the JSON and the summary, so the reader knows what the path left out."""
    from responsesim.review.counterfactual import run_counterfactual

    cf = run_counterfactual(UVALDE / "incident.toml", replications=60)
    got = cf.to_json()["unplaced_attacker_rows"]
    assert {r["location"] for r in got} == {"Robb school grounds"}
    assert [r["line"] for r in got] == [2, 3, 5, 7]
    assert "leaves out 4 row(s)" in cf.summary() and "line 3 (Robb school grounds)" in cf.summary()
