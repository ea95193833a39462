"""Faces stage: detect, landmark, align (the one crop function) and track."""

from .align import TEMPLATE_5PT, CropSpec, align_face, estimate_similarity, warp_to_crop
from .detect import (
    DEFAULT_FACE_DETECTOR,
    FACE_DETECTORS,
    DEFAULT_MIN_FACE_SIZE,
    FaceDetectorBackend,
    available_face_detectors,
    create_face_detector,
)
from .track import FaceTracker, box_iou, landmark_distance
from .types import AlignedFace, DetectedFace

__all__ = [
    "DEFAULT_FACE_DETECTOR",
    "FACE_DETECTORS",
    "DEFAULT_MIN_FACE_SIZE",
    "TEMPLATE_5PT",
    "AlignedFace",
    "CropSpec",
    "DetectedFace",
    "FaceDetectorBackend",
    "FaceTracker",
    "align_face",
    "available_face_detectors",
    "box_iou",
    "create_face_detector",
    "estimate_similarity",
    "landmark_distance",
    "warp_to_crop",
]
