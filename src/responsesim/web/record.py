"""The record the review's counterfactual stands on, from every uploaded timeline with incident rows.

``responsesim review`` merges its timelines by time (``review.timeline.merge_timelines``); the page does the
same for the counterfactual, whatever the order the files were picked in: every file holding incident rows
(not only tips, visits and warning signs) is merged by time (stable: file order on ties) into one CSV on the
server. A row given in two files (the same in every column, as when one file extends another) counts once,
so casualties are not counted twice. Lines in the counterfactual's text and JSON then name the client's
file and its own line (``record.csv line 5``), never the merged file's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from responsesim.review.sections import is_pre_attack
from responsesim.review.timeline import COLUMNS, Timeline, TimelineRow

__all__ = ["MergedRecord", "merge_record", "record_files"]

_LINES = re.compile(r"\b(lines?) (\d+(?:, \d+)*)\b")


def record_files(parsed: list[Timeline]) -> list[int]:
    """The files the counterfactual stands on: every one with incident rows, in the order picked; the first
    file when none has any (the counterfactual then says what is missing)."""
    found = [k for k, tl in enumerate(parsed) if any(not is_pre_attack(r) for r in tl.rows)]
    return found or [0]


def _cells(r: TimelineRow) -> tuple[str, ...]:
    return (r.when, r.actor, r.role, r.event, r.location, r.detail, r.certainty, r.source)


@dataclass(frozen=True)
class MergedRecord:
    """The merged CSV text and, per line of it, the client's file and line the row came from."""

    text: str
    origin: dict[int, tuple[str, int]]
    names: tuple[str, ...]  # the files merged, in the order picked

    def where(self, line: int) -> tuple[str, int] | None:
        return self.origin.get(line)

    def rename(self, text: str) -> str:
        """``line 5`` / ``lines 5, 18`` of the merged file -> ``record.csv line 5, ...``."""

        def one(n: str) -> str:
            at = self.origin.get(int(n))
            return f"{at[0]} line {at[1]}" if at else f"line {n}"

        return _LINES.sub(lambda m: ", ".join(one(n) for n in m.group(2).split(", ")), text)

    def relabel(self, cf: dict[str, Any]) -> dict[str, Any]:
        """The counterfactual's JSON with every line of the merged file named by its client file and line
        (``file`` beside each ``line``, also in the care change's ``medical.rows``; ``attack_end_file``
        beside ``attack_end_line``)."""
        out = dict(cf)
        out["casualty_rows"] = [self._row(r) for r in cf.get("casualty_rows", [])]
        out["conduct"] = {a: [self._row(s) for s in spans] for a, spans in cf.get("conduct", {}).items()}
        if isinstance(cf.get("medical"), dict):  # the care change's rows (review/medical_change.py)
            medical = cf["medical"]
            out["medical"] = {**medical, "rows": [self._row(r) for r in medical.get("rows", [])]}
        observed = dict(cf.get("observed", {}))
        at = self.origin.get(observed.get("attack_end_line") or 0)
        if at is not None:
            observed["attack_end_file"], observed["attack_end_line"] = at
        out["observed"] = observed
        out["flags"] = [self.rename(f) for f in cf.get("flags", [])]
        out["summary"] = self.rename(str(cf.get("summary", "")))
        return out

    def _row(self, row: dict[str, Any]) -> dict[str, Any]:
        at = self.origin.get(row.get("line") or 0)
        return {**row, "file": at[0], "line": at[1]} if at is not None else dict(row)


def merge_record(files: list[Timeline]) -> MergedRecord:
    """The rows of ``files`` merged by time (stable), a row repeated in every column kept once, as CSV."""
    rows = sorted((r for tl in files for r in tl.rows), key=lambda r: r.time)
    chunks = [",".join(COLUMNS) + "\n"]
    origin: dict[int, tuple[str, int]] = {}
    seen: set[tuple[str, ...]] = set()
    line = 2
    for r in rows:
        cells = _cells(r)
        if cells in seen:
            continue
        seen.add(cells)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(cells)
        chunks.append(buf.getvalue())
        origin[line] = (r.file, r.line)
        line += chunks[-1].count("\n")  # a quoted detail may span lines
    return MergedRecord("".join(chunks), origin, tuple(tl.file for tl in files))
