"""``facetrust scan --masks DIR``: each face's heatmap as 8-bit grey PNGs.

Per face with a heatmap, two files: ``<stem>_frame<NNNNNN>_face<N>_crop.png`` (the heatmap at the
detector's crop resolution, the crop of ``align_matrix``) and ``..._image.png`` (the same heatmap
warped into the full frame, ``width`` x ``height``; 0 outside the crop). 255 is the heatmap's 1.0.
Faces are numbered from 1, as in the report. A face without a heatmap writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .schema import MediaResult

__all__ = ["write_masks", "mask_names"]


def mask_names(stem: str, frame_index: int, face_number: int) -> tuple[str, str]:
    base = f"{stem}_frame{int(frame_index):06d}_face{int(face_number)}"
    return f"{base}_crop.png", f"{base}_image.png"


def _grey(heat: np.ndarray) -> np.ndarray:
    return np.round(np.clip(np.nan_to_num(heat, nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)


def write_masks(result: MediaResult, out_dir: str | os.PathLike[str], stem: str | None = None) -> list[Path]:
    """Write the masks of ``result``'s faces into ``out_dir``; returns the files written."""
    import cv2

    from .html import heatmap_in_preview
    from .labels import face_number

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or Path(result.path).stem or "media"
    written: list[Path] = []
    for face in result.faces:
        if face.heatmap is None:
            continue
        heat = np.squeeze(np.asarray(face.heatmap, dtype=np.float32))
        if heat.ndim != 2 or heat.size == 0:
            continue
        crop_name, image_name = mask_names(stem, face.frame_index, face_number(face))
        size = int(face.crop_size) if face.crop_size else int(max(heat.shape))
        crop = cv2.resize(heat, (size, size), interpolation=cv2.INTER_LINEAR) if heat.shape != (size, size) else heat
        cv2.imwrite(str(out / crop_name), _grey(crop))
        written.append(out / crop_name)
        if result.width and result.height:
            warped = heatmap_in_preview(face, (result.height, result.width), 1.0)
            if warped is not None:
                heat_img, footprint = warped
                cv2.imwrite(str(out / image_name), _grey(heat_img * footprint))
                written.append(out / image_name)
    return written
