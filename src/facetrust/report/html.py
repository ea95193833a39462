"""One self-contained HTML file per scan: summary, then one card per media.

Self-contained means inline CSS, images as base64 ``data:`` URIs, no scripts and no external URLs,
so the file can be mailed or archived and opens offline. Every user-derived string (paths, error
messages, settings) is HTML-escaped. Previews are JPEG q85; the video timeline is a PNG drawn with
matplotlib's Agg canvas (no pyplot global state).

Heatmap geometry: ``FaceResult.heatmap`` lives in crop coordinates; ``align_matrix`` A maps frame
pixels to crop pixels and a preview pixel p is the frame pixel p / s (s = ``preview_scale``), so
preview -> crop is ``M = A @ diag(1/s, 1/s, 1)``, which ``cv2.warpAffine(..., WARP_INVERSE_MAP)``
uses to pull each preview pixel from the crop-sized heatmap.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .explain import explain
from .json_io import atomic_write_text
from .labels import NOT_DECIDING, face_number, family_text, fake_probability_text, p_fake, pct
from .provenance import NO_METADATA, provenance_rows
from .schema import VERDICTS, FaceResult, MediaResult, ScanReport

__all__ = ["write_html", "render_html", "render_overlay", "draw_faces", "heatmap_in_preview"]

VERDICT_COLOURS = {
    "fake": "#c0392b",
    "real": "#1e8449",
    "not_applicable": "#7f8c8d",
    "error": "#d35400",
}
_BOX_RGB = {
    "fake": (230, 40, 40),
    "real": (40, 200, 70),
    "not_applicable": (160, 160, 160),
    "error": (230, 120, 20),
}
JPEG_QUALITY = 85


# --------------------------------------------------------------------------- image helpers


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """A contiguous (H, W, 3) uint8 copy-or-view of ``image`` (grey/RGBA/float accepted)."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"preview must be an (H, W, 3) RGB image, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float64)), 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(a)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def heatmap_in_preview(
    face: FaceResult, shape: Sequence[int], preview_scale: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """``face.heatmap`` warped into a preview of ``shape`` (H, W, ...) pixels.

    Returns ``(heat, footprint)``, both float32 (H, W): heat in [0, 1] and the crop footprint
    weight (1 inside the crop, 0 outside, fractional on its edge). None when the face has no
    heatmap or no ``align_matrix``.
    """
    import cv2

    if face.heatmap is None or face.align_matrix is None:
        return None
    s = float(preview_scale)
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"preview_scale must be positive, got {preview_scale}")
    heat = np.squeeze(np.asarray(face.heatmap, dtype=np.float32))
    if heat.ndim != 2 or heat.size == 0:
        return None
    heat = np.clip(np.nan_to_num(heat, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    size = int(face.crop_size) if face.crop_size else int(max(heat.shape))
    if heat.shape != (size, size):
        heat = cv2.resize(heat, (size, size), interpolation=cv2.INTER_LINEAR)
    a = np.asarray(face.align_matrix, dtype=np.float64).reshape(2, 3)
    m = a @ np.diag([1.0 / s, 1.0 / s, 1.0])  # preview -> crop
    h, w = int(shape[0]), int(shape[1])
    kw = {
        "flags": cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        "borderMode": cv2.BORDER_CONSTANT,
        "borderValue": 0,
    }
    warped = cv2.warpAffine(heat, m, (w, h), **kw)
    mask = cv2.warpAffine(np.ones((size, size), np.float32), m, (w, h), **kw)
    return warped, np.clip(mask, 0.0, 1.0)


def render_overlay(
    preview: np.ndarray,
    face: FaceResult,
    preview_scale: float,
    *,
    alpha: float = 0.45,
    colormap: int | None = None,
    draw_box: bool = False,
) -> np.ndarray:
    """``preview`` (RGB uint8) with ``face.heatmap`` blended in, only inside the crop footprint.

    ``colormap`` is an OpenCV colormap id (default ``cv2.COLORMAP_JET``: blue low, red high).
    Pixels outside the footprint are returned unchanged; a face without heatmap or
    ``align_matrix`` leaves the whole image unchanged. ``draw_box`` also draws the labelled box.
    Returns a new (H, W, 3) uint8 array.
    """
    import cv2

    img = _as_rgb_uint8(preview).copy()
    warped = heatmap_in_preview(face, img.shape, preview_scale)
    if warped is not None:
        heat, footprint = warped
        cmap = cv2.COLORMAP_JET if colormap is None else colormap
        colour = cv2.applyColorMap(np.round(heat * 255).astype(np.uint8), cmap)[..., ::-1]
        wgt = (float(alpha) * footprint)[..., None]
        blended = img.astype(np.float32) * (1.0 - wgt) + colour.astype(np.float32) * wgt
        inside = footprint > 0
        img[inside] = np.clip(np.round(blended[inside]), 0, 255).astype(np.uint8)
    if draw_box:
        draw_faces(img, [face], preview_scale)
    return img


def draw_faces(image: np.ndarray, faces: Iterable[FaceResult], preview_scale: float) -> np.ndarray:
    """Draw each face's box (scaled by ``preview_scale``) and probability label onto ``image``.

    ``image`` must be a contiguous RGB uint8 array; it is modified in place and returned. Box
    colour follows the face verdict.
    """
    import cv2

    h, w = image.shape[:2]
    thick = max(1, int(round(min(h, w) / 300)))
    font_scale = max(0.35, min(h, w) / 900)
    for face in faces:
        box = [float(v) * preview_scale for v in face.box[:4]] if len(face.box) >= 4 else []
        if len(box) != 4 or not all(math.isfinite(v) for v in box):
            continue
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        colour = _BOX_RGB.get(face.verdict, _BOX_RGB["not_applicable"])
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, thick, cv2.LINE_AA)
        # "1: p(fake) 83.0 %": the face's number (as in the table) and what the number is.
        label = f"{face_number(face)}: {p_fake(face.fake_probability).replace(' %', '%')}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        ty = y0 - base - 2 if y0 - th - base - 2 >= 0 else y0 + th + 2  # above the box if it fits
        cv2.rectangle(image, (x0, ty - th - 1), (x0 + tw + 2, ty + base), colour, -1)
        cv2.putText(
            image, label, (x0 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255),
            thick, cv2.LINE_AA,
        )
    return image


def _jpeg_data_uri(image: np.ndarray) -> str:
    import cv2

    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- timeline


def _frame_times(result: MediaResult) -> dict[int, float]:
    times: dict[int, float] = {}
    for fr in result.frames:
        if _finite(fr.time_s):
            times[fr.index] = float(fr.time_s)  # type: ignore[arg-type]
    for f in result.faces:
        if _finite(f.time_s):
            times.setdefault(f.frame_index, float(f.time_s))  # type: ignore[arg-type]
    return times


def timeline_png(result: MediaResult) -> bytes | None:
    """Per-frame score plot of a video result as PNG bytes (None when nothing is plottable).

    One line per track (``frame_indices`` vs ``frame_probabilities``), or the per-frame maximum
    when there are no tracks; threshold dashed; above-threshold track segments shaded. x is time
    in seconds when every plotted frame has a time (or fps is known), else the frame index.
    """
    series: list[tuple[str, list[int], list[float]]] = []
    for t in result.tracks:
        n = min(len(t.frame_indices), len(t.frame_probabilities))
        if n == 0:
            continue
        ys = [float(v) if _finite(v) else float("nan") for v in t.frame_probabilities[:n]]
        p = f" ({t.fake_probability:.2f})" if _finite(t.fake_probability) else ""
        series.append((f"track {t.track_id}{p}", list(t.frame_indices[:n]), ys))
    if not series and result.frames:
        frames = sorted(result.frames, key=lambda fr: fr.index)
        ys = [
            float(fr.fake_probability) if _finite(fr.fake_probability) else float("nan")
            for fr in frames
        ]
        series.append(("max over faces", [fr.index for fr in frames], ys))
    if not series or all(math.isnan(y) for _, _, ys in series for y in ys):
        return None

    times = _frame_times(result)
    fps = float(result.fps) if _finite(result.fps) else None  # type: ignore[arg-type]
    fps = fps if fps is not None and fps > 0 else None
    needed = {i for _, xs, _ in series for i in xs}
    use_time = needed <= times.keys() or fps is not None

    def x_of(i: int) -> float:
        if not use_time:
            return float(i)
        return times[i] if i in times else i / fps  # type: ignore[operator]

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 2.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, xs, ys in series:
        order = np.argsort(xs, kind="stable")
        xv = [x_of(xs[k]) for k in order]
        yv = [ys[k] for k in order]
        marker = "o" if len(xv) <= 60 else None
        ax.plot(xv, yv, marker=marker, markersize=3, linewidth=1.4, label=label)
    for t in result.tracks:
        for seg in t.segments:
            if len(seg) != 2 or not (_finite(seg[0]) and _finite(seg[1])):
                continue
            a, b = float(seg[0]), float(seg[1])
            if not use_time:
                if fps is None:
                    continue  # seconds cannot be placed on a frame-index axis
                a, b = a * fps, b * fps
            ax.axvspan(a, b, color="#c0392b", alpha=0.12, linewidth=0)
    ax.axhline(result.threshold, color="#444444", linestyle="--", linewidth=1.0,
               label=f"threshold {result.threshold:.2f}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)" if use_time else "frame")
    ax.set_ylabel("fake probability")
    ax.grid(alpha=0.25)
    if len(series) <= 12:
        n_points = sum(len(xs) for _, xs, _ in series)
        # "best" placement scans every point: fine for short clips, slow for long ones
        ax.legend(fontsize=7, loc="best" if n_points <= 2000 else "upper right", framealpha=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --------------------------------------------------------------------------- HTML pieces


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: Any, spec: str = ".2f", unit: str = "") -> str:
    return f"{x:{spec}}{unit}" if _finite(x) else "–"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#222}
header,main{max-width:1200px;margin:0 auto;padding:12px 20px}
h1{margin:8px 0 4px;font-size:1.6em} h2{font-size:1.05em;margin:0;word-break:break-all}
.muted{color:#666;font-size:.9em}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;color:#fff;font-weight:600;font-size:.85em}
.counts .badge{margin-right:6px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:14px 0;padding:14px 16px;border-left:6px solid #999}
.card-head{display:flex;gap:10px;align-items:center;justify-content:space-between}
.bar{position:relative;height:12px;background:#e5e7eb;border-radius:6px;width:320px;display:inline-block;vertical-align:middle;overflow:hidden}
.bar .fill{height:100%}
.bar .thr{position:absolute;top:0;bottom:0;width:2px;background:#111}
.prob{margin:8px 0}
.explanation{margin:8px 0;line-height:1.4}
.error{color:#a33;background:#fdecea;padding:6px 10px;border-radius:4px}
.reason{color:#555;background:#f0f0f0;padding:6px 10px;border-radius:4px}
.note{color:#7a5a00;background:#fff6d6;padding:6px 10px;border-radius:4px}
.pair{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.pair figure{margin:0}
.pair img{max-width:560px;width:100%;height:auto;border:1px solid #ddd}
img.timeline{max-width:100%;height:auto;border:1px solid #ddd;margin:8px 0}
figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
details{font-size:.85em}
"""


def _badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#999")
    return f'<span class="badge" style="background:{colour}">{_e(verdict)}</span>'


def _prob_bar(p: float | None, threshold: float, verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#999")
    t = min(max(float(threshold), 0.0), 1.0) * 100 if _finite(threshold) else 50.0
    if _finite(p):
        w = min(max(float(p), 0.0), 1.0) * 100  # type: ignore[arg-type]
        fill = f'<div class="fill" style="width:{w:.1f}%;background:{colour}"></div>'
    else:
        fill = ""
    # The number is named: "fake probability 83.0 %" (the bar's colour is the verdict's).
    return (
        f'<div class="prob" data-verdict="{_e(verdict)}"><span class="bar" title="threshold {_e(pct(threshold))}">'
        f'{fill}<span class="thr" style="left:{t:.1f}%"></span></span> <b>{_e(fake_probability_text(p))}</b>'
        f' <span class="muted">(threshold {_e(pct(threshold))})</span></div>'
    )


def _summary(report: ScanReport, title: str) -> str:
    counts = Counter(r.verdict for r in report.results)  # tolerant of unknown verdicts
    badges = "".join(f"{_badge(v)}{counts.get(v, 0)} " for v in VERDICTS)
    meta = " · ".join(
        x
        for x in (
            f"{len(report.results)} media",
            f"facetrust {_e(report.facetrust_version)}" if report.facetrust_version else "",
            f"created {_e(report.created)}" if report.created else "",
            f"schema {_e(report.schema_version)}",
        )
        if x
    )
    rows = []
    for k in sorted(report.settings, key=str):
        v = report.settings[k]
        text = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
        rows.append(f"<tr><th>{_e(k)}</th><td>{_e(text)}</td></tr>")
    settings = f"<table class=\"settings\">{''.join(rows)}</table>" if rows else ""
    empty = '<p class="muted">No media in this report.</p>' if not report.results else ""
    if settings:
        settings = f"<details open><summary>settings</summary>{settings}</details>"
    return (
        f"<header><h1>{_e(title)}</h1><p class=\"muted\">{meta}</p>"
        f'<p class="counts">{badges}</p>'
        f"{settings}"
        f"{empty}</header>"
    )


def _meta_line(r: MediaResult) -> str:
    parts = []
    if r.media_type:
        parts.append(_e(r.media_type))
    if r.width and r.height:
        parts.append(f"{_e(r.width)}×{_e(r.height)}")
    if _finite(r.fps):
        parts.append(f"{r.fps:.3g} fps")
    if _finite(r.duration_s):
        parts.append(f"{r.duration_s:.2f} s")
    if r.n_frames_total:
        parts.append(f"{_e(r.n_frames_total)} frames")
    if r.frames:
        parts.append(f"{len(r.frames)} analysed")
    parts.append(f"{len(r.faces)} face{'s' if len(r.faces) != 1 else ''}")
    if r.tracks:
        parts.append(f"{len(r.tracks)} track{'s' if len(r.tracks) != 1 else ''}")
    if r.detectors:
        parts.append("detectors: " + _e(", ".join(r.detectors)))
    if r.aggregation:
        parts.append("aggregation: " + _e(r.aggregation))
    if _finite(r.elapsed_s):
        parts.append(f"{r.elapsed_s:.2f} s elapsed")
    return '<p class="muted">' + " · ".join(parts) + "</p>"


def _scores_cell(face: FaceResult) -> str:
    if not face.scores:
        return ""
    head = ", ".join(f"{_e(s.detector)} {_e(p_fake(s.fake_probability))}" for s in face.scores)
    lines = []
    for s in face.scores:
        ev = ", ".join(
            f"{_e(k)}={_e(f'{v:.3g}' if _finite(v) else v)}" for k, v in (s.evidence or {}).items()
        )
        lines.append(f"<div><b>{_e(s.detector)}</b> v{_e(s.version)}: {ev or '–'}</div>")
    if not any(s.evidence for s in face.scores):
        return head
    return f"<details><summary>{head}</summary>{''.join(lines)}</details>"


def _faces_table(faces: list[FaceResult], max_rows: int) -> str:
    shown = faces
    note = ""
    if len(faces) > max_rows:
        def key(f: FaceResult) -> float:
            p = f.fake_probability
            return -float(p) if _finite(p) else 1.0  # type: ignore[arg-type]
        keep = set(map(id, sorted(faces, key=key)[:max_rows]))
        shown = [f for f in faces if id(f) in keep]
        note = f'<p class="muted">{len(faces) - max_rows} lower-scoring faces not listed.</p>'
    rows = []
    for f in shown:
        box = ", ".join(f"{v:.0f}" if _finite(v) else "?" for v in f.box)
        # A family only for a face judged fake, "unknown method" below the floor (report.labels).
        fam = _e(family_text(f))
        failed = ", ".join((f.quality or {}).get("failed", []) or [])
        gate = "yes" if f.decisive else NOT_DECIDING + (f" ({failed})" if failed else "")
        rows.append(
            f'<tr data-deciding="{"yes" if f.decisive else "no"}">'
            f"<td>{_e(f.frame_index)}</td><td>{_e(_fmt(f.time_s, '.2f'))}</td>"
            f"<td>{_e(face_number(f))}</td>"
            f"<td>{'' if f.track_id is None else _e(f.track_id)}</td><td>{_e(box)}</td>"
            f"<td>{_e(_fmt(f.detection_score))}</td><td>{_e(pct(f.fake_probability))}</td>"
            f"<td>{_badge(f.verdict)}</td><td>{_e(gate)}</td><td>{fam}</td><td>{_scores_cell(f)}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>frame</th><th>t (s)</th><th>face</th><th>track</th><th>box (frame px)</th>"
        "<th>detection</th><th>p(fake)</th><th>verdict</th><th>deciding</th><th>forgery family</th>"
        "<th>detectors</th></tr>"
    )
    return f'<table class="faces">{head}{"".join(rows)}</table>{note}'


def _tracks_table(r: MediaResult) -> str:
    times = _frame_times(r)
    rows = []
    for t in r.tracks:
        idx = sorted(t.frame_indices)
        span = f"{idx[0]}–{idx[-1]}" if idx else ""
        if idx and idx[0] in times and idx[-1] in times:
            span += f" ({times[idx[0]]:.2f}–{times[idx[-1]]:.2f} s)"
        segs = ", ".join(
            f"{a:.2f}–{b:.2f} s" for a, b in (s for s in t.segments if len(s) == 2)
            if _finite(a) and _finite(b)
        )
        rows.append(
            f"<tr><td>{_e(t.track_id)}</td><td>{len(t.frame_indices)}</td><td>{_e(span)}</td>"
            f"<td>{_e(pct(t.fake_probability))}</td><td>{_badge(t.verdict)}</td>"
            f"<td>{_e(segs)}</td></tr>"
        )
    head = (
        "<tr><th>track</th><th>frames</th><th>span</th><th>p(fake)</th><th>verdict</th>"
        "<th>above threshold</th></tr>"
    )
    return f'<table class="tracks">{head}{"".join(rows)}</table>'


def _pick_frames(r: MediaResult, limit: int) -> list[int]:
    """Preview frames to show: the most suspicious frames with faces first, in frame order."""
    best: dict[int, float] = {}
    for f in r.faces:
        p = f.fake_probability if _finite(f.fake_probability) else -0.5
        best[f.frame_index] = max(best.get(f.frame_index, -1.0), p)  # type: ignore[arg-type]
    keys = sorted(r.previews, key=lambda i: (-best.get(i, -1.0), i))
    return sorted(keys[: max(0, limit)])


def _previews_html(r: MediaResult, max_frames: int, max_side: int) -> str:
    import cv2

    out = []
    for idx in _pick_frames(r, max_frames):
        preview = _as_rgb_uint8(r.previews[idx])
        scale = float(r.preview_scale)
        h, w = preview.shape[:2]
        if max(h, w) > max_side:  # keep the file small even if the pipeline kept big previews
            f = max_side / max(h, w)
            size = (max(1, round(w * f)), max(1, round(h * f)))
            preview = cv2.resize(preview, size, interpolation=cv2.INTER_AREA)
            scale *= preview.shape[1] / w
        faces = [f for f in r.faces if f.frame_index == idx]
        plain = draw_faces(preview.copy(), faces, scale)
        has_heat = any(f.heatmap is not None and f.align_matrix is not None for f in faces)
        t = next((f.time_s for f in faces if _finite(f.time_s)), None)
        if t is None:
            t = _frame_times(r).get(idx)
        when = f" · t={t:.2f} s" if _finite(t) else ""
        cap = f"frame {idx}{when} · {len(faces)} face(s)"
        figs = [
            f'<figure><img class="preview" data-frame="{_e(idx)}" alt="frame {_e(idx)} preview" '
            f'src="{_jpeg_data_uri(plain)}"><figcaption>{_e(cap)}</figcaption></figure>'
        ]
        if has_heat:
            over = preview
            for f in faces:
                over = render_overlay(over, f, scale)
            over = draw_faces(over, faces, scale)
            figs.append(
                f'<figure><img class="overlay" data-frame="{_e(idx)}" '
                f'alt="frame {_e(idx)} heatmap overlay" '
                f'src="{_jpeg_data_uri(over)}"><figcaption>heatmap overlay (blue low, red high; '
                "crop area only)</figcaption></figure>"
            )
        out.append(f'<div class="pair">{"".join(figs)}</div>')
    return "".join(out)


def _provenance_html(prov: dict) -> str:
    """What the file declares, in its own box: metadata, not a detector result."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in provenance_rows(prov))
    declares_nothing = prov.get("empty") and not prov.get("error") and prov.get("scope") != "c2pa"
    none = f'<p class="muted">{_e(NO_METADATA)}</p>' if declares_nothing else ""
    body = none + (f"<table>{rows}</table>" if rows else "")
    return ('<details class="provenance"><summary>what the file declares (metadata, not a detector result; '
            f"anyone can write or remove it)</summary>{body}</details>")


def _card(i: int, r: MediaResult, *, max_frames: int, max_face_rows: int, max_side: int) -> str:
    colour = VERDICT_COLOURS.get(r.verdict, "#999")
    parts = [
        f'<article class="card" id="media-{i}" data-verdict="{_e(r.verdict)}" '
        f'style="border-left-color:{colour}">',
        f'<div class="card-head"><h2>{_e(r.path)}</h2>{_badge(r.verdict)}</div>',
        _meta_line(r),
        _prob_bar(r.fake_probability, r.threshold, r.verdict),
        f'<p class="explanation">{_e(r.explanation or explain(r))}</p>',
    ]
    if r.error or r.error_type:
        code = f"<b>{_e(r.error_type)}</b>: " if r.error_type else ""
        parts.append(f'<p class="error">{code}{_e(r.error or "")}</p>')
    if r.reason:
        parts.append(f'<p class="reason">{_e(r.reason)}</p>')
    for note in r.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    if r.provenance:
        parts.append(_provenance_html(r.provenance))
    try:  # a malformed preview must not cost the whole report
        parts.append(_previews_html(r, max_frames, max_side))
        if r.media_type == "video":
            png = timeline_png(r)
            if png is not None:
                uri = _png_data_uri(png)
                parts.append(f'<img class="timeline" alt="score timeline" src="{uri}">')
    except Exception as exc:  # noqa: BLE001 - reported in the card instead
        why = f"{_e(type(exc).__name__)}: {_e(exc)}"
        parts.append(f'<p class="error">figures could not be rendered: {why}</p>')
    if r.tracks:
        parts.append(_tracks_table(r))
    if r.faces:
        parts.append(_faces_table(r.faces, max_face_rows))
    parts.append("</article>")
    return "\n".join(parts)


def render_html(
    report: ScanReport,
    *,
    title: str = "facetrust report",
    max_frames_per_media: int = 6,
    max_face_rows: int = 200,
    max_preview_side: int = 1024,
) -> str:
    """The complete self-contained HTML document for ``report`` as a string.

    Per media at most ``max_frames_per_media`` preview frames are drawn (the most suspicious
    ones), at most ``max_face_rows`` faces are tabulated (the most suspicious ones), and previews
    wider/taller than ``max_preview_side`` pixels are downscaled first.
    """
    limits = {
        "max_frames": max_frames_per_media,
        "max_face_rows": max_face_rows,
        "max_side": max_preview_side,
    }
    cards = [_card(i, r, **limits) for i, r in enumerate(report.results)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        f"{_summary(report, title)}\n<main>\n" + "\n".join(cards) + "\n</main></body></html>\n"
    )


def write_html(
    report: ScanReport,
    path: str | os.PathLike[str],
    *,
    title: str = "facetrust report",
    max_frames_per_media: int = 6,
    max_face_rows: int = 200,
    max_preview_side: int = 1024,
) -> Path:
    """Write :func:`render_html`'s document to ``path`` atomically (UTF-8); returns the path."""
    text = render_html(
        report,
        title=title,
        max_frames_per_media=max_frames_per_media,
        max_face_rows=max_face_rows,
        max_preview_side=max_preview_side,
    )
    return atomic_write_text(path, text)
