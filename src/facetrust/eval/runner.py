"""The evaluation runner: score a dataset with one or more detectors under a protocol.

:func:`evaluate` selects the samples, scores them with :mod:`~facetrust.eval.engine` (faces found
or read from the cache, then each detector, plus a ``fused`` scorer with several), builds the
image / frame / video tables and metric rows with :mod:`~facetrust.eval.tables`, adds the
protocol's sections (one module per protocol in :mod:`facetrust.eval.sections`) and writes the
results document with :mod:`~facetrust.eval.records`. A sample in which no face is found is
counted as ``no_face`` (per kind) and not scored; a sample that cannot be read is counted under its
error code. Nothing is fitted on the evaluated samples.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections import Counter
from typing import Any, Sequence

from . import protocols as P
from .adapters._core import Dataset, Sample
from .cache import FaceCache
from .engine import EVAL_SCAN_OPTIONS, Engine, EvalSettings, FrameScore, ProgressFn, SampleRecord, score_samples
from .records import EvalRun, _rel, counts_for, git_commit, jsonable, record_dict, video_units
from .robustness import CLEAN
from .tables import (
    CI_METRICS,
    ROC_MAX_POINTS,
    LevelTable,
    assign_units,
    breakdown_rows,
    build_tables,
    fairness_rows,
    metric_row,
    robustness_summary,
)

SCHEMA = "facetrust.eval/1"
MAX_LISTED_SKIPS = 500


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
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    out_dir: str | os.PathLike | None = None,
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
    **scan_options: Any,
) -> EvalRun:
    """Evaluate ``detector`` (one name or several) on ``dataset`` under ``protocol``.

    ``dataset``: a :class:`Dataset` or anything :func:`facetrust.eval.load_dataset` accepts.
    ``protocol``: see :mod:`facetrust.eval.protocols`. ``perturbations`` (robustness): names of
    the sweep (default all) or explicit ``NAME:LEVEL`` items. ``group_attr`` (fairness): the
    attribute to group by (default: the first of gender / race / age_group available).
    ``scan_options``: the scan options of :data:`~facetrust.eval.engine.EVAL_SCAN_OPTIONS`
    (``frames``, ``threshold``, ``min_face_size``...), declared and checked by
    :class:`facetrust.pipeline.ScanOptions`; None or not given = scan's default. ``threshold`` is the
    fixed operating point of the threshold metrics (BPCER, APCER, accuracy); None = what
    ``facetrust scan`` uses: one detector's shipped default threshold, else 0.5.
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
    unknown = set(scan_options) - set(EVAL_SCAN_OPTIONS)
    if unknown:
        raise TypeError(f"evaluate() got unknown option(s): {', '.join(sorted(unknown))}")
    settings = EvalSettings(
        **{k: v for k, v in scan_options.items() if v is not None},
        n_boot=n_boot, ci_min_groups=ci_min_groups, seed=seed, cache_crops=cache_crops,
    )
    cache = FaceCache(cache_dir) if use_cache else None
    engine = Engine(detectors, settings, cache)
    settings = engine.settings  # the threshold resolved
    rule = settings.media_rule()  # the media rule scan applies with these settings
    scorers = engine.scorers

    samples, selection = P.select_test_samples(ds)
    samples = _select(samples, kinds, limit, seed)
    protocol_entry = P.PROTOCOL_REGISTRY.entry(proto)
    if protocol_entry.metadata.get("check"):
        protocol_entry.metadata["check"](ds, train_fn)

    t_score = time.perf_counter()
    records = score_samples(engine, samples, CLEAN, progress)
    tables = build_tables(records, scorers, rule)
    rows = breakdown_rows(tables, scorers, settings)
    all_records = list(records)
    extra: dict[str, Any] = {}

    protocol_entry.obj(P.ProtocolRun(  # the protocol's own rows and sections (facetrust.eval.sections)
        dataset=ds, samples=samples, engine=engine, cache=cache, records=records, tables=tables, scorers=scorers,
        settings=settings, progress=progress, perturbations=perturbations, group_attr=group_attr, train_fn=train_fn,
        rows=rows, all_records=all_records, extra=extra, rule=rule,
    ))

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
            "description": protocol_entry.metadata["description"],
            "selection": selection,
            "trained_on": trained_on,
            "train_fn": getattr(train_fn, "__name__", None) if train_fn else None,
            "rule": "thresholds are fixed settings; nothing is fitted or selected on evaluated samples",
        },
        "settings": {
            "sampler": engine.sampler.describe(),
            "face_detector": engine.face_detector_desc,
            # the other scan options, as ScanOptions names them (the sampler and detector are above)
            **{n: getattr(settings, n) for n in EVAL_SCAN_OPTIONS
               if n not in ("frames", "every", "fps", "face_detector")},
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
                "image": "still image alone in its group; scan's image rule (facetrust.fusion.fuse_media): "
                         "max over faces",
                "frame": "each sampled frame (videos, frame folders, grouped images); max over faces",
                "video": f"per group: scan's video rule (facetrust.fusion.fuse_media): max over tracks seen in "
                         f">= {settings.min_track_frames} sampled frames of each track's {settings.aggregation}",
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
        "samples": [record_dict(r, ds.root, rule, fair_attrs) for r in all_records],
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


# The public names of the former single-module runner stay importable from here.
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
    # also public in the single module, not listed there
    "ROC_MAX_POINTS",
    "assign_units",
    "counts_for",
    "record_dict",
    "video_units",
]
