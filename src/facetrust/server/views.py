"""The JSON shape of a scan as the API answers it (see docs/service.md)."""

from __future__ import annotations

import time
from typing import Any

from . import artifacts


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
