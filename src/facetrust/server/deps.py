"""What the routers share: the app's services (from ``app.state``), the token check, scan lookups."""

from __future__ import annotations

import hmac
import re

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from .errors import ApiError

_SCAN_ID = re.compile(r"^[0-9a-f]{32}$")

bearer = HTTPBearer(auto_error=False, description="the server's API token")  # also documents it in /docs


def require_token(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    config = request.app.state.config
    if config.token is None:  # --insecure-local on loopback
        return
    if creds is None or not hmac.compare_digest(creds.credentials.encode(), config.token.encode()):
        raise ApiError(401, "unauthorized", "missing or wrong API token", {"WWW-Authenticate": "Bearer"})


auth = [Depends(require_token)]


async def get_record(request: Request, scan_id: str):
    store = request.app.state.store
    rec = await run_in_threadpool(store.get_scan, scan_id) if _SCAN_ID.match(scan_id) else None
    if rec is None:
        raise ApiError(404, "not_found", f"no scan {scan_id!r}")
    return rec


async def done_record(request: Request, scan_id: str, what: str):
    rec = await get_record(request, scan_id)
    if rec.status != "done" or rec.result is None:
        raise ApiError(404, "not_found", f"scan {scan_id} has no {what} (status {rec.status})")
    return rec
