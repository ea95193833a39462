"""A finished scan's files: the HTML report, the preview and the heatmap overlay."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from .. import artifacts
from ..deps import auth, done_record
from ..errors import ApiError
from ..middleware import REPORT_CSP

router = APIRouter(tags=["scans"], dependencies=auth)


@router.get("/v1/scans/{scan_id}/report")
async def report(request: Request, scan_id: str) -> FileResponse:
    media = request.app.state.media
    rec = await done_record(request, scan_id, "report")
    path = await run_in_threadpool(artifacts.report_path, rec.result, media.artifact_dir(rec.id))
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/v1/scans/{scan_id}/preview.jpg")
async def preview(request: Request, scan_id: str) -> FileResponse:
    media = request.app.state.media
    rec = await done_record(request, scan_id, "preview")
    path = artifacts.preview_path(media.artifact_dir(rec.id))
    if path is None:
        raise ApiError(404, "not_found", f"scan {scan_id} has no preview")
    return FileResponse(path, media_type="image/jpeg")


@router.get("/v1/scans/{scan_id}/overlay.png")
async def overlay(request: Request, scan_id: str) -> FileResponse:
    media = request.app.state.media
    rec = await done_record(request, scan_id, "overlay")
    path = await run_in_threadpool(artifacts.overlay_path, rec.result, media.artifact_dir(rec.id))
    if path is None:
        raise ApiError(404, "not_found", f"scan {scan_id} has no heatmap overlay")
    return FileResponse(path, media_type="image/png")
