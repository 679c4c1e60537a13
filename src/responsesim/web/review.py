"""After-action review from uploaded files: the three parts' findings as JSON and a swimlane chart per part.

The upload is one or several timelines (CSV, merged by time) and one or several protocols (TOML, each
reviewing its part: initial police response, medical response, pre-attack warnings;
``review/sections.py``), as ``responsesim review`` takes them. Each review gets a server-generated id; its
uploads and charts live in ``<data_dir>/reviews/<id>/`` with fixed names (``timeline.csv``,
``timeline-2.csv``..., ``protocol.toml``, ``protocol-2.toml``...; ``swimlane.png`` for the first part's
chart and ``swimlane-<part>.png`` for the others; with an incident file also ``incident.toml`` and
``curve.png``). Only the newest ``keep`` reviews are kept on disk; a refused request leaves nothing.

With an incident file the review also runs the counterfactual on the record (``review/counterfactual.py``)
on the uploaded timelines holding incident rows (not only tips, visits and warning signs), merged by time
whatever the order they were picked in (``web/record.py``; kept as ``record-merged.csv`` when there are
several): the incident's own ``timeline`` key is ignored, its building must be a built-in template (the
page uploads no building file), and at most ``MAX_DRAWS`` paired draws are run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from responsesim.review.errors import ReviewInputError
from responsesim.review.protocol import Protocol, parse_protocol
from responsesim.review.sections import SECTIONS, IncidentReview, Section, review_incident
from responsesim.review.timeline import Timeline, load_vocabulary, merge_timelines, parse_timeline
from responsesim.web.errors import ApiError, from_input_error
from responsesim.web.record import MergedRecord, merge_record, record_files
from responsesim.web.uploads import safe_filename

__all__ = ["MAX_PROTOCOLS", "MAX_TIMELINES", "REVIEW_ID", "ReviewStore", "Upload", "upload_texts"]

REVIEW_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_DRAWS = 2000
MAX_TIMELINES = 5  # timeline files per review
MAX_PROTOCOLS = 5  # protocol files per review
_DRAW_LOCK = threading.Lock()  # the swimlane chart uses pyplot, which is not thread-safe

#: (the client's file name, as shown in messages; the UTF-8 text)
Upload = tuple[str, str]


async def upload_texts(form: FormData, name: str, default_filename: str, limit: int) -> list[Upload]:
    """Every file uploaded in the (repeatable) field ``name``, in order: (client file name, UTF-8 text).

    A part with no file chosen (no name, no bytes: what a browser form sends for an empty input) is left
    out. 400 for a field that is not a file, more than ``limit`` files, a bad file name or text that is not
    UTF-8. A name given twice is shown as ``name (timeline 2)`` so messages say which file they mean."""
    items = form.getlist(name)
    out: list[Upload] = []
    for item in items:
        if item == "":
            continue  # a file input with no file chosen (the parser gives an empty text field)
        if not isinstance(item, UploadFile):
            raise ApiError(400, f"{name}: send a file, not a text field", field=name)
        data = await item.read()
        if not item.filename and not data:
            continue
        filename = safe_filename(item.filename, default_filename, field=f"{name}.filename")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            why = f"{filename}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise ApiError(400, why, field=name) from exc
        out.append((filename, text))
    if len(out) > limit:
        files = "file" if limit == 1 else "files"
        raise ApiError(400, f"at most {limit} {name} {files} per review (got {len(out)})", field=name)
    seen: set[str] = set()
    for k, (filename, text) in enumerate(out):
        if filename in seen:
            out[k] = (f"{filename} ({name} {k + 1})", text)
        seen.add(out[k][0])
    return out


def _parse(timelines: list[Upload], protocols: list[Upload]) -> tuple[IncidentReview, list[Timeline]]:
    """As ``review.command.run_review`` on texts: the vocabulary, each protocol in turn (its ``[vocabulary]``
    extends it), each timeline, merged by time, every part reviewed; ``ReviewInputError`` naming the
    client's file. Also returns each timeline file as parsed (the counterfactual merges those with incident
    rows)."""
    vocab = load_vocabulary(None)
    protos: list[Protocol] = []
    for name, text in protocols:
        proto, vocab = parse_protocol(text, name, vocab)
        protos.append(proto)
    files = [parse_timeline(text, name, vocab, check_links=False) for name, text in timelines]
    return review_incident(merge_timelines(files), protos), files


def review_summary(rv: IncidentReview) -> str:
    """One line: how many findings (per part when there are several), against which protocols, over which
    attack window (or, with only the pre-attack part, the day the attack began)."""
    n = sum(len(s.findings) for s in rv.sections)
    text = f"{n} finding{'s' if n != 1 else ''}: {rv.timeline.file} against {rv.protocol_names}"
    if len(rv.sections) > 1:
        text += "; " + ", ".join(f"{s.title.lower()} {len(s.findings)}" for s in rv.sections)
    incident = next((s for s in rv.sections if not s.days), None)
    a = incident.reviews[0].active if incident is not None else None
    if a is not None:
        text += f"; attacker active {a.start:%H:%M:%S} to {a.end:%H:%M:%S}"
        if not a.end_recorded:
            text += " (no end recorded)"
    elif incident is None and rv.sections[0].attack is not None:
        text += f"; the attack began {rv.sections[0].attack.when}"
    return text


def _chart_name(k: int, key: str) -> str:
    """``swimlane.png`` for the first part (as before there were parts), ``swimlane-<part>.png`` after."""
    return "swimlane.png" if k == 0 else f"swimlane-{key}.png"


def _chart_url(review_id: str, k: int, key: str) -> str:
    return (
        f"/api/review/{review_id}/swimlane.png" if k == 0 else f"/api/review/{review_id}/swimlane/{key}.png"
    )


def _section_json(sec: Section) -> dict[str, Any]:
    n = len(sec.findings)
    protos = " + ".join(rv.protocol.name for rv in sec.reviews)
    return {
        "key": sec.key,
        "summary": f"{n} finding{'s' if n != 1 else ''} against {protos}",
        **sec.to_json(),
    }


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
        timelines: list[Upload],
        protocols: list[Upload],
        incident: Upload | None = None,
        change: str | None = None,
    ) -> dict[str, Any]:
        """Review the ``timelines`` (CSV texts, merged by time) against the ``protocols`` (TOML texts), each
        part with its findings and chart, and with ``incident`` (name, TOML text) the counterfactual of
        ``change`` (or the incident's own); 400 naming the client's file, line and field."""
        if not timelines:
            raise ApiError(400, "missing file 'timeline' in the upload: give at least one timeline (.csv)",
                           field="timeline")  # fmt: skip
        if not protocols:
            raise ApiError(400, "missing file 'protocol' in the upload: give at least one protocol (.toml)",
                           field="protocol")  # fmt: skip
        try:
            rv, parsed = _parse(timelines, protocols)
        except ReviewInputError as exc:
            raise from_input_error(exc) from exc
        draws = _check_incident(*incident) if incident is not None else 0
        review_id = secrets.token_hex(8)
        folder = self.root / review_id
        folder.mkdir(parents=True, exist_ok=False)
        out: dict[str, Any] = {}
        sections: dict[str, Any] = {}
        try:
            stored: dict[str, str] = {}  # server path -> the client's file name (for messages)
            paths = []
            for k, (name, text) in enumerate(timelines):
                path = folder / ("timeline.csv" if k == 0 else f"timeline-{k + 1}.csv")
                path.write_text(text, encoding="utf-8")
                stored[str(path)] = name
                paths.append(path)
            for k, (_, text) in enumerate(protocols):
                (folder / ("protocol.toml" if k == 0 else f"protocol-{k + 1}.toml")).write_text(text, "utf-8")
            if incident is not None:
                picked = record_files(parsed)
                record, merged = paths[picked[0]], None
                if len(picked) > 1:  # merged by time, as the command line merges its timelines
                    merged = merge_record([parsed[k] for k in picked])
                    record = folder / "record-merged.csv"
                    record.write_text(merged.text, encoding="utf-8")
                out["counterfactual"] = self._counterfactual(
                    folder, record, stored, incident, change, draws, merged
                )
                out["counterfactual_timeline"] = " + ".join(timelines[k][0] for k in picked)
                out["curve_url"] = f"/api/review/{review_id}/curve.png"
            for k, sec in enumerate(rv.sections):
                self._draw(rv, sec, folder / _chart_name(k, sec.key))
                sections[sec.key] = {**_section_json(sec), "swimlane_url": _chart_url(review_id, k, sec.key)}
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # nothing kept from a refused request
            raise
        self._prune()
        body = rv.to_json()
        body.pop("sections", None)
        return {
            "review_id": review_id,
            "findings": body.pop("findings"),
            "summary": review_summary(rv),
            "swimlane_url": _chart_url(review_id, 0, rv.sections[0].key),
            **body,
            "timelines": [name for name, _ in timelines],
            "protocols": [name for name, _ in protocols],
            "parts": list(sections),
            "sections": sections,
            **out,
        }

    def _counterfactual(
        self,
        folder: Path,
        timeline: Path,
        names: dict[str, str],
        incident: Upload,
        change: str | None,
        draws: int,
        merged: MergedRecord | None = None,
    ) -> dict[str, Any]:
        """The counterfactual on ``timeline`` (with ``merged``: the merged record, whose lines are named by
        the client's file and line in the answer and in errors)."""
        from responsesim.review.counterfactual import run_counterfactual
        from responsesim.review.counterfactual_report import curve_png

        name, text = incident
        path = folder / "incident.toml"
        path.write_text(text, encoding="utf-8")
        names = {**names, str(path): name}
        try:
            cf = run_counterfactual(path, change or None, draws, timeline=timeline)
        except ReviewInputError as exc:
            raise from_input_error(_client_error(exc, names, timeline, merged)) from exc
        tmp = folder / f".curve-{secrets.token_hex(6)}.png"
        try:
            with _DRAW_LOCK:
                curve_png(cf, tmp)
            os.replace(tmp, folder / "curve.png")
        finally:
            tmp.unlink(missing_ok=True)
        return merged.relabel(cf.to_json()) if merged is not None else cf.to_json()

    def _draw(self, rv: IncidentReview, sec: Section, path: Path) -> None:
        """One part's chart, drawn beside ``path`` and renamed into place."""
        from responsesim.review.swimlane import section_png

        tmp = path.with_name(f".draw-{secrets.token_hex(6)}.png")
        try:
            with _DRAW_LOCK:
                section_png(rv, sec, tmp)
            os.replace(tmp, path)
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
        """A kept chart of a review: ``swimlane.png`` (the first part), ``curve.png``."""
        path = self.folder(review_id) / name
        if not path.is_file():
            raise ApiError(404, f"no review {review_id!r} (reviews are kept for the newest {self.keep})")
        return path

    def part_chart(self, review_id: str, part: str) -> Path:
        """The chart of a later part (``swimlane-<part>.png``); the first part's is ``swimlane.png``."""
        if part not in SECTIONS:
            raise ApiError(404, f"no part {part[:40]!r} (parts: {', '.join(SECTIONS)})", field="part")
        folder = self.folder(review_id)
        path = folder / f"swimlane-{part}.png"
        if not path.is_file():
            if folder.is_dir():
                why = (
                    f"review {review_id} has no separate {part!r} chart (the first part's chart is "
                    "swimlane.png; the JSON gives each part's swimlane_url)"
                )
                raise ApiError(404, why, field="part")
            raise ApiError(404, f"no review {review_id!r} (reviews are kept for the newest {self.keep})")
        return path


def _client_error(
    exc: ReviewInputError, names: dict[str, str], record: Path, merged: MergedRecord | None
) -> ReviewInputError:
    """``exc`` naming the client's files, not server paths; a line of the merged record becomes the line of
    the file it came from, and so do the lines its message lists."""
    if exc.file == "--counterfactual":  # the command line's flag: on the page it is the Change field
        exc.file, exc.field = None, "change"
        exc.message = f"the Change field: {exc.message}"
        return exc
    in_record = exc.file == str(record)
    if merged is not None and (in_record or (exc.field or "").startswith("facts.")):
        exc.message = merged.rename(exc.message)  # the facts' message lists the record's lines
    if merged is not None and in_record:
        at = merged.where(exc.line or 0)
        exc.file, exc.line = at if at is not None else (" + ".join(merged.names), exc.line)
        return exc
    exc.file = names.get(str(exc.file), exc.file)
    return exc


def _check_incident(name: str, text: str) -> int:
    """The paired draws to run (the file's ``replications``, at most ``MAX_DRAWS``; the default when absent
    or not a whole number >= 2, which the loader then reports with its line). The page takes incident files
    whose building is a built-in template (no file on the server)."""
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
    value = data.get("replications", MAX_DRAWS)
    return min(value, MAX_DRAWS) if isinstance(value, int) and value >= 2 else MAX_DRAWS
