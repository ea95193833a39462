"""Localization (pixel masks) (see the package docstring for the conventions)."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._results import MetricResult
from .ranking import roc_auc


def _mask01(mask: Any) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"masks must be 2-D (H, W), got shape {m.shape}")
    if m.dtype == bool:
        return m.astype(np.float64)
    if m.dtype == np.uint8:
        return m.astype(np.float64) / 255.0
    m = m.astype(np.float64)
    if np.isnan(m).any():
        raise ValueError("mask contains NaN")
    return m


def _mask_pair(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    p, g = _mask01(pred), _mask01(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction {p.shape} and ground-truth {g.shape} masks differ in size")
    return p, g


def mask_iou(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """|P & G| / |P | G| with P = pred >= threshold, G = gt >= threshold (uint8 masks are /255 first).

    Undefined when both masks are empty (nothing predicted, nothing manipulated).
    n_pos / n_neg: GT-positive / GT-negative pixel counts.
    """
    p, g = _mask_pair(pred, gt)
    pb, gb = p >= threshold, g >= threshold
    n_pos = int(gb.sum())
    union = int((pb | gb).sum())
    if union == 0:
        return MetricResult(None, "both masks empty", n_pos, gb.size - n_pos, threshold)
    return MetricResult(int((pb & gb).sum()) / union, None, n_pos, gb.size - n_pos, threshold)


def pixel_f1(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """Pixel F1 = 2 TP / (2 TP + FP + FN) over pixels, both masks binarised as in :func:`mask_iou`.

    Undefined when both masks are empty.
    """
    p, g = _mask_pair(pred, gt)
    pb, gb = p >= threshold, g >= threshold
    n_pos = int(gb.sum())
    tp = int((pb & gb).sum())
    denom = 2 * tp + int((pb & ~gb).sum()) + int((~pb & gb).sum())
    if denom == 0:
        return MetricResult(None, "both masks empty", n_pos, gb.size - n_pos, threshold)
    return MetricResult(2 * tp / denom, None, n_pos, gb.size - n_pos, threshold)


def pixel_auc(pred: Any, gt: Any, threshold: float = 0.5) -> MetricResult:
    """ROC AUC over the pixels of one image: soft ``pred`` scores vs ``gt >= threshold``.

    Undefined when the ground truth has a single class (all or no pixels manipulated).
    """
    p, g = _mask_pair(pred, gt)
    return roc_auc((g >= threshold).ravel().astype(np.int8), p.ravel())


def localization_metrics(
    preds: Iterable[Any], gts: Iterable[Any], threshold: float = 0.5
) -> dict[str, MetricResult]:
    """Per-image averages of :func:`mask_iou`, :func:`pixel_f1` and :func:`pixel_auc`.

    Each metric is computed per image and averaged (unweighted mean) over the images where it is
    defined; images where it is undefined are excluded and counted in ``details['n_undefined']``.
    ``n_pos`` = images with a non-empty GT mask, ``n_neg`` = images with an empty one.
    """
    fns = {"mask_iou": mask_iou, "pixel_f1": pixel_f1, "pixel_auc": pixel_auc}
    vals: dict[str, list[float]] = {k: [] for k in fns}
    undefined = dict.fromkeys(fns, 0)
    n_img_pos = n_img_neg = 0
    for pred, gt in zip(preds, gts, strict=True):
        for name, fn in fns.items():
            r = fn(pred, gt, threshold)
            if r.value is None:
                undefined[name] += 1
            else:
                vals[name].append(r.value)
        if (_mask01(gt) >= threshold).any():
            n_img_pos += 1
        else:
            n_img_neg += 1
    out = {}
    for name in fns:
        det = {"n_images": n_img_pos + n_img_neg, "n_undefined": undefined[name], "average": "per-image"}
        if vals[name]:
            out[name] = MetricResult(
                float(np.mean(vals[name])), None, n_img_pos, n_img_neg, threshold, det
            )
        else:
            out[name] = MetricResult(
                None, "undefined on every image" if undefined[name] else "no images",
                n_img_pos, n_img_neg, threshold, det,
            )
    return out
