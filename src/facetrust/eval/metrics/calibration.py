"""Calibration (see the package docstring for the conventions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from ._common import _check_binary, _counts
from ._results import MetricResult
from .threshold import accuracy


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
