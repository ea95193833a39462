"""The pipeline: media -> faces -> detectors -> fusion -> report, for one media at a time.

:class:`Scanner` holds the loaded models; :meth:`Scanner.scan` never raises for bad media: it
returns a ``MediaResult`` with verdict ``error`` (typed ``error_type``) or ``not_applicable``.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import cv2
import numpy as np

from . import fusion
from .detectors import DEFAULT_DETECTORS, Detector, FaceInput, create_detector
from .errors import FacetrustError, MediaError
from .faces import DEFAULT_FACE_DETECTOR, FaceTracker, align_face, create_face_detector
from .faces.align import CropSpec
from .faces.types import DetectedFace
from .io.budget import DEFAULT_MEDIA_BUDGET_S, Deadline, check_budget_s
from .report.schema import DetectorScore, FaceResult, FrameResult, MediaResult, TrackResult

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None], None]  # (frames done, frames expected or None)


@dataclass(frozen=True)
class ScanOptions:
    """Every option of a scan. The CLI, the Python facade and the server use these exact names."""

    detectors: tuple[str, ...] = DEFAULT_DETECTORS
    face_detector: str = DEFAULT_FACE_DETECTOR
    frames: int | None = None  # uniform: N frames spread over the video (default 16)
    every: int | None = None  # every k-th frame
    fps: float | None = None  # frames at a target rate
    threshold: float | None = None  # None: the detector's validated default (0.5 when fusing several)
    aggregation: str = fusion.DEFAULT_AGGREGATION
    detector_weights: tuple[float, ...] | None = None
    min_face_size: float = 24.0
    min_face_score: float = 0.5
    max_faces: int = 16  # per frame, largest first
    min_track_frames: int = 2
    max_pixels: int = 100_000_000
    previews: bool = True  # keep downscaled frames for the HTML report
    preview_max_side: int = 640
    max_previews: int = 8
    media_budget_s: float = DEFAULT_MEDIA_BUDGET_S  # wall clock per media; then error budget_exceeded

    def __post_init__(self) -> None:
        if isinstance(self.detectors, str):
            object.__setattr__(self, "detectors", (self.detectors,))
        object.__setattr__(self, "detectors", tuple(self.detectors))
        if not self.detectors:
            raise ValueError("at least one detector is needed")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if self.aggregation not in fusion.AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {fusion.AGGREGATIONS}")
        object.__setattr__(self, "media_budget_s", check_budget_s(self.media_budget_s))
        if sum(x is not None for x in (self.frames, self.every, self.fps)) > 1:
            raise ValueError("give at most one of frames, every, fps")
        if self.detector_weights is not None:
            object.__setattr__(self, "detector_weights", tuple(self.detector_weights))
            if len(self.detector_weights) != len(self.detectors):
                raise ValueError("detector_weights needs one weight per detector")

    def sampler(self):
        from .io import FrameSampler

        return FrameSampler.from_options(frames=self.frames, every=self.every, fps=self.fps)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _TrackAcc:
    frame_indices: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)


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
        self.options = options or ScanOptions(**kwargs)
        o = self.options
        self.face_detector = create_face_detector(
            o.face_detector, min_score=o.min_face_score, min_face_size=o.min_face_size
        )
        self.detectors: list[Detector] = [create_detector(name) for name in o.detectors]
        if o.threshold is not None:
            self.threshold = float(o.threshold)
        elif len(self.detectors) == 1:
            self.threshold = float(self.detectors[0].info.default_threshold)
        else:
            self.threshold = 0.5

    # -- one frame -------------------------------------------------------------------------
    def detect_faces(self, image: np.ndarray) -> list[DetectedFace]:
        """The faces this scanner scores in one RGB frame (largest first, at most max_faces)."""
        return self.face_detector.detect(image)[: self.options.max_faces]

    def analyse_frame(
        self, image: np.ndarray, faces: list[DetectedFace] | None = None
    ) -> list[tuple[DetectedFace, list, dict]]:
        """Faces of one RGB frame with each detector's output: [(face, outputs, crops_by_spec)].

        ``faces`` skips face detection (e.g. detections cached by ``facetrust.eval``).
        """
        faces = self.detect_faces(image) if faces is None else faces
        if not faces:
            return []
        by_spec: dict[CropSpec, list] = {}
        for det in self.detectors:
            spec = det.info.crop
            if spec not in by_spec:
                by_spec[spec] = [align_face(image, f, spec) for f in faces]
        outputs_per_det = []
        for det in self.detectors:
            aligned = by_spec[det.info.crop]
            inputs = [
                FaceInput(
                    crop=a.crop,
                    matrix=a.matrix,
                    frame=image if det.info.needs_frame else None,
                    box=a.face.box,
                    landmarks5=a.face.landmarks5,
                )
                for a in aligned
            ]
            outs = det.predict(inputs)
            if len(outs) != len(inputs):
                raise FacetrustError(f"detector {det.info.name} returned {len(outs)} outputs for {len(inputs)} faces")
            outputs_per_det.append(outs)
        return [
            (f, [outs[i] for outs in outputs_per_det], {s: v[i] for s, v in by_spec.items()})
            for i, f in enumerate(faces)
        ]

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
        result.elapsed_s = time.perf_counter() - t0
        from .report.explain import explain

        result.explanation = explain(result)
        return result

    def _scan_frames(self, media, result: MediaResult, progress: ProgressFn | None) -> None:
        o = self.options
        tracker = FaceTracker() if media.kind == "video" else None
        tracks: dict[int, _TrackAcc] = {}
        preview_heap: list[tuple[float, int, np.ndarray]] = []  # min-heap of (score, index, preview)
        n_done = 0
        expected = None  # frames the progress callback can expect, when the video says how many it has
        if media.kind == "video" and media.n_frames:
            from .io.sampling import count_sampled

            expected = count_sampled(o.sampler(), media.n_frames, media.fps)  # O(1): headers can lie
        scale = 1.0
        frames = prefetch(media.frames()) if media.kind == "video" else media.frames()
        for frame in frames:
            if media.deadline is not None:
                media.deadline.check(f"after {n_done} analysed frames")
            analysed = self.analyse_frame(frame.image)
            ids = tracker.update([f for f, _, _ in analysed]) if tracker else [None] * len(analysed)
            frame_probs = []
            for k, ((face, outputs, aligned), tid) in enumerate(zip(analysed, ids)):
                fr = self._face_result(frame.index, frame.time_s, k, face, outputs, aligned)
                fr.track_id = tid
                result.faces.append(fr)
                frame_probs.append(fr.fake_probability)
                if tid is not None:
                    acc = tracks.setdefault(tid, _TrackAcc())
                    acc.frame_indices.append(frame.index)
                    acc.times.append(frame.time_s if frame.time_s is not None else float(frame.index))
                    acc.probs.append(fr.fake_probability)
            result.frames.append(
                FrameResult(
                    index=frame.index,
                    time_s=frame.time_s,
                    n_faces=len(analysed),
                    fake_probability=max(frame_probs) if frame_probs else None,
                )
            )
            if o.previews:
                key = max(frame_probs) if frame_probs else -1.0
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
        result.previews = {-neg_idx: img for _, neg_idx, img in preview_heap}
        result.preview_scale = scale
        result.aggregation = o.aggregation if media.kind == "video" else "max"
        if not result.faces:
            result.verdict = "not_applicable"
            result.reason = (
                f"no face found in {n_done} {'sampled frame' if media.kind == 'video' else 'image'}"
                f"{'s' if n_done != 1 and media.kind == 'video' else ''}"
                f" (min_face_size={o.min_face_size:g} px, min_face_score={o.min_face_score:g})"
            )
            return
        if media.kind != "video":
            result.fake_probability = max(f.fake_probability for f in result.faces)
        else:
            for tid, acc in sorted(tracks.items()):
                p = fusion.aggregate(acc.probs, o.aggregation)
                result.tracks.append(
                    TrackResult(
                        track_id=tid,
                        frame_indices=acc.frame_indices,
                        fake_probability=p,
                        verdict=fusion.verdict_for(p, self.threshold),
                        frame_probabilities=acc.probs,
                        segments=fusion.segments_above(acc.times, acc.probs, self.threshold),
                    )
                )
            min_frames = min(o.min_track_frames, max(len(t.frame_indices) for t in result.tracks))
            counted = [t for t in result.tracks if len(t.frame_indices) >= min_frames]
            result.fake_probability = max(t.fake_probability for t in counted)
        result.verdict = fusion.verdict_for(result.fake_probability, self.threshold)
