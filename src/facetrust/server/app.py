"""The FastAPI app: ``create_app(config)`` wires the store, the worker pool, the page and the routes.

Blocking work (database, hashing, file moves) runs in Starlette's thread pool; a synchronous image
request awaits its scan on an asyncio future that the worker resolves, so waiting costs no thread.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from .. import __version__
from . import artifacts, errors
from .config import MB, ServerConfig, parse_bool
from .errors import ApiError
from .intake import parse_options, resolve_path, store_upload
from .jobs import WorkerPool
from .metrics import Metrics
from .middleware import PAGE_CSP, REPORT_CSP, BodyLimit, RequestMetrics, SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"
_SCAN_ID = re.compile(r"^[0-9a-f]{32}$")
_FINAL = ("done", "failed")
_OPTIONS_DOC = {
    "threshold": {"type": "number", "minimum": 0, "maximum": 1},
    "frames": {"type": "integer", "minimum": 1, "description": "video: frames spread uniformly"},
    "every": {"type": "integer", "minimum": 1, "description": "video: every k-th frame"},
    "fps": {"type": "number", "exclusiveMinimum": 0, "description": "video: frames per second"},
    "detectors": {"type": "string", "description": "comma-separated detector names"},
    "aggregation": {"type": "string"},
    "face_detector": {"type": "string"},
    "min_face_size": {"type": "number"},
    "wait": {"type": "boolean", "description": "images: answer when scanned (default true)"},
}
# The body is parsed by hand (size limits before parsing), so its schema is declared here for /docs.
SCAN_REQUEST_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, **_OPTIONS_DOC}}},
    "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string", "description": "absolute path under an allowed root"}, **_OPTIONS_DOC}}},
}}}


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"


def scan_view(rec, media, *, with_result: bool = True) -> dict[str, Any]:
    """The JSON shape of one scan (see docs/service.md)."""
    view: dict[str, Any] = {
        "id": rec.id, "status": rec.status, "kind": rec.kind, "source": rec.source, "filename": rec.filename,
        "media_sha256": rec.media_sha256, "media_bytes": rec.media_bytes,
        "created_at": _iso(rec.created_at), "started_at": _iso(rec.started_at),
        "finished_at": _iso(rec.finished_at), "progress": rec.progress, "frames_done": rec.frames_done,
        "frames_total": rec.frames_total, "attempts": rec.attempts, "verdict": rec.verdict,
        "fake_probability": rec.fake_probability,
        "error": {"code": rec.error_type or "error", "message": rec.error} if rec.error else None,
        "artifacts": artifacts.describe(rec.id, media.artifact_dir(rec.id)) if rec.status == "done" else {},
    }
    if with_result:
        view["result"] = rec.result
    return view


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    flag = parse_bool(value)
    if flag is None:
        raise ApiError(422, "validation_error", f"wait: expected true or false, got {value!r}")
    return flag


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from files installed with the server (FastAPI's default loads them from a CDN,
    which an air-gapped machine cannot reach)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    try:
        import fastapi_offline
    except ImportError:  # the page still names the machine-readable schema
        assets = None
    else:
        assets = Path(fastapi_offline.__file__).parent / "static"
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse('<p>API schema: <a href="/openapi.json">/openapi.json</a></p>')
        return get_swagger_ui_html(openapi_url="/openapi.json", title="facetrust API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")


def create_app(config: ServerConfig, *, store=None, media=None) -> FastAPI:
    from .media import MediaStore
    from .store import Store

    config.validate()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    own_store = store is None
    store = store if store is not None else Store(config.database_url)
    media = media if media is not None else MediaStore(config.data_dir)
    pool = WorkerPool(store, media, config)
    metrics = Metrics(store, pool)
    pool.metrics = metrics

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(store.migrate)
        pool.start()
        try:
            yield
        finally:
            await run_in_threadpool(pool.stop)
            if own_store:
                store.close()

    app = FastAPI(title="facetrust", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Face forensics as a service: is this face genuine, where, how and why.")
    app.state.config, app.state.store, app.state.media, app.state.pool = config, store, media, pool
    errors.install(app)
    # Outermost last: headers on every answer, metrics see the final status, the body cap runs first.
    app.add_middleware(BodyLimit, max_bytes=max(config.max_image_bytes, config.max_video_bytes) + MB)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(SecurityHeaders)

    bearer = HTTPBearer(auto_error=False, description="the server's API token")  # also documents it in /docs

    def require_token(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if config.token is None:  # --insecure-local on loopback
            return
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), config.token.encode()):
            raise ApiError(401, "unauthorized", "missing or wrong API token", {"WWW-Authenticate": "Bearer"})

    auth = [Depends(require_token)]

    async def get_record(scan_id: str):
        rec = await run_in_threadpool(store.get_scan, scan_id) if _SCAN_ID.match(scan_id) else None
        if rec is None:
            raise ApiError(404, "not_found", f"no scan {scan_id!r}")
        return rec

    async def wait_done(scan_id: str, timeout: float):
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def resolve() -> None:
            if not fut.done():
                fut.set_result(None)

        undo = pool.on_finished(scan_id, lambda: loop.call_soon_threadsafe(resolve))
        pool.notify()
        try:
            rec = await run_in_threadpool(store.get_scan, scan_id)
            if rec.status not in _FINAL:  # registered before this read, so a fast finish is not missed
                try:
                    await asyncio.wait_for(fut, timeout)
                except asyncio.TimeoutError:
                    pass
                rec = await run_in_threadpool(store.get_scan, scan_id)
            return rec
        finally:
            undo()

    # -- page ------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise ApiError(404, "not_found", "the web page is not installed")
        return FileResponse(index, media_type="text/html", headers={"Content-Security-Policy": PAGE_CSP})

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    _offline_docs(app)

    # -- operations ------------------------------------------------------------------------
    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        try:
            counts = store.counts_by_status()
        except Exception as exc:
            return errors.error_response(503, "unavailable", f"store unreachable: {type(exc).__name__}")
        return JSONResponse({"status": "ok", "version": __version__, "store": store.dialect,
                             "workers": config.workers, "queued": counts.get("queued", 0),
                             "running": counts.get("running", 0)})

    @app.get("/metrics", tags=["operations"], dependencies=auth)
    def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    # -- API -------------------------------------------------------------------------------
    @app.get("/v1/detectors", tags=["scans"], dependencies=auth)
    def detectors() -> dict:
        from ..api import list_detectors
        from ..detectors import DEFAULT_DETECTORS

        infos = [{"name": i.name, "version": i.version, "catches": i.catches, "description": i.description,
                  "default_threshold": i.default_threshold, "trained": i.trained,
                  "outputs_heatmap": i.outputs_heatmap, "outputs_family": i.outputs_family}
                 for i in list_detectors()]
        return {"detectors": infos, "default": list(config.default_options.get("detectors", DEFAULT_DETECTORS))}

    @app.post("/v1/scans", tags=["scans"], dependencies=auth, status_code=202, openapi_extra=SCAN_REQUEST_DOC)
    async def create_scan(request: Request) -> JSONResponse:
        """Upload (multipart field ``file``) or name a server-side ``path`` (JSON); images answer at once."""
        queued = await run_in_threadpool(store.count, "queued")
        if queued >= config.queue_size:  # before reading the body: a full queue costs the client no upload
            metrics.rejected.labels("queue_full").inc()
            retry = max(1, math.ceil((queued + 1) * pool.mean_scan_s / config.workers))
            raise ApiError(429, "queue_full", f"{queued} scans are waiting; retry later",
                           {"Retry-After": str(retry)})
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "bad_request", "the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(422, "validation_error", "the JSON body must be an object")
            path, wait = body.pop("path", None), body.pop("wait", None)
            options = parse_options(body, config)
            intake = await run_in_threadpool(resolve_path, path, config)
        elif ctype == "multipart/form-data":
            form = await request.form(max_files=1, max_fields=32)
            try:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise ApiError(400, "bad_request", "multipart field 'file' with the media is missing")
                fields = {k: v for k, v in form.multi_items() if k != "file"}
                if any(not isinstance(v, str) for v in fields.values()):
                    raise ApiError(400, "bad_request", "only one file, in the field 'file', is accepted")
                wait = fields.pop("wait", None)
                options = parse_options(fields, config)
                intake = await run_in_threadpool(store_upload, upload.file, upload.filename, upload.size,
                                                 media, config)
            finally:
                await form.close()
        else:
            raise ApiError(415, "unsupported_media_type",
                           "send multipart/form-data with a 'file' field, or application/json with a 'path'")
        rec = await run_in_threadpool(lambda: store.create_scan(
            kind=intake.kind, source=intake.source, filename=intake.filename, media_path=intake.media_path,
            media_sha256=intake.media_sha256, media_bytes=intake.media_bytes, options=options))
        if intake.kind == "image" and _bool(wait, True):
            rec = await wait_done(rec.id, config.sync_timeout_s)
        else:
            pool.notify()
        status = 200 if rec.status in _FINAL else 202
        return JSONResponse(scan_view(rec, media), status_code=status, headers={"Location": f"/v1/scans/{rec.id}"})

    @app.get("/v1/scans", tags=["scans"], dependencies=auth)
    async def list_scans(limit: int = 20, cursor: str | None = None, status: str | None = None) -> dict:
        if status is not None and status not in ("queued", "running", "done", "failed"):
            raise ApiError(422, "validation_error", f"unknown status {status!r}")
        try:
            records, next_cursor = await run_in_threadpool(
                lambda: store.list_scans(limit=max(1, min(100, limit)), cursor=cursor, status=status,
                                          with_result=False))
        except ValueError:
            raise ApiError(400, "bad_request", "invalid cursor") from None
        return {"items": [scan_view(r, media, with_result=False) for r in records], "next_cursor": next_cursor}

    @app.get("/v1/scans/{scan_id}", tags=["scans"], dependencies=auth)
    async def get_scan(scan_id: str) -> dict:
        return scan_view(await get_record(scan_id), media)

    async def done_record(scan_id: str, what: str):
        rec = await get_record(scan_id)
        if rec.status != "done" or rec.result is None:
            raise ApiError(404, "not_found", f"scan {scan_id} has no {what} (status {rec.status})")
        return rec

    @app.get("/v1/scans/{scan_id}/report", tags=["scans"], dependencies=auth)
    async def report(scan_id: str) -> FileResponse:
        rec = await done_record(scan_id, "report")
        path = await run_in_threadpool(artifacts.report_path, rec.result, media.artifact_dir(rec.id))
        return FileResponse(path, media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": REPORT_CSP})

    @app.get("/v1/scans/{scan_id}/preview.jpg", tags=["scans"], dependencies=auth)
    async def preview(scan_id: str) -> FileResponse:
        rec = await done_record(scan_id, "preview")
        path = artifacts.preview_path(media.artifact_dir(rec.id))
        if path is None:
            raise ApiError(404, "not_found", f"scan {scan_id} has no preview")
        return FileResponse(path, media_type="image/jpeg")

    @app.get("/v1/scans/{scan_id}/overlay.png", tags=["scans"], dependencies=auth)
    async def overlay(scan_id: str) -> FileResponse:
        rec = await done_record(scan_id, "overlay")
        path = await run_in_threadpool(artifacts.overlay_path, rec.result, media.artifact_dir(rec.id))
        if path is None:
            raise ApiError(404, "not_found", f"scan {scan_id} has no heatmap overlay")
        return FileResponse(path, media_type="image/png")

    return app
