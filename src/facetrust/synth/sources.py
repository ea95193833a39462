"""Turn a folder of genuine photos into aligned, landmarked face sources.

Each photo is read (EXIF-rotated), refused if grayscale, face-detected (largest face), refused if
the face is tiny, aligned with :func:`facetrust.faces.align_face` (the inference crop) and fitted
with 68 landmarks on the crop. A :class:`SourceRecord` keeps only the small metadata; the crop is
recomputed bit-exactly by :func:`load_face` when a worker needs it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..faces import DEFAULT_FACE_DETECTOR, CropSpec, DetectedFace, align_face, create_face_detector
from .landmarks import MAX_FIT_ERROR, LandmarkFitter, fit_error
from .types import FaceSource

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}

# Skip reasons for sources (counted in the run summary).
UNREADABLE, GRAYSCALE, NO_FACE, TINY_FACE, LANDMARKS_FAILED, MOSTLY_PADDING = (
    "unreadable",
    "grayscale",
    "no_face",
    "tiny_face",
    "landmarks_failed",
    "mostly_padding",
)


@dataclass
class SourceRecord:
    """What stage 1 learned about one photo: enough to rebuild its aligned crop exactly."""

    source_id: str
    relpath: str  # posix, relative to the faces folder
    path: str
    folder: str  # source folder: first path component (after a leading images/)
    box: list[float]
    score: float
    landmarks5: list[list[float]]  # frame pixels
    landmarks68: np.ndarray  # (68, 2) crop pixels
    face_size: float
    outside_frac: float  # fraction of the crop mirrored in from outside the photo
    fit_error: float
    group: str = ""
    split: str = ""
    extra: dict = field(default_factory=dict)


def list_images(root: str | Path) -> list[str]:
    """Relative posix paths of every image file under ``root``, sorted. Linked folders are
    followed (data trees are often assembled from links), each real folder once (no cycles)."""
    root = str(root)
    out, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a link back up the tree, or a second link to the same folder
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            if os.path.splitext(name)[1].lower() in IMAGE_EXTS:
                out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(out)


def source_folder(relpath: str) -> str:
    parts = relpath.split("/")
    if parts[0] == "images" and len(parts) > 2:
        parts = parts[1:]
    return parts[0] if len(parts) > 1 else ""


def source_id_for(relpath: str) -> str:
    """A filesystem-safe id: the relative path without a leading ``images/``, '/' -> '-'."""
    rel = relpath[len("images/") :] if relpath.startswith("images/") else relpath
    stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem.replace("/", "-")).strip("-") or "x"


def read_rgb(path: str | Path) -> tuple[np.ndarray | None, str | None]:
    """(RGB uint8 image, None), or (None, reason) for unreadable and grayscale files."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("1", "L", "LA", "I", "I;16", "F"):
                return None, GRAYSCALE
            rgb = np.asarray(im.convert("RGB"))
    except Exception:  # any decoder failure is a counted skip, never a crash
        return None, UNREADABLE
    if is_grayscale(rgb):
        return None, GRAYSCALE
    return rgb, None


def is_grayscale(image: np.ndarray) -> bool:
    """faces-train's filter: per-pixel max channel difference has mean < 3 or 99th pct < 8."""
    img = image.astype(np.int16)
    diff = np.maximum.reduce(
        [np.abs(img[..., 0] - img[..., 1]), np.abs(img[..., 1] - img[..., 2]), np.abs(img[..., 0] - img[..., 2])]
    )
    return bool(diff.mean() < 3.0 or np.percentile(diff, 99) < 8.0)


def outside_fraction(shape: tuple[int, int], matrix: np.ndarray, size: int) -> float:
    """Share of a ``size`` crop (frame->crop ``matrix``) that lies outside a frame of ``shape``.

    ``warp_to_crop`` mirrors the photo into that area: tightly cropped photos (UTKFace chips,
    mask-12k crops) are about 2/3 mirror padding at margin 0.25.
    """
    n = 64  # evaluated on a 64x64 grid of crop pixel centres: cheap and precise enough
    t = (np.arange(n) + 0.5) * size / n
    gx, gy = np.meshgrid(t, t)
    inv = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
    x = inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2]
    y = inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2]
    h, w = shape
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return round(1.0 - float(inside.mean()), 4)


class SourcePreparer:
    """Stage 1 for one process: detector + landmark fitter, created once."""

    def __init__(self, crop: CropSpec, detector: str = DEFAULT_FACE_DETECTOR, min_face: float = 32.0, max_outside: float = 1.0) -> None:
        self.crop = crop
        self.min_face = float(min_face)
        self.max_outside = float(max_outside)
        # Detect everything (min size 1) so "tiny face" and "no face" are told apart.
        self.detector = create_face_detector(detector, min_face_size=1.0)
        self.fitter = LandmarkFitter(crop.size, crop.margin)

    def prepare(self, root: str | Path, relpath: str) -> SourceRecord | str:
        """A record, or the skip reason as a string."""
        path = str(Path(root) / relpath)
        image, reason = read_rgb(path)
        if image is None:
            return reason or UNREADABLE
        faces = self.detector.detect(image)
        if not faces:
            return NO_FACE
        face = faces[0]  # largest
        if face.size < self.min_face:
            return TINY_FACE
        aligned = align_face(image, face, self.crop)
        outside = outside_fraction(image.shape[:2], aligned.matrix, self.crop.size)
        if outside > self.max_outside:
            return MOSTLY_PADDING
        lm68 = self.fitter.fit(aligned.crop)
        five = face.landmarks5 @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
        err = fit_error(lm68, five)
        if not np.isfinite(err) or err > MAX_FIT_ERROR:
            return LANDMARKS_FAILED
        return SourceRecord(
            source_id=source_id_for(relpath),
            relpath=relpath,
            path=path,
            folder=source_folder(relpath),
            box=[float(v) for v in face.box],
            score=float(face.score),
            landmarks5=face.landmarks5.tolist(),
            landmarks68=lm68,
            face_size=float(face.size),
            outside_frac=outside,
            fit_error=round(err, 4),
        )


def load_face(record: SourceRecord, crop: CropSpec) -> FaceSource:
    """Rebuild the aligned crop of a prepared record (same bytes as stage 1 saw)."""
    image, reason = read_rgb(record.path)
    if image is None:
        raise OSError(f"{record.path}: {reason} (changed since it was prepared?)")
    face = DetectedFace(
        box=np.asarray(record.box), score=record.score, landmarks5=np.asarray(record.landmarks5)
    )
    aligned = align_face(image, face, crop)
    return FaceSource(
        source_id=record.source_id,
        crop=aligned.crop,
        landmarks=np.asarray(record.landmarks68, dtype=np.float64),
        group=record.group,
        split=record.split,
        path=record.path,
    )
