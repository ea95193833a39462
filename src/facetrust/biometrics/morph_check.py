"""The verify report's morphing-attack check: S-MAD on the probe, D-MAD of the probe against the reference.

Both faces are the ones verification compared (the embedder's chosen detection), aligned to the MAD
crop and described once (:mod:`facetrust.detectors._mad_features`). Never raises: a failure is ``status="error"`` with
the reason, so a verify report is always written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..faces import DetectedFace

MorphStatus = Literal["ok", "error"]
log = logging.getLogger(__name__)


@dataclass
class MorphCheck:
    """Is the probe a morph? ``*_flagged`` when the calibrated probability reaches its validated threshold."""

    status: MorphStatus
    smad_probability: float | None = None  # single image: the probe alone
    smad_threshold: float = 0.5
    smad_flagged: bool | None = None
    dmad_probability: float | None = None  # differential: the probe against the trusted reference
    dmad_threshold: float = 0.5
    dmad_flagged: bool | None = None
    model: str = ""
    error: str | None = None


def check_morph(probe_image: np.ndarray, probe_face: DetectedFace, reference_image: np.ndarray,
                reference_face: DetectedFace) -> MorphCheck:
    try:
        from ..faces import align_face
        from ..detectors._mad import load_mad_models
        from ..detectors._mad_features import CROP, load_describer

        models, describer = load_mad_models(), load_describer()
        probe = describer.describe(align_face(probe_image, probe_face, CROP).crop)
        reference = describer.describe(align_face(reference_image, reference_face, CROP).crop)
        p_s, p_d = models.smad_probability(probe), models.dmad_probability(probe, reference)
        return MorphCheck("ok", p_s, models.smad.threshold, p_s >= models.smad.threshold, p_d,
                          models.dmad.threshold, p_d >= models.dmad.threshold, models.source)
    except Exception as exc:  # a missing or tampered model file, or a library failure
        log.exception("morph check failed")
        return MorphCheck("error", error=f"{type(exc).__name__}: {exc}")
