"""The pipeline: media -> faces -> detectors -> fusion -> report, for one media at a time.

:class:`Scanner` holds the loaded models; :meth:`Scanner.scan` never raises for bad media: it
returns a ``MediaResult`` with verdict ``error`` (typed ``error_type``) or ``not_applicable``.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable

import cv2
import numpy as np

from . import fusion
from .detectors import DEFAULT_DETECTORS, Detector, FaceInput, create_detector
from .errors import FacetrustError, MediaError
from .faces import DEFAULT_FACE_DETECTOR, DEFAULT_MIN_FACE_SIZE, FaceTracker, align_face, create_face_detector
from .faces.align import CropSpec
from .faces.types import AlignedFace, DetectedFace
from .fusion.quality import QualityGate, measure_quality
from .options import given, option, validate
from .io.budget import DEFAULT_MEDIA_BUDGET_S, Deadline
from .report.schema import DetectorScore, FaceResult, FrameResult, MediaResult, TrackResult

log = logging.getLogger(__name__)

# The one per-frame progress callback of a scan: (frames analysed so far, frames the video will give or
# None when its header does not say). Called after every analysed frame (an image: once, (1, None));
# ``scan`` and ``batch`` draw it as a bar, the server stores it as frames_done/frames_total.
ProgressFn = Callable[[int, int | None], None]


def _detector_names() -> list[str]:
    from .detectors import available_detectors

    return available_detectors()


def _is_card_path(name: str) -> bool:
    """``--detector path/to/model.json``: a shipped model's card (checked when it is loaded)."""
    return name.endswith(".json")


def _face_detector_names() -> list[str]:
    from .faces import available_face_detectors

    return available_face_detectors()


MAX_DETECTORS = 8  # fused per scan: each one runs on every face
FUSED_DEFAULT_THRESHOLD = 0.5  # several detectors and no --threshold: no validated operating point exists


@dataclass(frozen=True)
class ScanOptions:
    """Every option of a scan, declared once: type, default, help and limits (:mod:`facetrust.options`).

    The CLI flags (``facetrust scan``, ``facetrust eval``), the server's request fields and
    ``facetrust.eval.EvalSettings`` are generated from these fields; a front door passes None for
    "not given" (:meth:`given`) and the default declared here applies.
    """

    detectors: tuple[str, ...] = option(
        DEFAULT_DETECTORS, "forensic detector (repeat to fuse several)", "names", flag="--detector",
        metavar="NAME", choices=_detector_names, also_valid=_is_card_path, unique=True, max_items=MAX_DETECTORS, request=True)
    face_detector: str = option(
        DEFAULT_FACE_DETECTOR, "face detector backend", "str", choices=_face_detector_names, request=True)
    frames: int | None = option(
        None, "video: N frames spread uniformly (none of frames/every/fps: 16)", "int", minimum=1,
        metavar="N", group="sampling", request=True)
    every: int | None = option(None, "video: every K-th frame", "int", minimum=1, metavar="K", group="sampling",
                               request=True)
    fps: float | None = option(None, "video: frames at F per second", "float", minimum=0.0, exclusive_min=True,
                               metavar="F", group="sampling", request=True)
    threshold: float | None = option(
        None, "fake if probability >= threshold (not given: a lone detector's validated threshold, "
        f"{FUSED_DEFAULT_THRESHOLD:g} when fusing, with a warning)", "float", minimum=0.0, maximum=1.0, request=True)
    aggregation: str = option(fusion.DEFAULT_AGGREGATION, "video: how frame scores make a track score", "str",
                              choices=fusion.AGGREGATIONS, request=True)
    detector_weights: tuple[float, ...] | None = option(
        None, "weight of each --detector in the per-face fusion (repeat, in order)", "floats", minimum=0.0,
        flag="--detector-weight", metavar="W", max_items=MAX_DETECTORS)
    min_face_size: float = option(DEFAULT_MIN_FACE_SIZE, "ignore faces smaller than this (px, shorter box side)", "float",
                                  minimum=0.0, request=True)
    min_face_score: float = option(0.5, "ignore faces the face detector is less sure of", "float",
                                   minimum=0.0, maximum=1.0)
    max_faces: int = option(16, "faces scored per frame, largest first", "int", minimum=1)
    video_detect_side: int | None = option(
        None, "video: find faces on frames downscaled to this longest side (px), cheaper; not given: the "
        "face detector's own working size (yunet: 960)", "int", minimum=64, metavar="PX", request=True)
    min_track_frames: int = option(2, "video: a track decides only when seen in this many sampled frames "
                                   "(fewer everywhere: the longest tracks)", "int", minimum=1)
    # The face-quality gate (facetrust.fusion.quality): a face below any minimum is reported but
    # never decides the verdict; 0 disables that check.
    quality_min_confidence: float = option(0.6, "quality gate: least face-detector confidence for a face to "
                                           "decide the verdict", "float", minimum=0.0, maximum=1.0, request=True)
    quality_min_size: float = option(32.0, "quality gate: least face size (px, shorter box side) to decide",
                                     "float", minimum=0.0, request=True)
    quality_min_landmarks: float = option(0.85, "quality gate: least plausibility of the 5 landmarks' "
                                          "geometry (fraction of its 7 checks; 0.85: one may fail) to decide", "float", minimum=0.0,
                                          maximum=1.0, request=True)
    quality_min_sharpness: float = option(20.0, "quality gate: least sharpness (Laplacian variance of the "
                                          "grey crop at 112 px) to decide", "float", minimum=0.0, request=True)
    # A request may shorten the budget, never lengthen it past the server's (a client cannot hold a worker).
    media_budget_s: float = option(DEFAULT_MEDIA_BUDGET_S, "wall-clock budget per media item (s); past it the "
                                   "row is error budget_exceeded", "float", minimum=0.0, exclusive_min=True,
                                   flag="--media-budget", metavar="SECONDS", request=True, request_cap=True)
    max_pixels: int = option(100_000_000, "refuse images/frames with more pixels (before decoding)", "int",
                             minimum=1)
    previews: bool = option(True, "keep downscaled frames for the HTML report", "bool", cli=False)
    preview_max_side: int = option(640, "longest side of a preview (px)", "int", minimum=16, cli=False)
    max_previews: int = option(8, "previews kept per video", "int", minimum=0, cli=False)

    def __post_init__(self) -> None:
        validate(self)
        if sum(x is not None for x in (self.frames, self.every, self.fps)) > 1:
            raise ValueError("give at most one of frames, every, fps")
        if self.detector_weights is not None:
            if len(self.detector_weights) != len(self.detectors):
                raise ValueError("detector_weights needs one weight per detector")
            if sum(self.detector_weights) <= 0:
                raise ValueError("detector_weights must not all be zero")

    @classmethod
    def given(cls, **values) -> "ScanOptions":
        """Options from a front door: None means not given (the declared default applies)."""
        return cls(**given(cls, values))

    @classmethod
    def default(cls, name: str):
        """The declared default of one option."""
        return cls.__dataclass_fields__[name].default

    def sampler(self):
        from .io import FrameSampler

        return FrameSampler.from_options(frames=self.frames, every=self.every, fps=self.fps)

    def as_dict(self) -> dict:
        return asdict(self)


_DONE = object()


def prefetch(iterator, depth: int = 2):
    """Run ``iterator`` in a background thread, ``depth`` items ahead.

    Video decoding (PyAV) and frame analysis (YuNet, ONNX Runtime) both release the GIL, so
    decoding the next sampled frame overlaps with analysing this one. Exceptions are re-raised in
    the consumer; at most ``depth`` decoded frames wait in memory; stopping early stops the thread.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put((_DONE, exc))

    thread = threading.Thread(target=produce, name="facetrust-decode", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except Exception:
                pass
            thread.join(timeout=0.05)
        close = getattr(iterator, "close", None)
        if close:
            close()


def _downscale(image: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return image.copy()
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class Scanner:
    """Loads the face detector and forensic detectors once; scans media one by one."""

    def __init__(self, options: ScanOptions | None = None, **kwargs) -> None:
        from .runtime import tune_allocator

        tune_allocator()  # fewer page faults per frame (facetrust.runtime says why)
        self.options = options or ScanOptions.given(**kwargs)
        o = self.options
        self.face_detector = create_face_detector(
            o.face_detector, min_score=o.min_face_score, min_face_size=o.min_face_size
        )
        self.detectors: list[Detector] = [create_detector(name) for name in o.detectors]
        self.threshold_note: str | None = None  # said on every result when the threshold is a fallback
        if o.threshold is not None:
            self.threshold = float(o.threshold)
        elif len(self.detectors) == 1:
            self.threshold = float(self.detectors[0].info.default_threshold)
        else:  # no validated operating point exists for a fusion: the fallback is said, not silent
            self.threshold = FUSED_DEFAULT_THRESHOLD
            self.threshold_note = fused_threshold_note(len(self.detectors))
        self.media_rule = fusion.MediaRule(self.threshold, o.aggregation, o.min_track_frames)
        self.quality_gate = QualityGate(o.quality_min_confidence, o.quality_min_size, o.quality_min_landmarks,
                                        o.quality_min_sharpness)

    # -- one frame -------------------------------------------------------------------------
    def _find_faces(self, image: np.ndarray, video: bool) -> list[DetectedFace]:
        side = self.options.video_detect_side if video else None
        return self.face_detector.detect(image, max_side=side) if side else self.face_detector.detect(image)

    def detect_faces(self, image: np.ndarray, *, video: bool = False) -> list[DetectedFace]:
        """The faces this scanner scores in one RGB frame (largest first, at most max_faces);
        ``video``: a video frame (found at ``video_detect_side`` when that is set)."""
        return self._find_faces(image, video)[: self.options.max_faces]

    def analyse_frame(
        self, image: np.ndarray, faces: list[DetectedFace] | None = None, *, frame_index: int = 0,
        time_s: float | None = None, video: bool = False,
    ) -> FrameAnalysis:
        """Find (unless ``faces`` is given, e.g. from ``facetrust.eval``'s cache), align and score
        the faces of one RGB frame (``video``: see :meth:`detect_faces`)."""
        n_found = None
        if faces is None:
            found = self._find_faces(image, video)
            faces, n_found = found[: self.options.max_faces], len(found)
        else:
            faces = list(faces)
        crops: dict[CropSpec, list[AlignedFace]] = {}
        for det in self.detectors:
            spec = det.info.crop
            if spec not in crops:
                crops[spec] = [align_face(image, f, spec) for f in faces]
        results = self.score_faces(faces, crops, frame=image, frame_index=frame_index, time_s=time_s)
        return FrameAnalysis(faces, results, crops, n_found)

    def score_faces(
        self, faces: list[DetectedFace], crops: dict[CropSpec, list[AlignedFace]], *,
        frame: np.ndarray | None = None, frame_index: int = 0, time_s: float | None = None,
    ) -> list[FaceResult]:
        """Score the faces of one frame from their aligned crops: every detector, then the per-face
        fusion. The one face loop of facetrust: :meth:`analyse_frame` and eval's cached-crop path
        both use it. ``frame`` may be None only when no detector ``needs_frame``."""
        if not faces:
            return []
        outputs_per_det = []
        for det in self.detectors:
            if det.info.needs_frame and frame is None:
                raise FacetrustError(f"detector {det.info.name} needs the frame")
            aligned = crops[det.info.crop]
            inputs = [
                FaceInput(
                    crop=a.crop,
                    matrix=a.matrix,
                    frame=frame if det.info.needs_frame else None,
                    box=f.box,
                    landmarks5=f.landmarks5,
                )
                for f, a in zip(faces, aligned)
            ]
            outs = det.predict(inputs)
            if len(outs) != len(inputs):
                raise FacetrustError(f"detector {det.info.name} returned {len(outs)} outputs for {len(inputs)} faces")
            outputs_per_det.append(outs)
        results = []
        for i, f in enumerate(faces):
            fr = self._face_result(frame_index, time_s, i, f, [outs[i] for outs in outputs_per_det],
                                   {s: v[i] for s, v in crops.items()})
            # quality is measured on the first detector's crop, which eval's face cache also keeps
            q = measure_quality(f.box, f.score, f.landmarks5, crops[self.detectors[0].info.crop][i].crop,
                                self.quality_gate)
            fr.quality, fr.decisive = q.as_dict(), q.passed
            results.append(fr)
        return results

    def _face_result(self, frame_index, time_s, face_index, face, outputs, aligned) -> FaceResult:
        o = self.options
        probs = [out.fake_probability for out in outputs]
        p = fusion.fuse_detectors(probs, o.detector_weights)
        scores = [
            DetectorScore(
                detector=d.info.name,
                version=d.info.version,
                fake_probability=out.fake_probability,
                evidence={k: float(v) for k, v in out.evidence.items()},
                family_probabilities=out.family_probabilities,
            )
            for d, out in zip(self.detectors, outputs)
        ]
        # "Where": the heatmap of the most confident detector that draws one.
        with_map = [(out.fake_probability, i) for i, out in enumerate(outputs) if out.heatmap is not None]
        heatmap = heatmap_source = matrix = crop_size = None
        if with_map:
            _, i = max(with_map)
            det = self.detectors[i]
            a = aligned[det.info.crop]
            heatmap = np.asarray(outputs[i].heatmap, dtype=np.float32)
            heatmap_source, matrix, crop_size = det.info.name, a.matrix.tolist(), det.info.crop.size
        else:
            a = aligned[self.detectors[0].info.crop]
            matrix, crop_size = a.matrix.tolist(), self.detectors[0].info.crop.size
        family = family_probs = None
        fams = [out.family_probabilities for out in outputs if out.family_probabilities]
        if fams:
            family_probs = {k: float(np.mean([f.get(k, 0.0) for f in fams])) for k in fams[0]}
            family = max(family_probs, key=family_probs.get)
        return FaceResult(
            frame_index=frame_index,
            face_index=face_index,
            box=[float(v) for v in face.box],
            landmarks=face.landmarks5.tolist(),
            detection_score=face.score,
            fake_probability=p,
            verdict=fusion.verdict_for(p, self.threshold),
            time_s=time_s,
            scores=scores,
            family=family,
            family_probabilities=family_probs,
            align_matrix=matrix,
            crop_size=crop_size,
            heatmap_source=heatmap_source,
            heatmap=heatmap,
        )

    # -- one media -------------------------------------------------------------------------
    def scan(self, source, *, progress: ProgressFn | None = None) -> MediaResult:
        """Scan one image/video (path, bytes or RGB array). Never raises for bad media."""
        from .io import open_media

        o = self.options
        t0 = time.perf_counter()
        if isinstance(source, (str, os.PathLike)):
            label = os.fspath(source)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            label = "<bytes>"
        else:  # an array, or a wrong type that open_media refuses (named so the row says what came in)
            label = "<array>" if isinstance(source, np.ndarray) else f"<{type(source).__name__}>"
        result = MediaResult(
            path=label,
            verdict="error",
            fake_probability=None,
            detectors=list(o.detectors),
            threshold=self.threshold,
        )
        try:
            deadline = Deadline(o.media_budget_s, label)
            media = open_media(source, sampler=o.sampler(), max_pixels=o.max_pixels, deadline=deadline)
            result.media_type = "array" if label == "<array>" else media.kind
            result.width, result.height = media.width, media.height
            result.fps, result.duration_s, result.n_frames_total = media.fps, media.duration_s, media.n_frames
            self._scan_frames(media, result, progress)
        except MediaError as exc:
            result.verdict, result.error, result.error_type = "error", str(exc), exc.code
        except FacetrustError as exc:
            result.verdict, result.error, result.error_type = "error", str(exc), exc.code
        except MemoryError:
            result.verdict, result.error, result.error_type = "error", "out of memory", "out_of_memory"
        except Exception as exc:  # a bug or a library failure must not kill the batch
            log.exception("internal error while scanning %s", label)
            result.verdict = "error"
            result.error = f"{type(exc).__name__}: {exc}"
            result.error_type = "internal_error"
        if self.threshold_note and result.verdict in ("real", "fake"):
            result.notes.append(self.threshold_note)
        if result.verdict != "error":  # what the file declares (EXIF/XMP/PNG text), apart from the score
            from .report.provenance import read_provenance

            prov = read_provenance(source, media_kind=result.media_type)
            result.provenance = prov.as_dict() if prov is not None else None
        result.elapsed_s = time.perf_counter() - t0
        from .report.explain import explain

        result.explanation = explain(result)
        return result

    def _scan_frames(self, media, result: MediaResult, progress: ProgressFn | None) -> None:
        o = self.options
        video = media.kind == "video"
        tracker = FaceTracker() if video else None
        preview_heap: list[tuple[float, int, np.ndarray]] = []  # min-heap of (score, index, preview)
        n_done = 0
        capped: list[tuple[int, int]] = []  # (frame index, faces found) where the max_faces cap cut
        expected = None  # frames the progress callback can expect, when the video says how many it has
        if video and media.n_frames:
            from .io.sampling import count_sampled

            expected = count_sampled(o.sampler(), media.n_frames, media.fps)  # O(1): headers can lie
        scale = 1.0
        frames = prefetch(media.frames()) if video else media.frames()
        for frame in frames:
            if media.deadline is not None:
                media.deadline.check(f"after {n_done} analysed frames")
            analysis = self.analyse_frame(frame.image, frame_index=frame.index, time_s=frame.time_s, video=video)
            if tracker:
                for fr, tid in zip(analysis.results, tracker.update(analysis.faces)):
                    fr.track_id = tid
            result.faces.extend(analysis.results)
            if analysis.n_found is not None and analysis.n_found > len(analysis.faces):
                capped.append((frame.index, analysis.n_found))
            frame_p = fusion.frame_probability([face_evidence(fr) for fr in analysis.results])
            result.frames.append(
                FrameResult(index=frame.index, time_s=frame.time_s, n_faces=len(analysis.results),
                            fake_probability=frame_p)
            )
            if o.previews and o.max_previews:
                key = frame_p if frame_p is not None else -1.0
                if len(preview_heap) < o.max_previews or key > preview_heap[0][0]:
                    scale = min(1.0, o.preview_max_side / max(frame.image.shape[:2]))
                    item = (key, -frame.index, _downscale(frame.image, scale))
                    if len(preview_heap) < o.max_previews:
                        heapq.heappush(preview_heap, item)
                    else:
                        heapq.heapreplace(preview_heap, item)
            n_done += 1
            if progress:
                progress(n_done, expected)
            del frame
        if n_done == 0:
            raise MediaError("no frame could be read")
        if capped:
            result.notes.append(cap_note(capped, o.max_faces, video))
        result.previews = {-neg_idx: img for _, neg_idx, img in preview_heap}
        result.preview_scale = scale
        result.aggregation = o.aggregation if video else "max"
        if not result.faces:
            result.verdict = "not_applicable"
            result.reason = (
                f"no face found in {n_done} {'sampled frame' if video else 'image'}"
                f"{'s' if n_done != 1 and video else ''}"
                f" (min_face_size={o.min_face_size:g} px, min_face_score={o.min_face_score:g})"
            )
            return
        media_score = fusion.fuse_media([face_evidence(f) for f in result.faces], self.media_rule, video=video)
        for t in media_score.tracks:
            result.tracks.append(
                TrackResult(
                    track_id=t.track_id,
                    frame_indices=t.frame_indices,
                    fake_probability=t.probability,
                    verdict=fusion.verdict_for(t.probability, self.threshold),
                    frame_probabilities=t.probabilities,
                    segments=fusion.segments_above(t.times, t.probabilities, self.threshold),
                )
            )
        result.fake_probability = media_score.probability
        result.verdict = media_score.verdict
        result.reason = media_score.reason
        if media_score.n_decisive == 0:
            failed = sorted({k for f in result.faces for k in (f.quality or {}).get("failed", [])})
            result.reason = (f"no face passed the quality gate: {len(result.faces)} found, each below its "
                             f"minimum {', '.join(failed)}")


def fused_threshold_note(n_detectors: int) -> str:
    """The warning when several detectors are fused without --threshold: no validated threshold exists."""
    return (f"threshold {FUSED_DEFAULT_THRESHOLD:g} is a fixed default for {n_detectors} fused detectors, not a "
            f"validated operating point; set one with --threshold")


def cap_note(capped: list[tuple[int, int]], max_faces: int, video: bool) -> str:
    """The warning when the per-frame face cap left faces unscored (largest faces are kept)."""
    most = max(n for _, n in capped)
    where = f" in {len(capped)} of the sampled frames (at most {most} found in one)" if video else f" ({most} found)"
    return (f"face cap reached: only the {max_faces} largest faces per frame were scored{where}; "
            f"raise --max-faces to score them all")


def face_evidence(face: FaceResult) -> fusion.FaceEvidence:
    """What the media rule reads of a scanned face."""
    return fusion.FaceEvidence(face.fake_probability, face.frame_index, face.time_s, face.track_id, face.decisive)


@dataclass
class FrameAnalysis:
    """One frame's faces (as detected), their scored results and aligned crops per CropSpec."""

    faces: list[DetectedFace]
    results: list[FaceResult]
    crops: dict[CropSpec, list[AlignedFace]]
    n_found: int | None = None  # faces the detector found before the max_faces cap (None: faces were given)
