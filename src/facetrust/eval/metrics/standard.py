"""The standard set (see the package docstring for the conventions)."""

from __future__ import annotations

from typing import Any, Sequence

from ._common import _check_binary
from ._results import LevelledResult, MetricResult, levelled
from .calibration import brier, ece
from .ranking import average_precision, eer, roc_auc, tpr_at_fpr
from .threshold import accuracy, acer, apcer, balanced_accuracy, bpcer


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
