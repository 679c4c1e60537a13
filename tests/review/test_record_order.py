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
