"""The per-face, per-track and segment rules the media rule is built from (see the package)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["AGGREGATIONS", "DEFAULT_AGGREGATION", "TOPK_FRACTION", "TOPK_MIN_FRAMES", "fuse_detectors", "aggregate",
           "verdict_for", "segments_above"]

AGGREGATIONS = ("mean", "topk_mean", "max")
DEFAULT_AGGREGATION = "topk_mean"
TOPK_FRACTION = 0.25
TOPK_MIN_FRAMES = 2


def fuse_detectors(probabilities: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Weighted mean of several detectors' probabilities for one face."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.size == 0:
        raise ValueError("no detector probabilities to fuse")
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per detector, not all zero")
    return float(np.clip((p * w).sum() / w.sum(), 0.0, 1.0))


def aggregate(values: Sequence[float], rule: str = DEFAULT_AGGREGATION) -> float:
    """Aggregate per-frame probabilities of one track (or one video) into one probability."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("nothing to aggregate")
    if rule == "mean":
        return float(v.mean())
    if rule == "max":
        return float(v.max())
    if rule == "topk_mean":
        # at least TOPK_MIN_FRAMES frames (when there are that many): one frame alone never decides
        k = min(v.size, max(TOPK_MIN_FRAMES, math.ceil(TOPK_FRACTION * v.size)))
        return float(np.sort(v)[-k:].mean())
    raise ValueError(f"unknown aggregation {rule!r}; choose from {AGGREGATIONS}")


def verdict_for(probability: float, threshold: float) -> str:
    """``fake`` when probability >= threshold, else ``real``."""
    return "fake" if probability >= threshold else "real"


def segments_above(
    times: Sequence[float], probabilities: Sequence[float], threshold: float
) -> list[list[float]]:
    """Maximal runs of consecutive samples with probability >= threshold, as [start_s, end_s].

    Each sample stands for the time up to halfway to its neighbours, so a single flagged sample
    of a sparsely sampled video still gets a non-empty interval.
    """
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if t.size == 0:
        return []
    order = np.argsort(t)
    t, p = t[order], p[order]
    mids = (t[1:] + t[:-1]) / 2.0
    half = (mids[0] - t[0]) if t.size > 1 else 0.0
    starts = np.concatenate([[max(0.0, t[0] - half)], mids])
    ends = np.concatenate([mids, [t[-1] + (t[-1] - mids[-1] if t.size > 1 else 0.0)]])
    out: list[list[float]] = []
    run_start = None
    for i, flagged in enumerate(p >= threshold):
        if flagged and run_start is None:
            run_start = starts[i]
        if not flagged and run_start is not None:
            out.append([float(run_start), float(ends[i - 1])])
            run_start = None
    if run_start is not None:
        out.append([float(run_start), float(ends[-1])])
    return out
