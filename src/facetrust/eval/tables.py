"""Turning scored samples into metric rows: units per level, breakdowns and protocol sections.

Levels, each scored by the rule ``facetrust scan`` applies (:func:`facetrust.fusion.fuse_media`):
``image`` is a still image alone in its group (the image rule: max over its faces); ``frame`` is
every sampled frame of a video or frame folder, and every still image that shares its group with
other samples (``fusion.frame_probability``: max over the frame's faces); ``video`` is one unit per
group of frame-level units (the video rule over the group's face tracks: a video's or frame
folder's tracks as the scanner's tracker links them, the group's still images linked by the same
tracker in sample order; label = max of its labels). Numbers come only from
:mod:`facetrust.eval.metrics`; an undefined one is ``null`` with its reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .. import fusion
from . import metrics as M
from . import protocols as P
from .adapters._core import Sample
from ..faces import FaceTracker
from .engine import EvalSettings, SampleRecord

CI_METRICS = ("roc_auc", "average_precision", "eer", "ece")
ROC_MAX_POINTS = 256


# ----------------------------------------------------------------------------------------------
# Units per level
# ----------------------------------------------------------------------------------------------


@dataclass
class LevelTable:
    """The scored units of one level: labels, kinds, sources, bootstrap clusters, scores."""

    level: str
    y: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    source: list[str | None] = field(default_factory=list)
    cluster: list[str] = field(default_factory=list)
    samples: list[list[Sample]] = field(default_factory=list)  # the sample(s) behind each unit
    scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def __len__(self) -> int:
        return len(self.y)

    def add(self, label: int, kind: str, source: str | None, cluster: str, samples: list[Sample],
            scores: dict[str, float]) -> None:
        """Append one unit (its scores: scorer -> probability)."""
        self.y.append(label)
        self.kind.append(kind)
        self.source.append(source)
        self.cluster.append(cluster)
        self.samples.append(samples)
        for sc, v in scores.items():
            self.scores[sc].append(v)

    def arrays(self, scorer: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = np.asarray(self.y, dtype=np.int8)
        s = np.asarray(self.scores.get(scorer, []), dtype=np.float64)
        c = np.asarray(self.cluster, dtype=object)
        if mask is not None:
            return y[mask], s[mask], c[mask]
        return y, s, c


def _source(sample: Sample) -> str | None:
    v = sample.attrs.get("source")
    return None if v in (None, "") else str(v)


def assign_units(records: Sequence[SampleRecord]) -> None:
    """Mark each record as an ``image`` unit or a ``frame``-level member of a video group."""
    group_size = Counter(r.sample.group for r in records)
    for r in records:
        r.unit = "frame" if _is_sequence(r) or group_size[r.sample.group] > 1 else "image"


def _is_sequence(r: SampleRecord) -> bool:
    return r.sample.media_type in ("video", "frames") or r.media_kind in ("video", "frames")


def _fuse(evidence: dict[str, list[fusion.FaceEvidence]], rule: fusion.MediaRule, video: bool) -> dict[str, float] | None:
    """Per scorer, the media probability of ``fusion.fuse_media`` (None when no face decides)."""
    out = {}
    for sc, faces in evidence.items():
        p = fusion.fuse_media(faces, rule, video=video).probability
        if p is None:
            return None
        out[sc] = p
    return out


def _evidence(frames, scorers: Sequence[str], key=lambda tid: tid) -> dict[str, list[fusion.FaceEvidence]]:
    """Per scorer, the media rule's view of ``frames``' faces (``key`` names each face's track)."""
    return {
        sc: [fusion.FaceEvidence(f.scores[sc], fr.index, fr.time_s, key(f.track_id), f.passed)
             for fr in frames for f in fr.faces]
        for sc in scorers
    }


def sample_scores(r: SampleRecord, scorers: Sequence[str], rule: fusion.MediaRule) -> dict[str, float] | None:
    """One sample's probability per scorer, exactly as ``facetrust scan`` gives it for that media:
    the video rule for a video or frame folder, the image rule for a still image."""
    if r.status != "ok":
        return None
    return _fuse(_evidence(r.frames, scorers), rule, video=_is_sequence(r))


def group_scores(members: Sequence[SampleRecord], scorers: Sequence[str], rule: fusion.MediaRule) -> dict[str, float] | None:
    """A video unit's probability per scorer: the video rule over the group's tracks. Each video's
    or frame folder's tracks stay its own; the group's still images are frames of one sequence,
    linked by the scanner's tracker in sample order."""
    evidence: dict[str, list[fusion.FaceEvidence]] = {sc: [] for sc in scorers}
    stills = FaceTracker()
    for m, r in enumerate(members):
        if _is_sequence(r):
            part = _evidence(r.frames, scorers, key=lambda tid, m=m: (m, tid))
        else:
            faces = [f for fr in r.frames for f in fr.faces]
            ids = stills.update([f.face for f in faces])
            part = {sc: [fusion.FaceEvidence(f.scores[sc], m, None, ("stills", tid), f.passed)
                         for f, tid in zip(faces, ids)] for sc in scorers}
        for sc in scorers:
            evidence[sc] += part[sc]
    return _fuse(evidence, rule, video=True)


def build_tables(records: Sequence[SampleRecord], scorers: Sequence[str], rule: fusion.MediaRule) -> dict[str, LevelTable]:
    """Image, frame and video tables from scored records (no-face / error records excluded)."""
    assign_units(records)
    image, frame, video = LevelTable("image"), LevelTable("frame"), LevelTable("video")
    groups: dict[str, list[SampleRecord]] = {}
    for r in records:
        if r.status != "ok":
            continue
        s = r.sample
        if r.unit == "image":
            scores = sample_scores(r, scorers, rule)
            if scores is not None:
                image.add(s.label, s.kind, _source(s), s.group, [s], scores)
            continue
        for f in r.frames:
            if f.scores:  # a face decided this frame
                frame.add(s.label, s.kind, _source(s), s.group, [s], {sc: f.scores[sc] for sc in scorers})
        groups.setdefault(s.group, []).append(r)
    for g, members in groups.items():
        scores = group_scores(members, scorers, rule)
        if scores is None:
            continue
        samples = [r.sample for r in members]
        video.add(max(s.label for s in samples), Counter(s.kind for s in samples).most_common(1)[0][0],
                  Counter(_source(s) for s in samples).most_common(1)[0][0], g, samples, scores)
    return {"image": image, "frame": frame, "video": video}


# ----------------------------------------------------------------------------------------------
# Metric rows
# ----------------------------------------------------------------------------------------------


def _roc_points(y: np.ndarray, s: np.ndarray) -> dict[str, list[float]] | None:
    roc = M.roc_curve(y, s)
    if not roc.defined:
        return None
    fpr, tpr = roc.fpr, roc.tpr
    if fpr.size > ROC_MAX_POINTS:  # keep the ends, subsample evenly in between
        idx = np.unique(np.r_[0, np.linspace(0, fpr.size - 1, ROC_MAX_POINTS).round().astype(int), fpr.size - 1])
        fpr, tpr = fpr[idx], tpr[idx]
    return {"fpr": [round(float(v), 6) for v in fpr], "tpr": [round(float(v), 6) for v in tpr]}


def _ece_value(y: np.ndarray, s: np.ndarray) -> M.MetricResult:
    return M.ece(y, s).ece


_CI_FNS = {
    "roc_auc": M.roc_auc,
    "average_precision": M.average_precision,
    "eer": M.eer,
    "ece": _ece_value,
}


def metric_row(
    y: np.ndarray,
    s: np.ndarray,
    clusters: np.ndarray,
    *,
    level: str,
    scorer: str,
    section: str,
    subset: str,
    settings: EvalSettings,
    ci_metrics: Sequence[str] = CI_METRICS,
    curves: bool = False,
    reliability: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One row of the results table: every standard metric at ``level`` on (y, s), CIs, counts."""
    if settings.threshold is None:  # the Engine resolves it (detector default); a bare EvalSettings must say
        raise ValueError("EvalSettings.threshold is unresolved: pass a threshold or build the settings via Engine")
    std = M.standard_metrics(y, s, level, settings.threshold, settings.fpr_targets)
    row: dict[str, Any] = {
        "scorer": scorer,
        "level": level,
        "section": section,
        "subset": subset,
        **extra,
        "n_pos": int((y == 1).sum()),
        "n_neg": int((y == 0).sum()),
        "n_units": int(y.size),
        "n_groups_pos": int(len(set(clusters[y == 1].tolist()))) if y.size else 0,
        "n_groups_neg": int(len(set(clusters[y == 0].tolist()))) if y.size else 0,
        "mean_score_fake": float(s[y == 1].mean()) if (y == 1).any() else None,
        "mean_score_real": float(s[y == 0].mean()) if (y == 0).any() else None,
        "metrics": {k: v.to_dict() for k, v in std.items()},
        "ci": {},
    }
    probs = bool(s.size) and float(s.min()) >= 0.0 and float(s.max()) <= 1.0
    few = min(row["n_groups_pos"], row["n_groups_neg"]) < settings.ci_min_groups
    if settings.n_boot > 0 and few:
        for m in ci_metrics:
            if m == "ece" and not probs:
                continue
            point = row["metrics"][M.metric_key(m, level)]["value"]
            row["ci"][M.metric_key(m, level)] = M.BootstrapCI(
                point, None, None, settings.ci_alpha, settings.n_boot, 0, level == "frame",
                f"no CI: fewer than {settings.ci_min_groups} independent units (groups) in a class",
            ).to_dict()
    elif settings.n_boot > 0:
        grouped = level == "frame"  # frames of one video are not independent: cluster bootstrap
        for m in ci_metrics:
            if m == "ece" and not probs:
                continue
            ci = M.bootstrap_ci(
                _CI_FNS[m], y, s, n=settings.n_boot, alpha=settings.ci_alpha, seed=settings.seed,
                groups=list(clusters) if grouped else None,
            )
            row["ci"][M.metric_key(m, level)] = ci.to_dict()
    if curves:
        row["roc"] = _roc_points(y, s)
    if reliability and probs:
        row["reliability"] = M.ece(y, s).to_dict()
    return row


def breakdown_rows(
    tables: dict[str, LevelTable], scorers: Sequence[str], settings: EvalSettings
) -> list[dict[str, Any]]:
    """Overall, per-kind and same-source rows for every scorer and level that has units."""
    rows: list[dict[str, Any]] = []
    for level, tab in tables.items():
        if not len(tab):
            continue
        y_all = np.asarray(tab.y)
        kinds = np.asarray(tab.kind, dtype=object)
        sources = np.asarray([s or "" for s in tab.source], dtype=object)
        kind_list = sorted(set(tab.kind), key=lambda k: (int(y_all[kinds == k].max()) == 0, k))
        for sc in scorers:
            y, s, c = tab.arrays(sc)
            rows.append(
                metric_row(y, s, c, level=level, scorer=sc, section="overall", subset="all",
                           settings=settings, curves=True, reliability=True)
            )
            for k in kind_list:
                is_k = kinds == k
                labels = set(y_all[is_k].tolist())
                if labels == {1}:
                    mask, comp = is_k | (y_all == 0), f"{k} vs all reals"
                elif labels == {0}:
                    mask, comp = is_k | (y_all == 1), f"all fakes vs {k}"
                else:
                    mask, comp = is_k, f"{k} (fakes vs reals within the kind)"
                yy, ss, cc = tab.arrays(sc, mask)
                rows.append(
                    metric_row(yy, ss, cc, level=level, scorer=sc, section="per_kind", subset=comp,
                               settings=settings, curves=True, kind=k,
                               kind_label="fake" if labels == {1} else "real" if labels == {0} else "mixed",
                               n_kind=int(is_k.sum()))
                )
            # same-source: fakes of kind K from source S vs the reals of source S
            real_sources = {x for x in sources[y_all == 0] if x}
            for k in kind_list:
                for src in sorted({x for x in sources[(kinds == k) & (y_all == 1)] if x}):
                    if src not in real_sources:
                        continue
                    mask = ((kinds == k) & (y_all == 1) & (sources == src)) | ((y_all == 0) & (sources == src))
                    yy, ss, cc = tab.arrays(sc, mask)
                    rows.append(
                        metric_row(yy, ss, cc, level=level, scorer=sc, section="same_source",
                                   subset=f"{k} ({src}) vs {src} reals", settings=settings, kind=k, source=src)
                    )
    return rows


# ----------------------------------------------------------------------------------------------
# Protocol sections
# ----------------------------------------------------------------------------------------------


def _overall_rows(tables, scorers, settings, section, ci_metrics=("roc_auc",), **extra) -> list[dict[str, Any]]:
    rows = []
    for level, tab in tables.items():
        if not len(tab):
            continue
        for sc in scorers:
            y, s, c = tab.arrays(sc)
            rows.append(metric_row(y, s, c, level=level, scorer=sc, section=section, settings=settings,
                                   ci_metrics=ci_metrics, **extra))
    return rows


def _auc_of(row: dict[str, Any]) -> float | None:
    return row["metrics"].get(M.metric_key("roc_auc", row["level"]), {}).get("value")


def robustness_summary(rows: list[dict[str, Any]], clean_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scorer, level, perturbation and level value: AUC and its drop versus clean."""
    clean = {(r["scorer"], r["level"]): _auc_of(r) for r in clean_rows if r["section"] == "overall"}
    out = []
    for r in rows:
        base = clean.get((r["scorer"], r["level"]))
        auc = _auc_of(r)
        out.append({
            "scorer": r["scorer"], "level": r["level"], "perturbation": r["perturbation"],
            "strength": r["strength"], "condition": r["condition"], "roc_auc": auc, "clean_roc_auc": base,
            "drop": None if auc is None or base is None else base - auc,
            "n_pos": r["n_pos"], "n_neg": r["n_neg"],
        })
    return out


def fairness_rows(
    tables: dict[str, LevelTable], scorers: Sequence[str], settings: EvalSettings, attr: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per group value rows (AUC, FPR = BPCER, TPR = 1 - APCER at the threshold) and max gaps."""
    rows, gaps = [], []
    for level, tab in tables.items():
        if not len(tab):
            continue
        vals = np.asarray(
            [P.group_value(ss[0], attr) or "unknown" for ss in tab.samples], dtype=object
        )
        for sc in scorers:
            per: dict[str, dict[str, float | None]] = {}
            for v in sorted(set(vals.tolist())):
                y, s, c = tab.arrays(sc, vals == v)
                row = metric_row(y, s, c, level=level, scorer=sc, section="fairness", subset=f"{attr}={v}",
                                 settings=settings, ci_metrics=("roc_auc",), attribute=attr, group=v)
                rows.append(row)
                m = row["metrics"]
                bp = m[M.metric_key("bpcer", level)]["value"]
                ap = m[M.metric_key("apcer", level)]["value"]
                if v != "unknown":
                    per[v] = {"roc_auc": _auc_of(row), "fpr": bp, "tpr": None if ap is None else 1.0 - ap}
            gap = {"scorer": sc, "level": level, "attribute": attr, "groups": per}
            for m in ("roc_auc", "fpr", "tpr"):
                xs = [(g, d[m]) for g, d in per.items() if d[m] is not None]
                if len(xs) >= 2:
                    lo, hi = min(xs, key=lambda t: t[1]), max(xs, key=lambda t: t[1])
                    gap[f"max_gap_{m}"] = {"value": hi[1] - lo[1], "between": [lo[0], hi[0]], "reason": None}
                else:
                    gap[f"max_gap_{m}"] = {"value": None, "between": [],
                                           "reason": "fewer than two groups with a defined value"}
            gaps.append(gap)
    return rows, gaps


__all__ = [
    "CI_METRICS",
    "ROC_MAX_POINTS",
    "LevelTable",
    "assign_units",
    "breakdown_rows",
    "build_tables",
    "fairness_rows",
    "group_scores",
    "metric_row",
    "robustness_summary",
    "sample_scores",
]
