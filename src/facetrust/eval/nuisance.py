"""Nuisance measurements of a scored sample: what a detector (or a training set) could take as a shortcut.

Each nuisance is declared once in :data:`NUISANCES` with how it is measured. None needs a second
decode: frame size and faces come from the scoring record (the face cache or the decoder), face
size and sharpness from the face-quality measurement the pipeline already makes
(:mod:`facetrust.fusion.quality`), the background from the aligned crop's outer ring (kept by the
engine, :func:`crop_border_stats`), the encoder and JPEG quality from the file header and its
quantisation tables (Pillow reads them without decoding pixels).

Per sample the *primary face* speaks for the media: the largest face passing the quality gate
(the largest of all when none passes); for a video or frame folder, the median over its frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

BORDER_FRACTION = 0.1  # the outer ring of the aligned crop: 10 % of its side on each edge


@dataclass(frozen=True)
class Nuisance:
    name: str
    kind: str  # "continuous" | "categorical"
    unit: str
    description: str


NUISANCES: tuple[Nuisance, ...] = (
    Nuisance("image_short_side", "continuous", "px", "shorter side of the decoded image / frame"),
    Nuisance("face_size", "continuous", "px", "shorter side of the primary face box (quality size_px)"),
    Nuisance("face_to_image", "continuous", "ratio", "face box short side / image short side"),
    Nuisance("crop_margin", "continuous", "face sides",
             "room around the face: least distance from the face box to an image edge / face size"),
    Nuisance("sharpness", "continuous", "Laplacian var",
             "variance of the Laplacian of the grey aligned crop at 112 px (quality sharpness)"),
    Nuisance("encoder", "categorical", "", "file format from the header (JPEG, PNG, WEBP...; video: container)"),
    Nuisance("jpeg_quality", "continuous", "IJG quality",
             "JPEG only: IJG quality whose scaled standard luminance table is nearest the file's"),
    Nuisance("background_luma", "continuous", "0-255", "mean luminance of the aligned crop's outer ring"),
    Nuisance("background_texture", "continuous", "0-255", "luminance std of the aligned crop's outer ring"),
    Nuisance("postprocess", "categorical", "",
             "synth manifests: the post-processing chain applied (attrs perturb), 'none' when none"),
)
NUISANCE_NAMES = tuple(n.name for n in NUISANCES)


def crop_border_stats(crop: np.ndarray) -> tuple[float, float]:
    """(mean, std) luminance of the crop's outer ring (:data:`BORDER_FRACTION` of the side)."""
    img = np.asarray(crop)
    h, w = img.shape[:2]
    b = max(1, int(round(min(h, w) * BORDER_FRACTION)))
    grey = img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) if img.ndim == 3 \
        else img.astype(np.float32)
    ring = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[b:-b, :b].ravel(), grey[b:-b, -b:].ravel()])
    return float(ring.mean()), float(ring.std())


# The IJG (libjpeg) standard luminance quantisation table (ITU-T T.81 Annex K), natural order.
_IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.float64)


def _ijg_table(quality: int) -> np.ndarray:
    scale = 5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality
    return np.clip(np.floor((_IJG_LUMA * scale + 50.0) / 100.0), 1, 255)


_IJG_TABLES = np.stack([_ijg_table(q) for q in range(1, 101)])


def jpeg_quality_from_table(luma_table: Any) -> float | None:
    """The IJG quality (1-100) whose scaled luminance table is nearest ``luma_table`` (64 values,
    natural order, as Pillow gives them); None for a table of another size. Encoders with their own
    tables (cameras, some phones) get the nearest IJG equivalent."""
    t = np.asarray(list(luma_table), np.float64)
    if t.size != 64:
        return None
    err = np.abs(_IJG_TABLES - t).sum(axis=1)
    return float(np.argmin(err) + 1)


def file_encoding(path: str | Path, media_type: str = "image") -> tuple[str | None, float | None]:
    """(encoder, JPEG quality) from a file's header: Pillow's format name and, for JPEG, the quality
    estimated from its luminance table. Videos: ``video:<extension>``; a frame folder: its first
    image. (None, None) when the header cannot be read."""
    p = Path(path)
    if media_type == "video":
        return f"video:{p.suffix.lower().lstrip('.') or '?'}", None
    if media_type == "frames":
        from .adapters._core import iter_images

        first = next(iter(iter_images(p)), None)
        if first is None:
            return None, None
        p = first
    from PIL import Image

    try:
        with Image.open(p) as im:  # lazy: header and tables only
            fmt = im.format
            q = jpeg_quality_from_table(im.quantization[0]) if fmt == "JPEG" and getattr(im, "quantization", None) \
                else None
    except Exception:  # an unreadable header is a missing value, never a failed audit
        return None, None
    return fmt, q


def _primary(faces: list) -> Any:
    """The largest face passing the quality gate, else the largest face (by quality size_px)."""
    def size(f) -> float:
        return float((f.quality or {}).get("size_px") or 0.0)

    passed = [f for f in faces if f.passed]
    return max(passed or faces, key=size)


def _frame_values(frame, width: int, height: int) -> dict[str, float]:
    f = _primary(frame.faces)
    q = f.quality or {}
    out: dict[str, float] = {}
    if q.get("size_px") is not None:
        out["face_size"] = float(q["size_px"])
    if q.get("sharpness") is not None:
        out["sharpness"] = float(q["sharpness"])
    if f.border is not None:
        out["background_luma"], out["background_texture"] = f.border
    if width > 0 and height > 0 and f.face is not None:
        x0, y0, x1, y1 = (float(v) for v in np.asarray(f.face.box, np.float64).reshape(4))
        side = max(1e-6, min(x1 - x0, y1 - y0))
        out["face_to_image"] = side / min(width, height)
        out["crop_margin"] = min(x0, y0, width - x1, height - y1) / side
    return out


def _postprocess(attrs: dict[str, Any]) -> str | None:
    if "perturb" not in attrs:
        return None
    v = attrs.get("perturb")
    if v in (None, ""):
        return "none"
    if isinstance(v, dict):
        return str(v.get("chain") or "+".join(str(o.get("op")) for o in v.get("ops", [])) or "none")
    return str(v)


def sample_nuisances(record, encoding: Callable[[str, str], tuple[str | None, float | None]] = file_encoding
                     ) -> dict[str, Any]:
    """Every nuisance of one scored record (``status == "ok"``); a value that cannot be measured is None."""
    s = record.sample
    values: dict[str, Any] = dict.fromkeys(NUISANCE_NAMES)
    if record.width > 0 and record.height > 0:
        values["image_short_side"] = float(min(record.width, record.height))
    per_frame = [_frame_values(fr, record.width, record.height) for fr in record.frames if fr.faces]
    for name in {k for fv in per_frame for k in fv}:
        values[name] = float(np.median([fv[name] for fv in per_frame if name in fv]))
    values["encoder"], values["jpeg_quality"] = encoding(s.path, s.media_type)
    values["postprocess"] = _postprocess(s.attrs)
    return values


__all__ = ["BORDER_FRACTION", "NUISANCES", "NUISANCE_NAMES", "Nuisance", "crop_border_stats", "file_encoding",
           "jpeg_quality_from_table", "sample_nuisances"]
