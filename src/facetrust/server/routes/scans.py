"""Detectors, creating scans (upload or server-side path), history and one scan."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..config import parse_bool
from ..deps import auth, get_record
from ..errors import ApiError
from ..intake import expand_path_scan, parse_options, request_options_doc, resolve_path, store_upload
from ..jsonbody import read_json
from ..views import scan_view

_FINAL = ("done", "failed")
# The request options' schema, generated from their declaration (ScanOptions fields with request=True).
_OPTIONS_DOC = {
    **request_options_doc(),
    "wait": {"type": "boolean", "description": "images: answer when scanned (default true)"},
}
# The body is parsed by hand (size limits before parsing), so its schema is declared here for /docs.
SCAN_REQUEST_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, **_OPTIONS_DOC}}},
    "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string", "description": "absolute path under an allowed root: a file (one scan), "
                 "or a folder or glob (one scan per file, answered {scans, skipped})"}, **_OPTIONS_DOC}}},
}}}

router = APIRouter(tags=["scans"], dependencies=auth)


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    flag = parse_bool(value)
    if flag is None:
        raise ApiError(422, "validation_error", f"wait: expected true or false, got {value!r}")
    return flag


async def wait_done(request: Request, scan_id: str, timeout: float):
    store, pool = request.app.state.store, request.app.state.pool
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


@router.get("/v1/detectors")
def detectors(request: Request) -> dict:
    from ...api import list_detectors
    from ...detectors import DEFAULT_DETECTORS

    config = request.app.state.config
    infos = [{"name": i.name, "version": i.version, "catches": i.catches, "description": i.description,
              "default_threshold": i.default_threshold, "trained": i.trained,
              "outputs_heatmap": i.outputs_heatmap, "outputs_family": i.outputs_family}
             for i in list_detectors()]
    return {"detectors": infos, "default": list(config.default_options.get("detectors", DEFAULT_DETECTORS))}


@router.post("/v1/scans", status_code=202, openapi_extra=SCAN_REQUEST_DOC)
async def create_scan(request: Request) -> JSONResponse:
    """Upload (multipart field ``file``) or name a server-side ``path`` (JSON); images answer at once."""
    state = request.app.state
    config, store, media, pool, metrics = state.config, state.store, state.media, state.pool, state.metrics
    queued = await run_in_threadpool(store.count, "queued")
    if queued >= config.queue_size:  # before reading the body: a full queue costs the client no upload
        metrics.rejected.labels("queue_full").inc()
        retry = max(1, math.ceil((queued + 1) * pool.mean_scan_s / config.workers))
        raise ApiError(429, "queue_full", f"{queued} scans are waiting; retry later",
                       {"Retry-After": str(retry)})
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        body = await read_json(request, config)
        if not isinstance(body, dict):
            raise ApiError(422, "validation_error", "the JSON body must be an object")
        path, wait = body.pop("path", None), body.pop("wait", None)
        options = parse_options(body, config)
        files = await run_in_threadpool(expand_path_scan, path, config, config.queue_size - queued)
        if files is not None:  # a folder or a glob: one scan per file, answered at once
            return await _create_many(request, files, options)
        intake = await run_in_threadpool(resolve_path, path, config, media)
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
        rec = await wait_done(request, rec.id, config.sync_timeout_s)
    else:
        pool.notify()
    status = 200 if rec.status in _FINAL else 202
    return JSONResponse(scan_view(rec, media), status_code=status, headers={"Location": f"/v1/scans/{rec.id}"})


async def _create_many(request: Request, files: list[str], options: dict) -> JSONResponse:
    """One queued scan per file of a folder or glob; a file refused on its own (not media, too
    large, gone) is listed under ``skipped`` with the error it would have had alone."""
    state = request.app.state
    config, store, media, pool = state.config, state.store, state.media, state.pool
    scans, skipped = [], []
    for path in files:
        try:
            intake = await run_in_threadpool(resolve_path, path, config, media)
        except ApiError as exc:
            skipped.append({"path": path, "code": exc.code, "message": exc.detail})
            continue
        rec = await run_in_threadpool(lambda: store.create_scan(
            kind=intake.kind, source=intake.source, filename=intake.filename, media_path=intake.media_path,
            media_sha256=intake.media_sha256, media_bytes=intake.media_bytes, options=options))
        scans.append(scan_view(rec, media))
    pool.notify()
    return JSONResponse({"scans": scans, "skipped": skipped}, status_code=202)


@router.get("/v1/scans")
async def list_scans(request: Request, limit: int = 20, cursor: str | None = None,
                     status: str | None = None) -> dict:
    store, media = request.app.state.store, request.app.state.media
    if status is not None and status not in ("queued", "running", "done", "failed"):
        raise ApiError(422, "validation_error", f"unknown status {status!r}")
    try:
        records, next_cursor = await run_in_threadpool(
            lambda: store.list_scans(limit=max(1, min(100, limit)), cursor=cursor, status=status,
                                      with_result=False))
    except ValueError:
        raise ApiError(400, "bad_request", "invalid cursor") from None
    return {"items": [scan_view(r, media, with_result=False) for r in records], "next_cursor": next_cursor}


@router.get("/v1/scans/{scan_id}")
async def get_scan(request: Request, scan_id: str) -> dict:
    return scan_view(await get_record(request, scan_id), request.app.state.media)
