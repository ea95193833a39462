"""Evaluation metrics: exactly one definition of each number facetrust reports.

Conventions (every function here)
- ``y``: labels, 1 = fake / attack / morph (the *positive* class), 0 = real / bona fide.
- ``s``: scores, higher = more fake. Any real numbers (``+-inf`` allowed, ``NaN`` rejected); the
  calibration metrics additionally need probabilities in [0, 1].
- A thresholded decision calls a sample fake iff ``s >= threshold``.
- Every scalar metric returns a :class:`MetricResult`. When the metric is undefined on the given data
  (no samples, a needed class is empty, no ground-truth segments, ...) ``value`` is ``None`` and
  ``reason`` says why; it never returns NaN and never raises for that. Malformed input (labels outside
  {0, 1}, NaN scores, length mismatch) is a programming error and raises ``ValueError``.
- Ranking metrics (ROC AUC, AP, EER, TPR@FPR, BPCER@APCER) need both classes; threshold metrics need
  only the classes they divide by (e.g. BPCER needs bona fide samples only).

The full written-out definitions live in docs/metrics.md; each docstring states the formula used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Literal, Sequence

import numpy as np

Level = Literal["frame", "video", "track", "image"]
LEVELS: tuple[str, ...] = ("frame", "video", "track", "image")

# Float slack when comparing rates against a requested operating point (k/n rounding).
_EPS = 1e-12


# --------------------------------------------------------------------------------------------
# Result containers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    """One metric value, or ``None`` with the reason it is undefined.

    ``n_pos`` / ``n_neg``: positives (fake) and negatives (real) the value was computed on (pixels for
    pixel metrics, images for per-image averages, segments for temporal AP). ``threshold``: the
    decision threshold the value belongs to, when there is one (given or found, e.g. the EER point).
    ``details``: metric-specific extras (per-species APCER, per-tIoU AP, ...).
    """

    value: float | None
    reason: str | None = None
    n_pos: int = 0
    n_neg: int = 0
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return self.value is not None

    def __float__(self) -> float:
        if self.value is None:
            raise ValueError(f"metric undefined: {self.reason}")
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["threshold"] is not None and not np.isfinite(out["threshold"]):
            out["threshold"] = None if np.isnan(out["threshold"]) else str(out["threshold"])
        return out


@dataclass(frozen=True)
class LevelledResult:
    """A metric result tagged with the level it was computed at.

    Naming convention: every reported number is keyed ``"<metric>@<level>"`` (e.g. ``roc_auc@video``,
    ``eer@frame``), where level is one of ``frame`` (one score per decoded frame / face crop),
    ``video`` (one score per video, by scan's media rule :func:`facetrust.fusion.fuse_media`), ``track`` (one per face track)
    or ``image`` (one per still image).
    """

    metric: str
    level: str
    result: MetricResult

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")

    @property
    def key(self) -> str:
        return metric_key(self.metric, self.level)

    @property
    def value(self) -> float | None:
        return self.result.value

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "level": self.level, "key": self.key, **self.result.to_dict()}


def metric_key(metric: str, level: str) -> str:
    """The one naming convention for a reported number: ``"<metric>@<level>"``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return f"{metric}@{level}"


def levelled(level: str, results: dict[str, MetricResult]) -> dict[str, LevelledResult]:
    """Tag a ``{metric: MetricResult}`` dict with ``level``; keys become ``"<metric>@<level>"``."""
    out = {}
    for name, res in results.items():
        lr = LevelledResult(name, level, res)
        out[lr.key] = lr
    return out


@dataclass(frozen=True)
class RocCurve:
    """ROC points at every distinct score, highest threshold first (sklearn ``drop_intermediate=False``).

    ``thresholds[0] = +inf`` (nothing flagged: FPR = TPR = 0); ``thresholds[i]`` for i >= 1 is the i-th
    largest distinct score and (fpr[i], tpr[i]) are the rates of the rule ``s >= thresholds[i]``.
    Undefined (one class empty): empty arrays and ``reason`` set.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    n_pos: int
    n_neg: int
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.reason is None


# --------------------------------------------------------------------------------------------
# Input checking and shared building blocks
# --------------------------------------------------------------------------------------------


def _check_binary(y: Any, s: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    s = np.asarray(s, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape[0]} vs {s.shape[0]}")
    if y.size:
        if y.dtype == bool:
            y = y.astype(np.int8)
        elif not np.isin(y, (0, 1)).all():
            bad = sorted({str(v) for v in np.unique(y) if v not in (0, 1)})[:5]
            raise ValueError(f"labels must be 0 (real) or 1 (fake); found {bad}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN; drop or impute them before computing metrics")
    return y.astype(np.int8, copy=False), s


def _counts(y: np.ndarray) -> tuple[int, int]:
    n_pos = int(y.sum())
    return n_pos, int(y.size - n_pos)


def _need_both(y: np.ndarray) -> MetricResult | None:
    """An undefined result when either class is empty, else None."""
    n_pos, n_neg = _counts(y)
    if y.size == 0:
        return MetricResult(None, "no samples", 0, 0)
    if n_pos == 0:
        return MetricResult(None, "no positive (fake) samples", n_pos, n_neg)
    if n_neg == 0:
        return MetricResult(None, "no negative (real) samples", n_pos, n_neg)
    return None


def _roc_counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative (false positives, true positives) at each distinct threshold, +inf first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order].astype(np.int64)
    # Last index of each run of equal scores: ties enter the curve together (one diagonal step).
    last = np.r_[np.flatnonzero(s_sorted[1:] != s_sorted[:-1]), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last]
    fps = (last + 1) - tps
    return (
        np.r_[0, fps].astype(np.float64),
        np.r_[0, tps].astype(np.float64),
        np.r_[np.inf, s_sorted[last]],
    )


def _roc_points(y: Any, s: Any) -> "_RocPoints | MetricResult":
    """Checked inputs with class counts and cumulative ROC counts (see :func:`_roc_counts`), or
    the undefined result when a class is empty: the shared start of the curve-based metrics."""
    y, s = _check_binary(y, s)
    und = _need_both(y)
    if und is not None:
        return und
    n_pos, n_neg = _counts(y)
    return _RocPoints(n_pos, n_neg, *_roc_counts(y, s))


@dataclass(frozen=True)
class _RocPoints:
    n_pos: int
    n_neg: int
    fps: np.ndarray
    tps: np.ndarray
    thr: np.ndarray


def _average_ranks(s: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing the mean of their positions (scipy ``rankdata(method="average")``)."""
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    starts = np.r_[0, np.flatnonzero(s_sorted[1:] != s_sorted[:-1]) + 1]
    ends = np.r_[starts[1:], s_sorted.size]  # exclusive
    run_rank = (starts + ends + 1) / 2.0  # mean of positions start+1 .. end
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def _as_value(res: MetricResult | float | None) -> float | None:
    if isinstance(res, MetricResult):
        return res.value
    if res is None:
        return None
    v = float(res)
    return v if np.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# Ranking metrics
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Threshold metrics (ISO/IEC 30107-3 vocabulary included)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width bin [lower, upper) (the last bin includes 1.0)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float | None  # mean predicted value in the bin (None when empty)
    accuracy: float | None  # fraction positive ("probability") / fraction correct ("top_label")


@dataclass(frozen=True)
class CalibrationResult:
    """ECE plus the reliability-diagram data it was computed from."""

    ece: MetricResult
    bins: list[ReliabilityBin]
    mode: str
    mce: float | None  # maximum |accuracy - confidence| over non-empty bins

    def to_dict(self) -> dict[str, Any]:
        return {
            "ece": self.ece.to_dict(),
            "bins": [asdict(b) for b in self.bins],
            "mode": self.mode,
            "mce": self.mce,
        }


def _check_prob(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y, p = _check_binary(y, p)
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("calibration metrics need probabilities in [0, 1]")
    return y, p


def ece(
    y: Any,
    p: Any,
    n_bins: int = 15,
    mode: Literal["probability", "top_label"] = "probability",
) -> CalibrationResult:
    """Expected calibration error over ``n_bins`` equal-width bins of [0, 1].

    ``mode="probability"`` (default): bins of the fake probability p; per bin compare the mean p with
    the fraction of fakes (the binary reliability diagram). ``mode="top_label"`` (Guo et al. 2017):
    confidence c = max(p, 1 - p), correct = (p >= 0.5) == y; per bin compare mean c with the fraction
    correct. Bin b covers [b/B, (b+1)/B), the last bin also holds 1.0.
    ``ECE = sum_b (n_b / N) |acc_b - conf_b|`` (empty bins contribute 0). Undefined without samples.
    """
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    if mode not in ("probability", "top_label"):
        raise ValueError(f"mode must be 'probability' or 'top_label', got {mode!r}")
    y, p = _check_prob(y, p)
    n_pos, n_neg = _counts(y)
    if mode == "probability":
        conf, hit = p, y.astype(np.float64)
    else:
        conf = np.maximum(p, 1.0 - p)
        hit = ((p >= 0.5).astype(np.int8) == y).astype(np.float64)
    idx = np.minimum((conf * n_bins).astype(np.int64), n_bins - 1)
    bins: list[ReliabilityBin] = []
    total, worst = 0.0, None
    for b in range(n_bins):
        m = idx == b
        c = int(m.sum())
        if c:
            mc, acc = float(conf[m].mean()), float(hit[m].mean())
            gap = abs(acc - mc)
            total += c * gap
            worst = gap if worst is None else max(worst, gap)
        else:
            mc = acc = None
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, c, mc, acc))
    if y.size == 0:
        res = MetricResult(None, "no samples", 0, 0, details={"n_bins": n_bins})
    else:
        res = MetricResult(total / y.size, None, n_pos, n_neg, details={"n_bins": n_bins, "mode": mode})
    return CalibrationResult(res, bins, mode, worst)


def brier(y: Any, p: Any) -> MetricResult:
    """Brier score mean((p - y)^2) for fake probabilities p in [0, 1]. Undefined without samples."""
    y, p = _check_prob(y, p)
    n_pos, n_neg = _counts(y)
    if y.size == 0:
        return MetricResult(None, "no samples", 0, 0)
    return MetricResult(float(np.mean((p - y) ** 2)), None, n_pos, n_neg)


def plot_reliability(calib: CalibrationResult, path: str, title: str | None = None) -> str:
    """Write a reliability diagram (bars: per-bin accuracy; diagonal: perfect calibration) to ``path``.

    Uses matplotlib's object API on an Agg canvas (no pyplot, no global backend change). Returns path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = calib.bins[0].upper - calib.bins[0].lower if calib.bins else 1.0
    xs = [b.lower for b in calib.bins if b.count]
    accs = [b.accuracy for b in calib.bins if b.count]
    confs = [b.mean_confidence for b in calib.bins if b.count]
    ax.bar(xs, accs, width=width, align="edge", edgecolor="black", alpha=0.7, label="observed")
    ax.scatter([c for c in confs], accs, s=12, color="tab:red", zorder=3, label="bin mean")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    if calib.mode == "probability":
        ax.set_xlabel("predicted fake probability")
        ax.set_ylabel("fraction fake")
    else:
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
    ece_txt = "n/a" if calib.ece.value is None else f"{calib.ece.value:.3f}"
    ax.set_title(title or f"Reliability (ECE = {ece_txt})")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


# --------------------------------------------------------------------------------------------
# Localization (pixel masks)
# --------------------------------------------------------------------------------------------


def _mask01(mask: Any) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"masks must be 2-D (H, W), got shape {m.shape}")
    if m.dtype == bool:
        return m.astype(np.float64)
    if m.dtype == np.uint8:
        return m.astype(np.float64) / 255.0
    m = m.astype(np.float64)
    if np.isnan(m).any():
        raise ValueError("mask contains NaN")
    return m


def _mask_pair(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    p, g = _mask01(pred), _mask01(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction {p.shape} and ground-truth {g.shape} masks differ in size")
    return p, g


def mask_iou(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """|P & G| / |P | G| with P = pred >= threshold, G = gt >= threshold (uint8 masks are /255 first).

    Undefined when both masks are empty (nothing predicted, nothing manipulated).
    n_pos / n_neg: GT-positive / GT-negative pixel counts.
    """
    p, g = _mask_pair(pred, gt)
    pb, gb = p >= threshold, g >= threshold
    n_pos = int(gb.sum())
    union = int((pb | gb).sum())
    if union == 0:
        return MetricResult(None, "both masks empty", n_pos, gb.size - n_pos, threshold)
    return MetricResult(int((pb & gb).sum()) / union, None, n_pos, gb.size - n_pos, threshold)


def pixel_f1(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """Pixel F1 = 2 TP / (2 TP + FP + FN) over pixels, both masks binarised as in :func:`mask_iou`.

    Undefined when both masks are empty.
    """
    p, g = _mask_pair(pred, gt)
    pb, gb = p >= threshold, g >= threshold
    n_pos = int(gb.sum())
    tp = int((pb & gb).sum())
    denom = 2 * tp + int((pb & ~gb).sum()) + int((~pb & gb).sum())
    if denom == 0:
        return MetricResult(None, "both masks empty", n_pos, gb.size - n_pos, threshold)
    return MetricResult(2 * tp / denom, None, n_pos, gb.size - n_pos, threshold)


def pixel_auc(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """ROC AUC over the pixels of one image: soft ``pred`` scores vs ``gt >= threshold``.

    Undefined when the ground truth has a single class (all or no pixels manipulated).
    """
    p, g = _mask_pair(pred, gt)
    return roc_auc((g >= threshold).ravel().astype(np.int8), p.ravel())


def localization_metrics(
    preds: Iterable[Any], gts: Iterable[Any], threshold: float = 0.5
) -> dict[str, MetricResult]:
    """Per-image averages of :func:`mask_iou`, :func:`pixel_f1` and :func:`pixel_auc`.

    Each metric is computed per image and averaged (unweighted mean) over the images where it is
    defined; images where it is undefined are excluded and counted in ``details['n_undefined']``.
    ``n_pos`` = images with a non-empty GT mask, ``n_neg`` = images with an empty one.
    """
    fns = {"mask_iou": mask_iou, "pixel_f1": pixel_f1, "pixel_auc": pixel_auc}
    vals: dict[str, list[float]] = {k: [] for k in fns}
    undefined = dict.fromkeys(fns, 0)
    n_img_pos = n_img_neg = 0
    for pred, gt in zip(preds, gts, strict=True):
        for name, fn in fns.items():
            r = fn(pred, gt, threshold)
            if r.value is None:
                undefined[name] += 1
            else:
                vals[name].append(r.value)
        if (_mask01(gt) >= threshold).any():
            n_img_pos += 1
        else:
            n_img_neg += 1
    out = {}
    for name in fns:
        det = {"n_images": n_img_pos + n_img_neg, "n_undefined": undefined[name], "average": "per-image"}
        if vals[name]:
            out[name] = MetricResult(
                float(np.mean(vals[name])), None, n_img_pos, n_img_neg, threshold, det
            )
        else:
            out[name] = MetricResult(
                None, "undefined on every image" if undefined[name] else "no images",
                n_img_pos, n_img_neg, threshold, det,
            )
    return out


# --------------------------------------------------------------------------------------------
# Temporal localization
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A temporal segment [start, end] of video ``video`` (seconds or frames; be consistent)."""

    video: str
    start: float
    end: float
    score: float = 1.0


def _segments(items: Iterable[Any], scored: bool) -> list[Segment]:
    out = []
    for it in items:
        if isinstance(it, Segment):
            seg = it
        elif len(it) == 4:
            seg = Segment(str(it[0]), float(it[1]), float(it[2]), float(it[3]))
        elif len(it) == 3 and not scored:
            seg = Segment(str(it[0]), float(it[1]), float(it[2]))
        else:
            raise ValueError(f"expected (video, start, end{', score' if scored else ''}), got {it!r}")
        if seg.end < seg.start:
            raise ValueError(f"segment ends before it starts: {seg}")
        out.append(seg)
    return out


def tiou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal IoU of [a0, a1] and [b0, b1]: overlap length / union length (0 when union is 0)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def segment_ap(
    predictions: Iterable[Any], ground_truth: Iterable[Any], tiou_threshold: float = 0.5
) -> MetricResult:
    """ActivityNet-style average precision of temporal forgery segments at one tIoU threshold.

    Predictions ``(video, start, end, score)`` are sorted by score, highest first (stable for ties).
    Each is matched greedily: among the still-unmatched GT segments ``(video, start, end)`` of the
    same video, the one with the highest tIoU, if that tIoU >= ``tiou_threshold``, becomes its match
    (TP), otherwise the prediction is a FP. With cumulative precision P_k and recall R_k = TP_k /
    N_gt, AP is the area under the interpolated PR curve: append (R=0, P=0) and (R=1, P=0), make
    P monotonically non-increasing from the right (P_k = max_{j>=k} P_j), and sum
    ``(R_k - R_{k-1}) * P_k`` over the points where recall changes. Undefined without GT segments.
    """
    preds = _segments(predictions, scored=True)
    gts = _segments(ground_truth, scored=False)
    n_gt = len(gts)
    if n_gt == 0:
        return MetricResult(None, "no ground-truth segments", 0, len(preds), tiou_threshold)
    if not preds:
        return MetricResult(0.0, None, n_gt, 0, tiou_threshold, {"n_predictions": 0})
    by_video: dict[str, list[int]] = {}
    for i, g in enumerate(gts):
        by_video.setdefault(g.video, []).append(i)
    matched = np.zeros(n_gt, dtype=bool)
    order = sorted(range(len(preds)), key=lambda i: -preds[i].score)
    tp = np.zeros(len(preds))
    for rank, pi in enumerate(order):
        p = preds[pi]
        best, best_iou = -1, -1.0
        for gi in by_video.get(p.video, []):
            if matched[gi]:
                continue
            v = tiou((p.start, p.end), (gts[gi].start, gts[gi].end))
            if v > best_iou:
                best, best_iou = gi, v
        if best >= 0 and best_iou >= tiou_threshold:
            matched[best] = True
            tp[rank] = 1.0
    ctp = np.cumsum(tp)
    prec = ctp / np.arange(1, len(preds) + 1)
    rec = ctp / n_gt
    mprec = np.r_[0.0, prec, 0.0]
    mrec = np.r_[0.0, rec, 1.0]
    for i in range(mprec.size - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    ap = float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))
    return MetricResult(ap, None, n_gt, len(preds), tiou_threshold, {"n_matched": int(matched.sum())})


def segment_map(
    predictions: Iterable[Any],
    ground_truth: Iterable[Any],
    tious: Sequence[float] = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2)),
) -> MetricResult:
    """Mean of :func:`segment_ap` over ``tious`` (default 0.50:0.05:0.95, ActivityNet);
    ``details['ap']`` maps each tIoU to its AP."""
    preds, gts = list(predictions), list(ground_truth)
    per = {float(t): segment_ap(preds, gts, float(t)) for t in tious}
    first = next(iter(per.values()))
    if first.value is None:
        return MetricResult(None, first.reason, first.n_pos, first.n_neg)
    aps = {f"{t:.2f}": r.value for t, r in per.items()}
    return MetricResult(float(np.mean(list(aps.values()))), None, first.n_pos, first.n_neg, None, {"ap": aps})


# --------------------------------------------------------------------------------------------
# Bootstrap confidence intervals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap interval [low, high] at level 1 - alpha around ``point``."""

    point: float | None
    low: float | None
    high: float | None
    alpha: float
    n_boot: int
    n_valid: int  # replicates where the metric was defined (others, e.g. one class drawn, dropped)
    grouped: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_ci(
    metric_fn: Callable[[np.ndarray, np.ndarray], MetricResult | float | None],
    y: Any,
    s: Any,
    n: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> BootstrapCI:
    """Percentile bootstrap CI of ``metric_fn(y, s)``.

    Each of ``n`` replicates draws samples with replacement (same size as the data); with ``groups``
    (e.g. video ids of frame-level rows) it draws *groups* with replacement and keeps all rows of each
    drawn group (cluster bootstrap: frames of one video are not independent evidence). Replicates
    where the metric is undefined are dropped (``n_valid``). The interval is the (alpha/2, 1-alpha/2)
    quantiles of the valid replicate values (numpy's default linear quantile).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    if n < 1:
        raise ValueError("n must be >= 1")
    y_arr = np.asarray(y)
    s_arr = np.asarray(s)
    if y_arr.shape[0] != s_arr.shape[0]:
        raise ValueError("labels and scores differ in length")
    point = _as_value(metric_fn(y_arr, s_arr))
    if point is None:
        why = "metric undefined on the full data"
        return BootstrapCI(None, None, None, alpha, n, 0, groups is not None, why)
    rng = np.random.default_rng(seed)
    if groups is not None:
        g = np.asarray([str(v) for v in groups])
        if g.shape[0] != y_arr.shape[0]:
            raise ValueError("groups must have one entry per sample")
        _, inv = np.unique(g, return_inverse=True)
        members = [np.flatnonzero(inv == i) for i in range(inv.max() + 1)]
    vals = []
    for _ in range(n):
        if groups is None:
            idx = rng.integers(0, y_arr.shape[0], y_arr.shape[0])
        else:
            pick = rng.integers(0, len(members), len(members))
            idx = np.concatenate([members[i] for i in pick])
        v = _as_value(metric_fn(y_arr[idx], s_arr[idx]))
        if v is not None:
            vals.append(v)
    if not vals:
        why = "metric undefined on every replicate"
        return BootstrapCI(point, None, None, alpha, n, 0, groups is not None, why)
    lo, hi = np.quantile(np.asarray(vals), [alpha / 2.0, 1.0 - alpha / 2.0])
    return BootstrapCI(point, float(lo), float(hi), alpha, n, len(vals), groups is not None)


# --------------------------------------------------------------------------------------------
# The standard set
# --------------------------------------------------------------------------------------------


def standard_metrics(
    y: Any,
    s: Any,
    level: str,
    threshold: float = 0.5,
    fpr_targets: Sequence[float] = (0.01, 0.05, 0.1),
) -> dict[str, LevelledResult]:
    """The detection metrics every report shows, keyed ``"<metric>@<level>"``.

    roc_auc, average_precision, eer, accuracy / balanced_accuracy / apcer / bpcer / acer at
    ``threshold``, tpr_at_fpr_<x> (achievable) for each target, and ece / brier when every score is a
    probability in [0, 1].
    """
    y, s = _check_binary(y, s)
    res: dict[str, MetricResult] = {
        "roc_auc": roc_auc(y, s),
        "average_precision": average_precision(y, s),
        "eer": eer(y, s),
        "accuracy": accuracy(y, s, threshold),
        "balanced_accuracy": balanced_accuracy(y, s, threshold),
        "apcer": apcer(y, s, threshold),
        "bpcer": bpcer(y, s, threshold),
        "acer": acer(y, s, threshold),
    }
    for t in fpr_targets:
        res[f"tpr_at_fpr_{t:g}"] = tpr_at_fpr(y, s, t)
    if s.size and s.min() >= 0.0 and s.max() <= 1.0:
        res["ece"] = ece(y, s).ece
        res["brier"] = brier(y, s)
    return levelled(level, res)
