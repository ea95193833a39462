"""``noise_residual``: does the face carry the same sensor noise and JPEG grid as its surroundings?

A face pasted or blended into a photo (face swap, splicing, retouching) went through its own
resampling, smoothing and often compression before it was composited, so its *noise level* and
its *8x8 JPEG blocking grid* differ from the untouched pixels around it. This cue measures both on
the full frame at native resolution (never on the resampled crop, which would erase them):

* **noise level**: Immerkaer's (1996) noise estimator, ``sigma = sqrt(pi/2) / 6 * mean |I * N|``
  with ``N = [[1,-2,1],[-2,4,-2],[1,-2,1]]`` (blind to linear gradients), per 4x4 cell of the
  luminance; clipped cells (near 0 or 255) are ignored. The *noise floor* of a region is the
  30th percentile of its cells (textured cells such as eyes, hair or edges sit above it).
* **JPEG grid**: the mean absolute horizontal (vertical) neighbour difference at each of the 8
  column (row) phases of the frame's 8x8 grid, differences clipped at 12 grey levels.
  ``grid strength = (max - median) / (median + 0.5)`` of that profile; its ``argmax`` is the grid
  phase. ``grid_deficit = log((context strength + 0.05) / (face strength + 0.05))``;
  ``grid_phase_mismatch`` (0-1; 0 when the context shows no grid, strength < 0.08): per axis,
  ``1 - (P_face[context phase] - median) / (max - median)`` clipped to [0, 1], averaged.
* **score**: a logistic calibration (``cue_calibration.json``) over ``FEATURES``.

Regions, in face units of the 5-point template (see :mod:`._cues`): the *inner face* ellipse
(eyes to mouth, where every face-swap and retouch changes pixels) against a *context ring* outside
an ellipse enclosing the whole face (hair, neck, background). When the face fills the frame the
ring shrinks towards the inner face (the crop's border ring); ``context_ring_scale`` says how far.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..faces.align import CropSpec
from . import _cues
from .base import Detector, DetectorInfo, register_detector

NAME = "noise_residual"
VERSION = "1.0"
CROP = CropSpec(size=224, margin=0.3)

CELL = 4  # noise cell side (divides 8, so cells never straddle the 8x8 grid)
WINDOW = (-0.75, -0.7, 1.75, 1.9)  # face-unit window analysed around the face
MIN_WINDOW = (-0.3, -0.4, 1.3, 1.5)  # ...shrunk towards this for big faces (pixel budget)
MAX_REGION_PIXELS = 300_000
INNER = ((0.5, 0.62), (0.27, 0.30))  # inner-face ellipse: centre, radii (face units)
OUTER = ((0.5, 0.55), (0.62, 0.78))  # the context ring lies outside this ellipse
RING_SCALES = (1.0, 0.85, 0.72)  # shrink OUTER (not below INNER) until the ring has enough cells
MIN_CELLS = 12
FLOOR_PERCENTILE = 30.0
DIFF_CLIP = 12.0  # grey levels
GRID_MIN_STRENGTH = 0.08  # below this the context shows no JPEG grid to compare phases with
HEATMAP_SIZE = 56
HEAT_FULL_SCALE = math.log(4.0)  # a 4x noise-level difference is a full-scale heatmap value

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_IMMERKAER_GAIN = math.sqrt(math.pi / 2.0) / 6.0

# Calibrated features. The absolute face noise floor is one of them: a pasted face is mostly
# *smoother* than a genuine one (validation AUC 0.70 with it vs 0.63 with ratios alone, see docs).
FEATURES = ("log_noise_face", "log_noise_context", "grid_deficit", "grid_phase_mismatch")
EVIDENCE_KEYS = (
    "frame_available", "face_cells", "context_cells", "context_ring_scale",
    "noise_face", "noise_context", "log_noise_face", "log_noise_context",
    "log_noise_ratio", "abs_log_noise_ratio", "grid_strength_face", "grid_strength_context",
    "grid_deficit", "grid_phase_mismatch", "grid_phase_face_x", "grid_phase_face_y",
    "grid_phase_context_x", "grid_phase_context_y", "too_small",
)


def _grid_profile(cols: np.ndarray, rows: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean |difference| per 8x8-grid phase over the cells in ``mask``: (8,) columns, (8,) rows.

    ``cols[i, j, k]``: mean over cell (i, j) of |I[y, x+1] - I[y, x]| on its k-th column (phase
    ``4 * (j % 2) + k``); ``rows`` likewise for rows (phase ``4 * (i % 2) + k``).
    """
    hb, wb = mask.shape
    m = mask.astype(np.float32)
    out = []
    for per_cell, parity in ((cols, np.arange(wb)[None, :] % 2), (rows, np.arange(hb)[:, None] % 2)):
        prof = np.zeros(8)
        for par in (0, 1):
            w = (m * (parity == par)).ravel()
            # einsum, not @: no BLAS thread pool for a small product
            total = np.einsum("i,ik->k", w, per_cell.reshape(-1, CELL))
            prof[4 * par : 4 * par + 4] = total / max(1.0, float(w.sum()))
        out.append(prof)
    return out[0], out[1]


def _phase_disagreement(profile: np.ndarray, phase: int) -> float:
    """0 when ``phase`` is the profile's strongest, 1 when it is at or below the median."""
    med, top = float(np.median(profile)), float(profile.max())
    return float(np.clip(1.0 - (profile[phase] - med) / (top - med + 1e-6), 0.0, 1.0))


def _strength(profile: np.ndarray) -> tuple[float, int]:
    med = float(np.median(profile))
    return float((profile.max() - med) / (med + 0.5)), int(np.argmax(profile))


def measure(
    frame: np.ndarray | None, matrix: np.ndarray, crop: np.ndarray | None = None, spec: CropSpec = CROP
) -> tuple[dict[str, float], np.ndarray]:
    """Evidence dict and (HEATMAP_SIZE, HEATMAP_SIZE) float32 heatmap in crop coordinates.

    ``frame`` is the full RGB frame and ``matrix`` the frame->crop transform of ``spec``; without a
    frame the ``crop`` itself is analysed (its grid phase is then the crop's, see docs).
    """
    frame_available = frame is not None
    if frame is None:
        if crop is None:
            raise ValueError("noise_residual needs the frame or the crop")
        frame, matrix = crop, np.array([[1.0, 0, 0], [0, 1.0, 0]])
    to_face = _cues.frame_to_face_units(matrix, spec)
    h, w = frame.shape[:2]
    region = _cues.grid_aligned_region(to_face, WINDOW, (h, w), 8)
    if region is not None and region.width * region.height > MAX_REGION_PIXELS:
        # big face: a thinner context ring still holds thousands of cells; keeps the cost bounded
        f = math.sqrt(MAX_REGION_PIXELS / (region.width * region.height))
        c = (0.5, 0.6, 0.5, 0.6)
        window = tuple(
            min(lo, cc + (wv - cc) * f) if i < 2 else max(lo, cc + (wv - cc) * f)
            for i, (wv, lo, cc) in enumerate(zip(WINDOW, MIN_WINDOW, c))
        )
        region = _cues.grid_aligned_region(to_face, window, (h, w), 8)
    evidence: dict[str, float] = {"frame_available": float(frame_available)}
    if region is None:
        return _neutral(evidence), np.zeros((HEATMAP_SIZE, HEATMAP_SIZE), np.float32)

    # one extra row/column (when the frame has it) so the last differences are real ones
    xe, ye = min(w, region.x1 + 1), min(h, region.y1 + 1)
    y_ext = _cues.luminance(frame[region.y0 : ye, region.x0 : xe])
    y = y_ext[: region.height, : region.width]
    hb, wb = region.height // CELL, region.width // CELL

    conv = np.abs(cv2.filter2D(y, cv2.CV_32F, _IMMERKAER, borderType=cv2.BORDER_REFLECT_101))
    sigma = _cues.block_mean(conv, CELL) * _IMMERKAER_GAIN
    clipped = ((y >= 250.0) | (y <= 3.0)).astype(np.float32)
    valid = _cues.block_mean(clipped, CELL) == 0.0

    # |differences| clipped at DIFF_CLIP so that content edges weigh like any other pixel pair
    dx = np.minimum(np.abs(np.diff(y_ext[: region.height], axis=1)), DIFF_CLIP)
    if dx.shape[1] < region.width:
        dx = np.pad(dx, ((0, 0), (0, 1)), mode="edge")
    dy = np.minimum(np.abs(np.diff(y_ext[:, : region.width], axis=0)), DIFF_CLIP)
    if dy.shape[0] < region.height:
        dy = np.pad(dy, ((0, 1), (0, 0)), mode="edge")
    cols = _cues.block_mean(np.ascontiguousarray(dx[:, : region.width]), CELL, 1).reshape(hb, wb, CELL)
    rows = _cues.block_mean(np.ascontiguousarray(dy[: region.height]), 1, CELL)
    rows = rows.reshape(hb, CELL, wb).transpose(0, 2, 1)

    uv = _cues.block_centres_face_units(region, CELL, to_face)
    inner = _cues.inside_ellipse(uv, *INNER)
    ring_scale = RING_SCALES[-1]
    for s in RING_SCALES:
        radii = (OUTER[1][0] * s, OUTER[1][1] * s)
        ring = ~_cues.inside_ellipse(uv, OUTER[0], radii)
        if int((ring & valid).sum()) >= MIN_CELLS:
            ring_scale = s
            break
    inner_v, ring_v = inner & valid, ring & valid
    n_inner, n_ring = int(inner_v.sum()), int(ring_v.sum())
    evidence.update(
        {
            "face_cells": float(n_inner),
            "context_cells": float(n_ring),
            "context_ring_scale": float(ring_scale),
        }
    )
    if n_inner < 2 or n_ring < 2:
        return _neutral(evidence), np.zeros((HEATMAP_SIZE, HEATMAP_SIZE), np.float32)

    noise_face = float(np.percentile(sigma[inner_v], FLOOR_PERCENTILE))
    noise_ctx = float(np.percentile(sigma[ring_v], FLOOR_PERCENTILE))
    log_ratio = math.log((noise_face + 0.1) / (noise_ctx + 0.1))

    gxf, gyf = _grid_profile(cols, rows, inner_v)
    gxc, gyc = _grid_profile(cols, rows, ring_v)
    (sxf, pxf), (syf, pyf) = _strength(gxf), _strength(gyf)
    (sxc, pxc), (syc, pyc) = _strength(gxc), _strength(gyc)
    g_face, g_ctx = 0.5 * (sxf + syf), 0.5 * (sxc + syc)
    mismatch = 0.0
    if g_ctx > GRID_MIN_STRENGTH:  # the context shows a grid: is the face's strongest at its phase?
        mismatch = 0.5 * (_phase_disagreement(gxf, pxc) + _phase_disagreement(gyf, pyc))
    evidence.update(
        {
            "noise_face": noise_face,
            "noise_context": noise_ctx,
            "log_noise_face": math.log(noise_face + 0.1),
            "log_noise_context": math.log(noise_ctx + 0.1),
            "log_noise_ratio": log_ratio,
            "abs_log_noise_ratio": abs(log_ratio),
            "grid_strength_face": g_face,
            "grid_strength_context": g_ctx,
            "grid_deficit": math.log((g_ctx + 0.05) / (g_face + 0.05)),
            "grid_phase_mismatch": mismatch,
            "grid_phase_face_x": float(pxf),
            "grid_phase_face_y": float(pyf),
            "grid_phase_context_x": float(pxc),
            "grid_phase_context_y": float(pyc),
            "too_small": 0.0,
        }
    )

    # Heatmap: per-cell |log noise - log context noise floor|. A grey opening (erode, dilate)
    # removes thin high-noise structures (edges, eyelashes) narrower than 3 cells first.
    log_ctx = math.log(noise_ctx + 0.1)
    logs = np.where(valid, np.log(sigma + 0.1), log_ctx).astype(np.float32)
    logs = cv2.morphologyEx(logs, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    logs = cv2.GaussianBlur(logs, (0, 0), 1.0)
    dev = np.abs(logs - log_ctx) / HEAT_FULL_SCALE
    heat = _cues.block_map_to_crop(dev, region, CELL, CELL, matrix, spec.size, HEATMAP_SIZE)
    return evidence, heat


def _neutral(evidence: dict[str, float]) -> dict[str, float]:
    """Evidence when the face is too small to measure: zeros and ``too_small = 1`` (the
    calibration then returns its prior)."""
    out = {k: 0.0 for k in EVIDENCE_KEYS}
    out.update(evidence)
    out["too_small"] = 1.0
    return out


@register_detector(NAME)
class NoiseResidualDetector(_cues.CueDetector, Detector):
    """Noise-level and JPEG-grid inconsistency between the inner face and its surroundings."""

    info = DetectorInfo(
        name=NAME,
        version=VERSION,
        crop=CROP,
        catches="splicing/blending: a face pasted with its own resampling, smoothing or compression",
        description=(
            "Compares the Immerkaer noise floor and the 8x8 JPEG grid strength/phase of the inner "
            "face with the context ring around the face, on the full frame at native resolution. "
            "Blind to fully generated images and to fakes re-encoded as a whole at low quality."
        ),
        outputs_heatmap=True,
        needs_frame=True,
        trained=False,
    )

    features = FEATURES
    measure = staticmethod(measure)
