"""Geometric warps between landmark sets: global affine and piecewise-affine (Delaunay).

Warps resample with mirrored borders, never black fill, so no warped image can carry a border cue.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from scipy.spatial import Delaunay


def boundary_points(size: int, per_side: int = 4) -> np.ndarray:
    """Fixed anchor points along the crop border, so a piecewise warp covers the whole crop."""
    t = np.linspace(0.0, size - 1.0, per_side + 1)
    top = np.stack([t, np.zeros_like(t)], 1)
    bottom = np.stack([t, np.full_like(t, size - 1.0)], 1)
    left = np.stack([np.zeros_like(t[1:-1]), t[1:-1]], 1)
    right = np.stack([np.full_like(t[1:-1], size - 1.0), t[1:-1]], 1)
    return np.vstack([top, bottom, left, right])


def affine_warp(
    image: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, similarity: bool = True
) -> np.ndarray:
    """Warp ``image`` so its ``src_pts`` land on ``dst_pts`` (least-squares similarity or affine)."""
    src = np.asarray(src_pts, np.float64)
    dst = np.asarray(dst_pts, np.float64)
    if similarity:
        from ..faces.align import estimate_similarity

        m = estimate_similarity(src, dst)
    else:
        a = np.hstack([src, np.ones((len(src), 1))])
        m = np.linalg.lstsq(a, dst, rcond=None)[0].T
    h, w = image.shape[:2]
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def piecewise_affine_maps(
    src_pts: np.ndarray, dst_pts: np.ndarray, size: int, border_per_side: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``cv2.remap`` maps of the piecewise-affine warp taking ``src_pts`` to ``dst_pts``.

    The destination points plus fixed border anchors are Delaunay-triangulated; every output pixel
    in triangle t samples the source at ``A_t @ (x, y, 1)`` where ``A_t`` maps that triangle's
    destination corners onto its source corners. The border anchors are the identity, so the warp
    fades to no motion at the crop edge.
    """
    anchors = boundary_points(size, border_per_side)
    dst = np.vstack([np.asarray(dst_pts, np.float64), anchors])
    src = np.vstack([np.asarray(src_pts, np.float64), anchors])
    tri = Delaunay(dst).simplices  # (T, 3)
    # Triangle index of every pixel, rasterised (much faster than Delaunay.find_simplex).
    index = np.full((size, size), len(tri), np.int32)
    for i, simplex in enumerate(tri):
        pts = np.round(dst[simplex] * 16).astype(np.int32)
        cv2.fillConvexPoly(index, pts, int(i), lineType=cv2.LINE_8, shift=4)
    # Affine per triangle: [x y 1] @ coef = src corner, for the 3 corners.
    a = np.concatenate([dst[tri], np.ones((len(tri), 3, 1))], axis=2)  # (T, 3, 3)
    coef = np.linalg.pinv(a) @ src[tri]  # (T, 3, 2); pinv survives degenerate triangles
    identity = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    coef = np.concatenate([coef, identity], axis=0).astype(np.float32)  # uncovered pixels stay put
    xx, yy = _grid(size)
    # Six 1-D lookups are ~3x faster than gathering (S, S, 3, 2) at once.
    c = [np.take(coef[:, i, j], index) for i in range(3) for j in range(2)]
    map_x = xx * c[0] + yy * c[2] + c[4]
    map_y = xx * c[1] + yy * c[3] + c[5]
    return map_x, map_y


@lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    xx.setflags(write=False)
    yy.setflags(write=False)
    return xx, yy


def remap(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def piecewise_affine(image: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray) -> np.ndarray:
    """Warp a square ``image`` so its ``src_pts`` land on ``dst_pts`` (triangle by triangle)."""
    map_x, map_y = piecewise_affine_maps(src_pts, dst_pts, image.shape[0])
    return remap(image, map_x, map_y)


def displacement(map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Per-pixel motion magnitude (pixels) of a remap."""
    yy, xx = np.mgrid[0 : map_x.shape[0], 0 : map_x.shape[1]].astype(np.float32)
    return np.hypot(map_x - xx, map_y - yy)
