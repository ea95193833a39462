"""Frame -> video aggregation (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np


@dataclass(frozen=True)
class GroupedScores:
    """Per-group scores (and labels) produced by :func:`aggregate_scores`, groups in first-seen order."""

    groups: list[str]
    scores: np.ndarray
    labels: np.ndarray | None
    counts: np.ndarray  # frames used per group
    rule: str
    dropped: list[str]  # groups with no finite score (e.g. no face found in any frame)


def aggregate_scores(
    scores: Any,
    groups: Sequence[Any],
    labels: Any | None = None,
    rule: Literal["mean", "max", "median", "topk_mean"] = "mean",
    k: int = 5,
) -> GroupedScores:
    """Aggregate frame (or face / track) scores to one score per group (video).

    Rules: ``mean``; ``max``; ``median``; ``topk_mean`` = mean of the k highest scores (all of them
    when a group has fewer than k). NaN scores (frames without a usable face) are ignored; a group
    with none left is dropped and listed in ``dropped``. Group label = max of its frame labels, so a
    video with any fake frame is fake (partially manipulated videos count as fake).
    """
    if rule not in ("mean", "max", "median", "topk_mean"):
        raise ValueError(f"unknown aggregation rule {rule!r}")
    if rule == "topk_mean" and k < 1:
        raise ValueError("k must be >= 1")
    s = np.asarray(scores, dtype=np.float64)
    g = [str(v) for v in groups]
    if s.ndim != 1 or len(g) != s.size:
        raise ValueError("scores and groups must be 1-D of equal length")
    y = None
    if labels is not None:
        y = np.asarray(labels)
        if y.shape != s.shape or (y.size and not np.isin(y, (0, 1)).all()):
            raise ValueError("labels must be 0/1 with one per score")
    index: dict[str, list[int]] = {}
    for i, name in enumerate(g):
        index.setdefault(name, []).append(i)
    names, out_s, out_y, counts, dropped = [], [], [], [], []
    for name, ids in index.items():
        vals = s[ids]
        vals = vals[~np.isnan(vals)]
        if vals.size == 0:
            dropped.append(name)
            continue
        if rule == "mean":
            v = vals.mean()
        elif rule == "max":
            v = vals.max()
        elif rule == "median":
            v = np.median(vals)
        else:
            v = np.sort(vals)[::-1][:k].mean()
        names.append(name)
        out_s.append(float(v))
        counts.append(int(vals.size))
        if y is not None:
            out_y.append(int(y[ids].max()))
    return GroupedScores(
        names,
        np.asarray(out_s, dtype=np.float64),
        None if y is None else np.asarray(out_y, dtype=np.int8),
        np.asarray(counts, dtype=np.int64),
        rule,
        dropped,
    )
