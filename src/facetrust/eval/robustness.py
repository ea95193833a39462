"""Deterministic perturbations at fixed levels, for the robustness protocol.

``perturb(image, name, level)`` is a pure function: the same RGB uint8 image, name and level always
give the same bytes (the Gaussian noise is seeded from the image content and the level). Each
perturbation is applied to the *decoded* frame before face detection, as a re-upload would be.

Sweep (``SWEEP``; level order = increasing severity):

- ``jpeg``: re-encode with OpenCV's libjpeg at quality 90, 70, 50, 30 (4:2:0 chroma, the default).
- ``resize``: area-downscale by 0.75, 0.5, 0.25, then bilinear back to the original size.
- ``blur``: Gaussian blur, sigma 0.5, 1, 2 pixels (kernel 2 * ceil(3 sigma) + 1, reflected borders).
- ``noise``: additive Gaussian noise, sigma 2, 5, 10 grey levels, rounded and clipped to [0, 255].

``facetrust.synth.families.perturb`` draws *random* strengths of the same primitives (``jpeg``,
``resize``) for data augmentation; these are the fixed-level sweeps.
"""

from __future__ import annotations

import math
import zlib

import cv2
import numpy as np

SWEEP: dict[str, tuple[float, ...]] = {
    "jpeg": (90, 70, 50, 30),
    "resize": (0.75, 0.5, 0.25),
    "blur": (0.5, 1.0, 2.0),
    "noise": (2.0, 5.0, 10.0),
}
# What a level means, for labels in reports.
LEVEL_UNITS = {"jpeg": "quality", "resize": "scale", "blur": "sigma px", "noise": "sigma grey levels"}
CLEAN = "clean"


def _check(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {a.dtype} {a.shape}")
    return a


def jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    """Re-encode as JPEG at ``quality`` (1-100) and decode again."""
    q = int(round(quality))
    if not 1 <= q <= 100:
        raise ValueError(f"JPEG quality must be in [1, 100], got {quality}")
    a = _check(image)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:  # pragma: no cover - OpenCV failing to encode a valid array
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, scale: float, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Area-downscale by ``scale`` in (0, 1], then back up to the original size (bilinear unless
    ``interpolation`` says otherwise)."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"resize scale must be in (0, 1], got {scale}")
    a = _check(image)
    if scale == 1.0:
        return a.copy()
    h, w = a.shape[:2]
    small = cv2.resize(a, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=interpolation)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel 2 * ceil(3 sigma) + 1)."""
    if sigma < 0:
        raise ValueError(f"blur sigma must be >= 0, got {sigma}")
    a = _check(image)
    if sigma == 0:
        return a.copy()
    k = 2 * math.ceil(3 * sigma) + 1
    return cv2.GaussianBlur(a, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def noise(image: np.ndarray, sigma: float) -> np.ndarray:
    """Add N(0, sigma^2) noise per pixel and channel; the generator is seeded by crc32(pixels) and
    the level, so the result is a pure function of its inputs (and differs between images)."""
    if sigma < 0:
        raise ValueError(f"noise sigma must be >= 0, got {sigma}")
    a = np.ascontiguousarray(_check(image))
    if sigma == 0:
        return a.copy()
    seed = [zlib.crc32(a.data), *a.shape, int(round(sigma * 1000))]
    rng = np.random.default_rng(seed)
    out = a.astype(np.float32) + rng.normal(0.0, sigma, a.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


_OPS = {"jpeg": jpeg, "resize": resize, "blur": blur, "noise": noise}


def perturb(image: np.ndarray, name: str, level: float) -> np.ndarray:
    """Apply perturbation ``name`` at ``level`` (see the module docstring); returns a new image."""
    if name == CLEAN:
        return _check(image)
    if name not in _OPS:
        raise ValueError(f"unknown perturbation {name!r}; known: {', '.join(_OPS)}")
    return _OPS[name](image, level)


def condition_name(name: str, level: float | None = None) -> str:
    """``"jpeg:30"``, ``"blur:0.5"``; ``"clean"`` for no perturbation."""
    if name == CLEAN or level is None:
        return CLEAN
    return f"{name}:{level:g}"


def parse_condition(text: str) -> tuple[str, float | None]:
    """Inverse of :func:`condition_name` (``"clean"`` -> ``("clean", None)``)."""
    if text == CLEAN:
        return CLEAN, None
    name, sep, level = text.partition(":")
    if not sep or name not in _OPS:
        raise ValueError(f"bad perturbation {text!r}: expected NAME:LEVEL with NAME in {', '.join(_OPS)}")
    return name, float(level)


def sweep_conditions(names: tuple[str, ...] | list[str] | None = None) -> list[tuple[str, float]]:
    """The (name, level) pairs of the sweep for the given perturbation names (default: all), or for
    explicit ``NAME:LEVEL`` items."""
    out: list[tuple[str, float]] = []
    for n in names or list(SWEEP):
        if ":" in n:
            name, level = parse_condition(n)
            out.append((name, float(level)))  # type: ignore[arg-type]
        elif n in SWEEP:
            out += [(n, float(v)) for v in SWEEP[n]]
        else:
            raise ValueError(f"unknown perturbation {n!r}; known: {', '.join(SWEEP)}")
    return out


__all__ = [
    "CLEAN",
    "LEVEL_UNITS",
    "SWEEP",
    "blur",
    "condition_name",
    "jpeg",
    "noise",
    "parse_condition",
    "perturb",
    "resize",
    "sweep_conditions",
]
