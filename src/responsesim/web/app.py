"""The FastAPI app behind ``responsesim serve``: the JSON API the page uses, and the page itself.

Routes (errors are ``{"error", "field", "line"}`` with a 4xx/5xx status):
health, limits, scenarios (list, one with its TOML and form), doctrines, validate, runs (start: a job;
list and reopen from the DuckDB store; histogram PNGs; per-tick replay of one replication and the
representative incidents to replay), jobs (status, server-sent progress events, cancel), compare two runs,
review uploaded timelines + protocols (three parts, optional incident file: the counterfactual), and the
building editor's validate / read (``web/editor.py``) and the first page of a PDF plan as a PNG backdrop
(``web/pdfpage.py``). Host, origin and security headers: ``web/security.py``.

Bounded everywhere: request bodies (``max_upload_bytes``, 413), replications per run (422), waiting
jobs (429 with Retry-After), concurrent replay simulations and PDF pages drawn (503 when busy), replay
frames, kept reviews; a PDF page is drawn in a child process with a time and memory limit.
Uploaded files and drawn charts are written only under the data folder with server-chosen names.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from responsesim.analysis.incidents import incidents
from responsesim.api import ParameterDraws, code_version
from responsesim.sanity import extrapolation_warnings
from responsesim.scenario.load import Scenario
from responsesim.web.catalog import Catalog, load_upload
from responsesim.web.comparison import compare_rows
from responsesim.web.editor import read_building_text, scenario_with_building, store_building, validate_plan
from responsesim.web.errors import ApiError, error_body
from responsesim.web.forms import apply_form, check_replications, doctrine_list, lever_changes, scenario_form
from responsesim.web.jobs import FINAL, Job, JobManager, QueueFullError
from responsesim.web.limits import BodySizeLimit
from responsesim.web.pdfpage import PdfPage, PdfPageError, render_isolated
from responsesim.web.plots import PLOT_METRICS, histogram_png, plot_path, prune_oldest, write_atomically
from responsesim.web.replay import REPLAY_FORMAT, replay, replay_choices
from responsesim.web.review import MAX_PROTOCOLS, MAX_TIMELINES, ReviewStore, upload_texts
from responsesim.web.runs import RunNotFoundError, RunStore, deaths_fields, meta_json
from responsesim.web.security import SecurityMiddleware, allowed_hosts
from responsesim.web.settings import WebSettings
from responsesim.web.uploads import read_json, read_multipart, safe_filename

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
JOB_ID = re.compile(r"^[0-9]{6}-[0-9a-f]{12}$")
RUN_PLOTS = ("deaths", "killed", "died_awaiting_care", "attack_duration_s", "first_entry_s",
             "median_time_to_care_s", "evacuated")  # fmt: skip
MAX_LABEL = 200


class Busy:
    """A counting semaphore that answers 503 instead of queueing without bound."""

    def __init__(self, slots: int, wait_s: float, what: str) -> None:
        self._sem = threading.BoundedSemaphore(slots)
        self.wait_s = wait_s
        self.what = what

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._sem.acquire(timeout=self.wait_s):
            raise ApiError(503, f"the server is busy computing {self.what}; try again shortly",
                           headers={"Retry-After": "5"})  # fmt: skip
        try:
            yield
        finally:
            self._sem.release()


def _run_header(run_id: str, meta: Any, summary: dict[str, Any], created: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "created_at": created,
        "scenario_name": meta.scenario_name,
        "replications": int(meta.replications),
        "seed": int(meta.seed),
        "backend": meta.backend,
        "label": summary.get("label"),
        "levers": summary.get("levers"),
        "base_scenario": summary.get("base_scenario"),
        **deaths_fields(summary),
    }


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The app for ``settings`` (defaults: loopback, ``results.duckdb``, the documented limits)."""
    settings = settings or WebSettings()
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    store = RunStore(Path(settings.store))
    jobs = JobManager(
        store,
        max_concurrent_jobs=settings.max_concurrent_jobs,
        max_queued_jobs=settings.max_queued_jobs,
        chunk_size=settings.chunk_size,
        backend=settings.backend,
    )
    catalog = Catalog()
    reviews = ReviewStore(data_dir, settings.max_review_reports)
    replay_slots = Busy(settings.max_concurrent_replays, 20.0, "replays")
    draw_slots = Busy(2, 20.0, "charts")
    pdf_slots = Busy(2, 20.0, "plan pages")

    version = code_version()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        try:
            yield
        finally:
            await asyncio.to_thread(jobs.shutdown)
            store.close()

    app = FastAPI(
        title="responsesim",
        version=version,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.jobs = jobs
    app.state.store = store
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)
    # outermost: host, origin and connection checks before anything reads the body (web/security.py)
    app.add_middleware(
        SecurityMiddleware, hosts=allowed_hosts(settings), max_connections=settings.max_connections
    )

    # ---------------------------------------------------------------------------------------- errors
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.field, exc.line), exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail) if exc.status_code != 404 else "not found (see GET / for the page)"
        return JSONResponse(error_body(message), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        return JSONResponse(error_body(f"{field or 'request'}: {first.get('msg', 'invalid')}", field), 422)

    # ---------------------------------------------------------------------------------------- basics
    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "version": version}

    @app.get("/api/limits")
    async def limits() -> dict[str, int]:
        return {
            "max_replications": settings.max_replications,
            "max_upload_bytes": settings.max_upload_bytes,
            "max_concurrent_jobs": settings.max_concurrent_jobs,
            "max_queued_jobs": settings.max_queued_jobs,
            "max_review_timelines": MAX_TIMELINES,
            "max_review_protocols": MAX_PROTOCOLS,
        }

    @app.get("/api/scenarios")
    async def scenarios() -> list[dict[str, str]]:
        return catalog.list()

    @app.get("/api/scenarios/{scenario_id}")
    def scenario(scenario_id: str) -> dict[str, Any]:
        sc = catalog.load(scenario_id)
        return {
            "id": scenario_id,
            "name": sc.spec.name,
            "description": sc.spec.description,
            "toml": sc.text,
            "form": scenario_form(sc),
            "warnings": extrapolation_warnings(sc),
        }

    @app.get("/api/doctrines")
    async def doctrines() -> list[dict[str, Any]]:
        return doctrine_list()

    @app.post("/api/validate")
    async def validate(request: Request) -> dict[str, Any]:
        body = await read_json(request)
        filename = safe_filename(body.get("filename"), "scenario.toml")
        sc = await asyncio.to_thread(load_upload, body.get("toml"), filename)  # type: ignore[arg-type]
        warnings = extrapolation_warnings(sc)
        if sc.spec.replications > settings.max_replications:
            warnings.append(
                f"replications = {sc.spec.replications} is more than this server runs "
                f"({settings.max_replications}); set a smaller count before running"
            )
        return {"ok": True, "name": sc.spec.name, "form": scenario_form(sc), "warnings": warnings}

    # ---------------------------------------------------------------------------------------- runs
    def _scenario_for_run(body: dict[str, Any]) -> tuple[Scenario, Scenario]:
        """(the run's scenario with the form applied, the scenario as written)."""
        toml, scenario_id = body.get("toml"), body.get("scenario_id")
        if toml is not None and scenario_id is not None:
            raise ApiError(400, "give either toml or scenario_id, not both", field="scenario_id")
        if toml is not None:
            sc = load_upload(toml, safe_filename(body.get("filename"), "scenario.toml"))
        else:
            if scenario_id is not None and not isinstance(scenario_id, str):
                raise ApiError(400, "scenario_id must be a string", field="scenario_id")
            sc = catalog.load(scenario_id or "default", missing_status=400)
        form = body.get("form")
        base = sc
        sc = apply_form(sc, form or {}, settings.max_replications)
        check_replications(sc, settings.max_replications)
        if body.get("building") is not None:  # a building file from the page's editor (web/editor.py)
            sc = scenario_with_building(sc, *store_building(data_dir, body["building"], "building.toml"))
        return sc, base

    @app.post("/api/runs", status_code=202)
    async def start_run(request: Request) -> JSONResponse:
        body = await read_json(request)
        label = body.get("label")
        if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
            raise ApiError(400, f"label must be a string of at most {MAX_LABEL} characters", field="label")
        unknown = sorted(set(body) - {"toml", "scenario_id", "filename", "form", "label", "building"})
        if unknown:
            raise ApiError(400, f"unknown key(s) in the request: {', '.join(unknown)}", field=unknown[0])
        sc, base = await asyncio.to_thread(_scenario_for_run, body)
        about = {
            "levers": lever_changes(base, sc),
            "base_scenario": {"name": base.spec.name, "sha256": base.sha256},
        }
        try:
            job = jobs.submit(sc, label, about)
        except QueueFullError as exc:
            raise ApiError(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from exc
        return JSONResponse({"job_id": job.job_id, "replications": job.total}, status_code=202)

    @app.get("/api/runs")
    def list_runs() -> list[dict[str, Any]]:
        return store.list_runs()

    def _header(run_id: str) -> tuple[Any, dict[str, Any], str]:
        try:
            return store.header(run_id)
        except RunNotFoundError as exc:
            raise ApiError(404, str(exc), field="run_id") from exc

    @app.get("/api/runs/{run_id}")
    def get_run(run_id: str) -> dict[str, Any]:
        meta, summary, created = _header(run_id)
        info = meta_json(meta)
        info["created_at"] = created
        info["label"] = summary.get("label")
        info["levers"] = summary.get("levers")
        info["base_scenario"] = summary.get("base_scenario")
        return {
            "run_id": run_id,
            "meta": info,
            "summary": summary,
            "plots": [
                {"metric": m, "title": PLOT_METRICS[m][0], "url": f"/api/runs/{run_id}/plots/{m}.png"}
                for m in RUN_PLOTS
            ],
        }

    @app.get("/api/runs/{run_id}/plots/{metric}.png")
    def run_plot(run_id: str, metric: str) -> Response:
        if metric not in PLOT_METRICS:
            raise ApiError(404, f"no plot {metric!r} (known: {', '.join(PLOT_METRICS)})", field="metric")
        _header(run_id)
        path = plot_path(data_dir, run_id, metric)
        if not path.is_file():
            with draw_slots.slot():
                try:
                    outcomes = incidents(store.outcomes(run_id))  # attempts with no shot are left out
                except RunNotFoundError as exc:
                    raise ApiError(404, str(exc), field="run_id") from exc
                write_atomically(path, histogram_png(outcomes, metric, f" ({len(outcomes)} incidents)"))
        return FileResponse(path, media_type="image/png")

    @app.get("/api/runs/{run_id}/replay")
    def run_replay(run_id: str, rep: int = 0) -> Response:
        meta, _, _ = _header(run_id)
        n = int(meta.replications)
        if not 0 <= rep < n:
            why = f"rep {rep} is out of range: this run has replications 0-{n - 1}"
            raise ApiError(422, why, field="rep")
        cache = data_dir / "replays" / run_id / f"{rep}.v{REPLAY_FORMAT}.json"
        if not cache.is_file():
            with replay_slots.slot():
                try:
                    sc = store.scenario(run_id)
                except RunNotFoundError as exc:
                    raise ApiError(404, str(exc), field="run_id") from exc
                theta = None
                if meta.parameter_draws_json:  # the run drew its parameters from the posterior
                    draws = ParameterDraws.from_stored(meta.parameter_draws_json, np.array([rep]))
                    theta = {k: float(v[0]) for k, v in (draws.theta or {}).items()}
                body = replay(sc.params, rep, settings.max_replay_frames, theta)
                write_atomically(cache, json.dumps(body, separators=(",", ":")).encode())
                prune_oldest(data_dir / "replays", "*/*.json", settings.max_cached_replays)
        return FileResponse(cache, media_type="application/json")

    @app.get("/api/runs/{run_id}/replay-choices")
    def run_replay_choices(run_id: str) -> list[dict[str, Any]]:
        """Representative replications to replay (typical, worst, police stop, ...; web/replay.py)."""
        _header(run_id)
        with draw_slots.slot():
            try:
                return replay_choices(store.outcomes(run_id))
            except RunNotFoundError as exc:
                raise ApiError(404, str(exc), field="run_id") from exc

    @app.get("/api/compare")
    def compare(a: str, b: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        metas, summaries = {}, {}
        for key, run_id in (("a", a), ("b", b)):
            meta, summary, created = _header(run_id)
            metas[key], summaries[key] = meta, summary
            out[key] = _run_header(run_id, meta, summary, created)
            out[key]["warnings"] = summary.get("warnings", [])
            out[key]["uncertainty"] = summary.get("uncertainty") or {"mode": "point"}
        paired = metas["a"].seed == metas["b"].seed and metas["a"].replications == metas["b"].replications
        with draw_slots.slot():
            pair = (summaries["a"], summaries["b"])
            out["rows"] = compare_rows(store.outcomes(a), store.outcomes(b), paired, summaries=pair)
        out["paired"] = out["rows"][0]["method"] == "paired" if out["rows"] else paired
        return out

    # ---------------------------------------------------------------------------------------- jobs
    def _job(job_id: str) -> Job:
        job = jobs.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            why = f"no job {job_id[:80]!r} (jobs are kept while the server runs)"
            raise ApiError(404, why, field="job_id")
        return job

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str) -> dict[str, Any]:
        job = _job(job_id)
        return {**job.to_json(), "ahead": jobs.ahead(job)}

    @app.post("/api/jobs/{job_id}/cancel")
    def job_cancel(job_id: str) -> dict[str, Any]:
        _job(job_id)
        job = jobs.cancel(job_id)
        assert job is not None
        job.finished.wait(timeout=2.0)  # a running job stops at its next chunk: usually answer "cancelled"
        return job.to_json()

    @app.get("/api/jobs/{job_id}/events")
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        job = _job(job_id)

        async def stream() -> AsyncIterator[str]:
            seen: tuple[int, int] = (-1, -1)
            idle = 0.0
            yield "retry: 2000\n\n"
            while True:
                version, status, done = job.version, job.status, job.done
                ahead = jobs.ahead(job)  # a queued run says how many it waits for, not "Running: 0 of N"
                if (version, ahead) != seen:
                    seen = (version, ahead)
                    idle = 0.0
                    data = {"done": done, "total": job.total, "status": status, "ahead": ahead}
                    yield f"event: progress\ndata: {json.dumps(data)}\n\n"
                if status in FINAL:
                    if status == "done":
                        yield f"event: done\ndata: {json.dumps({'run_id': job.run_id})}\n\n"
                    elif status == "error":
                        yield f"event: error\ndata: {json.dumps({'error': job.error})}\n\n"
                    else:
                        yield "event: cancelled\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(settings.sse_poll_s)
                idle += settings.sse_poll_s
                if idle >= 15.0:
                    idle = 0.0
                    yield ": keep-alive\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # ---------------------------------------------------------------------------------------- buildings
    @app.post("/api/buildings/validate")
    async def validate_building(request: Request) -> dict[str, Any]:
        """A plan drawn in the editor -> its building graph and file (web/editor.py), or 400."""
        return await asyncio.to_thread(validate_plan, await read_json(request))

    @app.post("/api/buildings/read")
    async def read_building(request: Request) -> dict[str, Any]:
        """A building file (``text``, ``filename``) -> its plan in the editor's form, to edit."""
        body = await read_json(request)
        filename = safe_filename(body.get("filename"), "building.toml")
        return await asyncio.to_thread(read_building_text, data_dir, body.get("text"), filename)

    @app.post("/api/buildings/pdf-page")
    async def pdf_page(request: Request) -> Response:
        """A PDF plan (the body, ``application/pdf``) -> its first page as a PNG for the editor's backdrop
        (longer side 2000 px); ``X-Pdf-Pages`` (the page count), ``X-Pdf-Page-Width-Pt`` and
        ``X-Pdf-Page-Height-Pt`` (the page's size in points). A file that is not a readable PDF is a 400,
        a page too large, too small or too complex to draw a 422 (``web/pdfpage.py``)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/pdf":
            got = ctype or "no content type"
            raise ApiError(415, f"send the PDF file itself as application/pdf (got {got})", field="body")
        data = await request.body()

        def run() -> PdfPage:
            with pdf_slots.slot():
                return render_isolated(data)

        try:
            page = await asyncio.to_thread(run)
        except PdfPageError as exc:
            raise ApiError(exc.status, exc.message, field="pdf") from exc
        headers = {
            "X-Pdf-Pages": str(page.pages),
            "X-Pdf-Page-Width-Pt": f"{page.width_pt:.2f}",
            "X-Pdf-Page-Height-Pt": f"{page.height_pt:.2f}",
            "Cache-Control": "no-store",
        }
        return Response(page.png, media_type="image/png", headers=headers)

    # ---------------------------------------------------------------------------------------- review
    @app.post("/api/review")
    async def post_review(request: Request) -> dict[str, Any]:
        """Multipart: ``timeline`` (one or several files, repeat the field), ``protocol`` (likewise), an
        optional ``incident`` file and ``change`` text; the review in parts, each with a swimlane chart."""
        most = MAX_TIMELINES + MAX_PROTOCOLS + 1
        form = await read_multipart(request, settings.max_upload_bytes, max_files=most)
        try:
            unknown = sorted(set(form.keys()) - {"timeline", "protocol", "incident", "change"})
            if unknown:
                why = f"unknown field(s) in the upload: {', '.join(unknown)} (expected timeline, protocol, "
                raise ApiError(400, why + "incident, change)", field=unknown[0])
            timelines = await upload_texts(form, "timeline", "timeline.csv", MAX_TIMELINES)
            protocols = await upload_texts(form, "protocol", "protocol.toml", MAX_PROTOCOLS)
            incidents = await upload_texts(form, "incident", "incident.toml", 1)
            change_field = form.get("change")
            change = change_field.strip() if isinstance(change_field, str) and change_field.strip() else None
        finally:
            await form.close()  # the in-memory upload files (no ResourceWarning)
        incident = incidents[0] if incidents else None
        if change is not None and (len(change) > 500 or incident is None):
            raise ApiError(400, "change: needs an incident file and at most 500 characters", field="change")

        def run() -> dict[str, Any]:
            with draw_slots.slot():
                return reviews.run(timelines, protocols, incident, change)

        return await asyncio.to_thread(run)

    @app.get("/api/review/{review_id}/swimlane.png")
    def review_swimlane(review_id: str) -> FileResponse:
        return FileResponse(reviews.swimlane(review_id), media_type="image/png")

    @app.get("/api/review/{review_id}/swimlane/{part}.png")
    def review_part_swimlane(review_id: str, part: str) -> FileResponse:
        return FileResponse(reviews.part_chart(review_id, part), media_type="image/png")

    @app.get("/api/review/{review_id}/curve.png")
    def review_curve(review_id: str) -> FileResponse:
        return FileResponse(reviews.swimlane(review_id, "curve.png"), media_type="image/png")

    # ---------------------------------------------------------------------------------------- page
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app
