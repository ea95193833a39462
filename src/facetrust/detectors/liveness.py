"""``liveness``: presentation-attack detection (PAD) - is this a live face, or a photo or screen held
up to the camera?

The score is the calibrated probability of an attack (``fake_probability`` on the detector
contract: "fake" means "not a live face"). Features (:mod:`._pad_features`) are computed on a
context crop of 2.5 face widths (:data:`._pad_features.PAD_CROP`, documented there) so bezels and
paper edges count: hand-made texture / spectral / edge / colour features and the pooled feature
maps of a frozen ImageNet backbone (EfficientNet-Lite0, ``models/liveness_backbone.onnx``). A small
model on them was fitted by ``python -m facetrust.train.fit_liveness`` and ships as
``models/liveness.npz``; the card ``models/liveness.json`` pins the sha256 of both files (checked at
every load).

Two detectors share the file:

* ``liveness``: two-class (logistic regression on standardised features, bona fide vs attacks);
* ``liveness_oneclass``: trained on bona fide only; the score is the Mahalanobis distance of the
  face's features from the bona-fide distribution (PCA, shrunk covariance), so it needs no attack
  examples of a new species to flag it.

Both are Platt-calibrated and their thresholds chosen on the validation split (least ACER); see
MODEL_CARD.md. Videos are scored frame by frame and decided by the one media rule
(:mod:`facetrust.fusion.media`) like every detector.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelCardError, WeightIntegrityError
from . import _pad_features as F
from .base import Detector, DetectorInfo, DetectorOutput, register_detector

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
CARD_PATH = MODELS_DIR / "liveness.json"
MODES = ("two_class", "one_class")
EVIDENCE_FEATURES = ("face_spectral_peak", "crop_spectral_peak", "vertical_edge_strength",
                     "horizontal_edge_strength", "face_sharpness", "ring_valid_fraction")


def _verified_bytes(card_path: Path, card: dict, file_key: str, sha_key: str) -> bytes:
    path = card_path.parent / str(card.get(file_key, ""))
    if not path.is_file():
        raise ModelCardError(f"weight file {path} (named by {card_path.name}) is missing")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != card.get(sha_key):
        raise WeightIntegrityError(
            f"{path}: sha256 {digest[:16]}... does not match the model card ({str(card.get(sha_key))[:16]}...); "
            "the file is corrupted or was replaced. Reinstall facetrust or restore the file.")
    return data


def verified_weights(card_path: Path = CARD_PATH) -> tuple[dict, dict[str, np.ndarray], bytes]:
    """The card, the weight arrays and the backbone's ONNX bytes, after checking both files' sha256
    against the card."""
    if not card_path.is_file():
        raise ModelCardError(f"liveness model card {card_path} is missing")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelCardError(f"liveness model card {card_path} cannot be read: {exc}") from exc
    data = _verified_bytes(card_path, card, "weights_file", "sha256")
    backbone = _verified_bytes(card_path, card, "backbone_file", "backbone_sha256")
    import io

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    names = tuple(str(n) for n in arrays["feature_names"])
    if names != F.ALL_NAMES:
        raise ModelCardError(f"{card['weights_file']} was fitted on other features than this facetrust computes; refit it")
    return card, arrays, backbone


@lru_cache(maxsize=4)
def _load(card_path: str, mtime: float) -> tuple[dict, dict[str, np.ndarray], "F.BackboneFeatures"]:
    card, arrays, backbone = verified_weights(Path(card_path))
    return card, arrays, F.BackboneFeatures(backbone)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-float(np.clip(z, -40.0, 40.0))))


class LivenessModel:
    """The fitted two-class and one-class scorers (numpy only)."""

    def __init__(self, card: dict, w: dict[str, np.ndarray]):
        self.card, self.w = card, w

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """The two-class model's standardised features (its chosen subset ``used``)."""
        return (x[..., self.w["used"]] - self.w["mean"]) / self.w["scale"]

    def two_class_logit(self, z: np.ndarray) -> np.ndarray:
        return z @ self.w["coef"] + float(self.w["intercept"])

    def one_class_score(self, x: np.ndarray) -> np.ndarray:
        """log(1 + squared Mahalanobis distance) from the bona-fide training features."""
        z = (x[..., self.w["oc_used"]] - self.w["oc_mean"]) / self.w["oc_scale"]
        y = (z - self.w["oc_pca_mean"]) @ self.w["oc_components"].T
        d2 = np.einsum("...i,ij,...j->...", y, self.w["oc_precision"], y)
        return np.log1p(d2)

    def probability(self, x: np.ndarray, mode: str) -> tuple[float, float]:
        """(calibrated attack probability, the raw score it calibrates) of one feature vector."""
        if mode == "two_class":
            raw = float(self.two_class_logit(self.standardise(x)))
            a, b = self.w["platt"]
        else:
            raw = float(self.one_class_score(x))
            a, b = self.w["oc_platt"]
        return _sigmoid(a * raw + b), raw


class LivenessDetector(Detector):
    mode = "two_class"
    name = "liveness"

    def __init__(self, card_path: str | Path | None = None):
        path = Path(card_path) if card_path else CARD_PATH
        if not path.is_file():
            raise ModelCardError(f"liveness model card {path} is missing")
        card, arrays, self.backbone = _load(str(path), path.stat().st_mtime)
        self.model = LivenessModel(card, arrays)
        entry = card["modes"][self.mode]
        self.info = DetectorInfo(
            name=self.name,
            version=str(card["version"]),
            crop=F.PAD_CROP,
            catches="presentation attacks: a face shown to the camera on a screen or on paper (print, replay)",
            description=(
                f"{'two-class logistic' if self.mode == 'two_class' else 'one-class Mahalanobis (bona fide only)'} "
                "model on LBP, spectral-peak (moire), colour-gamut, sharpness, glare and straight-edge (bezel / "
                "paper edge) features of a 2.5-face-width context crop; Platt-calibrated on validation"),
            outputs_heatmap=True,
            needs_frame=True,
            trained=True,
            default_threshold=float(entry["threshold"]),
        )

    def predict(self, faces):
        out = []
        deep = self.backbone([face.crop for face in faces])
        for face, d in zip(faces, deep):
            shape = None if face.frame is None else face.frame.shape[:2]
            valid = F.valid_mask(face.matrix, shape, F.PAD_CROP.size)
            hand, heat = F.pad_features(face.crop, valid)
            x = np.concatenate([hand, d])
            p, raw = self.model.probability(x, self.mode)
            evidence = {"attack_score": raw}
            idx = {n: i for i, n in enumerate(F.ALL_NAMES)}
            evidence.update((k, float(x[idx[k]])) for k in EVIDENCE_FEATURES)
            if self.mode == "two_class":
                contrib = self.model.standardise(x) * self.model.w["coef"]
                used = np.flatnonzero(self.model.w["used"])
                for i in np.argsort(-np.abs(contrib))[:3]:
                    evidence[f"contribution_{F.ALL_NAMES[used[i]]}"] = float(contrib[i])
            out.append(DetectorOutput(fake_probability=p, heatmap=heat, evidence=evidence))
        return out


@register_detector("liveness")
class TwoClassLiveness(LivenessDetector):
    """Two-class PAD: bona fide vs print / screen / recapture attacks."""


@register_detector("liveness_oneclass")
class OneClassLiveness(LivenessDetector):
    """One-class PAD: distance from the bona-fide distribution."""

    mode = "one_class"
    name = "liveness_oneclass"
