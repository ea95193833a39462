"""Bootstrap confidence intervals (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ._common import _as_value
from ._results import MetricResult


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
