"""Temporal localization (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from ._results import MetricResult


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
