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

One module per family of metrics (ranking, threshold, calibration, localization, temporal,
bootstrap, standard; frame -> video aggregation is scan's media rule, facetrust.fusion.fuse_media); result containers in ``_results``, shared checks in ``_common``.
Every name is re-exported here: import from ``facetrust.eval.metrics``.
"""

from __future__ import annotations

from ._results import (
    LEVELS,
    Level,
    LevelledResult,
    MetricResult,
    RocCurve,
    _EPS,
    levelled,
    metric_key,
)
from ._common import (
    _RocPoints,
    _as_value,
    _average_ranks,
    _check_binary,
    _counts,
    _need_both,
    _roc_counts,
    _roc_points,
)
from .ranking import (
    average_precision,
    bpcer_at_apcer,
    d_eer,
    eer,
    roc_auc,
    roc_curve,
    tpr_at_fpr,
)
from .threshold import (
    _confusion,
    accuracy,
    acer,
    apcer,
    balanced_accuracy,
    bpcer,
    hter,
)
from .calibration import (
    CalibrationResult,
    ReliabilityBin,
    _check_prob,
    brier,
    ece,
    plot_reliability,
)
from .localization import (
    _mask01,
    _mask_pair,
    localization_metrics,
    mask_iou,
    pixel_auc,
    pixel_f1,
)
from .temporal import (
    Segment,
    _segments,
    segment_ap,
    segment_map,
    tiou,
)
from .bootstrap import (
    BootstrapCI,
    bootstrap_ci,
)
from .standard import (
    standard_metrics,
)

__all__ = [
    "BootstrapCI",
    "CalibrationResult",
    "LEVELS",
    "Level",
    "LevelledResult",
    "MetricResult",
    "ReliabilityBin",
    "RocCurve",
    "Segment",
    "accuracy",
    "acer",
    "apcer",
    "average_precision",
    "balanced_accuracy",
    "bootstrap_ci",
    "bpcer",
    "bpcer_at_apcer",
    "brier",
    "d_eer",
    "ece",
    "eer",
    "hter",
    "levelled",
    "localization_metrics",
    "mask_iou",
    "metric_key",
    "pixel_auc",
    "pixel_f1",
    "plot_reliability",
    "roc_auc",
    "roc_curve",
    "segment_ap",
    "segment_map",
    "standard_metrics",
    "tiou",
    "tpr_at_fpr",
]
