"""``POST /v1/verify``: two uploads (``probe``, ``reference``) -> the ``facetrust verify`` JSON.

Each upload goes through the scan upload's intake (content sniffed, the image size limit, the
content-addressed store), so the same bytes rules apply. Verification answers synchronously (two
still images); it runs outside the scan queue, one request at a time per process (``_LOCK``: a
Scanner and dlib's models are not shared between threads).
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..deps import auth
from ..errors import ApiError
from ..intake import parse_options, store_upload

_ROLES = ("probe", "reference")
_LOCK = threading.Lock()
VERIFY_REQUEST_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": list(_ROLES), "properties": {
        "probe": {"type": "string", "format": "binary", "description": "the photo to check"},
        "reference": {"type": "string", "format": "binary", "description": "a trusted photo of the person"},
        "threshold": {"type": "number", "description": "the probe's forgery scan threshold"},
        "detectors": {"type": "string", "description": "comma-separated detector names (probe scan)"},
        "face_detector": {"type": "string"},
    }}}}}}

router = APIRouter(tags=["verify"], dependencies=auth)


def _verify(paths: dict[str, str], options: dict) -> dict:
    from ...api import get_scanner
    from ...biometrics import verify_pair

    with _LOCK:
        report = verify_pair(paths["probe"], paths["reference"], scanner=get_scanner(**options))
    out = report.to_dict()
    for role in _ROLES:  # the client's names, never the server's storage layout
        out[role] = paths[f"{role}_name"]
    for scan in ("probe_scan", "probe_liveness"):
        if out.get(scan) is not None:
            out[scan]["path"] = paths["probe_name"]
    return out


@router.post("/v1/verify", openapi_extra=VERIFY_REQUEST_DOC)
async def verify(request: Request) -> JSONResponse:
    """Is the probe the same person as the reference (calibrated probability), and is the probe forged?"""
    state = request.app.state
    config, media = state.config, state.media
    try:
        from ...biometrics.embedding import load_embedder

        await run_in_threadpool(load_embedder)
    except ImportError:
        raise ApiError(503, "unavailable", "verification needs the dlib extra on the server "
                       "(pip install 'facetrust[dlib]')") from None
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data with 'probe' and 'reference' files")
    form = await request.form(max_files=2, max_fields=32)
    try:
        uploads = {role: form.get(role) for role in _ROLES}
        absent = [role for role, u in uploads.items() if not isinstance(u, UploadFile)]
        if absent:
            raise ApiError(400, "bad_request", f"multipart file field(s) missing: {', '.join(absent)}")
        fields = {k: v for k, v in form.multi_items() if k not in _ROLES}
        if any(not isinstance(v, str) for v in fields.values()):
            raise ApiError(400, "bad_request", "only two files, in the fields 'probe' and 'reference', are accepted")
        options = parse_options(fields, config)
        paths: dict[str, str] = {}
        for role, upload in uploads.items():
            intake = await run_in_threadpool(store_upload, upload.file, upload.filename, upload.size, media, config)
            if intake.kind != "image":
                raise ApiError(415, "unsupported_media_type", f"{role}: verification compares still images")
            paths[role], paths[f"{role}_name"] = intake.media_path, intake.filename or role
    finally:
        await form.close()
    options = {**options, "previews": False}
    return JSONResponse(await run_in_threadpool(_verify, paths, options))
