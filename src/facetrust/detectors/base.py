"""The one detector contract and its registry (creation by name or model card: :mod:`.catalog`).

Every forensic detector, training-free cue or trained network, takes aligned face crops (plus the
full frame for context-aware cues) and returns, per crop, a fake probability with optional heatmap,
embedding and family probabilities. The pipeline knows nothing else about a detector.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import UnknownDetectorError
from ..faces.align import CropSpec
from ..registry import Registry


@dataclass(frozen=True)
class DetectorInfo:
    name: str
    version: str
    crop: CropSpec  # the aligned crop this detector expects (same function as training)
    catches: str  # what it is meant to catch, in one line
    description: str = ""
    outputs_heatmap: bool = False
    outputs_embedding: bool = False
    outputs_family: bool = False
    needs_frame: bool = False  # reads the full frame for context, not only the crop
    trained: bool = False  # False: a training-free cue
    default_threshold: float = 0.5  # operating point chosen on validation data (never on test data)


@dataclass
class FaceInput:
    """What a detector receives for one face."""

    crop: np.ndarray  # (S, S, 3) uint8 RGB, S = info.crop.size
    matrix: np.ndarray  # (2, 3) frame -> crop
    frame: np.ndarray | None = None  # (H, W, 3) uint8 RGB full frame, shared between faces
    box: np.ndarray | None = None  # (4,) x0, y0, x1, y1 in frame pixels
    landmarks5: np.ndarray | None = None  # (5, 2) frame pixels


@dataclass
class DetectorOutput:
    """What a detector returns for one face."""

    fake_probability: float
    heatmap: np.ndarray | None = None  # (h, w) float32 in [0, 1], crop coordinates (any h, w)
    embedding: np.ndarray | None = None  # (D,) float32
    family_probabilities: dict[str, float] | None = None
    # Measured quantities behind the score, used to build the explanation (name -> value),
    # most informative first: the explanation quotes the first few.
    evidence: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = float(self.fake_probability)
        if not np.isfinite(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"fake_probability must be a finite value in [0, 1], got {p}")
        self.fake_probability = p


class Detector(ABC):
    """Subclass, set ``info``, implement :meth:`predict`, and register with ``@register_detector``."""

    info: DetectorInfo

    @abstractmethod
    def predict(self, faces: Sequence[FaceInput]) -> list[DetectorOutput]:
        """One output per input face, in order."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.info.name!r}, version={self.info.version!r})"


# Every module of this package is imported on first use (so a new detector is one new file here),
# and installed packages add theirs through the ``facetrust.detectors`` entry-point group.
DETECTORS: Registry[Callable[..., Detector]] = Registry(
    "detector", packages=("facetrust.detectors",), entry_point_group="facetrust.detectors", error=UnknownDetectorError
)


def register_detector(name: str, **metadata) -> Callable[[Callable[..., Detector]], Callable[..., Detector]]:
    """Decorator registering a detector class or factory under ``name``."""
    return DETECTORS.register(name, **metadata)
