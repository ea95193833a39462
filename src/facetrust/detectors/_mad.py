"""Morphing-attack detection: S-MAD (one image) and D-MAD (the image against a trusted reference).

Both are a standardised L2 logistic regression on frozen features (:mod:`._mad_features`), Platt-
calibrated on a validation split, with the attack threshold chosen on that validation split (its
equal-error point). ``p >= threshold`` flags a morph. The shipped coefficients are one small JSON
(:data:`MODEL_FILE`), sha256-pinned (:data:`MODEL_SHA256`) and written by
``python -m facetrust.train.fit_mad`` (used by the ``smad`` detector and by ``facetrust verify``'s
morph check; MODEL_CARD.md, "Morphing-attack detection").

* S-MAD features: the texture statistics of the face (and, when the fit chose it on validation,
  its identity embedding);
* D-MAD features: ``|e_probe - e_reference|`` per dimension, their euclidean and cosine distance,
  the per-landmark geometry difference after a similarity fit (and its mean), and the texture
  difference probe - reference; when the fit chose it on validation, plus the probe's own texture
  and embedding (:data:`DMAD_FEATURE_SETS`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DetectorError, WeightIntegrityError
from ._mad_features import FaceDescription, geometry_difference

MODEL_FILE = Path(__file__).with_name("mad_model.json")
# Pinned at every load: a changed model file must come with a changed pin (fit_mad prints it).
MODEL_SHA256 = "e2ac4c4e3f82f2b3f90e738688091e3f481161ec17c5ccdfed50151502e6cb9c"
SMAD_FEATURE_SETS = ("texture", "texture+embedding")
# D-MAD: the differences alone, or the differences plus the probe's own S-MAD features (chosen on validation)
DMAD_FEATURE_SETS = ("difference", "difference+probe")


def smad_vector(d: FaceDescription, feature_set: str) -> np.ndarray:
    if feature_set == "texture":
        return d.texture
    if feature_set == "texture+embedding":
        return np.concatenate([d.texture, d.embedding])
    raise ValueError(f"unknown S-MAD feature set {feature_set!r}; known: {SMAD_FEATURE_SETS}")


def distances(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(euclidean, cosine) distance of two embeddings (as ``facetrust.biometrics.embedding.distances``)."""
    euclidean = float(np.linalg.norm(a - b))
    return euclidean, float(1.0 - a @ b / max(1e-12, np.linalg.norm(a) * np.linalg.norm(b)))


def dmad_vector(probe: FaceDescription, reference: FaceDescription, feature_set: str = "difference") -> np.ndarray:
    if feature_set not in DMAD_FEATURE_SETS:
        raise ValueError(f"unknown D-MAD feature set {feature_set!r}; known: {DMAD_FEATURE_SETS}")
    euclidean, cosine = distances(probe.embedding, reference.embedding)
    geometry = geometry_difference(probe.landmarks, reference.landmarks)
    diff = np.concatenate([np.abs(probe.embedding - reference.embedding), [euclidean, cosine], geometry,
                           [geometry.mean()], probe.texture - reference.texture])
    if feature_set == "difference+probe":
        return np.concatenate([diff, probe.texture, probe.embedding])
    return diff


def _sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


@dataclass(frozen=True)
class CalibratedLogistic:
    """``p = sigmoid(platt_a * (w . (x - mean) / scale + bias) + platt_b)``; attack when p >= threshold."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    platt_a: float
    platt_b: float
    threshold: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(np.asarray(x, np.float64)) - self.mean) / self.scale
        return z @ self.weights + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(self.platt_a * self.logit(x) + self.platt_b)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of the logit (weight x standardised value) for one sample."""
        return (np.asarray(x, np.float64) - self.mean) / self.scale * self.weights

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "weights": self.weights.tolist(),
                "bias": self.bias, "platt_a": self.platt_a, "platt_b": self.platt_b, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CalibratedLogistic":
        arr = lambda k: np.asarray(d[k], np.float64)  # noqa: E731
        return cls(arr("mean"), arr("scale"), arr("weights"), float(d["bias"]), float(d["platt_a"]),
                   float(d["platt_b"]), float(d["threshold"]))


@dataclass(frozen=True)
class MadModels:
    smad: CalibratedLogistic
    smad_feature_set: str
    dmad: CalibratedLogistic
    dmad_feature_set: str
    detail_reference: np.ndarray  # bona fide training faces' median log detail per block
    detail_scale: float  # log-detail deficit shown as full heat
    source: str
    figures: dict[str, Any] = field(default_factory=dict)

    def smad_probability(self, d: FaceDescription) -> float:
        return float(self.smad.probability(smad_vector(d, self.smad_feature_set))[0])

    def dmad_probability(self, probe: FaceDescription, reference: FaceDescription) -> float:
        return float(self.dmad.probability(dmad_vector(probe, reference, self.dmad_feature_set))[0])

    def heatmap(self, d: FaceDescription) -> np.ndarray:
        """Where the face has less fine detail than bona fide training faces (blending smooths), in [0, 1]."""
        deficit = (self.detail_reference - d.detail) / max(self.detail_scale, 1e-6)
        return np.clip(deficit, 0.0, 1.0).astype(np.float32)


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def models_from_dict(data: dict[str, Any], source: str) -> MadModels:
    return MadModels(CalibratedLogistic.from_dict(data["smad"]), str(data["smad"]["feature_set"]),
                     CalibratedLogistic.from_dict(data["dmad"]), str(data["dmad"]["feature_set"]), np.asarray(data["detail_reference"], np.float32),
                     float(data["detail_scale"]), source, data.get("figures", {}))


@lru_cache(maxsize=4)
def load_mad_models(path: str | None = None, sha256: str | None = None) -> MadModels:
    """The shipped models (sha256-pinned), or the file at ``path`` with its pinned ``sha256``."""
    p = Path(path) if path else MODEL_FILE
    pinned = sha256 if path else MODEL_SHA256
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DetectorError(f"MAD model file {p} cannot be read ({exc.strerror or exc})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if pinned is None or digest != pinned:
        raise WeightIntegrityError(f"{p}: sha256 {digest[:16]}... does not match the pinned "
                                   f"{(pinned or 'none')[:16]}...; refusing to load it")
    return models_from_dict(json.loads(raw), p.name)


# -- fitting (numpy + scipy; the fit script and the tests share it) -----------------------------

def fit_l2_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, weights, bias) of an L2-penalised logistic regression on standardised ``x``."""
    from scipy.optimize import minimize

    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    mean, scale = x.mean(0), x.std(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (x - mean) / scale
    n, d = z.shape

    def loss(theta):
        w, b = theta[:d], theta[d]
        s = z @ w + b
        # log(1 + e^s) - y s, stable
        val = np.logaddexp(0.0, s) - y * s
        g = _sigmoid(s) - y
        return val.sum() / n + 0.5 * l2 * w @ w, np.concatenate([z.T @ g / n + l2 * w, [g.sum() / n]])

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return mean, scale, res.x[:d], float(res.x[d])


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def equal_error_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The score threshold (attack when p >= t) where APCER and BPCER are closest on (p, y)."""
    p, y = np.asarray(p, np.float64), np.asarray(y)
    best = (math.inf, 0.5)
    for t in np.unique(p):
        apcer = float(np.mean(p[y == 1] < t))
        bpcer = float(np.mean(p[y == 0] >= t))
        if abs(apcer - bpcer) < best[0]:
            best = (abs(apcer - bpcer), float(t))
    return best[1]
