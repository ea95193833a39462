"""Ranking metrics (see the package docstring for the conventions)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._common import _average_ranks, _check_binary, _counts, _need_both, _roc_counts, _roc_points
from ._results import MetricResult, RocCurve, _EPS
from .threshold import apcer


def roc_curve(y: Any, s: Any) -> RocCurve:
    """The ROC curve: FPR = FP/N_neg and TPR = TP/N_pos of ``s >= t`` for every distinct score t.

    Identical to ``sklearn.metrics.roc_curve(y, s, drop_intermediate=False)`` (first threshold +inf).
    """
    y, s = _check_binary(y, s)
    n_pos, n_neg = _counts(y)
    und = _need_both(y)
    if und is not None:
        empty = np.zeros(0)
        return RocCurve(empty, empty, empty, n_pos, n_neg, und.reason)
    fps, tps, thr = _roc_counts(y, s)
    return RocCurve(fps / n_neg, tps / n_pos, thr, n_pos, n_neg)


def roc_auc(y: Any, s: Any) -> MetricResult:
    """Area under the ROC curve = the Mann-Whitney probability P(s_fake > s_real) + 0.5 P(tie).

    Computed as ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` with R_pos the sum of the
    positives' ranks among all scores, ties given their average rank. This equals the trapezoidal
    area under :func:`roc_curve` and ``sklearn.metrics.roc_auc_score``.
    """
    y, s = _check_binary(y, s)
    und = _need_both(y)
    if und is not None:
        return und
    n_pos, n_neg = _counts(y)
    ranks = _average_ranks(s)
    r_pos = float(ranks[y == 1].sum())
    auc = (r_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return MetricResult(float(auc), None, n_pos, n_neg)


def average_precision(y: Any, s: Any) -> MetricResult:
    """Average precision, the step-wise (non-interpolated) sklearn definition.

    With thresholds t_1 > t_2 > ... > t_K the distinct scores, P_k and R_k the precision and recall of
    ``s >= t_k`` and R_0 = 0:  ``AP = sum_k (R_k - R_{k-1}) * P_k``. Tied scores enter together.
    Equals ``sklearn.metrics.average_precision_score``. Undefined without positives; also reported as
    undefined without negatives (it would be 1 whatever the scores, which measures nothing).
    """
    r = _roc_points(y, s)
    if isinstance(r, MetricResult):
        return r
    n_pos, n_neg, fps, tps, _ = r.n_pos, r.n_neg, r.fps, r.tps, r.thr
    fps, tps = fps[1:], tps[1:]
    precision = tps / (tps + fps)
    recall = tps / n_pos
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return MetricResult(ap, None, n_pos, n_neg)


def eer(y: Any, s: Any) -> MetricResult:
    """Equal error rate, linearly interpolated on the ROC curve; ``threshold`` is the EER threshold.

    With ROC points (FPR_i, FNR_i = 1 - TPR_i), i = 0..K, thresholds t_0 = +inf > t_1 > ... (see
    :func:`roc_curve`), d_i = FPR_i - FNR_i increases from -1 to +1. Let j be the first index with
    d_j >= 0 and a = -d_{j-1} / (d_j - d_{j-1}). Then
    ``EER = FPR_{j-1} + a (FPR_j - FPR_{j-1})`` (= the interpolated FNR at the same point) and
    ``threshold = t_{j-1} + a (t_j - t_{j-1})`` with t_0 = +inf replaced by t_1 (the top score).
    ``details['fpr']``/``['fnr']`` hold the two bracketing points' rates.
    """
    r = _roc_points(y, s)
    if isinstance(r, MetricResult):
        return r
    n_pos, n_neg, fps, tps, thr = r.n_pos, r.n_neg, r.fps, r.tps, r.thr
    fpr = fps / n_neg
    fnr = 1.0 - tps / n_pos
    d = fpr - fnr
    j = int(np.argmax(d >= 0))  # d[-1] = 1 > 0 and d[0] = -1 < 0, so 1 <= j <= K
    a = -d[j - 1] / (d[j] - d[j - 1])
    value = fpr[j - 1] + a * (fpr[j] - fpr[j - 1])
    t_hi = thr[j - 1] if np.isfinite(thr[j - 1]) else thr[1]
    t_lo = thr[j]
    threshold = t_hi + a * (t_lo - t_hi) if np.isfinite(t_lo) and np.isfinite(t_hi) else t_lo
    details = {
        "fpr": [float(fpr[j - 1]), float(fpr[j])],
        "fnr": [float(fnr[j - 1]), float(fnr[j])],
    }
    return MetricResult(float(value), None, n_pos, n_neg, float(threshold), details)


def d_eer(y: Any, s: Any) -> MetricResult:
    """D-EER of (differential) morphing attack detection: :func:`eer` on the morph task.

    Labels: 1 = morph (attack), 0 = bona fide; scores higher = more likely a morph. The value is the
    operating point where APCER (morphs accepted as bona fide) equals BPCER (bona fide rejected as
    morphs), interpolated exactly as :func:`eer` (APCER = FNR, BPCER = FPR).
    """
    return eer(y, s)


def tpr_at_fpr(
    y: Any, s: Any, fpr: float = 0.01, method: Literal["achievable", "interpolated"] = "achievable"
) -> MetricResult:
    """True-positive rate at a target false-positive rate ``fpr``.

    ``method="achievable"`` (default): the largest TPR over ROC points with FPR <= fpr; ``threshold``
    is that point's threshold, so the number is an operating point a deployment can actually set
    (+inf means "flag nothing" when even the top score exceeds the FPR budget).
    ``method="interpolated"``: TPR on the piecewise-linear ROC curve at FPR = fpr exactly (on a
    vertical run of equal FPR, the top of the run); ``threshold`` is None. It is >= the achievable
    value and is what ``np.interp(fpr, roc.fpr, roc.tpr)`` style code reports.
    """
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must lie in [0, 1], got {fpr}")
    if method not in ("achievable", "interpolated"):
        raise ValueError(f"method must be 'achievable' or 'interpolated', got {method!r}")
    r = _roc_points(y, s)
    if isinstance(r, MetricResult):
        return r
    n_pos, n_neg, fps, tps, thr = r.n_pos, r.n_neg, r.fps, r.tps, r.thr
    fprs, tprs = fps / n_neg, tps / n_pos
    i = int(np.flatnonzero(fprs <= fpr + _EPS)[-1])  # last point inside the budget (max TPR there)
    if method == "achievable":
        return MetricResult(float(tprs[i]), None, n_pos, n_neg, float(thr[i]), {"fpr": float(fprs[i])})
    if i == fprs.size - 1 or abs(fprs[i] - fpr) <= _EPS:
        return MetricResult(float(tprs[i]), None, n_pos, n_neg, None, {"method": "interpolated"})
    a = (fpr - fprs[i]) / (fprs[i + 1] - fprs[i])
    value = tprs[i] + a * (tprs[i + 1] - tprs[i])
    return MetricResult(float(value), None, n_pos, n_neg, None, {"method": "interpolated"})


def bpcer_at_apcer(y: Any, s: Any, apcer: float = 0.1) -> MetricResult:
    """BPCER at the operating point with APCER <= ``apcer`` (morphing: BPCER10 = ``apcer=0.1``).

    APCER(t) = fraction of attacks (y=1) with s < t; BPCER(t) = fraction of bona fide (y=0) with
    s >= t. Over the distinct-score thresholds (see :func:`roc_curve`) this is the smallest BPCER
    among thresholds whose APCER <= apcer, i.e. the highest such threshold (returned).
    """
    if not 0.0 <= apcer <= 1.0:
        raise ValueError(f"apcer must lie in [0, 1], got {apcer}")
    r = _roc_points(y, s)
    if isinstance(r, MetricResult):
        return r
    n_pos, n_neg, fps, tps, thr = r.n_pos, r.n_neg, r.fps, r.tps, r.thr
    apcers = 1.0 - tps / n_pos
    i = int(np.flatnonzero(apcers <= apcer + _EPS)[0])  # highest threshold meeting the APCER cap
    return MetricResult(
        float(fps[i] / n_neg), None, n_pos, n_neg, float(thr[i]), {"apcer": float(apcers[i])}
    )
