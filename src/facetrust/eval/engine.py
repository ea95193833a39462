"""Scoring media with detectors: the per-sample engine of the evaluation runner.

Scoring is the pipeline's (:class:`facetrust.pipeline.Scanner`): faces are found by the face
detector (or read from the :mod:`~facetrust.eval.cache`, with their track ids), aligned by the one
crop function and scored by ``Scanner.score_faces``, the pipeline's one face loop (every detector,
the per-face fusion, the face-quality gate); with several detectors a ``fused`` scorer (the
scanner's per-face probability) is reported too. A sample that cannot be read, or in which no face
decides (none found, or none passing the quality gate), gets a :class:`SampleRecord` saying so
instead of raising.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import fusion
from ..errors import FacetrustError, MediaError
from ..faces import FaceTracker
from ..faces.types import AlignedFace, DetectedFace
from ..options import validate
from ..pipeline import FrameAnalysis, ScanOptions, Scanner
from ..report.schema import FaceResult
from .adapters._core import Sample
from .nuisance import crop_border_stats
from .cache import CacheEntry, CachedFrame, CropBundle, FaceCache, FaceCacheKey, describe_face_detector, media_sha256
from .robustness import CLEAN, perturb

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]  # (done, total, what)


# ----------------------------------------------------------------------------------------------
# Settings and per-sample records
# ----------------------------------------------------------------------------------------------


# The scan options that change eval's numbers; their types, defaults, help and limits are
# ScanOptions' own (facetrust eval's flags are generated from the same declaration).
EVAL_SCAN_OPTIONS = (
    "frames", "every", "fps", "face_detector", "min_face_size", "min_face_score", "max_faces", "threshold",
    "aggregation", "min_track_frames", "quality_min_confidence", "quality_min_size", "quality_min_landmarks",
    "quality_min_sharpness", "video_detect_side",
)


def _eval_settings_post_init(self) -> None:
    validate(self)
    self.scan_options()  # the cross-option rules (e.g. one of frames/every/fps) are ScanOptions'


def _scan_options(self, detectors: Sequence[str] | None = None) -> ScanOptions:
    """The ScanOptions these settings score with (``detectors``: None = ScanOptions' default)."""
    return ScanOptions.given(detectors=None if detectors is None else tuple(detectors), previews=False,
                             **{n: getattr(self, n) for n in EVAL_SCAN_OPTIONS})


def _media_rule(self) -> fusion.MediaRule:
    """The media rule scan applies with these settings (the threshold must be resolved)."""
    if self.threshold is None:
        raise ValueError("EvalSettings.threshold is unresolved: pass a threshold or build the settings via Engine")
    return fusion.MediaRule(self.threshold, self.aggregation, self.min_track_frames)


_SCAN_FIELDS = ScanOptions.__dataclass_fields__
EvalSettings = make_dataclass(
    "EvalSettings",
    [(n, _SCAN_FIELDS[n].type, field(default=_SCAN_FIELDS[n].default, metadata=_SCAN_FIELDS[n].metadata))
     for n in EVAL_SCAN_OPTIONS]
    + [
        ("fpr_targets", "tuple[float, ...]", field(default=(0.01, 0.05, 0.1))),
        ("n_boot", int, field(default=1000)),  # bootstrap replicates of the CIs (0: no CIs)
        ("ci_alpha", float, field(default=0.05)),
        # fewer independent units (groups) in a class: no CI (it would mislead)
        ("ci_min_groups", int, field(default=5)),
        ("seed", int, field(default=0)),
        # also cache aligned crops (crop-only detectors then skip decoding)
        ("cache_crops", bool, field(default=True)),
    ],
    frozen=True,
    namespace={
        "__doc__": "Everything besides detectors, data and protocol that changes the numbers: the scan "
                   "options of EVAL_SCAN_OPTIONS (declared by ScanOptions; threshold None = the scanner's "
                   "rule, a lone detector's shipped threshold, else 0.5) and the metrics' settings.",
        "__post_init__": _eval_settings_post_init,
        "scan_options": _scan_options,
        "media_rule": _media_rule,
        "__module__": __name__,
    },
)


@dataclass
class FaceScore:
    """One scored face: its track (video and frame folders), each scorer's probability."""

    track_id: int | None
    scores: dict[str, float]  # scorer -> probability
    face: DetectedFace | None = field(default=None, repr=False)  # for tracking grouped still images
    passed: bool = True  # the face-quality gate
    quality: dict[str, Any] | None = None  # FaceResult.quality: size_px, sharpness... (the shortcut audit reads it)
    border: tuple[float, float] | None = None  # the aligned crop's outer ring: (mean, std) luminance


@dataclass
class FrameScore:
    index: int
    time_s: float | None
    n_faces: int
    scores: dict[str, float]  # scorer -> the frame's probability (fusion.frame_probability; empty: no face)
    faces: list[FaceScore] = field(default_factory=list)


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
    width: int = 0  # decoded frame size (0: unknown), from the face cache or the decoder
    height: int = 0

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
        self.settings = s = settings
        self.scanner = Scanner(s.scan_options(detectors))
        if s.threshold is None:
            self.settings = s = replace(s, threshold=self.scanner.threshold)
        self.detectors = self.scanner.detectors
        self.names = [d.info.name for d in self.detectors]
        self.scorers = self.names + ([_fused_name(self.names)] if len(self.names) > 1 else [])
        self.sampler = self.scanner.options.sampler()
        self.face_detector_desc = describe_face_detector(self.scanner.face_detector)
        if s.video_detect_side is not None:  # other faces in video frames: a cache key of their own
            self.face_detector_desc += f"+video_side={s.video_detect_side}"
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
    def _frame_score(self, index: int, time_s: float | None, results: list[FaceResult],
                     detected: Sequence[DetectedFace], track_ids: Sequence[int | None],
                     crops: Sequence[AlignedFace] = ()) -> FrameScore:
        """The eval record of a frame scored by ``Scanner.score_faces``: per face and scorer the
        detector's probability (and the scanner's per-face fusion as ``fused``), per frame the
        frame rule of ``facetrust.fusion``. ``crops``: the first detector's aligned crops, whose
        outer ring is kept as the face's background statistic (a few microseconds a face)."""
        faces = []
        for i, (fr, face, tid) in enumerate(zip(results, detected, track_ids)):
            scores = {sc.detector: sc.fake_probability for sc in fr.scores}
            if len(self.names) > 1:
                scores[self.scorers[-1]] = fr.fake_probability
            border = crop_border_stats(crops[i].crop) if i < len(crops) else None
            faces.append(FaceScore(tid, scores, face, fr.decisive, fr.quality, border))
        frame_scores = {}
        for sc in self.scorers if faces else ():
            p = fusion.frame_probability([fusion.FaceEvidence(f.scores[sc], passed=f.passed) for f in faces])
            if p is not None:
                frame_scores[sc] = p
        return FrameScore(index, time_s, len(faces), frame_scores, faces)

    def score(self, sample: Sample, condition: str = CLEAN) -> SampleRecord:
        """Score one sample (never raises for bad media: the record carries the error)."""
        rec = SampleRecord(sample, condition)
        try:
            self._score(rec)
        except FacetrustError as exc:  # MediaError included
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
        elif not any(f.scores for f in rec.frames):  # as scan: faces below the quality gate never decide
            rec.status, rec.error_code = "no_face", "low_quality"
            rec.error = "faces found, none passed the quality gate"
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
        assert self.cache is not None
        n = entry.n_faces
        bundles = {}
        for spec in self.specs:
            b = self.cache.get_crops(key, spec, n) if n else CropBundle(np.zeros((0,)), np.zeros((0,)))
            if b is None:
                return False
            bundles[spec] = b
        rec.media_kind = entry.media_kind
        rec.width, rec.height = entry.width, entry.height
        t = time.perf_counter()
        k = 0
        for fr in entry.frames:
            crops = {
                spec: [AlignedFace(b.crops[k + i], b.matrices[k + i], f, spec) for i, f in enumerate(fr.faces)]
                for spec, b in bundles.items()
            }
            results = self.scanner.score_faces(fr.faces, crops, frame_index=fr.index, time_s=fr.time_s)
            rec.frames.append(self._frame_score(fr.index, fr.time_s, results, fr.faces, fr.track_ids,
                                                crops[self.specs[0]]))
            k += len(fr.faces)
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
        tracker = FaceTracker() if kind in ("video", "frames") else None  # as scan tracks a video's faces
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
                faces = self.scanner.detect_faces(image, video=kind in ("video", "frames"))
                self.timing["face_detect_s"] += time.perf_counter() - t
                self.counters["face_detect_calls"] += 1
                stale = True
            else:
                faces = cached.faces
            t = time.perf_counter()
            analysis: FrameAnalysis = self.scanner.analyse_frame(image, faces, frame_index=frame.index,
                                                                 time_s=frame.time_s)
            self.timing["score_s"] += time.perf_counter() - t
            track_ids = tracker.update(analysis.faces) if tracker else [None] * len(analysis.faces)
            if cached is not None and cached.track_ids != track_ids:
                stale = True
            rec.frames.append(self._frame_score(frame.index, frame.time_s, analysis.results, analysis.faces,
                                                track_ids, analysis.crops[self.specs[0]]))
            new_frames.append(CachedFrame(frame.index, frame.time_s, list(faces), list(track_ids)))
            for spec in self.store_specs:
                for a in analysis.crops[spec]:
                    crops[spec][0].append(a.crop)
                    crops[spec][1].append(a.matrix)
            del frame, image
        if not new_frames:
            raise MediaError(f"{sample.path}: no frame could be read")
        rec.height, rec.width = size
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


__all__ = ["EVAL_SCAN_OPTIONS", "EvalSettings", "Engine", "FaceScore", "FrameScore", "ProgressFn", "SampleRecord", "score_samples"]
