"""Files a finished scan leaves for the web page and the report.

The JSON result never carries arrays, so the worker saves what only it has in memory — the
preview frames (JPEG) and the face heatmaps (uint8) — and nothing else: that costs a few
milliseconds. The HTML report and the heatmap overlay are rendered from those files on first
request and cached (rendering them for every scan halved the server's throughput, and most API
clients never ask for them).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..report.html import heatmap_in_preview, render_html
from ..report.json_io import atomic_write_bytes, atomic_write_text
from ..report.schema import MediaResult, ScanReport, from_json_dict

META, HEATMAPS, OVERLAY, REPORT = "preview.json", "heatmaps.npz", "overlay.png", "report.html"
OVERLAY_ALPHA = 0.7
_RENDER_LOCK = threading.Lock()  # one render at a time per process: renders are short, requests are many


def _frame_file(index: int) -> str:
    return f"frame_{int(index):06d}.jpg"


def _preview_frame(result: MediaResult) -> int | None:
    """The preview to show: the image itself, or the most suspicious video frame that has one."""
    if not result.previews:
        return None
    by_frame = {fr.index: fr.fake_probability for fr in result.frames}

    def key(i: int) -> tuple[float, int]:
        p = by_frame.get(i)
        return (p if p is not None else -1.0, -i)

    return max(result.previews, key=key)


def _heat_key(frame_index: int, face_index: int) -> str:
    return f"f{int(frame_index)}_{int(face_index)}"


def save_scan_artifacts(result: MediaResult, out_dir: Path) -> None:
    """Worker side: preview frames and heatmaps, plus a small description (see :func:`describe`)."""
    import cv2

    out_dir.mkdir(parents=True, exist_ok=True)
    index = _preview_frame(result)
    if index is None:
        return
    for i, img in result.previews.items():
        ok, jpg = cv2.imencode(".jpg", np.ascontiguousarray(img)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            (out_dir / _frame_file(i)).write_bytes(jpg.tobytes())
    heat = {_heat_key(f.frame_index, f.face_index): np.round(np.clip(f.heatmap, 0, 1) * 255).astype(np.uint8)
            for f in result.faces if f.heatmap is not None and f.frame_index in result.previews}
    if heat:
        with open(out_dir / HEATMAPS, "wb") as fh:
            np.savez(fh, **heat)
    h, w = result.previews[index].shape[:2]
    on_preview = any(k.startswith(f"f{index}_") for k in heat)
    meta = {"frame_index": int(index), "scale": float(result.preview_scale), "width": int(w), "height": int(h),
            "overlay": on_preview}
    atomic_write_text(out_dir / META, json.dumps(meta))  # last: its presence means the rest is complete


def _meta(out_dir: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((out_dir / META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def restore(result_json: dict, out_dir: Path) -> ScanReport:
    """The scan's report with its previews and heatmaps back in memory, as the worker had it."""
    import cv2

    report = from_json_dict(result_json)
    result = report.results[0]
    meta = _meta(out_dir)
    if meta is None:
        return report
    result.preview_scale = float(meta["scale"])
    for path in out_dir.glob("frame_*.jpg"):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is not None:
            result.previews[int(path.stem.split("_")[1])] = img[..., ::-1].copy()
    if (out_dir / HEATMAPS).is_file():
        with np.load(out_dir / HEATMAPS) as data:
            for face in result.faces:
                key = _heat_key(face.frame_index, face.face_index)
                if key in data.files:
                    face.heatmap = data[key].astype(np.float32) / 255.0
    return report


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


def report_path(result_json: dict, out_dir: Path) -> Path:
    """The HTML report, rendered on first use."""
    path = out_dir / REPORT
    with _RENDER_LOCK:
        if not path.is_file():
            report = restore(result_json, out_dir)
            atomic_write_text(path, render_html(report, title=f"facetrust: {report.results[0].path}"))
    return path


def overlay_path(result_json: dict, out_dir: Path) -> Path | None:
    """The overlay PNG for the preview frame, rendered on first use (None: no heatmap on it)."""
    import cv2

    meta = _meta(out_dir)
    if not meta or not meta.get("overlay"):
        return None
    path = out_dir / OVERLAY
    with _RENDER_LOCK:
        if not path.is_file():
            result = restore(result_json, out_dir).results[0]
            rgba = overlay_rgba(result, int(meta["frame_index"]), (int(meta["height"]), int(meta["width"])))
            ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
            if not ok:
                return None
            atomic_write_bytes(path, png.tobytes())
    return path


def preview_path(out_dir: Path) -> Path | None:
    meta = _meta(out_dir)
    if not meta:
        return None
    path = out_dir / _frame_file(meta["frame_index"])
    return path if path.is_file() else None


def describe(scan_id: str, out_dir: Path) -> dict[str, Any]:
    """The ``artifacts`` object of a finished scan's view (the report always; images when there are some)."""
    base = f"/v1/scans/{scan_id}"
    out: dict[str, Any] = {"report": f"{base}/report"}
    meta = _meta(out_dir)
    if meta is not None and (out_dir / _frame_file(meta["frame_index"])).is_file():
        out["preview"] = {"url": f"{base}/preview.jpg", "frame_index": meta["frame_index"],
                          "scale": meta["scale"], "width": meta["width"], "height": meta["height"]}
        if meta.get("overlay"):
            out["overlay"] = f"{base}/overlay.png"
    return out
