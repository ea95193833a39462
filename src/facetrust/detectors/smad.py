"""``smad``: single-image morphing-attack detection (is this ID-document face a morph of two people?).

A calibrated logistic regression on frozen features of the aligned face (texture and frequency
statistics, optionally dlib's identity embedding: :mod:`facetrust.detectors._mad_features`), fitted
on print-scanned and JPEG'd CelebA morphs and bona fide photos by ``facetrust.train.fit_mad``. The
score is the calibrated morph probability; the heatmap shows where the face holds less fine detail
than bona fide training faces (blending two faces averages detail away). Needs the ``dlib`` extra.
The D-MAD counterpart (with a trusted reference photo) is in ``facetrust verify``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DetectorError
from .base import Detector, DetectorInfo, DetectorOutput, FaceInput, register_detector

NAME = "smad"
VERSION = "1.0"
EVIDENCE_FEATURES = ("inner_residual_log_std", "inner_gradient_log_energy", "ring_residual_log_std")


@register_detector(NAME, aliases=("morph",))
class SingleImageMorphDetector(Detector):
    def __init__(self) -> None:
        try:
            from ._mad import load_mad_models
            from ._mad_features import CROP, TEXTURE_FEATURES, load_describer

            self._models = load_mad_models()
            self._describer = load_describer()
        except ImportError as exc:  # the dlib extra is missing: the detector is unavailable, not broken
            raise DetectorError(f"smad needs the dlib extra (pip install 'facetrust[dlib]'): {exc}") from None
        self._index = {name: TEXTURE_FEATURES.index(name) for name in EVIDENCE_FEATURES}
        self.info = DetectorInfo(
            name=NAME, version=VERSION, crop=CROP,
            catches="face morphs of two or more people (ID-document morphing attacks), from one image",
            description="S-MAD: calibrated logistic regression on texture/frequency statistics "
                        f"({self._models.smad_feature_set}) of the aligned face",
            outputs_heatmap=True, trained=True, default_threshold=self._models.smad.threshold)

    def predict(self, faces: Sequence[FaceInput]) -> list[DetectorOutput]:
        out = []
        for face in faces:
            d = self._describer.describe(face.crop)
            m = self._models
            p = m.smad_probability(d)
            heat = m.heatmap(d)
            evidence = {"morph_probability": p, "detail_deficit": float(heat.mean())}
            evidence.update({k: float(d.texture[i]) for k, i in self._index.items()})
            out.append(DetectorOutput(p, heatmap=heat, evidence=evidence))
        return out
