"""Down-up resampling with generator-like upsamplers (numpy/OpenCV, no deep-learning framework).

GAN and diffusion decoders leave periodic fingerprints from their upsampling layers. These
upsamplers reproduce the layer types, with small random fixed kernels standing in for learned ones:

- ``nearest`` / ``bilinear``: interpolation upsampling (StyleGAN-style "resize then conv" without
  the conv).
- ``transposed``: zero insertion (stride r) + a 2r x 2r kernel = the bilinear kernel plus noise;
  the r*r phases then have unequal gains: the checkerboard of transposed convolutions.
- ``pixel_shuffle``: sub-pixel convolution; every output phase has its own 3x3 kernel per channel
  (bilinear weights plus noise, each normalised to sum 1), interleaved by depth-to-space.
- ``autoencoder``: the seam for a small convolutional autoencoder trained on genuine faces. It
  needs torch and a trained checkpoint, neither of which this build has, so it raises.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

AUTOENCODER_MESSAGE = (
    "resynth upsampler 'autoencoder' needs torch and a trained autoencoder checkpoint "
    "(trained on genuine faces by the training pipeline); neither is available in this build. "
    "Use nearest, bilinear, transposed or pixel_shuffle."
)


def _tent(r: int) -> np.ndarray:
    """1-D kernel of length 2r that makes zero-insertion + convolution = centred bilinear."""
    k = np.arange(2 * r, dtype=np.float64)
    return 1.0 - np.abs(k - (r - 0.5)) / r


def _zero_insert(low: np.ndarray, r: int) -> np.ndarray:
    h, w, c = low.shape
    up = np.zeros((h * r, w * r, c), np.float32)
    up[::r, ::r] = low
    return up


def _transposed(low: np.ndarray, r: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    # Pad the low-res image first: mirroring a zero-inserted signal would break its phase at
    # the bottom/right edges.
    h, w = low.shape[:2]
    up = _zero_insert(cv2.copyMakeBorder(low, 1, 1, 1, 1, cv2.BORDER_REPLICATE), r)
    base = np.outer(_tent(r), _tent(r))
    anchor = r + r // 2 - 1  # centres the even-length tent: noise 0 gives cv2's INTER_LINEAR exactly
    out = np.empty_like(up)
    for ch in range(up.shape[2]):
        k = base + rng.normal(0.0, noise, base.shape) * base.max()
        k *= r * r / k.sum()  # average DC gain 1; per-phase gains stay unequal
        out[..., ch] = cv2.filter2D(
            up[..., ch], -1, k.astype(np.float32), anchor=(anchor, anchor), borderType=cv2.BORDER_REFLECT_101
        )
    return out[r : r + h * r, r : r + w * r]


def _phase_weights(r: int, phase: int) -> np.ndarray:
    """3-tap bilinear weights (offsets -1, 0, +1 in low-res pixels) of one output phase."""
    pos = (phase + 0.5) / r - 0.5  # output pixel centre relative to the low-res pixel centre
    w = np.zeros(3)
    if pos < 0:
        w[0], w[1] = -pos, 1.0 + pos
    else:
        w[1], w[2] = 1.0 - pos, pos
    return w


def _pixel_shuffle(low: np.ndarray, r: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    h, w, c = low.shape
    out = np.empty((h * r, w * r, c), np.float32)
    for py in range(r):
        for px_ in range(r):
            base = np.outer(_phase_weights(r, py), _phase_weights(r, px_))
            for ch in range(c):
                k = base + rng.normal(0.0, noise, (3, 3))
                k /= k.sum()
                out[py::r, px_::r, ch] = cv2.filter2D(
                    low[..., ch], -1, k.astype(np.float32), borderType=cv2.BORDER_REPLICATE
                )
    return out


def _interp(flag: int) -> Callable:
    def up(low: np.ndarray, r: int, rng: np.random.Generator, noise: float) -> np.ndarray:
        h, w = low.shape[:2]
        return cv2.resize(low, (w * r, h * r), interpolation=flag)

    return up


def _autoencoder(low: np.ndarray, r: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    raise RuntimeError(AUTOENCODER_MESSAGE)


UPSAMPLERS: dict[str, Callable] = {
    "nearest": _interp(cv2.INTER_NEAREST),
    "bilinear": _interp(cv2.INTER_LINEAR),
    "transposed": _transposed,
    "pixel_shuffle": _pixel_shuffle,
    "autoencoder": _autoencoder,
}
AVAILABLE_UPSAMPLERS = ("nearest", "bilinear", "transposed", "pixel_shuffle")


def down_up(
    image: np.ndarray, factor: int, upsampler: str, rng: np.random.Generator, noise: float = 0.04
) -> np.ndarray:
    """Area-downsample ``image`` by ``factor`` and upsample it back with ``upsampler``.

    The output has exactly the input size (edge rows are padded/cropped when the size is not a
    multiple of ``factor``).
    """
    if upsampler not in UPSAMPLERS:
        raise ValueError(f"unknown upsampler {upsampler!r}; known: {sorted(UPSAMPLERS)}")
    h, w = image.shape[:2]
    lh, lw = -(-h // factor), -(-w // factor)
    padded = cv2.copyMakeBorder(image, 0, lh * factor - h, 0, lw * factor - w, cv2.BORDER_REFLECT_101)
    low = cv2.resize(padded, (lw, lh), interpolation=cv2.INTER_AREA).astype(np.float32)
    up = UPSAMPLERS[upsampler](low, factor, rng, noise)
    return np.clip(up[:h, :w] + 0.5, 0, 255).astype(np.uint8)
