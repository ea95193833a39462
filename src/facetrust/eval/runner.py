"""The evaluation runner: score a dataset with one or more detectors under a protocol.

Scoring follows the pipeline (:class:`facetrust.pipeline.Scanner`): faces are found by the face
detector (or read from the :mod:`~facetrust.eval.cache`), aligned by the one crop function and
scored by each detector; with several detectors a ``fused`` scorer (the pipeline's per-face
weighted mean, equal weights) is reported too. Units and levels:

- ``image``: a still image that is alone in its group; score = max over its faces.
- ``frame``: every sampled frame of a video or frame folder, and every still image that shares its
  group with other samples (frames / crops of one video); score = max over the frame's faces.
- ``video``: one per group of frame-level units; score = ``fusion.aggregate`` (``topk_mean`` by
  default, like the pipeline) over the group's frame scores; label = max of its labels.

A sample in which no face is found is counted as ``no_face`` (per kind) and not scored; a sample
that cannot be read is counted under its error code. Both appear in the results and the report.
Numbers are computed only by :mod:`facetrust.eval.metrics`; an undefined one (e.g. a class with no
samples) is ``null`` with its reason. Nothing is fitted on the evaluated samples.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import fusion
from ..errors import FacetrustError, MediaError
from . import metrics as M
from . import protocols as P
from .adapters._core import Dataset, Sample
from .cache import CacheEntry, CachedFrame, CropBundle, FaceCache, FaceCacheKey, describe_face_detector, media_sha256
from .robustness import CLEAN, condition_name, perturb, sweep_conditions

log = logging.getLogger(__name__)

SCHEMA = "facetrust.eval/1"
CI_METRICS = ("roc_auc", "average_precision", "eer", "ece")
ROC_MAX_POINTS = 256
MAX_LISTED_SKIPS = 500
ProgressFn = Callable[[int, int, str], None]  # (done, total, what)


# ----------------------------------------------------------------------------------------------
# Settings and per-sample records
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalSettings:
    """Everything besides detectors, data and protocol that changes the numbers."""

    frames: int | None = 16  # video: N frames spread uniformly
    every: int | None = None
    fps: float | None = None
    face_detector: str = "yunet"
    min_face_size: float = 24.0
    min_face_score: float = 0.5
    max_faces: int = 16
    threshold: float = 0.5  # fixed decision threshold (never chosen on test data)
    aggregation: str = fusion.DEFAULT_AGGREGATION
    fpr_targets: tuple[float, ...] = (0.01, 0.05, 0.1)
    n_boot: int = 1000  # bootstrap replicates of the CIs (0: no CIs)
    ci_alpha: float = 0.05
    ci_min_groups: int = 5  # fewer independent units (groups) in a class: no CI (it would mislead)
    seed: int = 0
    cache_crops: bool = True  # also cache aligned crops (crop-only detectors then skip decoding)


@dataclass
class FrameScore:
    index: int
    time_s: float | None
    n_faces: int
    scores: dict[str, float]  # scorer -> max over faces (empty when no face)


@dataclass
class SampleRecord:
    """What happened to one sample under one condition."""

    sample: Sample
    condition: str = CLEAN
    status: str = "ok"  # ok | no_face | error
    error_code: str | None = None
    error: str | None = None
    media_kind: str | None = None
    frames: list[FrameScore] = field(default_factory=list)
    cache_hit: bool = False
    decoded: bool = False
    unit: str = "image"  # image | frame (assigned when tables are built)

    @property
    def n_faces(self) -> int:
        return sum(f.n_faces for f in self.frames)


# ----------------------------------------------------------------------------------------------
# Scoring engine
# ----------------------------------------------------------------------------------------------


def _fused_name(detectors: Sequence[str]) -> str:
    return "fused(" + "+".join(detectors) + ")"


class Engine:
    """Loads the face detector and the detectors once; scores samples, using the cache."""

    def __init__(self, detectors: Sequence[str], settings: EvalSettings, cache: FaceCache | None) -> None:
        from ..pipeline import ScanOptions, Scanner

        self.settings = s = settings
        self.scanner = Scanner(
            ScanOptions(
                detectors=tuple(detectors),
                face_detector=s.face_detector,
                frames=s.frames,
                every=s.every,
                fps=s.fps,
                threshold=s.threshold,
                aggregation=s.aggregation,
                min_face_size=s.min_face_size,
                min_face_score=s.min_face_score,
                max_faces=s.max_faces,
                previews=False,
            )
        )
        self.detectors = self.scanner.detectors
        self.names = [d.info.name for d in self.detectors]
        self.scorers = self.names + ([_fused_name(self.names)] if len(self.names) > 1 else [])
        self.sampler = self.scanner.options.sampler()
        self.face_detector_desc = describe_face_detector(self.scanner.face_detector)
        self.cache = cache
        self.needs_frame = any(d.info.needs_frame for d in self.detectors)
        specs = []
        for d in self.detectors:
            if d.info.crop not in specs:
                specs.append(d.info.crop)
        self.specs = specs
        self.store_specs = specs if s.cache_crops else []
        self.timing: Counter = Counter()
        self.counters: Counter = Counter()

    def detector_info(self) -> list[dict[str, Any]]:
        return [
            {
                "name": d.info.name,
                "version": d.info.version,
                "crop": {"size": d.info.crop.size, "margin": d.info.crop.margin},
                "needs_frame": d.info.needs_frame,
                "trained": d.info.trained,
                "catches": d.info.catches,
            }
            for d in self.detectors
        ]

    # -- frames ------------------------------------------------------------------------------
    def _frames(self, sample: Sample) -> tuple[str, Iterator[Any]]:
        from ..io import Frame, load_image, open_media, sample_indices

        if sample.media_type == "frames":
            from .adapters._core import iter_images

            files = list(iter_images(Path(sample.path)))
            if not files:
                raise MediaError(f"{sample.path}: no image files in the frame folder")
            idx = sample_indices(self.sampler, len(files), None)

            def gen() -> Iterator[Any]:
                for i in idx:
                    yield Frame(i, None, load_image(files[i]))

            return "frames", gen()
        media = open_media(sample.path, sampler=self.sampler)

        def gen_media() -> Iterator[Any]:
            try:
                yield from media.frames()
            finally:
                media.close()

        return media.kind, gen_media()

    # -- faces -> scores ---------------------------------------------------------------------
    def _frame_scores(self, outputs_per_face: list[list[float]]) -> dict[str, float]:
        """Per scorer, max over faces; ``outputs_per_face[k]`` = the detectors' probabilities."""
        if not outputs_per_face:
            return {}
        out = {}
        arr = np.asarray(outputs_per_face, dtype=np.float64)  # (faces, detectors)
        for j, name in enumerate(self.names):
            out[name] = float(arr[:, j].max())
        if len(self.names) > 1:
            out[self.scorers[-1]] = max(fusion.fuse_detectors(row) for row in arr)
        return out

    def score(self, sample: Sample, condition: str = CLEAN) -> SampleRecord:
        """Score one sample (never raises for bad media: the record carries the error)."""
        rec = SampleRecord(sample, condition)
        try:
            self._score(rec)
        except MediaError as exc:
            rec.status, rec.error_code, rec.error = "error", exc.code, str(exc)
        except FacetrustError as exc:
            rec.status, rec.error_code, rec.error = "error", exc.code, str(exc)
        except MemoryError:
            rec.status, rec.error_code, rec.error = "error", "out_of_memory", "out of memory"
        except Exception as exc:  # a library failure must not kill the run
            log.exception("internal error while scoring %s", sample.path)
            rec.status, rec.error_code, rec.error = "error", "internal_error", f"{type(exc).__name__}: {exc}"
        if rec.status == "error":
            rec.frames = []
        elif rec.n_faces == 0:
            rec.status = "no_face"
        return rec

    def _key(self, sample: Sample, condition: str) -> FaceCacheKey | None:
        t = time.perf_counter()
        try:
            digest = media_sha256(sample.path, sample.media_type)
        except FileNotFoundError:
            raise MediaError(f"{sample.path}: file not found") from None
        except OSError as exc:
            raise MediaError(f"cannot read {sample.path}: {exc.strerror or exc}") from None
        finally:
            self.timing["hash_s"] += time.perf_counter() - t
        return FaceCacheKey(
            digest, self.face_detector_desc, self.sampler.describe(), self.settings.max_faces, condition
        )

    def _score(self, rec: SampleRecord) -> None:
        sample, condition = rec.sample, rec.condition
        cache = self.cache
        key = self._key(sample, condition) if cache is not None else None
        entry = cache.get(key) if cache is not None and key is not None else None
        if entry is not None:
            rec.cache_hit = True
            if entry.error_code:
                rec.media_kind = entry.media_kind
                raise _CachedMediaError(entry.error_code, entry.error or "unreadable media (cached)")
            if not self.needs_frame and self._score_from_crops(rec, key, entry):
                return
        try:
            new_frames, crops, stale, kind, size = self._score_decoding(rec, entry)
        except MediaError as exc:
            if cache is not None and key is not None:  # decoding failures are a property of the bytes
                cache.put(key, CacheEntry(rec.media_kind or sample.media_type, error_code=exc.code, error=str(exc)))
            raise
        if cache is not None and key is not None:
            if stale:
                cache.put(key, CacheEntry(kind, size[1], size[0], new_frames))
            n = sum(len(f.faces) for f in new_frames)
            for spec in self.store_specs:
                if n and (stale or not cache.crops_path(key, spec).is_file()):
                    cr, mats = crops[spec]
                    cache.put_crops(key, spec, CropBundle(np.stack(cr), np.stack(mats)))

    def _score_from_crops(self, rec: SampleRecord, key: FaceCacheKey, entry: CacheEntry) -> bool:
        """Crop-only detectors with every crop cached: score without decoding. False if not possible."""
        from ..detectors import FaceInput

        assert self.cache is not None
        n = entry.n_faces
        bundles = {}
        for spec in self.specs:
            b = self.cache.get_crops(key, spec, n) if n else CropBundle(np.zeros((0,)), np.zeros((0,)))
            if b is None:
                return False
            bundles[spec] = b
        rec.media_kind = entry.media_kind
        t = time.perf_counter()
        k = 0
        for fr in entry.frames:
            probs: list[list[float]] = [[] for _ in fr.faces]
            for det in self.detectors:
                b = bundles[det.info.crop]
                inputs = [
                    FaceInput(crop=b.crops[k + i], matrix=b.matrices[k + i], frame=None, box=f.box,
                              landmarks5=f.landmarks5)
                    for i, f in enumerate(fr.faces)
                ]
                outs = det.predict(inputs) if inputs else []
                if len(outs) != len(inputs):
                    raise FacetrustError(
                        f"detector {det.info.name} returned {len(outs)} outputs for {len(inputs)} faces"
                    )
                for i, o in enumerate(outs):
                    probs[i].append(o.fake_probability)
            k += len(fr.faces)
            rec.frames.append(FrameScore(fr.index, fr.time_s, len(fr.faces), self._frame_scores(probs)))
        self.timing["score_s"] += time.perf_counter() - t
        self.counters["scored_from_cached_crops"] += 1
        return True

    def _score_decoding(self, rec: SampleRecord, entry: CacheEntry | None):
        sample, condition = rec.sample, rec.condition
        pert = None if condition == CLEAN else _parse_condition(condition)
        t = time.perf_counter()
        kind, frames = self._frames(sample)
        rec.media_kind = kind
        self.timing["decode_s"] += time.perf_counter() - t
        new_frames: list[CachedFrame] = []
        crops: dict[Any, tuple[list, list]] = {spec: ([], []) for spec in self.store_specs}
        stale = entry is None
        size = (0, 0)
        rec.decoded = True
        self.counters["media_decoded"] += 1
        while True:
            t = time.perf_counter()
            frame = next(frames, None)
            self.timing["decode_s"] += time.perf_counter() - t
            if frame is None:
                break
            image = frame.image
            if pert is not None:
                t = time.perf_counter()
                image = perturb(image, *pert)
                self.timing["perturb_s"] += time.perf_counter() - t
            size = image.shape[:2]
            cached = entry.frame(frame.index) if entry is not None else None
            if cached is None:
                t = time.perf_counter()
                faces = self.scanner.detect_faces(image)
                self.timing["face_detect_s"] += time.perf_counter() - t
                self.counters["face_detect_calls"] += 1
                stale = True
            else:
                faces = cached.faces
            t = time.perf_counter()
            analysed = self.scanner.analyse_frame(image, faces)
            self.timing["score_s"] += time.perf_counter() - t
            probs = [[o.fake_probability for o in outs] for _, outs, _ in analysed]
            rec.frames.append(FrameScore(frame.index, frame.time_s, len(analysed), self._frame_scores(probs)))
            new_frames.append(CachedFrame(frame.index, frame.time_s, list(faces)))
            for spec in self.store_specs:
                for _, _, aligned in analysed:
                    crops[spec][0].append(aligned[spec].crop)
                    crops[spec][1].append(aligned[spec].matrix)
            del frame, image
        if not new_frames:
            raise MediaError(f"{sample.path}: no frame could be read")
        if entry is not None and len(entry.frames) != len(new_frames):
            stale = True
        return new_frames, crops, stale, kind, size


class _CachedMediaError(MediaError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_condition(condition: str) -> tuple[str, float]:
    from .robustness import parse_condition

    name, level = parse_condition(condition)
    assert level is not None
    return name, level


def score_samples(
    engine: Engine, samples: Sequence[Sample], condition: str = CLEAN, progress: ProgressFn | None = None
) -> list[SampleRecord]:
    out = []
    t = time.perf_counter()
    for i, s in enumerate(samples):
        out.append(engine.score(s, condition))
        if progress:
            progress(i + 1, len(samples), f"{condition} {Path(s.path).name[:40]}")
    engine.timing["loop_s"] += time.perf_counter() - t
    return out


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
        seq = r.sample.media_type in ("video", "frames") or r.media_kind in ("video", "frames")
        r.unit = "frame" if seq or group_size[r.sample.group] > 1 else "image"


def build_tables(records: Sequence[SampleRecord], scorers: Sequence[str], aggregation: str) -> dict[str, LevelTable]:
    """Image, frame and video tables from scored records (no-face / error records excluded)."""
    assign_units(records)
    image, frame, video = LevelTable("image"), LevelTable("frame"), LevelTable("video")
    groups: dict[str, list[tuple[SampleRecord, FrameScore]]] = {}
    for r in records:
        if r.status != "ok":
            continue
        s = r.sample
        if r.unit == "image":
            scored = [f for f in r.frames if f.n_faces]
            image.y.append(s.label)
            image.kind.append(s.kind)
            image.source.append(_source(s))
            image.cluster.append(s.group)
            image.samples.append([s])
            for sc in scorers:
                image.scores[sc].append(max(f.scores[sc] for f in scored))
            continue
        for f in r.frames:
            if not f.n_faces:
                continue
            frame.y.append(s.label)
            frame.kind.append(s.kind)
            frame.source.append(_source(s))
            frame.cluster.append(s.group)
            frame.samples.append([s])
            for sc in scorers:
                frame.scores[sc].append(f.scores[sc])
            groups.setdefault(s.group, []).append((r, f))
    for g, members in groups.items():
        samples = []
        for r, _ in members:
            if r.sample not in samples:
                samples.append(r.sample)
        video.y.append(max(s.label for s in samples))
        video.kind.append(Counter(s.kind for s in samples).most_common(1)[0][0])
        video.source.append(Counter(_source(s) for s in samples).most_common(1)[0][0])
        video.cluster.append(g)
        video.samples.append(samples)
        for sc in scorers:
            video.scores[sc].append(fusion.aggregate([f.scores[sc] for _, f in members], aggregation))
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


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


def _rel(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return Path(path).as_posix()
    return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def record_dict(r: SampleRecord, root: str, aggregation: str, group_attrs: Sequence[str] = ()) -> dict[str, Any]:
    """One sample's outcome; ``scores`` per scorer at its own unit (image: max over faces; frame
    unit: ``aggregation`` over its own frames), ``frames`` for frame-level units, and the values of
    ``group_attrs`` (fairness) under ``attrs``."""
    s = r.sample
    d: dict[str, Any] = {
        "path": _rel(s.path, root),
        "label": s.label,
        "kind": s.kind,
        "group": s.group,
        "split": s.split,
        "media_type": s.media_type,
        "media_kind": r.media_kind,
        "source": _source(s),
        "family": P.family_of(s),
        "condition": r.condition,
        "status": r.status,
        "error_code": r.error_code,
        "error": r.error,
        "unit": r.unit,
        "n_frames": len(r.frames),
        "n_faces": r.n_faces,
        "cache_hit": r.cache_hit,
    }
    if group_attrs:
        d["attrs"] = {a: P.group_value(s, a) for a in group_attrs}
    scored = [f for f in r.frames if f.n_faces]
    scorers = list(scored[0].scores) if scored else []
    if scored:
        if r.unit == "image":
            d["scores"] = {sc: max(f.scores[sc] for f in scored) for sc in scorers}
        else:  # the sample's own aggregate (its group's video score is in the video table)
            d["scores"] = {sc: fusion.aggregate([f.scores[sc] for f in scored], aggregation) for sc in scorers}
    else:
        d["scores"] = None
    if r.unit == "frame":
        d["frames"] = [
            {"index": f.index, "time_s": f.time_s, "n_faces": f.n_faces, "scores": f.scores or None} for f in r.frames
        ]
    return d


def video_units(tab: LevelTable, root: str, scorers: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "group": tab.cluster[i],
            "label": tab.y[i],
            "kind": tab.kind[i],
            "source": tab.source[i],
            "samples": [_rel(s.path, root) for s in tab.samples[i]],
            "scores": {sc: tab.scores[sc][i] for sc in scorers},
        }
        for i in range(len(tab))
    ]


def counts_for(records: Sequence[SampleRecord]) -> dict[str, Any]:
    by_kind: dict[str, dict[str, Any]] = {}
    errors: Counter = Counter()
    status: Counter = Counter()
    frames_no_face = 0
    for r in records:
        k = by_kind.setdefault(
            r.sample.kind,
            {"label": r.sample.label, "samples": 0, "scored": 0, "no_face": 0, "error": 0, "errors": {}},
        )
        if k["label"] != r.sample.label:
            k["label"] = "mixed"
        k["samples"] += 1
        status[r.status] += 1
        if r.status == "ok":
            k["scored"] += 1
            frames_no_face += sum(1 for f in r.frames if not f.n_faces)
        elif r.status == "no_face":
            k["no_face"] += 1
        else:
            k["error"] += 1
            k["errors"][r.error_code] = k["errors"].get(r.error_code, 0) + 1
            errors[r.error_code] += 1
    return {
        "samples": len(records),
        "scored": status["ok"],
        "no_face": status["no_face"],
        "error": status["error"],
        "errors_by_code": dict(errors),
        "frames_without_face_in_scored_samples": frames_no_face,
        "by_label": dict(Counter("fake" if r.sample.label else "real" for r in records)),
        "by_kind": dict(sorted(by_kind.items())),
    }


def git_commit() -> tuple[str | None, bool | None]:
    """(HEAD commit, working tree dirty) of the repository holding this package, or (None, None)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None, None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=20)
        return head.stdout.strip() or None, (bool(dirty.stdout.strip()) if dirty.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return None, None


def jsonable(obj: Any) -> Any:
    """Plain JSON types; non-finite floats become None (``+inf`` thresholds become "inf")."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isfinite(v):
            return v
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


@dataclass
class EvalRun:
    """The outcome of :func:`evaluate`: the results document and where it was written."""

    results: dict[str, Any]
    out_dir: Path | None = None
    results_path: Path | None = None
    report_path: Path | None = None

    def rows(self, **filters: Any) -> list[dict[str, Any]]:
        """Metric rows matching every ``field=value`` filter (e.g. ``section="per_kind"``)."""
        return [r for r in self.results["metrics"] if all(r.get(k) == v for k, v in filters.items())]

    def value(self, metric: str, *, scorer: str | None = None, level: str | None = None,
              section: str = "overall", **filters: Any) -> float | None:
        """The value of ``metric`` in the single row matching the filters (first scorer / level
        with data when not given). Raises KeyError when no row matches."""
        rows = self.rows(section=section, **filters)
        rows = [r for r in rows if (scorer is None or r["scorer"] == scorer) and (level is None or r["level"] == level)]
        if not rows:
            raise KeyError(f"no {section} row for scorer={scorer} level={level} {filters}")
        r = rows[0]
        return r["metrics"][M.metric_key(metric, r["level"])]["value"]

    @property
    def scorers(self) -> list[str]:
        return list(self.results["scorers"])

    def save(self, out_dir: str | os.PathLike, report: bool = True) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.out_dir = out
        self.results_path = out / "results.json"
        tmp = out / ".results.json.tmp"
        tmp.write_text(json.dumps(self.results, indent=1, allow_nan=False), encoding="utf-8")
        os.replace(tmp, self.results_path)
        if report:
            from .report_html import write_report

            self.report_path = write_report(self.results, out / "report.html")
        return self.results_path


def _kind_source(ds: Dataset, kind_attr: str | None) -> str | None:
    """The attribute used as the per-kind breakdown key: ``"auto"`` -> ``family`` when samples carry
    one (facetrust.synth manifests, whose kind column is absent), else the adapter's ``kind``."""
    if kind_attr in (None, "", "none", "kind"):
        return None
    if kind_attr == "auto":
        return "family" if any(s.attrs.get("family") not in (None, "") for s in ds.samples) else None
    return kind_attr


def _rekind(ds: Dataset, attr: str) -> Dataset:
    """A copy of ``ds`` whose samples' ``kind`` is ``attrs[attr]`` (the adapter's kind kept in
    ``attrs["adapter_kind"]``); the manifest hash stays the original dataset's."""
    from dataclasses import replace

    out = []
    for s in ds.samples:
        v = s.attrs.get(attr)
        kind = str(v) if v not in (None, "") else s.kind
        out.append(replace(s, kind=kind, attrs={**s.attrs, "adapter_kind": s.kind}))
    return Dataset(ds.name, ds.root, out, list(ds.skipped), ds.manifest_hash)


def _select(samples: list[Sample], kinds: Sequence[str] | None, limit: int | None, seed: int) -> list[Sample]:
    if kinds:
        wanted = set(kinds)
        picked = [s for s in samples if s.kind in wanted]
        if not any(s.label == 0 for s in picked):  # no real kind named: keep every real
            picked = [s for s in samples if s.kind in wanted or s.label == 0]
        samples = picked
    if limit is not None and limit < len(samples):
        import hashlib

        def rank(s: Sample) -> str:  # deterministic pseudo-random order, independent of list order
            return hashlib.sha256(f"{seed}\t{s.path}".encode()).hexdigest()

        keep = set(map(id, sorted(samples, key=rank)[:limit]))
        samples = [s for s in samples if id(s) in keep]
    return samples


def evaluate(
    detector: str | Sequence[str],
    dataset: Dataset | str | os.PathLike,
    protocol: str = "in-domain",
    *,
    frames: int | None = 16,
    every: int | None = None,
    fps: float | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    out_dir: str | os.PathLike | None = None,
    threshold: float = 0.5,
    face_detector: str = "yunet",
    min_face_size: float = 24.0,
    max_faces: int = 16,
    aggregation: str = fusion.DEFAULT_AGGREGATION,
    n_boot: int = 1000,
    ci_min_groups: int = 5,
    seed: int = 0,
    limit: int | None = None,
    kinds: Sequence[str] | None = None,
    perturbations: Sequence[str] | None = None,
    group_attr: str | None = None,
    train_fn: P.TrainFn | None = None,
    trained_on: str | None = None,
    kind_attr: str | None = "auto",
    cache_crops: bool = True,
    report: bool = True,
    progress: ProgressFn | None = None,
) -> EvalRun:
    """Evaluate ``detector`` (one name or several) on ``dataset`` under ``protocol``.

    ``dataset``: a :class:`Dataset` or anything :func:`facetrust.eval.load_dataset` accepts.
    ``protocol``: see :mod:`facetrust.eval.protocols`. ``perturbations`` (robustness): names of
    the sweep (default all) or explicit ``NAME:LEVEL`` items. ``group_attr`` (fairness): the
    attribute to group by (default: the first of gender / race / age_group available).
    ``n_boot`` / ``ci_min_groups``: bootstrap replicates, and the fewest independent units (groups)
    per class for which a CI is given (fewer: the CI is null with its reason).
    ``train_fn`` (leave-one-family-out): see :data:`facetrust.eval.protocols.TrainFn`.
    ``cache_dir``: the face cache root (default ``~/.cache/facetrust/eval``; ``use_cache=False``
    disables it). ``limit``: score a deterministic pseudo-random subset of N samples. ``kinds``:
    keep these kinds (plus every real when no real kind is named). ``kind_attr``: the sample
    attribute used as the per-kind key (``"auto"``: ``family`` when present, e.g. a synth manifest;
    ``None``: the adapter's kind).
    With ``out_dir`` writes ``results.json`` (and ``report.html`` unless ``report=False``).
    """
    from .datasets import load_dataset

    t_start = time.perf_counter()
    detectors = [detector] if isinstance(detector, str) else list(detector)
    if not detectors:
        raise ValueError("at least one detector is needed")
    proto = P.resolve(protocol)
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    kind_key = _kind_source(ds, kind_attr)
    if kind_key:
        ds = _rekind(ds, kind_key)
    settings = EvalSettings(
        frames=frames if every is None and fps is None else None, every=every, fps=fps,
        face_detector=face_detector, min_face_size=min_face_size, max_faces=max_faces,
        threshold=threshold, aggregation=aggregation, n_boot=n_boot, ci_min_groups=ci_min_groups, seed=seed,
        cache_crops=cache_crops,
    )
    cache = FaceCache(cache_dir) if use_cache else None
    engine = Engine(detectors, settings, cache)
    scorers = engine.scorers

    samples, selection = P.select_test_samples(ds)
    samples = _select(samples, kinds, limit, seed)
    folds = P.lofo_folds(ds) if proto == "leave-one-family-out" else []
    if train_fn is not None and proto == "leave-one-family-out" and not P.has_split(ds.samples, "train"):
        raise ValueError("leave-one-family-out with train_fn needs a dataset with train/val/test splits")

    t_score = time.perf_counter()
    records = score_samples(engine, samples, CLEAN, progress)
    tables = build_tables(records, scorers, settings.aggregation)
    rows = breakdown_rows(tables, scorers, settings)
    all_records = list(records)
    extra: dict[str, Any] = {}

    if proto == "robustness":
        rob_rows = []
        conds = sweep_conditions(perturbations)
        for name, lvl in conds:
            cond = condition_name(name, lvl)
            recs = score_samples(engine, samples, cond, progress)
            all_records += recs
            t = build_tables(recs, scorers, settings.aggregation)
            rob_rows += _overall_rows(t, scorers, settings, "robustness", condition=cond, perturbation=name,
                                      strength=lvl, subset=cond)
        rows += rob_rows
        extra["robustness"] = {
            "conditions": [condition_name(n, v) for n, v in conds],
            "summary": robustness_summary(rob_rows, rows),
        }
    elif proto == "fairness":
        attr = group_attr or P.default_group_attr(samples)
        if attr is None:
            extra["fairness"] = {"attribute": None, "reason": "no sample has a group attribute (gender/race/age_group)",
                                 "gaps": []}
        else:
            f_rows, gaps = fairness_rows(tables, scorers, settings, attr)
            rows += f_rows
            extra["fairness"] = {"attribute": attr, "gaps": gaps}
    elif proto == "leave-one-family-out":
        keep = {id(s) for s in samples}
        fold_info = []
        for fold in folds:
            test = [s for s in fold.test if id(s) in keep]
            info: dict[str, Any] = {"held_out": fold.held_out, "n_test": len(test), "n_train": len(fold.train),
                                    "trained_detector": None}
            if train_fn is not None:
                name = train_fn(list(fold.train))
                info["trained_detector"] = name
                fold_engine = Engine([name], settings, cache)
                recs = score_samples(fold_engine, test, CLEAN, progress)  # clean media: cached faces reused
                for r in recs:
                    r.condition = f"fold:{fold.held_out}"
                all_records += recs
                fold_scorers = fold_engine.scorers
                info["detectors"] = fold_engine.detector_info()
                _merge_timing(engine, fold_engine)
            else:
                ids = {id(s) for s in test}
                recs = [r for r in records if id(r.sample) in ids]
                fold_scorers = scorers
            t = build_tables(recs, fold_scorers, settings.aggregation)
            rows += _overall_rows(t, fold_scorers, settings, "fold", fold=fold.held_out,
                                  subset=f"{fold.held_out} vs reals", curves=False)
            fold_info.append(info)
        extra["folds"] = fold_info

    fair_attrs = (extra["fairness"]["attribute"],) if extra.get("fairness", {}).get("attribute") else ()
    t_end = time.perf_counter()
    commit, dirty = git_commit()
    from .. import __version__

    scored_time = engine.timing["loop_s"]
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "facetrust_version": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "detectors": engine.detector_info(),
        "scorers": scorers,
        "dataset": {
            "name": ds.name,
            "root": ds.root,
            "manifest_hash": ds.manifest_hash,
            "n_samples": len(ds.samples),
            "n_evaluated": len(samples),
            "selection": selection,
            "by_split": {str(k): v for k, v in ds.counts("split").items()},
        },
        "protocol": {
            "name": proto,
            "description": P.DESCRIPTIONS[proto],
            "selection": selection,
            "trained_on": trained_on,
            "train_fn": getattr(train_fn, "__name__", None) if train_fn else None,
            "rule": "thresholds are fixed settings; nothing is fitted or selected on evaluated samples",
        },
        "settings": {
            "sampler": engine.sampler.describe(),
            "face_detector": engine.face_detector_desc,
            "max_faces": settings.max_faces,
            "threshold": settings.threshold,
            "aggregation": settings.aggregation,
            "fpr_targets": list(settings.fpr_targets),
            "n_boot": settings.n_boot,
            "ci_alpha": settings.ci_alpha,
            "ci_min_groups": settings.ci_min_groups,
            "seed": settings.seed,
            "limit": limit,
            "kinds": list(kinds) if kinds else None,
            "kind_attr": kind_key or "kind",
            "cache_dir": str(cache.root) if cache else None,
            "cache_crops": settings.cache_crops,
            "levels": {
                "image": "still image alone in its group; max over faces",
                "frame": "each sampled frame (videos, frame folders, grouped images); max over faces",
                "video": f"per group: {settings.aggregation} over its frame scores (facetrust.fusion.aggregate)",
            },
        },
        "counts": counts_for(records),
        "skipped": {
            "dataset": ds.skip_reasons(),
            "dataset_items": [list(x) for x in ds.skipped[:MAX_LISTED_SKIPS]],
            "run": {
                "no_face": sum(r.status == "no_face" for r in records),
                **Counter(r.error_code for r in records if r.status == "error"),
            },
            "run_items": [
                [_rel(r.sample.path, ds.root), r.error_code or "no_face", r.error or "no face found"]
                for r in records if r.status != "ok"
            ][:MAX_LISTED_SKIPS],
        },
        "metrics": rows,
        **extra,
        "samples": [record_dict(r, ds.root, settings.aggregation, fair_attrs) for r in all_records],
        "video_units": video_units(tables["video"], ds.root, scorers),
        "timing": {
            "total_s": t_end - t_start,
            "scoring_s": scored_time,  # the per-sample loop: hashing, cache, decoding, faces, detectors
            "metrics_s": (t_end - t_score) - scored_time,  # tables, metrics, bootstrap CIs
            **{k: float(v) for k, v in sorted(engine.timing.items()) if k != "loop_s"},
            "per_sample_ms": 1000.0 * scored_time / max(1, len(all_records)),
            "face_detect_calls": engine.counters["face_detect_calls"],
            "scored_from_cached_crops": engine.counters["scored_from_cached_crops"],
            "media_decoded": engine.counters["media_decoded"],
            "cache": dict(cache.stats) if cache else None,
        },
    }
    run = EvalRun(jsonable(results))
    if out_dir is not None:
        run.save(out_dir, report=report)
    return run


def _merge_timing(into: Engine, other: Engine) -> None:
    into.timing.update(other.timing)
    into.counters.update(other.counters)


__all__ = [
    "CI_METRICS",
    "SCHEMA",
    "Engine",
    "EvalRun",
    "EvalSettings",
    "FrameScore",
    "LevelTable",
    "SampleRecord",
    "build_tables",
    "breakdown_rows",
    "evaluate",
    "fairness_rows",
    "git_commit",
    "jsonable",
    "metric_row",
    "robustness_summary",
    "score_samples",
]
