"""Face detection results, in full-frame pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .align import CropSpec


@dataclass
class DetectedFace:
    """One face found in one frame.

    ``landmarks5`` order (image coordinates, the subject's right eye is on the image left):
    image-left eye, image-right eye, nose tip, image-left mouth corner, image-right mouth corner.
    """

    box: np.ndarray  # (4,) float: x0, y0, x1, y1
    score: float  # detector confidence in [0, 1]
    landmarks5: np.ndarray  # (5, 2) float
    landmarks_extra: np.ndarray | None = None  # (K, 2) more points when the backend has them
    backend: str = ""

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    def scaled(self, factor: float) -> "DetectedFace":
        """The same face with its coordinates multiplied by ``factor`` (found on a resized image)."""
        extra = None if self.landmarks_extra is None else np.asarray(self.landmarks_extra) * factor
        return DetectedFace(box=np.asarray(self.box, dtype=np.float64) * factor, score=self.score,
                            landmarks5=np.asarray(self.landmarks5, dtype=np.float64) * factor,
                            landmarks_extra=extra, backend=self.backend)

    @property
    def size(self) -> float:
        """Face size used for the minimum-size filter: the shorter box side."""
        return min(self.width, self.height)


@dataclass
class AlignedFace:
    """A face crop aligned to the canonical template, and how to map between crop and frame."""

    crop: np.ndarray  # (S, S, 3) uint8 RGB
    matrix: np.ndarray  # (2, 3) float: frame -> crop similarity transform
    face: DetectedFace
    spec: CropSpec
    extra: dict = field(default_factory=dict)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) crop coordinates back to frame coordinates."""
        inv = np.linalg.inv(np.vstack([self.matrix, [0.0, 0.0, 1.0]]))[:2]
        pts = np.asarray(points, dtype=np.float64)
        return pts @ inv[:, :2].T + inv[:, 2]
