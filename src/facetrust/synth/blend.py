"""Compositing: feathered alpha blending and Poisson (``cv2.seamlessClone``) blending.

Both confine every changed pixel to the returned mask: OpenCV's Poisson solver perturbs the whole
bounding rectangle of the clone mask by a few levels, so its output is re-composited through the
feathered mask (otherwise a faint rectangular footprint would be a free cue, and the mask a lie).
"""

from __future__ import annotations

import cv2
import numpy as np

from .masks import dilate, feather


def alpha_blend(background: np.ndarray, foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``background * (1 - alpha) + foreground * alpha``, rounded to uint8."""
    a = alpha.astype(np.float32)[..., None]
    out = background.astype(np.float32) * (1.0 - a) + foreground.astype(np.float32) * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def poisson_blend(
    background: np.ndarray, foreground: np.ndarray, binary: np.ndarray, feather_px: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient-domain clone of ``foreground`` into ``background`` inside ``binary``.

    ``foreground`` must already be aligned with ``background``. Returns (image, soft mask).
    Falls back to a feathered alpha blend when OpenCV refuses the mask (e.g. it touches the border).
    """
    m = (binary > 0.5).astype(np.uint8)
    m[:2, :] = 0
    m[-2:, :] = 0
    m[:, :2] = 0
    m[:, -2:] = 0
    soft = feather(dilate(m.astype(np.float32), 1), feather_px)
    if m.sum() < 16:
        return background.copy(), np.zeros_like(soft)
    x, y, w, h = cv2.boundingRect(m)
    centre = (x + w // 2, y + h // 2)  # seamlessClone places the mask's bounding box centre here
    try:
        cloned = cv2.seamlessClone(foreground, background, m * 255, centre, cv2.NORMAL_CLONE)
    except cv2.error:
        return alpha_blend(background, foreground, soft), soft
    return alpha_blend(background, cloned, soft), soft
