"""After-action review from uploaded files: findings as JSON and a swimlane chart under the data folder.

Each review gets a server-generated id; its uploads and chart live in ``<data_dir>/reviews/<id>/`` with
fixed names (``timeline.csv``, ``protocol.toml``, ``swimlane.png``). Only the newest ``keep`` reviews are
kept on disk.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any

from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import Review, review
from responsesim.review.protocol import parse_protocol
from responsesim.review.timeline import load_vocabulary, parse_timeline
from responsesim.web.errors import ApiError, from_input_error
from responsesim.web.plots import write_atomically

__all__ = ["REVIEW_ID", "ReviewStore"]

REVIEW_ID = re.compile(r"^[0-9a-f]{16}$")
_DRAW_LOCK = threading.Lock()  # the swimlane chart uses pyplot, which is not thread-safe


def review_summary(rv: Review) -> str:
    """One line: how many findings, against which protocol, over which attack window."""
    n = len(rv.findings)
    text = f"{n} finding{'s' if n != 1 else ''}: {rv.timeline.file} against {rv.protocol.name}"
    a = rv.active
    if a is not None:
        text += f"; attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}"
        if not a.end_recorded:
            text += " (no end recorded)"
    return text


class ReviewStore:
    """Run reviews of uploaded texts and keep their charts (thread-safe)."""

    def __init__(self, data_dir: Path, keep: int) -> None:
        self.root = data_dir / "reviews"
        self.keep = keep
        self._lock = threading.Lock()

    def folder(self, review_id: str) -> Path:
        if not REVIEW_ID.match(review_id):
            raise ApiError(404, f"no review {review_id!r}")
        return self.root / review_id

    def run(self, timeline_name: str, timeline: str, protocol_name: str, protocol: str) -> dict[str, Any]:
        """Review ``timeline`` (CSV text) against ``protocol`` (TOML text); 400 naming file, line, field."""
        try:
            proto, vocab = parse_protocol(protocol, protocol_name, load_vocabulary(None))
            tl = parse_timeline(timeline, timeline_name, vocab)
            rv = review(tl, proto)
        except ReviewInputError as exc:
            raise from_input_error(exc) from exc
        review_id = secrets.token_hex(8)
        folder = self.root / review_id
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "timeline.csv").write_text(timeline, encoding="utf-8")
        (folder / "protocol.toml").write_text(protocol, encoding="utf-8")
        png = self._draw(rv)
        write_atomically(folder / "swimlane.png", png)
        self._prune()
        body = rv.to_json()
        return {
            "review_id": review_id,
            "findings": body.pop("findings"),
            "summary": review_summary(rv),
            "swimlane_url": f"/api/review/{review_id}/swimlane.png",
            **body,
        }

    def _draw(self, rv: Review) -> bytes:
        from responsesim.review.swimlane import swimlane_png

        tmp = self.root / f".draw-{secrets.token_hex(6)}.png"
        try:
            with _DRAW_LOCK:
                swimlane_png(rv, tmp)
            return tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)

    def _prune(self) -> None:
        with self._lock:
            folders = sorted(
                (p for p in self.root.iterdir() if p.is_dir() and REVIEW_ID.match(p.name)),
                key=lambda p: p.stat().st_mtime,
            )
            for old in folders[: max(0, len(folders) - self.keep)]:
                shutil.rmtree(old, ignore_errors=True)

    def swimlane(self, review_id: str) -> Path:
        path = self.folder(review_id) / "swimlane.png"
        if not path.is_file():
            raise ApiError(404, f"no review {review_id!r} (reviews are kept for the newest {self.keep})")
        return path
