"""Forensic detectors behind one contract (see :mod:`facetrust.detectors.base`)."""

from .base import (
    Detector,
    DetectorInfo,
    DetectorOutput,
    FaceInput,
    available_detectors,
    create_detector,
    register_detector,
)

DEFAULT_DETECTORS = ("noise_residual", "spectral")

__all__ = [
    "DEFAULT_DETECTORS",
    "Detector",
    "DetectorInfo",
    "DetectorOutput",
    "FaceInput",
    "available_detectors",
    "create_detector",
    "register_detector",
]
