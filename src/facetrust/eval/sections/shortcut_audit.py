"""``shortcut-audit``: does a nuisance (resolution, encoder, sharpness, face size, crop margin,
background) separate the classes, in the data or in the detector's scores?

Two questions per nuisance of :data:`facetrust.eval.nuisance.NUISANCES`, both as ROC AUC with the
run's bootstrap interval (``settings.n_boot``, resampling the samples' groups), one unit per scored
sample (the media's probability by scan's rule):

- **genuine vs genuine** (the detector): genuine samples are put in buckets of the nuisance (its
  categories, or up to :data:`N_BUCKETS` buckets of consecutive values holding a third each, ties
  kept together); per bucket, the AUC
  of the detector's score for "this bucket" against the other genuine samples. A detector whose
  score does not depend on the nuisance sits near 0.5; above 0.5 the bucket's genuine media look
  more fake to it. The bucket's mean score and flag rate at the run's threshold come with it.
- **dataset** (the data): the AUC of the nuisance value itself as a real-vs-fake score (a
  categorical one: per category, "is this category"). Far from 0.5 either way, the data holds a
  shortcut a model could learn instead of the forgery.

An AUC is *flagged* when ``|AUC - 0.5| >`` :data:`TOLERANCE` and its interval excludes 0.5; a
bucket or class with fewer than ``settings.ci_min_groups`` groups gets no interval and is never
flagged. Nothing is fitted: buckets are quantiles of the genuine samples' own values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..protocols import ProtocolRun, register_protocol

TOLERANCE = 0.10  # |AUC - 0.5| above this, with an interval excluding 0.5, is flagged
N_BUCKETS = 3  # quantile buckets of a continuous nuisance (fewer when a bucket would be too small)


def _auc_ci(y: np.ndarray, s: np.ndarray, clusters: np.ndarray, settings) -> dict[str, Any]:
    """ROC AUC of ``s`` for ``y`` with its bootstrap CI and the flag (see the module docstring)."""
    from .. import metrics as M

    auc = M.roc_auc(y, s)
    out: dict[str, Any] = {"value": auc.value, "low": None, "high": None, "n_pos": int((y == 1).sum()),
                           "n_neg": int((y == 0).sum()), "reason": auc.reason, "flagged": False}
    if auc.value is None:
        return out
    groups = min(len(set(clusters[y == 1].tolist())), len(set(clusters[y == 0].tolist())))
    if settings.n_boot <= 0:
        out["reason"] = "no CI: n_boot = 0"
    elif groups < settings.ci_min_groups:
        out["reason"] = f"no CI: fewer than {settings.ci_min_groups} independent units (groups) in a class"
    else:
        grouped = len(set(clusters.tolist())) < clusters.size  # all distinct: the plain bootstrap is the same
        ci = M.bootstrap_ci(M.roc_auc, y, s, n=settings.n_boot, alpha=settings.ci_alpha, seed=settings.seed,
                            groups=list(clusters) if grouped else None)
        out["low"], out["high"] = ci.low, ci.high
        if ci.low is not None and ci.high is not None:
            out["flagged"] = bool(abs(auc.value - 0.5) > TOLERANCE and (ci.low > 0.5 or ci.high < 0.5))
    return out


def _buckets(values: list[Any], kind: str, min_size: int) -> tuple[np.ndarray, list[str]] | tuple[None, str]:
    """(bucket index per value, bucket labels), or (None, why not)."""
    if kind == "categorical":
        cats = sorted({str(v) for v in values})
        if len(cats) < 2:
            return None, f"one value only ({cats[0]})" if cats else "no value"
        idx = np.asarray([cats.index(str(v)) for v in values])
        return idx, cats
    # consecutive runs of distinct values, each closed once it holds a 1/N_BUCKETS share (ties never
    # straddle two buckets: a value shared by most samples, e.g. one image size, is one bucket)
    v = np.asarray(values, np.float64)
    distinct, counts = np.unique(v, return_counts=True)
    target = max(min_size, int(np.ceil(v.size / N_BUCKETS)))
    bounds: list[list[float]] = []  # [low, high, count]
    run_lo, run_n = None, 0
    for val, c in zip(distinct.tolist(), counts.tolist()):
        run_lo = val if run_lo is None else run_lo
        run_n += c
        if run_n >= target:
            bounds.append([run_lo, val, run_n])
            run_lo, run_n = None, 0
    if run_n:  # the remainder: its own bucket when big enough, else part of the last one
        if bounds and run_n < min_size:
            bounds[-1][1], bounds[-1][2] = float(distinct[-1]), bounds[-1][2] + run_n
        else:
            bounds.append([run_lo, float(distinct[-1]), run_n])
    if len(bounds) >= 2 and min(b[2] for b in bounds) >= min_size:
        idx = np.searchsorted(np.asarray([b[1] for b in bounds]), v, side="left")
        return idx, [f"[{lo:.4g}, {hi:.4g}]" for lo, hi, _ in bounds]
    return None, f"fewer than 2 buckets of {min_size} genuine samples"


def _genuine_rows(nz, vals: list, g: np.ndarray, units: list, scorers: list[str], cluster: np.ndarray, settings,
                  info: dict[str, Any]) -> list[dict[str, Any]]:
    """(a) per bucket of the genuine samples ``g`` and scorer: the bucket against the other genuine samples."""
    min_size = max(1, settings.ci_min_groups)
    idx, labels = _buckets([vals[i] for i in g], nz.kind, min_size) if g.size else (None, "no genuine sample")
    if idx is None:
        info["genuine_reason"] = labels
        return []
    rows = []
    for b, blabel in enumerate(labels):
        inb = (idx == b).astype(np.int8)
        if inb.sum() < min_size and nz.kind == "categorical":
            continue  # a rare category: too few to say anything (its count is in n_measured)
        for sc in scorers:
            s = np.asarray([units[i][1][sc] for i in g], np.float64)
            rows.append({"scorer": sc, "nuisance": nz.name, "bucket": blabel, "n_bucket": int(inb.sum()),
                         "n_rest": int(inb.size - inb.sum()), "mean_score": float(s[inb == 1].mean()),
                         "mean_score_rest": float(s[inb == 0].mean()),
                         "flag_rate": float((s[inb == 1] >= settings.threshold).mean()),
                         "auc": _auc_ci(inb, s, cluster[g], settings)})
    return rows


def _dataset_rows(nz, vals: list, a: np.ndarray, label: np.ndarray, cluster: np.ndarray, settings,
                  info: dict[str, Any]) -> list[dict[str, Any]]:
    """(b) the nuisance alone as a real-vs-fake score over the samples ``a`` that have a value."""
    y = label[a]
    if not a.size or y.min() == y.max():
        info["dataset_reason"] = "needs genuine and fake samples with a value"
        return []
    if nz.kind != "categorical":
        s = np.asarray([vals[i] for i in a], np.float64)
        return [{"nuisance": nz.name, "category": None, "n_fake": int((y == 1).sum()), "n_real": int((y == 0).sum()),
                 "median_fake": float(np.median(s[y == 1])), "median_real": float(np.median(s[y == 0])),
                 "auc": _auc_ci(y, s, cluster[a], settings)}]
    cats = sorted({str(vals[i]) for i in a})
    if len(cats) < 2:
        info["dataset_reason"] = f"one value only ({cats[0]}): cannot separate the classes"
        return []
    rows = []
    for c in cats:
        s = np.asarray([1.0 if str(vals[i]) == c else 0.0 for i in a])
        rows.append({"nuisance": nz.name, "category": c, "n_fake": int(s[y == 1].sum()), "n_real": int(s[y == 0].sum()),
                     "fake_share": float(s[y == 1].mean()), "real_share": float(s[y == 0].mean()),
                     "auc": _auc_ci(y, s, cluster[a], settings)})
    return rows


def audit(run: ProtocolRun) -> dict[str, Any]:
    """The ``shortcut_audit`` section of results.json."""
    from ..nuisance import NUISANCES, sample_nuisances
    from ..records import _rel
    from ..tables import sample_scores

    settings, scorers = run.settings, run.scorers
    units = []
    for r in run.records:
        if r.status != "ok":
            continue
        scores = sample_scores(r, scorers, run.rule)
        if scores is None:
            continue
        units.append((r, scores, sample_nuisances(r)))
    if any(u[2]["postprocess"] is not None for u in units):  # a manifest naming chains leaves the cell empty
        for u in units:                                      # when none was applied
            u[2]["postprocess"] = u[2]["postprocess"] or "none"
    label = np.asarray([u[0].sample.label for u in units], np.int8)
    cluster = np.asarray([str(u[0].sample.group) for u in units], dtype=object)
    genuine_rows: list[dict[str, Any]] = []
    dataset_rows: list[dict[str, Any]] = []
    measured: list[dict[str, Any]] = []
    for nz in NUISANCES:
        have = np.asarray([u[2][nz.name] is not None for u in units], bool)
        vals = [u[2][nz.name] for u in units]
        info = {"name": nz.name, "kind": nz.kind, "unit": nz.unit, "description": nz.description,
                "n_measured": int(have.sum()), "n_genuine": int((have & (label == 0)).sum()),
                "n_fake": int((have & (label == 1)).sum()), "genuine_reason": None, "dataset_reason": None}
        measured.append(info)
        genuine_rows += _genuine_rows(nz, vals, np.flatnonzero(have & (label == 0)), units, scorers, cluster,
                                      settings, info)
        dataset_rows += _dataset_rows(nz, vals, np.flatnonzero(have), label, cluster, settings, info)
    flags = [f"dataset: {r['nuisance']}{'=' + r['category'] if r['category'] else ''} separates real from fake, "
             f"AUC {r['auc']['value']:.3f} [{r['auc']['low']:.3f}, {r['auc']['high']:.3f}]"
             for r in dataset_rows if r["auc"]["flagged"]]
    flags += [f"{r['scorer']}: genuine {r['nuisance']} {r['bucket']} vs other genuine, AUC {r['auc']['value']:.3f} "
              f"[{r['auc']['low']:.3f}, {r['auc']['high']:.3f}]" for r in genuine_rows if r["auc"]["flagged"]]
    return {
        "tolerance": TOLERANCE,
        "unit": "sample (scan's media rule: image rule for a still image, video rule for a video or frame folder)",
        "rule": f"flagged when |AUC - 0.5| > {TOLERANCE:g} and the {1 - settings.ci_alpha:.0%} bootstrap interval "
                "excludes 0.5",
        "threshold": settings.threshold,
        "n_units": len(units),
        "nuisances": measured,
        "genuine_vs_genuine": genuine_rows,
        "dataset": dataset_rows,
        "flags": flags,
        # each AUC is a test at the interval's level: with many, a chance flag or two is expected
        "n_tests": sum(r["auc"]["low"] is not None for r in genuine_rows + dataset_rows),
        "per_sample": [{"path": _rel(u[0].sample.path, run.dataset.root), "label": int(u[0].sample.label),
                        "scores": u[1], "values": u[2]} for u in units],
    }


@register_protocol("shortcut-audit", aliases=("shortcuts", "shortcut_audit", "nuisance-audit"),
                   description="test split: do resolution, encoder, JPEG quality, sharpness, face size, crop margin "
                   "or background separate genuine buckets in the scores (genuine vs genuine AUC) or real from fake "
                   "in the data (nuisance-alone AUC)? bootstrap CIs, flagged beyond a tolerance")
def shortcut_audit(run: ProtocolRun) -> None:
    run.extra["shortcut_audit"] = audit(run)
