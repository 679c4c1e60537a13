"""Helpers for the review tests (a module name no other test directory uses)."""

from __future__ import annotations

HEADER = "time,actor,role,event,location,detail,certainty,source\n"


def rows(*lines: str) -> str:
    """Timeline text from 'HH:MM:SS,actor,role,event[,certainty]' shorthands."""
    out = [HEADER.rstrip("\n")]
    for ln in lines:
        t, actor, role, event, *rest = ln.split(",")
        cert = rest[0] if rest else "second"
        out.append(f"2024-05-01 {t},{actor},{role},{event},here,,{cert},test source")
    return "\n".join(out) + "\n"
