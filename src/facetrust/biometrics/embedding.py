"""dlib's 128-d identity embedding of the most prominent plausible face of an image.

The face is found by the scan's own face detector backend and must pass the scan's face-quality
gate (:class:`facetrust.fusion.quality.QualityGate`): a face too small, blurred or implausible to
decide a forgery verdict is too weak to decide an identity either. dlib's 68-point shape predictor
is fitted inside the detector's box, the face is cut out as dlib's 150 px "face chip" (padding 0.25,
the layout the ResNet was trained on) and ``dlib_face_recognition_resnet_model_v1`` embeds it. Both
model files come from the ``face-recognition-models`` wheel and are sha256-pinned in
:data:`facetrust.faces.detect.MODEL_SHA256`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..faces import DetectedFace, FaceDetectorBackend
from ..faces.detect import shape_predictor_68_path, verify_model_file
from ..fusion.quality import FaceQuality, QualityGate, measure_quality

EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1"
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # dlib's face chip for the ResNet


def recognition_model_path() -> str:
    """The ResNet file, next to the 68-point model in the face-recognition-models wheel."""
    path = Path(shape_predictor_68_path()).with_name(f"{EMBEDDING_MODEL}.dat")
    if not path.exists():
        raise ImportError(f"{path} is missing; reinstall face-recognition-models")
    return str(path)


@dataclass
class FaceEmbedding:
    """The chosen face of one image and its identity vector."""

    vector: np.ndarray  # (128,) float64
    box: np.ndarray  # x0, y0, x1, y1 image pixels
    score: float  # face detector confidence
    quality: FaceQuality
    faces_found: int  # faces the detector found in the image (the chosen one included)
    chip: np.ndarray | None = field(default=None, repr=False)  # the 150 px RGB crop embedded (HTML only)
    face: DetectedFace | None = field(default=None, repr=False)  # the detection (MAD aligns its own crop from it)


@dataclass
class EmbeddingOutcome:
    """An embedding, or why the image has none (``reason``)."""

    embedding: FaceEmbedding | None
    reason: str | None = None
    faces_found: int = 0


class FaceEmbedder:
    """Loads the two dlib models once; :meth:`embed` is safe to call from several threads."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._shape = dlib.shape_predictor(verify_model_file(shape_predictor_68_path()))
        self._resnet = dlib.face_recognition_model_v1(verify_model_file(recognition_model_path()))
        self._lock = threading.Lock()  # dlib's models keep per-call scratch state

    def face_chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """dlib's 150 px RGB face chip of the face inside ``box`` of an RGB uint8 image."""
        img = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        with self._lock:
            shape = self._shape(img, self._dlib.rectangle(x0, y0, x1, y1))
            return np.asarray(self._dlib.get_face_chip(img, shape, CHIP_SIZE, CHIP_PADDING))

    def vector(self, chip: np.ndarray) -> np.ndarray:
        """The 128-d embedding of a face chip."""
        with self._lock:
            return np.asarray(self._resnet.compute_face_descriptor(np.ascontiguousarray(chip)), dtype=np.float64)

    def embed(self, image: np.ndarray, face_detector: FaceDetectorBackend, gate: QualityGate,
              *, keep_chip: bool = False) -> EmbeddingOutcome:
        """The embedding of the largest face that passes ``gate`` (faces come largest first)."""
        faces = face_detector.detect(image)
        if not faces:
            return EmbeddingOutcome(None, "no face found", 0)
        failures = []
        for face in faces:
            chip = self.face_chip(image, face.box)
            quality = measure_quality(face.box, face.score, face.landmarks5, chip, gate)
            if quality.passed:  # the ResNet (~80 ms) runs only on the face chosen
                return EmbeddingOutcome(
                    FaceEmbedding(self.vector(chip), np.asarray(face.box, dtype=np.float64), float(face.score), quality,
                                  len(faces), chip if keep_chip else None, face),
                    None, len(faces))
            failures.append(quality.failed)
        failed = sorted({name for names in failures for name in names})
        return EmbeddingOutcome(None, f"no face passed the quality gate ({len(faces)} found; failed: "
                                f"{', '.join(failed)})", len(faces))


@lru_cache(maxsize=1)
def load_embedder() -> FaceEmbedder:
    """The process-wide embedder (the ResNet is 22 MB; loaded once)."""
    return FaceEmbedder()


def distances(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(euclidean, cosine) distance of two embeddings; dlib's own metric is the euclidean one."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    euclidean = float(np.linalg.norm(a - b))
    cosine = float(1.0 - a @ b / max(1e-12, np.linalg.norm(a) * np.linalg.norm(b)))
    return euclidean, cosine
