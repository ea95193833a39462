"""Files a finished scan leaves for the web page: preview JPEG, heatmap overlay PNG, HTML report.

They are rendered by the worker while the heatmaps and previews are still in memory (the JSON
result never carries arrays), and described in the scan view by :func:`describe`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..report.html import heatmap_in_preview, render_html
from ..report.json_io import atomic_write_text
from ..report.schema import MediaResult, ScanReport

PREVIEW, OVERLAY, REPORT, META = "preview.jpg", "overlay.png", "report.html", "preview.json"
OVERLAY_ALPHA = 0.7


def _preview_frame(result: MediaResult) -> int | None:
    """The preview to show: the image itself, or the most suspicious video frame that has one."""
    if not result.previews:
        return None
    by_frame = {fr.index: fr.fake_probability for fr in result.frames}

    def key(i: int) -> tuple[float, int]:
        p = by_frame.get(i)
        return (p if p is not None else -1.0, -i)

    return max(result.previews, key=key)


def overlay_rgba(result: MediaResult, frame_index: int, shape: tuple[int, int]) -> np.ndarray:
    """RGBA (H, W, 4) uint8: each face's heatmap in JET colours inside its crop, transparent elsewhere."""
    import cv2

    h, w = shape
    heat = np.zeros((h, w), np.float32)
    alpha = np.zeros((h, w), np.float32)
    for face in result.faces:
        if face.frame_index != frame_index:
            continue
        warped = heatmap_in_preview(face, (h, w), result.preview_scale)
        if warped is None:
            continue
        hm, footprint = warped
        take = footprint > alpha  # overlapping crops: the face that covers the pixel most wins
        heat[take], alpha[take] = hm[take], footprint[take]
    colour = cv2.applyColorMap(np.round(heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    # Opacity follows the heat: cold parts of the crop stay see-through, so the face remains readable.
    a = np.round(alpha * OVERLAY_ALPHA * np.clip(heat, 0.15, 1.0) * 255).astype(np.uint8)
    return np.dstack([colour, a])


def write_artifacts(report: ScanReport, out_dir: Path) -> None:
    """Write preview/overlay (when the media had a preview) and the HTML report into ``out_dir``."""
    import cv2

    out_dir.mkdir(parents=True, exist_ok=True)
    result = report.results[0]
    index = _preview_frame(result)
    if index is not None:
        preview = np.ascontiguousarray(result.previews[index])
        h, w = preview.shape[:2]
        ok, jpg = cv2.imencode(".jpg", preview[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
        if ok:
            (out_dir / PREVIEW).write_bytes(jpg.tobytes())
        rgba = overlay_rgba(result, index, (h, w))
        if rgba[..., 3].any():
            ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
            if ok:
                (out_dir / OVERLAY).write_bytes(png.tobytes())
        meta = {"frame_index": int(index), "scale": float(result.preview_scale), "width": w, "height": h}
        atomic_write_text(out_dir / META, json.dumps(meta))
    atomic_write_text(out_dir / REPORT, render_html(report, title=f"facetrust: {result.path}"))


def describe(scan_id: str, out_dir: Path) -> dict[str, Any]:
    """The ``artifacts`` object of a scan view: only the files that exist."""
    base = f"/v1/scans/{scan_id}"
    out: dict[str, Any] = {}
    if (out_dir / REPORT).is_file():
        out["report"] = f"{base}/report"
    if (out_dir / PREVIEW).is_file() and (out_dir / META).is_file():
        try:
            meta = json.loads((out_dir / META).read_text())
        except (OSError, ValueError):
            meta = None
        if isinstance(meta, dict):
            out["preview"] = {"url": f"{base}/preview.jpg", **meta}
    if (out_dir / OVERLAY).is_file():
        out["overlay"] = f"{base}/overlay.png"
    return out
