"""Health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ... import __version__
from .. import errors
from ..deps import auth

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    store, config = request.app.state.store, request.app.state.config
    try:
        counts = store.counts_by_status()
    except Exception as exc:
        return errors.error_response(503, "unavailable", f"store unreachable: {type(exc).__name__}")
    return JSONResponse({"status": "ok", "version": __version__, "store": store.dialect,
                         "workers": config.workers, "queued": counts.get("queued", 0),
                         "running": counts.get("running", 0)})


@router.get("/metrics", dependencies=auth)
def prometheus(request: Request) -> Response:
    metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=metrics.content_type)
