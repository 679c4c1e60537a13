"""After-action review from uploaded files: findings as JSON and a swimlane chart under the data folder.

Each review gets a server-generated id; its uploads and charts live in ``<data_dir>/reviews/<id>/`` with
fixed names (``timeline.csv``, ``protocol.toml``, ``swimlane.png``; with an incident file also
``incident.toml`` and ``curve.png``). Only the newest ``keep`` reviews are kept on disk.

With an incident file the review also runs the counterfactual on the record (``review/counterfactual.py``)
on the uploaded timeline: the incident's own ``timeline`` key is ignored, its building must be a built-in
template (the page uploads no building file), and at most ``MAX_DRAWS`` paired draws are run.
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
MAX_DRAWS = 2000
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

    def run(
        self,
        timeline_name: str,
        timeline: str,
        protocol_name: str,
        protocol: str,
        incident: tuple[str, str] | None = None,
        change: str | None = None,
    ) -> dict[str, Any]:
        """Review ``timeline`` (CSV text) against ``protocol`` (TOML text), and with ``incident`` (name, TOML
        text) the counterfactual of ``change`` (or the incident's own); 400 naming file, line, field."""
        try:
            proto, vocab = parse_protocol(protocol, protocol_name, load_vocabulary(None))
            tl = parse_timeline(timeline, timeline_name, vocab)
            rv = review(tl, proto)
        except ReviewInputError as exc:
            raise from_input_error(exc) from exc
        if incident is not None:
            _check_incident(*incident)
        review_id = secrets.token_hex(8)
        folder = self.root / review_id
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "timeline.csv").write_text(timeline, encoding="utf-8")
        (folder / "protocol.toml").write_text(protocol, encoding="utf-8")
        out: dict[str, Any] = {}
        try:
            if incident is not None:
                out["counterfactual"] = self._counterfactual(folder, timeline_name, incident, change)
                out["curve_url"] = f"/api/review/{review_id}/curve.png"
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # nothing kept from a refused request
            raise
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
            **out,
        }

    def _counterfactual(
        self, folder: Path, timeline_name: str, incident: tuple[str, str], change: str | None
    ) -> dict[str, Any]:
        from responsesim.review.counterfactual import run_counterfactual
        from responsesim.review.counterfactual_report import curve_png

        name, text = incident
        path = folder / "incident.toml"
        path.write_text(text, encoding="utf-8")
        names = {str(path): name, str(folder / "timeline.csv"): timeline_name}
        try:
            spec_n = _draws(text)
            tl_path = folder / "timeline.csv"
            cf = run_counterfactual(path, change or None, min(spec_n, MAX_DRAWS), timeline=tl_path)
        except ReviewInputError as exc:
            exc.file = names.get(str(exc.file), exc.file)  # the client's file names, not server paths
            raise from_input_error(exc) from exc
        tmp = folder / f".curve-{secrets.token_hex(6)}.png"
        try:
            with _DRAW_LOCK:
                curve_png(cf, tmp)
            write_atomically(folder / "curve.png", tmp.read_bytes())
        finally:
            tmp.unlink(missing_ok=True)
        return cf.to_json()

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

    def swimlane(self, review_id: str, name: str = "swimlane.png") -> Path:
        """A kept chart of a review: ``swimlane.png`` or ``curve.png``."""
        path = self.folder(review_id) / name
        if not path.is_file():
            raise ApiError(404, f"no review {review_id!r} (reviews are kept for the newest {self.keep})")
        return path


def _draws(text: str) -> int:
    """The incident's ``replications`` (paired draws), the default when absent or unreadable (the loader
    reports a bad value with its line)."""
    import tomllib

    try:
        value = tomllib.loads(text).get("replications", MAX_DRAWS)
    except tomllib.TOMLDecodeError:
        return MAX_DRAWS
    return value if isinstance(value, int) and value >= 2 else MAX_DRAWS


def _check_incident(name: str, text: str) -> None:
    """The page takes incident files whose building is a built-in template (no file on the server)."""
    import tomllib

    from responsesim.scenario.errors import locate_toml_line

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ApiError(400, f"{name}: TOML syntax error: {exc}", field="incident") from exc
    building = data.get("scenario", {}).get("building", {}) if isinstance(data.get("scenario"), dict) else {}
    if isinstance(building, dict) and "file" in building:
        line = locate_toml_line(text, ("scenario", "building", "file"))
        raise ApiError(
            400,
            f"{name}:{line}: scenario.building.file: the web page runs incident files on a built-in building "
            'template only (template = "three_floor_school", "elementary_wing" or "office_floor"); use '
            "the command line for a building file",
            field="scenario.building.file",
            line=line,
        )
