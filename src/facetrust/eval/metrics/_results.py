"""Result containers (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np


Level = Literal["frame", "video", "track", "image"]
LEVELS: tuple[str, ...] = ("frame", "video", "track", "image")

# Float slack when comparing rates against a requested operating point (k/n rounding).
_EPS = 1e-12


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
