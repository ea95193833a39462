"""Scoring media with detectors: the per-sample engine of the evaluation runner.

Scoring follows the pipeline (:class:`facetrust.pipeline.Scanner`): faces are found by the face
detector (or read from the :mod:`~facetrust.eval.cache`), aligned by the one crop function and
scored by each detector; with several detectors a ``fused`` scorer (the pipeline's per-face
weighted mean, equal weights) is reported too. A sample that cannot be read, or in which no face
is found, gets a :class:`SampleRecord` saying so instead of raising.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import fusion
from ..errors import FacetrustError, MediaError
from .adapters._core import Sample
from .cache import CacheEntry, CachedFrame, CropBundle, FaceCache, FaceCacheKey, describe_face_detector, media_sha256
from .robustness import CLEAN, perturb

log = logging.getLogger(__name__)

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
    # Fixed decision threshold (never chosen on test data). None: the scanner's rule, i.e. a lone
    # detector's shipped default threshold (chosen on its validation data), else 0.5.
    threshold: float | None = None
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
        if s.threshold is None:
            self.settings = s = replace(s, threshold=self.scanner.threshold)
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


__all__ = ["EvalSettings", "Engine", "FrameScore", "ProgressFn", "SampleRecord", "score_samples"]
