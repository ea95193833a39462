"""Data passed between the synthesis stages.

A *source* is one genuine photo, face-detected and aligned with :func:`facetrust.faces.align_face`
(the crop function inference uses), with 68 landmarks in crop pixels. A *result* is what a family
makes from one or two sources: an image the size of the crop, a soft mask and the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FaceSource:
    """One aligned genuine face, ready for synthesis.

    ``landmarks`` are the 68 iBUG points in crop pixels (the subject's right eye on the image
    left); ``group`` is the identity key used for splits and partner choice.
    """

    source_id: str
    crop: np.ndarray  # (S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (68, 2) float64, crop pixels
    group: str = ""
    split: str = ""
    path: str = ""

    @property
    def size(self) -> int:
        return int(self.crop.shape[0])


@dataclass
class SynthResult:
    """One synthesised sample.

    ``mask`` is the soft map in [0, 1] of *where* the image was edited (1 = inside the edited
    region, falling to 0 across its feathered edge); *how strongly* it was edited (blend ratio,
    alpha) is recorded in ``params``. ``label`` is 1 for forgeries, 0 for non-forgeries
    (genuine crops, post-processing only).
    """

    image: np.ndarray  # (S, S, 3) uint8 RGB
    mask: np.ndarray  # (S, S) float32 in [0, 1]
    family: str
    params: dict = field(default_factory=dict)
    source_ids: tuple[str, ...] = ()
    label: int = 1


class SkipSample(Exception):
    """A family cannot make this particular sample; ``reason`` is counted in the run summary.

    Internal control flow only (never reaches the user), so it is not a ``FacetrustError``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
