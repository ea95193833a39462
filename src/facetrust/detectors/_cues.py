"""Shared helpers of the training-free cue detectors (noise_residual, spectral).

Definitions used throughout:

* **luminance**: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` as float32 in [0, 255].
* **face units**: coordinates of the tight face square of the 5-point template, (0, 0) its top-left
  and (1, 1) its bottom-right corner (eyes near y = 0.46, mouth near y = 0.82). Any aligned crop maps
  to them through its :class:`CropSpec`, so region definitions do not depend on crop size or margin.
* **analysis region**: an axis-aligned frame rectangle whose top-left corner sits on the frame's 8x8
  grid, so that pixel ``(x, y)`` of the region has JPEG/upsampling phase ``(x0 + x) % 8``.
* **calibration**: a logistic model ``p = sigmoid(b + sum_i w_i (x_i - mean_i) / scale_i)`` over
  named evidence values (the fit data's fake fraction when a face is too small to measure), with
  parameters read from ``cue_calibration.json`` (written by ``python -m
  facetrust.train.fit_cues``). A missing or stale file raises: a cue never guesses.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np

from ..errors import DetectorError
from ..faces.align import CropSpec

CALIBRATION_PATH = Path(__file__).with_name("cue_calibration.json")
CALIBRATION_FORMAT = 1


def luminance(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 image as float32 (H, W)."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    # float input keeps sub-integer precision (a uint8 grey image adds 0.29 grey levels of rounding)
    return cv2.cvtColor(np.ascontiguousarray(rgb[..., :3], dtype=np.float32), cv2.COLOR_RGB2GRAY)


def crop_to_face_units(spec: CropSpec) -> np.ndarray:
    """(3, 3) matrix: crop pixels -> face units."""
    k = (1.0 + 2.0 * spec.margin) / spec.size
    return np.array([[k, 0.0, -spec.margin], [0.0, k, -spec.margin], [0.0, 0.0, 1.0]])


def frame_to_face_units(matrix: np.ndarray, spec: CropSpec) -> np.ndarray:
    """(3, 3) matrix: frame pixels -> face units, from the (2, 3) frame->crop ``matrix``."""
    m = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return crop_to_face_units(spec) @ m


def apply(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a (3, 3) affine matrix to (..., 2) points."""
    x, y = pts[..., 0], pts[..., 1]  # explicit: no BLAS call for a 2x2 product
    return np.stack([h[0, 0] * x + h[0, 1] * y + h[0, 2], h[1, 0] * x + h[1, 1] * y + h[1, 2]], axis=-1)


@dataclass(frozen=True)
class Region:
    """Frame rectangle [x0, x1) x [y0, y1), with x0, y0 multiples of 8 (the frame's 8x8 grid)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def grid_aligned_region(
    to_face: np.ndarray,
    window: tuple[float, float, float, float],
    frame_shape: tuple[int, int],
    multiple: int,
) -> Region | None:
    """Bounding frame rectangle of the face-unit ``window`` (u0, v0, u1, v1), clipped to the frame.

    The origin snaps down to the 8x8 grid and the size is trimmed to a multiple of ``multiple``;
    None when less than two multiples remain on a side.
    """
    u0, v0, u1, v1 = window
    inv = np.linalg.inv(to_face)
    corners = apply(inv, np.array([[u0, v0], [u1, v0], [u0, v1], [u1, v1]], dtype=np.float64))
    h, w = frame_shape
    x0 = int(max(0, math.floor(corners[:, 0].min())) // 8 * 8)
    y0 = int(max(0, math.floor(corners[:, 1].min())) // 8 * 8)
    x1 = int(min(w, math.ceil(corners[:, 0].max())))
    y1 = int(min(h, math.ceil(corners[:, 1].max())))
    x1 = x0 + (x1 - x0) // multiple * multiple
    y1 = y0 + (y1 - y0) // multiple * multiple
    if x1 - x0 < 2 * multiple or y1 - y0 < 2 * multiple:
        return None
    return Region(x0, y0, x1, y1)


def block_centres_face_units(region: Region, block: int, to_face: np.ndarray) -> np.ndarray:
    """(Hb, Wb, 2) face-unit coordinates of the centres of ``block``-pixel cells of ``region``."""
    hb, wb = region.height // block, region.width // block
    xs = region.x0 + block * np.arange(wb) + (block - 1) / 2.0
    ys = region.y0 + block * np.arange(hb) + (block - 1) / 2.0
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    return apply(to_face, grid)


def inside_ellipse(
    uv: np.ndarray, centre: tuple[float, float], radii: tuple[float, float]
) -> np.ndarray:
    """Boolean mask of face-unit points inside the axis-aligned ellipse."""
    du = (uv[..., 0] - centre[0]) / radii[0]
    dv = (uv[..., 1] - centre[1]) / radii[1]
    return du * du + dv * dv <= 1.0


def block_mean(a: np.ndarray, by: int, bx: int | None = None) -> np.ndarray:
    """Mean over non-overlapping ``by`` x ``bx`` cells of a 2-D float32 array whose sides are
    multiples of the cell (OpenCV's area resampling, an exact box mean at integer factors)."""
    bx = by if bx is None else bx
    h, w = a.shape
    return cv2.resize(a, (w // bx, h // by), interpolation=cv2.INTER_AREA)


def block_map_to_crop(
    block_map: np.ndarray,
    region: Region,
    block: float,
    stride: float,
    matrix: np.ndarray,
    crop_size: int,
    out_size: int,
) -> np.ndarray:
    """Resample a per-cell map (cell (i, j) covers frame pixels from ``region.x0 + stride * j``,
    ``block`` wide) into an ``out_size`` square heatmap in crop coordinates."""
    cell_to_frame = np.array(
        [
            [stride, 0.0, region.x0 + (block - 1) / 2.0],
            [0.0, stride, region.y0 + (block - 1) / 2.0],
            [0.0, 0.0, 1.0],
        ]
    )
    frame_to_crop = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    crop_to_out = np.diag([out_size / crop_size, out_size / crop_size, 1.0])
    m = (crop_to_out @ frame_to_crop @ cell_to_frame)[:2]
    out = cv2.warpAffine(
        block_map.astype(np.float32),
        m,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class LogisticCalibration:
    """``p = sigmoid(intercept + sum_i coef_i * (x_i - mean_i) / scale_i)`` over named features."""

    detector: str
    version: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    base_rate: float = 0.5  # fake fraction of the fit data: the answer when nothing is measured

    def logit(self, evidence: Mapping[str, float]) -> float:
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef):
            z += w * (float(evidence[name]) - mu) / sd
        return z

    def probability(self, evidence: Mapping[str, float]) -> float:
        """Calibrated fake probability; the prior (no evidence) when ``evidence["too_small"]``."""
        if evidence.get("too_small", 0.0):
            return self.prior()
        z = float(np.clip(self.logit(evidence), -40.0, 40.0))
        return 1.0 / (1.0 + math.exp(-z))

    def prior(self) -> float:
        """What the cue says when it cannot measure: the fit data's fake fraction (no evidence)."""
        return self.base_rate


def read_calibration_file(path: Path = CALIBRATION_PATH) -> dict:
    if not path.is_file():
        raise DetectorError(
            f"cue calibration file {path} is missing; run `python -m facetrust.train.fit_cues` "
            "to fit it on faces-train (the cue detectors refuse to guess uncalibrated)"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DetectorError(f"cue calibration file {path} is unreadable: {exc}") from exc
    if data.get("format") != CALIBRATION_FORMAT:
        raise DetectorError(
            f"cue calibration file {path} has format {data.get('format')!r}, "
            f"expected {CALIBRATION_FORMAT}; refit it"
        )
    return data


@lru_cache(maxsize=8)
def _load_cached(name: str, version: str, path: str, mtime: float) -> LogisticCalibration:
    data = read_calibration_file(Path(path))
    entry = data.get("detectors", {}).get(name)
    if entry is None:
        raise DetectorError(f"{path} has no calibration for detector {name!r}; refit it")
    if entry.get("version") != version:
        raise DetectorError(
            f"calibration of {name!r} in {path} is for version {entry.get('version')!r}, "
            f"the detector is {version!r}; refit with `python -m facetrust.train.fit_cues`"
        )
    n = len(entry["features"])
    if not all(len(entry[k]) == n for k in ("mean", "scale", "coef")):
        raise DetectorError(f"calibration of {name!r} in {path} is malformed")
    scale = tuple(float(s) for s in entry["scale"])
    if not all(s > 0 and math.isfinite(s) for s in scale):
        raise DetectorError(f"calibration of {name!r} in {path} has non-positive scales")
    return LogisticCalibration(
        detector=name,
        version=version,
        features=tuple(entry["features"]),
        mean=tuple(float(v) for v in entry["mean"]),
        scale=scale,
        coef=tuple(float(v) for v in entry["coef"]),
        intercept=float(entry["intercept"]),
        base_rate=float(entry.get("base_rate", 0.5)),
    )


def load_calibration(
    name: str, version: str, path: Path | None = None
) -> LogisticCalibration:
    """The fitted logistic calibration of detector ``name`` at ``version``; raises DetectorError
    when the file is missing, malformed, or fitted for another version."""
    p = Path(path) if path is not None else CALIBRATION_PATH
    mtime = p.stat().st_mtime if p.is_file() else -1.0
    if mtime < 0:
        read_calibration_file(p)  # raises the explanatory error
    return _load_cached(name, version, str(p), mtime)


class CueDetector:
    """Shared body of the training-free cue detectors (mixed into ``Detector`` subclasses).

    A subclass sets ``info``, ``features`` (its calibrated evidence keys, listed first in the
    evidence so explanations quote them) and ``measure(frame, matrix, crop, spec) ->
    (evidence, heatmap)``.
    """

    features: tuple[str, ...] = ()

    def __init__(self, calibration_path: str | None = None) -> None:
        self.calibration = load_calibration(self.info.name, self.info.version, calibration_path)

    def predict(self, faces):
        from .base import DetectorOutput

        outputs = []
        for face in faces:
            evidence, heat = type(self).measure(face.frame, face.matrix, face.crop, self.info.crop)
            ordered = {k: evidence[k] for k in self.features if k in evidence}
            ordered.update((k, v) for k, v in evidence.items() if k not in ordered)
            outputs.append(
                DetectorOutput(
                    fake_probability=self.calibration.probability(evidence), heatmap=heat, evidence=ordered
                )
            )
        return outputs
