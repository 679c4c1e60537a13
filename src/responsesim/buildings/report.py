"""What an import inferred and what it could not, for the user to check and fix."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts and plain-language lines; ``problems`` are what the user should fix in the source or the
    written file (doors with no space on one side, spaces with no door, floors with no stair, spaces
    left out because no exit can be reached from them)."""

    file: str
    format: str
    counts: dict[str, int] = field(default_factory=dict)
    inferred: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def lines(self, limit: int = 12) -> list[str]:
        """The report as text lines; each list is cut after ``limit`` entries ("... and N more")."""
        c = self.counts
        out = [
            f"{self.file} ({self.format}): {c.get('spaces', 0)} spaces on {c.get('floors', 0)} floor(s), "
            f"{c.get('doors', 0)} doors, {c.get('stairs', 0)} stairs -> {c.get('graph_spaces', 0)} spaces "
            f"({c.get('exits', 0)} exits), {c.get('edges', 0)} edges, {c.get('occupants', 0)} occupants"
        ]
        for title, items in (
            ("inferred", self.inferred),
            ("could not infer (check these)", self.problems),
            ("left out (no way to an exit)", self.left_out),
        ):
            if not items:
                continue
            out.append(f"{title}:")
            out += [f"  - {x}" for x in items[:limit]]
            if len(items) > limit:
                out.append(f"  - ... and {len(items) - limit} more")
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "counts": dict(self.counts),
            "inferred": list(self.inferred),
            "problems": list(self.problems),
            "left_out": list(self.left_out),
        }
