"""Face quality: how much a face's score can be trusted, and the gate that keeps weak faces out of verdicts.

Four measurements per face (all reported in ``FaceResult.quality``):

- ``confidence``: the face detector's score;
- ``size_px``: the shorter side of the face box, in frame pixels;
- ``landmarks``: plausibility of the five landmarks (eyes, nose tip, mouth corners) as a frontal-ish
  face, the fraction of :data:`LANDMARK_CHECKS` that hold, in [0, 1];
- ``sharpness``: variance of the Laplacian of the grey aligned crop, resampled to
  :data:`SHARPNESS_SIDE` px so crops of every detector size compare (a blurred or up-sampled tiny
  face has little high-frequency energy left for a forensic detector to read).

A face passes the gate when every measurement reaches its minimum (:class:`QualityGate`; a minimum
of 0 disables that check). A face that fails is reported with ``decisive = False`` and never decides
the media verdict (:func:`facetrust.fusion.fuse_media`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

SHARPNESS_SIDE = 112
LANDMARK_CHECKS = (
    "eyes_left_to_right",  # in the face's own frame (rotated so the eyes are level)
    "mouth_left_to_right",
    "nose_below_eyes",
    "mouth_below_nose",
    "eye_distance_vs_box",  # eye distance 0.15-0.8 of the box width
    "mouth_width_vs_eyes",  # mouth width 0.3-2.0 of the eye distance
    "inside_box",  # every landmark within the box grown by 10 %
)


@dataclass(frozen=True)
class QualityGate:
    """The minimum of each measurement for a face to decide a verdict (0: check disabled)."""

    min_confidence: float = 0.0
    min_size_px: float = 0.0
    min_landmarks: float = 0.0
    min_sharpness: float = 0.0


@dataclass(frozen=True)
class FaceQuality:
    confidence: float
    size_px: float
    landmarks: float
    sharpness: float
    failed: tuple[str, ...] = ()  # the gate's checks this face failed (empty: it passed)

    @property
    def passed(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict:
        d = asdict(self)
        d["failed"] = list(self.failed)
        d["passed"] = self.passed
        return d


def landmark_plausibility(box: np.ndarray, landmarks5: np.ndarray) -> float:
    """Fraction of :data:`LANDMARK_CHECKS` that the five landmarks satisfy."""
    lm = np.asarray(landmarks5, dtype=np.float64).reshape(5, 2)
    b = np.asarray(box, dtype=np.float64).reshape(4)
    if not np.isfinite(lm).all() or not np.isfinite(b).all():
        return 0.0
    eye_l, eye_r, nose, mouth_l, mouth_r = lm
    d = eye_r - eye_l
    eye_dist = float(np.hypot(*d))
    if eye_dist < 1e-6:
        return 0.0
    # rotate into the face's frame: x along the eye line, y down the face
    c, s = d / eye_dist
    rot = np.array([[c, s], [-s, c]])
    p = (lm - eye_l) @ rot.T
    eye_y = (p[0, 1] + p[1, 1]) / 2
    mouth_y = (p[3, 1] + p[4, 1]) / 2
    width = max(1e-6, b[2] - b[0])
    grow = 0.1 * np.array([-(b[2] - b[0]), -(b[3] - b[1]), b[2] - b[0], b[3] - b[1]])
    gb = b + grow
    mouth_w = float(np.hypot(*(mouth_r - mouth_l)))
    checks = (
        p[1, 0] > p[0, 0],
        p[4, 0] > p[3, 0],
        p[2, 1] > eye_y,
        mouth_y > p[2, 1],
        0.15 <= eye_dist / width <= 0.8,
        0.3 <= mouth_w / eye_dist <= 2.0,
        bool(((lm[:, 0] >= gb[0]) & (lm[:, 0] <= gb[2]) & (lm[:, 1] >= gb[1]) & (lm[:, 1] <= gb[3])).all()),
    )
    return float(np.mean(checks))


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the grey crop at :data:`SHARPNESS_SIDE` px."""
    img = np.asarray(crop)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)
    if img.shape[0] != SHARPNESS_SIDE or img.shape[1] != SHARPNESS_SIDE:
        inter = cv2.INTER_AREA if img.shape[0] > SHARPNESS_SIDE else cv2.INTER_LINEAR
        img = cv2.resize(img, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=inter)
    return float(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F).var())


def measure_quality(box: np.ndarray, score: float, landmarks5: np.ndarray, crop: np.ndarray,
                    gate: QualityGate) -> FaceQuality:
    """The face's quality measurements and which of the gate's checks it fails."""
    b = np.asarray(box, dtype=np.float64).reshape(4)
    q = {
        "confidence": float(score),
        "size_px": float(min(b[2] - b[0], b[3] - b[1])),
        "landmarks": landmark_plausibility(b, landmarks5),
        "sharpness": sharpness(crop),
    }
    minimum = {"confidence": gate.min_confidence, "size_px": gate.min_size_px, "landmarks": gate.min_landmarks,
               "sharpness": gate.min_sharpness}
    failed = tuple(k for k, v in q.items() if minimum[k] > 0 and not v >= minimum[k])
    return FaceQuality(**q, failed=failed)


__all__ = ["LANDMARK_CHECKS", "SHARPNESS_SIDE", "FaceQuality", "QualityGate", "landmark_plausibility",
           "measure_quality", "sharpness"]
