"""Making a detector: by registered name, or from a shipped model card (``path/to/model.json``).

A card written by ``facetrust ship`` (ForensicNet format: the card JSON with its ONNX file beside
it, the ONNX sha256 recorded in the card) runs without any Python registration, and reports name
it as its card does.
"""

from __future__ import annotations

import os

from .base import DETECTORS, Detector
from .forensicnet import ForensicNetDetector, is_model_card


def available_detectors() -> list[str]:
    """Registered detector names (a model card path is accepted too, see :func:`create_detector`)."""
    return DETECTORS.names()


def create_detector(name: str | os.PathLike, **kwargs) -> Detector:
    """Instantiate a registered detector by name (timm-style ``create_model``), or the model whose
    card is at ``name`` (a path ending in ``.json``)."""
    if is_model_card(name):
        det = ForensicNetDetector(card_path=name, **kwargs)
    else:
        det = DETECTORS.get(str(name))(**kwargs)
    if not isinstance(det, Detector):
        raise TypeError(f"factory for {name!r} returned {type(det).__name__}, not a Detector")
    return det
