"""Threshold metrics (ISO/IEC 30107-3 vocabulary included) (see the package docstring for the conventions)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._common import _check_binary, _counts, _need_both
from ._results import MetricResult


def _confusion(y: np.ndarray, s: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    return tp, fp, fn, tn


def accuracy(y: Any, s: Any, threshold: float = 0.5) -> MetricResult:
    """Fraction of samples classified correctly by ``s >= threshold`` -> fake. Needs >= 1 sample."""
    y, s = _check_binary(y, s)
    n_pos, n_neg = _counts(y)
    if y.size == 0:
        return MetricResult(None, "no samples", 0, 0, threshold)
    tp, fp, fn, tn = _confusion(y, s, threshold)
    return MetricResult((tp + tn) / y.size, None, n_pos, n_neg, threshold)


def balanced_accuracy(y: Any, s: Any, threshold: float = 0.5) -> MetricResult:
    """(TPR + TNR) / 2 at ``threshold`` (= sklearn ``balanced_accuracy_score``); needs both classes."""
    y, s = _check_binary(y, s)
    und = _need_both(y)
    if und is not None:
        return MetricResult(None, und.reason, und.n_pos, und.n_neg, threshold)
    n_pos, n_neg = _counts(y)
    tp, fp, fn, tn = _confusion(y, s, threshold)
    return MetricResult(0.5 * (tp / n_pos + tn / n_neg), None, n_pos, n_neg, threshold)


def bpcer(y: Any, s: Any, threshold: float = 0.5) -> MetricResult:
    """ISO/IEC 30107-3 BPCER: fraction of bona fide (y=0) classified as attack (s >= threshold)."""
    y, s = _check_binary(y, s)
    n_pos, n_neg = _counts(y)
    if n_neg == 0:
        return MetricResult(None, "no bona fide (real) samples", n_pos, n_neg, threshold)
    _, fp, _, _ = _confusion(y, s, threshold)
    return MetricResult(fp / n_neg, None, n_pos, n_neg, threshold)


def apcer(
    y: Any, s: Any, threshold: float = 0.5, species: Sequence[Any] | None = None
) -> MetricResult:
    """ISO/IEC 30107-3 APCER: fraction of attacks (y=1) classified as bona fide (s < threshold).

    With ``species`` (one PAI species / forgery method per sample; ignored for bona fide rows) the
    APCER is computed per species and the reported value is the maximum over species (the standard's
    worst-case PAI species); ``details['per_species']`` holds each. Without it, all attacks form one
    species. ``details['worst_species']`` names the maximising species.
    """
    y, s = _check_binary(y, s)
    n_pos, n_neg = _counts(y)
    if n_pos == 0:
        return MetricResult(None, "no attack (fake) samples", n_pos, n_neg, threshold)
    attack = y == 1
    if species is None:
        sp = np.array(["all"] * y.size, dtype=object)
    else:
        sp = np.asarray(list(species), dtype=object)
        if sp.shape != y.shape:
            raise ValueError(f"species must have one entry per sample ({y.size}), got {sp.shape}")
    per: dict[str, float] = {}
    for name in sorted({str(v) for v in sp[attack]}):
        m = attack & (sp.astype(str) == name)
        per[name] = float(np.mean(s[m] < threshold))
    worst = max(per, key=lambda k: per[k])
    return MetricResult(
        per[worst], None, n_pos, n_neg, threshold, {"per_species": per, "worst_species": worst}
    )


def acer(
    y: Any, s: Any, threshold: float = 0.5, species: Sequence[Any] | None = None
) -> MetricResult:
    """ACER = (APCER + BPCER) / 2 at ``threshold`` (APCER max over species as in :func:`apcer`).

    ISO/IEC 30107-3:2017 deprecates ACER (it mixes two error types with fixed equal weight); it is
    provided because face anti-spoofing benchmarks still report it.
    """
    a = apcer(y, s, threshold, species)
    b = bpcer(y, s, threshold)
    if a.value is None or b.value is None:
        return MetricResult(None, a.reason or b.reason, a.n_pos, a.n_neg, threshold)
    return MetricResult(
        0.5 * (a.value + b.value),
        None,
        a.n_pos,
        a.n_neg,
        threshold,
        {"apcer": a.value, "bpcer": b.value, **a.details},
    )


def hter(y: Any, s: Any, threshold: float) -> MetricResult:
    """Half total error rate (FPR + FNR) / 2 at ``threshold`` (= 1 - balanced accuracy).

    The threshold must come from a separate development set (e.g. its EER threshold); choosing it on
    the test data makes HTER an optimistic EER. Needs both classes.
    """
    b = balanced_accuracy(y, s, threshold)
    if b.value is None:
        return b
    return MetricResult(1.0 - b.value, None, b.n_pos, b.n_neg, threshold)
