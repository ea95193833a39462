"""Forensic detectors behind one contract (see :mod:`facetrust.detectors.base`)."""

from .base import DETECTORS, Detector, DetectorInfo, DetectorOutput, FaceInput, register_detector
from .catalog import available_detectors, create_detector

# Chosen on the synth validation split: fusing the cues did not raise ForensicNet's AUC
# (benchmarks/fusion_validation.py: 0.861 alone, 0.858 fused), so the default is ForensicNet alone.
DEFAULT_DETECTORS = ("forensicnet",)

__all__ = [
    "DEFAULT_DETECTORS",
    "DETECTORS",
    "Detector",
    "DetectorInfo",
    "DetectorOutput",
    "FaceInput",
    "available_detectors",
    "create_detector",
    "register_detector",
]
