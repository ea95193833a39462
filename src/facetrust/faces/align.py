"""The one crop function: similarity-align a face to the canonical 5-point template.

Training (``facetrust.synth``/``facetrust.train``) and inference (``facetrust.scan``) both call
:func:`align_face`, so a detector always sees crops resampled exactly as it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .types import AlignedFace, DetectedFace

# ArcFace's 112x112 five-point template, the de-facto standard for a tight face square,
# normalised to [0, 1]. Order as in DetectedFace.landmarks5.
TEMPLATE_5PT = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
) / 112.0


@dataclass(frozen=True)
class CropSpec:
    """Output size in pixels and context margin.

    ``margin`` is the fraction of the tight face square added on *each* side, so the crop spans
    ``1 + 2 * margin`` face widths: 0 is an ArcFace-style tight crop, 0.25 keeps the blending
    boundary of a face swap inside the crop.
    """

    size: int = 224
    margin: float = 0.25

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"crop size must be >= 8, got {self.size}")
        if not 0.0 <= self.margin <= 2.0:
            raise ValueError(f"crop margin must be in [0, 2], got {self.margin}")

    def template(self) -> np.ndarray:
        """Template landmark positions in output-crop pixels, shape (5, 2)."""
        return self.size * (TEMPLATE_5PT + self.margin) / (1.0 + 2.0 * self.margin)


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama 1991) mapping ``src`` points onto ``dst``.

    Returns a 2x3 matrix M with ``dst ~= src @ M[:, :2].T + M[:, 2]``; no reflection allowed.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError("need two matching (N>=2, 2) point arrays")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rot = u @ np.diag(sign) @ vt
    var_s = (s**2).sum() / len(src)
    if var_s <= 0:
        raise ValueError("degenerate landmarks (all points equal)")
    scale = float((sig * sign).sum() / var_s)
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def _scale_of(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def warp_to_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample ``image`` into a ``size``-pixel square through the frame->crop ``matrix``.

    Shrinking by more than 1.5x first area-averages the needed region, so a face from a 4K frame
    and one from a thumbnail are both anti-aliased the same way; borders are mirrored (no black
    bars that a detector could learn as a cue).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    scale = _scale_of(matrix)
    if scale < 1.0 / 1.5:
        inv = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
        src = corners @ inv[:, :2].T + inv[:, 2]
        h, w = image.shape[:2]
        pad = 2.0 / scale
        x0 = int(max(0, np.floor(src[:, 0].min() - pad)))
        y0 = int(max(0, np.floor(src[:, 1].min() - pad)))
        x1 = int(min(w, np.ceil(src[:, 0].max() + pad)))
        y1 = int(min(h, np.ceil(src[:, 1].max() + pad)))
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            region = image[y0:y1, x0:x1]
            nw = max(1, int(round((x1 - x0) * scale)))
            nh = max(1, int(round((y1 - y0) * scale)))
            small = cv2.resize(region, (nw, nh), interpolation=cv2.INTER_AREA)
            # frame -> region -> resized region coordinates
            fx, fy = nw / (x1 - x0), nh / (y1 - y0)
            to_small = np.array([[fx, 0.0, -x0 * fx], [0.0, fy, -y0 * fy], [0.0, 0.0, 1.0]])
            small_to_frame = np.linalg.inv(to_small)
            matrix = (np.vstack([matrix, [0, 0, 1.0]]) @ small_to_frame)[:2]
            image = small
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def align_face(image: np.ndarray, face: DetectedFace, spec: CropSpec | None = None) -> AlignedFace:
    """Crop ``face`` from the RGB ``image`` aligned to ``spec``'s template.

    The returned crop places the five landmarks at ``spec.template()`` (least squares), and
    ``AlignedFace.matrix`` maps frame pixels to crop pixels.
    """
    spec = spec or CropSpec()
    matrix = estimate_similarity(face.landmarks5, spec.template())
    crop = warp_to_crop(image, matrix, spec.size)
    inv = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0], [spec.size, 0], [0, spec.size], [spec.size, spec.size]], float)
    src = corners @ inv[:, :2].T + inv[:, 2]
    h, w = image.shape[:2]
    inside = (src[:, 0] >= 0) & (src[:, 0] <= w) & (src[:, 1] >= 0) & (src[:, 1] <= h)
    return AlignedFace(
        crop=crop,
        matrix=matrix,
        face=face,
        spec=spec,
        extra={"scale": _scale_of(matrix), "corners_outside_frame": int((~inside).sum())},
    )
