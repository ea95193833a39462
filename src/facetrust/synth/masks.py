"""Soft masks from landmarks: convex hulls, named regions, random deformation, feathering.

All masks are float32 (H, W) in [0, 1]. Sizes in pixels are given for a 256-px crop and scaled
by ``size / 256`` so a family looks the same at any crop size.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import landmarks as L

REGIONS = ("hull", "inner", "enm", "eyes", "brows", "nose", "mouth", "skin")


def px(size: int, value: float) -> float:
    """``value`` pixels at 256 px, scaled to a crop of ``size``."""
    return value * size / 256.0


def convex_hull(points: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(np.asarray(points, dtype=np.float32))
    return hull.reshape(-1, 2).astype(np.float64)


def scale_about_centroid(poly: np.ndarray, sx: float, sy: float | None = None) -> np.ndarray:
    sy = sx if sy is None else sy
    c = poly.mean(0)
    return c + (poly - c) * np.array([sx, sy])


def fill_polygons(size: int, polygons: list[np.ndarray]) -> np.ndarray:
    """Binary float mask of the union of polygons, rasterised with 1/16-pixel vertex precision."""
    mask = np.zeros((size, size), np.uint8)
    for poly in polygons:
        pts = np.round(np.asarray(poly) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(np.float32)


def region_polygons(lm: np.ndarray, region: str) -> list[np.ndarray]:
    """Polygons (crop pixels) covering a named face region.

    hull: every landmark (jaw to brows); inner: brows, eyes, nose and mouth; enm: eyes (with
    brows), nose and mouth as separate islands; eyes/brows/nose/mouth: that feature with some
    surrounding skin; skin is handled by :func:`region_mask` (hull minus enm).
    """
    if region == "hull":
        return [convex_hull(lm[L.ALL])]
    if region == "inner":
        return [scale_about_centroid(convex_hull(lm[L.INNER]), 1.05, 1.08)]
    if region == "eyes":
        return [scale_about_centroid(convex_hull(lm[idx]), 1.6, 2.2) for idx in (L.EYE_L, L.EYE_R)]
    if region == "brows":
        return [scale_about_centroid(convex_hull(lm[idx]), 1.15, 2.0) for idx in (L.BROW_L, L.BROW_R)]
    if region == "nose":
        nose = convex_hull(lm[L.NOSE])
        return [scale_about_centroid(nose, 1.5, 1.1)]
    if region == "mouth":
        return [scale_about_centroid(convex_hull(lm[L.MOUTH]), 1.25, 1.45)]
    if region == "enm":
        eyes = [
            scale_about_centroid(convex_hull(np.vstack([lm[b], lm[e]])), 1.15, 1.3)
            for b, e in ((L.BROW_L, L.EYE_L), (L.BROW_R, L.EYE_R))
        ]
        return eyes + region_polygons(lm, "nose") + region_polygons(lm, "mouth")
    raise ValueError(f"unknown region {region!r}; known: {REGIONS}")


def region_mask(lm: np.ndarray, region: str, size: int) -> np.ndarray:
    """Binary mask of a named region (see :func:`region_polygons`)."""
    if region == "skin":
        hull = fill_polygons(size, [scale_about_centroid(convex_hull(lm), 0.95)])
        features = dilate(fill_polygons(size, region_polygons(lm, "enm")), px(size, 4))
        return np.clip(hull - features, 0, 1)
    return fill_polygons(size, region_polygons(lm, region))


def deform_polygon(poly: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Move each vertex radially by up to ``amount`` of the polygon radius (smoothly varying)."""
    c = poly.mean(0)
    d = poly - c
    noise = rng.uniform(-amount, amount, size=(len(poly), 1))
    noise = (noise + np.roll(noise, 1, 0) + np.roll(noise, -1, 0)) / 3.0  # neighbours move together
    return c + d * (1.0 + noise)


def dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    """Binary dilation (radius > 0) or erosion (radius < 0) by an elliptical kernel."""
    k = int(round(abs(radius)))
    if k < 1:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    op = cv2.dilate if radius > 0 else cv2.erode
    return op(mask, kernel)


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-feathered copy of ``mask``, rescaled so its maximum is 1 again."""
    if sigma <= 0:
        return mask.astype(np.float32)
    out = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
    peak = float(out.max())
    return np.clip(out / peak, 0.0, 1.0) if peak > 0 else out


def random_face_mask(
    lm: np.ndarray,
    size: int,
    rng: np.random.Generator,
    region: str = "hull",
    deform: float = 0.08,
    grow_px: tuple[float, float] = (-6.0, 4.0),
    sigma_px: tuple[float, float] = (3.0, 10.0),
) -> tuple[np.ndarray, dict]:
    """SBI-style blending mask: region polygons, random vertex deformation, erode/dilate, blur.

    Returns the soft mask and the parameters drawn.
    """
    polys = [deform_polygon(p, rng, deform) for p in region_polygons(lm, region)] if region != "skin" else None
    binary = fill_polygons(size, polys) if polys is not None else region_mask(lm, region, size)
    grow = float(rng.uniform(*grow_px))
    binary = dilate(binary, px(size, grow))
    sigma = float(rng.uniform(*sigma_px))
    params = {"region": region, "deform": deform, "grow_px": round(grow, 2), "sigma_px": round(sigma, 2)}
    if binary.max() <= 0:
        return binary, params
    return feather(binary, px(size, sigma)), params
