"""Helpers for the review tests (a module name no other test directory uses)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

HEADER = "time,actor,role,event,location,detail,certainty,source\n"


def rows(*lines: str) -> str:
    """Timeline text from 'HH:MM:SS,actor,role,event[,certainty]' shorthands."""
    out = [HEADER.rstrip("\n")]
    for ln in lines:
        t, actor, role, event, *rest = ln.split(",")
        cert = rest[0] if rest else "second"
        out.append(f"2024-05-01 {t},{actor},{role},{event},here,,{cert},test source")
    return "\n".join(out) + "\n"


#: t = 0 of the synthetic records (timed_row)
T0 = datetime(2024, 1, 1, 10, 0, 0)


def timed_row(t_s: float, actor: str, role: str, event: str, location: str, detail: str = "") -> str:
    """One timeline CSV line ``t_s`` seconds after ``T0`` (certainty "second", source "test")."""
    t = T0 + timedelta(seconds=t_s)
    return f"{t:%Y-%m-%d %H:%M:%S},{actor},{role},{event},{location},{detail},second,test\n"


def write_incident(
    directory: Path, *, name: str, replications: int, seed: int, counterfactual: str, curve_points: int,
    killed: int | None = None,
) -> Path:  # fmt: skip
    """``incident.toml`` in ``directory`` for its ``timeline.csv``: the elementary wing, a handgun attacker
    entering at exit_west, "west door" and "hall 3" mapped; ``killed`` sets ``[facts]``."""
    facts = "" if killed is None else f"\n[facts]\nkilled = {killed}\n"
    path = directory / "incident.toml"
    path.write_text(f"""
name = "{name}"
timeline = "timeline.csv"
replications = {replications}
seed = {seed}
counterfactual = "{counterfactual}"
curve_points = {curve_points}
{facts}
[scenario]
building = {{ template = "elementary_wing" }}
attacker = {{ weapon = "handgun", entry_space = "exit_west" }}

[locations]
"west door" = "exit_west"
"hall 3" = "hall_3"
""")
    return path
