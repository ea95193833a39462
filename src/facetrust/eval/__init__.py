"""Evaluation harness: metrics with one definition each, and dataset adapters.

Conventions: label 1 = fake / attack, scores higher = more fake, decision ``score >= threshold``.
Metrics return :class:`MetricResult` (value ``None`` + reason when undefined); reported numbers are
keyed ``"<metric>@<level>"`` with level frame | video | track | image. See docs/metrics.md and
docs/datasets.md.
"""

from .datasets import Dataset, Sample, detect_format, load_dataset
from .metrics import (
    LEVELS,
    BootstrapCI,
    CalibrationResult,
    LevelledResult,
    MetricResult,
    ReliabilityBin,
    RocCurve,
    Segment,
    accuracy,
    acer,
    apcer,
    average_precision,
    balanced_accuracy,
    bootstrap_ci,
    bpcer,
    bpcer_at_apcer,
    brier,
    d_eer,
    ece,
    eer,
    hter,
    levelled,
    localization_metrics,
    mask_iou,
    metric_key,
    pixel_auc,
    pixel_f1,
    plot_reliability,
    roc_auc,
    roc_curve,
    segment_ap,
    segment_map,
    standard_metrics,
    tiou,
    tpr_at_fpr,
)

__all__ = [
    "LEVELS",
    "BootstrapCI",
    "CalibrationResult",
    "Dataset",
    "LevelledResult",
    "MetricResult",
    "ReliabilityBin",
    "RocCurve",
    "Sample",
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
    "detect_format",
    "ece",
    "eer",
    "hter",
    "levelled",
    "load_dataset",
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

# Runner, cache, protocols, robustness and reports load on first use (they pull in the pipeline,
# OpenCV and matplotlib); ``from facetrust.eval import evaluate`` works as usual.
_LAZY = {
    "evaluate": "runner",
    "EvalRun": "records",
    "EvalSettings": "engine",
    "FaceCache": "cache",
    "FaceCacheKey": "cache",
    "PROTOCOLS": "protocols",
    "lofo_folds": "protocols",
    "perturb": "robustness",
    "SWEEP": "robustness",
    "write_report": "report_html",
    "build_leaderboard": "leaderboard",
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'facetrust.eval' has no attribute {name!r}")

