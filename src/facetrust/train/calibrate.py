"""Calibration on validation only: temperature scaling and a default threshold at a stated FPR."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar


def _nll(logits: np.ndarray, labels: np.ndarray, t: float) -> float:
    z = logits / t
    # log(1 + exp(-|z|)) form: stable for large |z|
    return float(np.mean(np.logaddexp(0.0, z) - labels * z))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T > 0 minimising validation NLL of sigmoid(logit / T) (Guo et al. 2017)."""
    res = minimize_scalar(lambda lt: _nll(logits, labels, float(np.exp(lt))), bounds=(-4, 4), method="bounded")
    return float(np.exp(res.x))


def threshold_at_fpr(probabilities_of_reals: np.ndarray, fpr: float) -> float:
    """Smallest threshold whose false-positive rate on these genuine samples is at most ``fpr``
    (a verdict is fake when probability >= threshold)."""
    p = np.sort(np.asarray(probabilities_of_reals, dtype=np.float64))
    if p.size == 0:
        raise ValueError("no genuine samples to set a threshold on")
    k = int(np.floor(fpr * p.size))  # at most k reals may reach the threshold
    if k == 0:
        return float(np.nextafter(p[-1], np.inf))
    return float(np.nextafter(p[-k - 1], np.inf)) if p[-k - 1] < p[-k] else float(np.nextafter(p[-k], np.inf))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
