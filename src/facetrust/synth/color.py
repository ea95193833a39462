"""Colour operations: Reinhard colour transfer and random colour/tone jitter."""

from __future__ import annotations

import cv2
import numpy as np


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _rgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def reinhard_transfer(
    image: np.ndarray, reference: np.ndarray, mask: np.ndarray, strength: float = 1.0
) -> np.ndarray:
    """Match ``image``'s Lab mean/std to ``reference``'s, both measured where ``mask > 0.5``.

    Both images must already be aligned (same face geometry), so one mask serves both.
    """
    sel = mask > 0.5
    if sel.sum() < 16:
        return image
    a, b = _lab(image), _lab(reference)
    mu_a, sd_a = a[sel].mean(0), a[sel].std(0) + 1e-3
    mu_b, sd_b = b[sel].mean(0), b[sel].std(0) + 1e-3
    out = (a - mu_a) * (sd_b / sd_a) + mu_b
    out = a + strength * (out - a)
    return _rgb(out)


def jitter_color(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> tuple[np.ndarray, dict]:
    """Random per-channel gain/offset, brightness, contrast and saturation change."""
    img = image.astype(np.float32)
    gain = 1.0 + rng.uniform(-0.08, 0.08, 3) * strength
    offset = rng.uniform(-12, 12, 3) * strength
    contrast = 1.0 + rng.uniform(-0.2, 0.2) * strength
    sat = 1.0 + rng.uniform(-0.3, 0.3) * strength
    mean = img.mean()
    img = (img - mean) * contrast + mean
    img = img * gain + offset
    gray = img.mean(2, keepdims=True)
    img = gray + (img - gray) * sat
    params = {
        "gain": [round(float(g), 3) for g in gain],
        "offset": [round(float(o), 2) for o in offset],
        "contrast": round(float(contrast), 3),
        "saturation": round(float(sat), 3),
    }
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), params


def shift_hue(image: np.ndarray, hue_deg: float, sat_gain: float) -> np.ndarray:
    """Rotate hue (degrees) and scale saturation: lipstick/eye-colour style recolouring."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + hue_deg * 256.0 / 360.0) % 256.0
    hsv[..., 1] = np.clip(hsv[..., 1] * sat_gain, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
