"""68-point landmarks on aligned crops (dlib's iBUG shape predictor) and named face regions.

The 5-point detector (YuNet) aligns the crop; the 68 points are then fitted *on the crop*, from a
fixed rectangle where dlib's HOG detector puts aligned faces. The fit is checked against the
detector's five points, so a failed fit is skipped instead of producing a misplaced mask.
"""

from __future__ import annotations

import threading

import numpy as np

from ..faces.detect import five_from_68  # one definition of the 68 -> 5 mapping

# iBUG 68-point index sets (image-left = subject's right).
JAW = np.arange(0, 17)
BROW_L, BROW_R = np.arange(17, 22), np.arange(22, 27)
NOSE = np.arange(27, 36)
EYE_L, EYE_R = np.arange(36, 42), np.arange(42, 48)
MOUTH = np.arange(48, 60)  # outer lip contour
INNER = np.arange(17, 68)  # brows, eyes, nose, mouth: the "inner face"
ALL = np.arange(0, 68)

# dlib HOG box for a crop aligned by CropSpec, in tight-face units (0..1 = the margin-free face
# square): the mean box dlib's HOG detector found on 175 aligned faces-train crops.
_DLIB_RECT = np.array([0.125, 0.273, 0.873, 1.022])
MAX_FIT_ERROR = 0.25  # mean 5-point disagreement, in inter-ocular distances


def predictor_path() -> str:
    """Path of dlib's 68-point model (shared with the ``dlib`` face detector backend)."""
    from ..faces.detect import shape_predictor_68_path

    return shape_predictor_68_path()


def fit_error(lm68: np.ndarray, five: np.ndarray) -> float:
    """Mean distance between the 68-point fit's 5 points and ``five``, per inter-ocular distance."""
    iod = float(np.linalg.norm(five[1] - five[0])) or 1.0
    return float(np.linalg.norm(five_from_68(lm68) - five, axis=1).mean() / iod)


class LandmarkFitter:
    """dlib's 68-point shape predictor, run on an aligned crop of known size and margin."""

    _lock = threading.Lock()
    _predictor = None

    def __init__(self, size: int, margin: float) -> None:
        import dlib

        self._dlib = dlib
        rect = size * (_DLIB_RECT + margin) / (1.0 + 2.0 * margin)
        self.rect = dlib.rectangle(*[int(round(v)) for v in rect])
        with self._lock:
            if LandmarkFitter._predictor is None:
                LandmarkFitter._predictor = dlib.shape_predictor(predictor_path())

    def fit(self, crop: np.ndarray) -> np.ndarray:
        """(68, 2) float landmarks in crop pixels."""
        shape = self._predictor(np.ascontiguousarray(crop), self.rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
