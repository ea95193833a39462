"""Distance -> same-person probability: a logistic calibration, its operating point and its figures.

``p(same) = 1 / (1 + exp(-(intercept + coef * euclidean_distance)))`` (coef < 0). The fit uses as
many impostor as genuine pairs, so ``p`` is the probability at equal priors; the declared threshold
is the distance where ``p = 0.5`` (the equal-cost decision at equal priors). The shipped
coefficients and their held-out figures are in ``verify_calibration.json``, written by
``python -m facetrust.train.fit_verify`` (docs/verify.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("verify_calibration.json")
# Keys every calibration file has (tests/biometrics check the shipped one against this).
REQUIRED_KEYS = ("embedding_model", "feature", "intercept", "coef", "threshold", "prior", "pairs",
                 "held_out", "data")
HELD_OUT_KEYS = ("auc", "eer", "eer_threshold", "far", "frr")


@dataclass(frozen=True)
class Calibration:
    intercept: float
    coef: float
    threshold: float  # euclidean distance; same person when distance <= threshold
    embedding_model: str
    source: str  # where the coefficients come from (the file, or "test")

    def probability(self, distance: float) -> float:
        z = self.intercept + self.coef * float(distance)
        return float(1.0 / (1.0 + math.exp(-z))) if z > -700 else 0.0

    def same_person(self, distance: float) -> bool:
        return float(distance) <= self.threshold


@lru_cache(maxsize=1)
def load_calibration(path: str | None = None) -> Calibration:
    p = Path(path) if path else CALIBRATION_FILE
    data = json.loads(p.read_text())
    return Calibration(float(data["intercept"]), float(data["coef"]), float(data["threshold"]),
                       str(data["embedding_model"]), str(p.name))


# -- the fitting and its figures (pure numpy: the fit script and the tests share them) ------------

def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-6, iterations: int = 100) -> tuple[float, float]:
    """(intercept, coef) of a 1-D logistic regression by Newton's method (tiny ridge for separable data)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.column_stack([np.ones_like(x), x])
    w = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -500, 500)))
        grad = design.T @ (p - y) + l2 * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def roc_auc(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """P(a genuine pair is closer than an impostor pair), ties counting half (Mann-Whitney)."""
    g = np.asarray(genuine, dtype=np.float64)
    i = np.sort(np.asarray(impostor, dtype=np.float64))
    below = np.searchsorted(i, g, side="left")
    ties = np.searchsorted(i, g, side="right") - below
    return float(((len(i) - below - ties) + 0.5 * ties).sum() / (len(g) * len(i)))


def error_rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at a distance threshold: impostors accepted (<=), genuine pairs rejected (>)."""
    far = float(np.mean(np.asarray(impostor) <= threshold))
    frr = float(np.mean(np.asarray(genuine) > threshold))
    return far, frr


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the candidate threshold where FAR and FRR are closest; EER is their mean there."""
    candidates = np.unique(np.concatenate([genuine, impostor]))
    best = (math.inf, 0.0, 0.0)
    for t in candidates:
        far, frr = error_rates(genuine, impostor, t)
        if abs(far - frr) < best[0]:
            best = (abs(far - frr), (far + frr) / 2, float(t))
    return best[1], best[2]


def held_out_figures(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> dict:
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    far, frr = error_rates(genuine, impostor, threshold)
    return {"auc": roc_auc(genuine, impostor), "eer": eer, "eer_threshold": eer_threshold, "far": far, "frr": frr}
