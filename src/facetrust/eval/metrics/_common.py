"""Input checking and shared building blocks (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._results import MetricResult


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
