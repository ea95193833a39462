"""Document-photo post-processing: print-and-scan and JPEG, the path a passport photo takes.

A morph is printed (passport application) or stored compressed (e-passport chip), and a detector
sees it only after that. :func:`document_pipeline` draws one of three chains with random strength:

* ``print_scan``: colour shift (the printer's gamut: contrast, saturation, a colour cast), a
  clustered-dot halftone at a random screen angle and pitch, the paper's ink spread (blur), paper
  grain, a re-scan at another resolution (down, then up again) and the scanner's JPEG;
* ``jpeg``: one JPEG compression (the chip image), optionally after a mild downscale;
* ``none``: the digital original.

The MAD corpus (``facetrust.train.fit_mad``) puts bona fide photos through the same draws as the
morphs, so the post-processing is never a cue for the morph class.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..eval import robustness  # one definition of JPEG

CHAINS = ("print_scan", "jpeg", "none")
CHAIN_PROBABILITIES = (0.5, 0.35, 0.15)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def colour_shift(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A printer's gamut: lower contrast and saturation, a small colour cast."""
    contrast = float(rng.uniform(0.8, 1.0))
    saturation = float(rng.uniform(0.7, 1.05))
    cast = rng.uniform(-10, 10, size=3).astype(np.float32)
    x = image.astype(np.float32)
    x = (x - 127.5) * contrast + 127.5 + cast
    grey = x.mean(2, keepdims=True)
    x = grey + (x - grey) * saturation
    return _u8(x), {"contrast": round(contrast, 3), "saturation": round(saturation, 3),
                    "cast": [round(float(c), 2) for c in cast]}


def halftone(image: np.ndarray, pitch: float, angle_deg: float, strength: float) -> np.ndarray:
    """A clustered-dot halftone screen (per channel), mixed with the image by ``strength``.

    Each channel is thresholded against a rotated sinusoidal dot screen of period ``pitch`` px:
    ink where the channel is darker than the screen, paper elsewhere.
    """
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = image.astype(np.float32)
    for c in range(3):
        a = np.deg2rad(angle_deg + 15.0 * c)  # one screen angle per ink, as in CMY printing
        u = (xx * np.cos(a) + yy * np.sin(a)) * (2 * np.pi / pitch)
        v = (-xx * np.sin(a) + yy * np.cos(a)) * (2 * np.pi / pitch)
        screen = (np.cos(u) * np.cos(v) + 1.0) * 127.5  # 0..255 dot pattern
        dots = np.where(out[..., c] > screen, 255.0, 0.0)
        out[..., c] = (1.0 - strength) * out[..., c] + strength * dots
    return _u8(out)


def print_scan(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Print (gamut, halftone, ink spread, paper grain) and re-scan (resample, JPEG)."""
    h, w = image.shape[:2]
    out, params = colour_shift(image, rng)
    pitch, angle, strength = float(rng.uniform(2.0, 3.5)), float(rng.uniform(0, 90)), float(rng.uniform(0.15, 0.4))
    out = halftone(out, pitch, angle, strength)
    spread = float(rng.uniform(0.6, 1.4))
    out = cv2.GaussianBlur(out, (0, 0), spread)
    grain = float(rng.uniform(1.0, 4.0))
    out = _u8(out.astype(np.float32) + rng.normal(0, grain, out.shape[:2])[..., None].astype(np.float32))
    scale = float(rng.uniform(0.55, 0.9))  # the scanner's resolution, then back to the original size
    small = cv2.resize(out, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    quality = int(rng.integers(70, 96))
    out = robustness.jpeg(out, quality)
    params.update(halftone_pitch=round(pitch, 2), halftone_angle=round(angle, 1), halftone_strength=round(strength, 3),
                  ink_spread=round(spread, 3), grain=round(grain, 2), rescan_scale=round(scale, 3), jpeg=quality)
    return out, params


def jpeg_only(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    h, w = image.shape[:2]
    params: dict = {}
    out = image
    if rng.random() < 0.5:
        scale = float(rng.uniform(0.6, 0.95))
        small = cv2.resize(image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        params["downscale"] = round(scale, 3)
    quality = int(rng.integers(40, 91))
    params["jpeg"] = quality
    return robustness.jpeg(out, quality), params


def document_pipeline(image: np.ndarray, rng: np.random.Generator, chain: str | None = None) -> tuple[np.ndarray, dict]:
    """``image`` through one drawn (or the given) chain; returns (image, {"chain": ..., **params})."""
    chain = chain or str(rng.choice(CHAINS, p=CHAIN_PROBABILITIES))
    if chain == "print_scan":
        out, params = print_scan(image, rng)
    elif chain == "jpeg":
        out, params = jpeg_only(image, rng)
    elif chain == "none":
        out, params = image.copy(), {}
    else:
        raise ValueError(f"unknown document chain {chain!r}; known: {CHAINS}")
    return out, {"chain": chain, **params}
