"""The Python facade. Every function takes the same keyword names as ``facetrust scan``.

>>> import facetrust
>>> result = facetrust.scan("photo.jpg", threshold=0.5)          # doctest: +SKIP
>>> result.verdict, result.fake_probability                       # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np

from .detectors.base import DetectorInfo
from .pipeline import ProgressFn, ScanOptions, Scanner
from .report.schema import MediaResult, ScanReport

if TYPE_CHECKING:
    from .biometrics import VerifyReport
    from .io.sources import SourceEntry

Source = str | os.PathLike | bytes | np.ndarray


@lru_cache(maxsize=4)
def _scanner(options: ScanOptions) -> Scanner:
    return Scanner(options)


def get_scanner(**options) -> Scanner:
    """A cached :class:`Scanner` for these options (models load once per process; None = default)."""
    return _scanner(ScanOptions.given(**options))


def scan(source: Source, *, progress: ProgressFn | None = None, **options) -> MediaResult:
    """Scan one image or video (path, encoded bytes or RGB array) and return its result.

    Bad media never raises: the result has ``verdict`` ``"error"`` or ``"not_applicable"``.
    Options are the fields of :class:`facetrust.pipeline.ScanOptions`.
    """
    return get_scanner(**options).scan(source, progress=progress)


def iter_scan(
    paths: Iterable[str | os.PathLike],
    *,
    from_lists: Sequence[str | os.PathLike] = (),
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    on_media_start: Callable[[str], None] | None = None,
    progress: ProgressFn | None = None,
    **options,
) -> Iterator[MediaResult]:
    """Scan files, folders and globs (and the paths of ``from_lists`` files) one media at a time (a
    failure never stops the batch), walked as ``facetrust batch`` walks them
    (:func:`facetrust.io.inputs.collect_entries`).

    Every file under a folder gives a result: files that are not media are ``not_applicable`` with
    the reason (see :func:`facetrust.io.walk_sources`).
    """
    from .io.inputs import collect_entries

    entries = collect_entries(list(paths), from_lists, recursive=recursive, include=include, exclude=exclude)
    yield from iter_entries(entries, on_media_start=on_media_start, progress=progress, **options)


def iter_entries(
    entries: Iterable[SourceEntry],
    *,
    on_media_start: Callable[[str], None] | None = None,
    progress: ProgressFn | None = None,
    **options,
) -> Iterator[MediaResult]:
    """:func:`iter_scan` over entries already walked (the CLI walks once to count them)."""
    scanner = get_scanner(**options)
    for entry in entries:
        if on_media_start:
            on_media_start(str(entry.path))
        yield scan_entry(scanner, entry, progress=progress)


def scan_entry(scanner: Scanner, entry: SourceEntry, *, progress: ProgressFn | None = None) -> MediaResult:
    """The result row of one :class:`facetrust.io.SourceEntry`: scanned, or skipped with its reason."""
    if entry.skip_reason is None:
        return scanner.scan(str(entry.path), progress=progress)
    from .report.explain import explain

    result = MediaResult(
        path=str(entry.path),
        verdict="not_applicable",
        fake_probability=None,
        reason=f"skipped: {entry.skip_reason}",
        detectors=list(scanner.options.detectors),
        threshold=scanner.threshold,
        elapsed_s=0.0,
    )
    result.explanation = explain(result)
    return result


def make_report(results: list[MediaResult], **options) -> ScanReport:
    from . import __version__

    return ScanReport(
        results=results,
        settings=ScanOptions.given(**options).as_dict(),
        facetrust_version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def scan_paths(
    paths: Iterable[str | os.PathLike],
    *,
    from_lists: Sequence[str | os.PathLike] = (),
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    on_media_start: Callable[[str], None] | None = None,
    progress: ProgressFn | None = None,
    **options,
) -> ScanReport:
    """Scan files, folders and globs and return the whole report (same keywords as :func:`iter_scan`)."""
    results = iter_scan(paths, from_lists=from_lists, recursive=recursive, include=include, exclude=exclude,
                        on_media_start=on_media_start, progress=progress, **options)
    return make_report(list(results), **options)


def verify(probe: Source, reference: Source, **options) -> "VerifyReport":
    """Is ``probe`` the same person as ``reference``? Calibrated probability, decision, and the probe's scan
    (:func:`facetrust.biometrics.verify_pair`; options as :func:`scan`)."""
    from .biometrics import verify_pair

    # the report has no preview to draw, so the probe's scan keeps none
    return verify_pair(probe, reference, scanner=get_scanner(**{"previews": False, **options}))


@dataclass
class ExtractedFace:
    frame_index: int
    time_s: float | None
    box: np.ndarray  # x0, y0, x1, y1 frame pixels
    landmarks5: np.ndarray  # (5, 2) frame pixels
    score: float
    crop: np.ndarray  # aligned RGB crop (the crop function used for training and inference)
    matrix: np.ndarray  # (2, 3) frame -> crop


def extract_faces(
    source: Source,
    *,
    size: int = 224,
    margin: float = 0.25,
    face_detector: str | None = None,
    frames: int | None = None,
    every: int | None = None,
    fps: float | None = None,
    min_face_size: float | None = None,
    min_face_score: float | None = None,
    max_faces: int | None = None,
    max_pixels: int | None = None,
) -> list[ExtractedFace]:
    """Detect and align every face of an image or of a video's sampled frames (options as
    :class:`ScanOptions`; None = its default).

    Raises the typed :mod:`facetrust.errors` for unreadable media (this is a building block,
    unlike :func:`scan`, which reports them).
    """
    from .faces import CropSpec, align_face
    from .io import open_media

    o = ScanOptions.given(face_detector=face_detector, frames=frames, every=every, fps=fps,
                          min_face_size=min_face_size, min_face_score=min_face_score, max_faces=max_faces,
                          max_pixels=max_pixels)
    spec = CropSpec(size=size, margin=margin)
    detector = _face_detector(o.face_detector, o.min_face_score, o.min_face_size)
    media = open_media(source, sampler=o.sampler(), max_pixels=o.max_pixels)
    out = []
    for frame in media.frames():
        for face in detector.detect(frame.image)[: o.max_faces]:
            a = align_face(frame.image, face, spec)
            out.append(ExtractedFace(frame.index, frame.time_s, face.box, face.landmarks5, face.score, a.crop, a.matrix))
    return out


@lru_cache(maxsize=4)
def _face_detector(name: str, min_score: float, min_face_size: float):
    from .faces import create_face_detector

    return create_face_detector(name, min_score=min_score, min_face_size=min_face_size)


def list_detectors() -> list[DetectorInfo]:
    """Metadata of every registered forensic detector that loads (failures are logged)."""
    import logging

    from .detectors import available_detectors, create_detector
    from .errors import DetectorError

    infos = []
    for name in available_detectors():
        try:
            infos.append(create_detector(name).info)
        except DetectorError as exc:
            logging.getLogger(__name__).warning("detector %s unavailable: %s", name, exc)
    return infos
