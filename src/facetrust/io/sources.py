"""Where media comes from: path expansion, content sniffing, and :func:`open_media`.

The kind of a file (image or video) is decided from its first bytes, not its name: a PNG renamed
``.mp4`` is still an image, and random bytes named ``.jpg`` are refused as unsupported rather than
reported as a damaged JPEG. The extension only breaks ties when the content is not recognised.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import MediaError, UnsupportedMediaError
from .budget import Deadline
from .image import DEFAULT_MAX_PIXELS, check_media_file, load_image
from .sampling import FrameSampler
from .sniff import MediaKind, sniff_head, sniff_media_type  # noqa: F401  (re-exported)
from .video import Frame, VideoInfo

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
# ".ts" / ".mts" are left out on purpose (TypeScript sources share them): MPEG-TS files are found by
# their content in a folder walk, and TypeScript gets a "not a media file" row instead of an error.
VIDEO_EXTENSIONS = {
    ".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".m2ts", ".3gp", ".ogv",
}
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS

def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, streamed in 1 MiB chunks (the identity of the media scanned)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _kind_from_extension(name: str) -> MediaKind | None:
    ext = os.path.splitext(name)[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return None


def _matches(rel: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


@dataclass(frozen=True)
class SourceEntry:
    """One file (or folder) met while expanding the inputs: scanned, or skipped with a reason.

    ``skip_reason`` None means scan it; otherwise the front doors report it as a ``not_applicable`` row,
    so no file under a folder disappears without a trace.
    """

    path: Path
    skip_reason: str | None = None


def _walk(root: Path, recursive: bool) -> Iterator[tuple[Path, str | None]]:
    """Every non-hidden entry under ``root`` in sorted order, with a reason when it cannot be scanned.

    Hidden files and folders (``.git``, ``.DS_Store``) are left out on purpose; links to folders are
    not followed (a link loop would never end) but are named; unreadable folders are named too.
    """
    unreadable: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable.append):
        while unreadable:
            exc = unreadable.pop(0)
            yield Path(exc.filename or dirpath), f"folder not readable ({exc.strerror or exc})"
        if not recursive:  # sub-folders are not part of a non-recursive walk, linked or not
            dirnames[:] = []
        visible = sorted(d for d in dirnames if not d.startswith("."))
        linked = [d for d in visible if os.path.islink(os.path.join(dirpath, d))]
        for d in linked:
            yield Path(dirpath) / d, "link to a folder, not followed"
        dirnames[:] = [d for d in visible if d not in linked]
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name, None
    for exc in unreadable:
        yield Path(exc.filename or root), f"folder not readable ({exc.strerror or exc})"


def _walk_reason(path: Path, included: bool) -> str | None:
    """Why a file met in a folder walk is not scanned, or None to scan it."""
    try:
        st = path.stat()
    except OSError:
        return None  # dangling link or vanished file: the scan reports the typed error
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"  # a FIFO would block the reader; sockets and devices are not media
    ext = path.suffix.lower()
    if included or ext in MEDIA_EXTENSIONS:
        return None
    try:
        if sniff_media_type(path) is not None:
            return None  # media under an unusual name: the content decides
    except OSError:
        return None
    shown = f"extension {ext!r}" if ext else "no extension"
    return (
        f"not a media file ({shown}, content not a recognised image or video); "
        f"--include '*{ext}' scans it anyway"
    )


def walk_sources(
    paths: Iterable[str | os.PathLike],
    *,
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[SourceEntry]:
    """Command-line paths -> every input, in order, each to scan or skipped with a reason.

    A path that is not a directory is kept as given (even if missing or unsupported) so that it is
    reported as an error instead of being dropped. Directories expand (sorted) to every file in them,
    hidden files and folders aside: files with a known media extension or recognised media content are
    scanned, others are skipped with a reason. ``include``/``exclude`` are fnmatch globs matched
    against the path relative to that directory and against the basename: a file is kept if it
    matches some include, or there are none, and no exclude; a file an include names is scanned
    whatever its extension (``--include '*.raw'``). Files the user filtered out get no entry.
    Duplicates are dropped.
    """
    out: list[SourceEntry] = []
    seen: set[str] = set()

    def add(p: Path, reason: str | None = None) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(SourceEntry(p, reason))

    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            add(p)
            continue
        for f, reason in _walk(p, recursive):
            rel = f.relative_to(p).as_posix()
            if include and not _matches(rel, f.name, include):
                continue
            if exclude and _matches(rel, f.name, exclude):
                continue
            add(f, reason if reason is not None else _walk_reason(f, included=bool(include)))
    return out


def expand_sources(
    paths: Iterable[str | os.PathLike],
    *,
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[Path]:
    """The files of :func:`walk_sources` that are to be scanned (the skipped ones left out)."""
    entries = walk_sources(paths, recursive=recursive, include=include, exclude=exclude)
    return [e.path for e in entries if e.skip_reason is None]


@dataclass
class Media:
    """One opened input: what it is, its size, and a way to iterate its (sampled) frames.

    For images the pixels are already decoded; for videos :meth:`frames` decodes lazily and can be
    called more than once (each call is a fresh pass). Video bytes are spooled to a temporary file that
    is deleted by :meth:`close` or when the Media object is garbage-collected.
    """

    source: str
    kind: MediaKind
    width: int
    height: int
    fps: float | None = None
    n_frames: int | None = None
    duration_s: float | None = None
    video_info: VideoInfo | None = field(default=None, repr=False, compare=False)
    _image: np.ndarray | None = field(default=None, repr=False, compare=False)
    _path: str | None = field(default=None, repr=False, compare=False)
    _sampler: FrameSampler = field(default_factory=FrameSampler, repr=False, compare=False)
    _max_pixels: int = field(default=DEFAULT_MAX_PIXELS, repr=False, compare=False)
    deadline: Deadline | None = field(default=None, repr=False, compare=False)  # checked while decoding
    _cleanup: weakref.finalize | None = field(default=None, repr=False, compare=False)

    def frames(self) -> Iterator[Frame]:
        """Image: one ``Frame(0, None, rgb)``. Video: the sampled frames, decoded one at a time."""
        if self.kind == "image":
            assert self._image is not None
            yield Frame(index=0, time_s=None, image=self._image)
            return
        from .video import iter_video_frames

        if self._path is None:
            raise MediaError(f"{self.source}: media was closed")
        # Holding `self` here keeps a spooled temp file alive until this iterator is finished.
        path = self._path
        try:
            yield from iter_video_frames(
                path, self._sampler, max_pixels=self._max_pixels, info=self.video_info, deadline=self.deadline
            )
        except MediaError as exc:
            raise _relabel(exc, path, self.source) from None

    def close(self) -> None:
        """Delete a spooled temporary file (video bytes); a no-op otherwise. Idempotent."""
        if self._cleanup is not None:
            self._cleanup()
            self._path = None

    def __enter__(self) -> Media:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _relabel(exc: MediaError, path: str, label: str) -> MediaError:
    """The same error, naming the input as the user gave it instead of a temporary file."""
    if path == label or path not in str(exc):
        return exc
    return type(exc)(str(exc).replace(path, label))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def open_media(
    source: str | os.PathLike | bytes | bytearray | memoryview | np.ndarray,
    *,
    sampler: FrameSampler | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    deadline: Deadline | None = None,
) -> Media:
    """Open a path, encoded bytes or an RGB array as :class:`Media`.

    ``deadline`` bounds the video decoding of :meth:`Media.frames` (BudgetExceededError).

    Images are decoded right away (so a damaged image raises here); videos are probed (header plus
    one frame) and decoded lazily by :meth:`Media.frames`. Raises the typed errors of
    :mod:`facetrust.errors`: MediaError (missing), EmptyFileError, UnsupportedMediaError,
    CorruptMediaError, DecompressionBombError, NoDecodableFramesError (while iterating).
    """
    sampler = sampler or FrameSampler()
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray)):
        # None, a list, a number...: a caller's mistake, reported as a typed error, not a TypeError.
        raise UnsupportedMediaError(
            f"unsupported input of type {type(source).__name__}: give a path, encoded bytes or an RGB array"
        )
    if isinstance(source, np.ndarray):
        image = load_image(source, max_pixels=max_pixels)
        return _image_media("<array>", image, sampler, max_pixels)

    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        kind = sniff_media_type(data) if data else "image"  # empty -> load_image raises EmptyFileError
        if kind != "video":
            image = load_image(data, max_pixels=max_pixels)
            return _image_media("<bytes>", image, sampler, max_pixels)
        fd, tmp = tempfile.mkstemp(prefix="facetrust-", suffix=".media")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            media = _video_media("<bytes>", tmp, sampler, max_pixels)
        except MediaError as exc:
            _remove(tmp)
            raise _relabel(exc, tmp, "<bytes>") from None
        except BaseException:
            _remove(tmp)
            raise
        media._cleanup = weakref.finalize(media, _remove, tmp)
        media.deadline = deadline
        return media

    path = check_media_file(source)
    try:
        kind = sniff_media_type(path)
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind is None:
        kind = _kind_from_extension(path.name)
        if kind is None:
            # Unknown name and unknown magic: let Pillow try (it knows formats we do not sniff).
            kind = "image"
    if kind == "image":
        image = load_image(path, max_pixels=max_pixels)
        return _image_media(str(source), image, sampler, max_pixels)
    media = _video_media(str(source), str(path), sampler, max_pixels)
    media.deadline = deadline
    return media


def _image_media(label: str, image: np.ndarray, sampler: FrameSampler, max_pixels: int) -> Media:
    h, w = image.shape[:2]
    return Media(
        source=label,
        kind="image",
        width=int(w),
        height=int(h),
        _image=image,
        _sampler=sampler,
        _max_pixels=max_pixels,
    )


def _video_media(label: str, path: str, sampler: FrameSampler, max_pixels: int) -> Media:
    from .video import probe_video

    info = probe_video(path, max_pixels=max_pixels)
    return Media(
        source=label,
        kind="video",
        width=info.width,
        height=info.height,
        fps=info.fps,
        n_frames=info.n_frames,
        duration_s=info.duration_s,
        video_info=info,
        _path=path,
        _sampler=sampler,
        _max_pixels=max_pixels,
    )


__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Media",
    "SourceEntry",
    "expand_sources",
    "open_media",
    "sniff_media_type",
    "walk_sources",
]
