"""Content-addressed media store, per-scan artifact directories and media retention.

Layout under ``root``: ``media/ab/cd/<sha256>`` (no extension: the kind is sniffed from the bytes, never
trusted from a name), ``artifacts/<scan_id>/`` and transient ``.upload-*`` temp files while streaming.
Uploads go to a temp file on the same file system and are renamed into place, so a reader never sees a
partial file and two identical uploads end as one file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from facetrust.errors import EmptyFileError, FileTooLargeError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SCAN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # uuid4 hex in practice; never a path component like ".."
_TMP_PREFIX = ".upload-"
_HEAD_BYTES = 1024
# A temp file untouched this long belongs to a crashed upload, whatever the retention setting: a live
# upload keeps writing to it, and a short retention must not delete it from under the writer.
_STALE_TMP_S = 3600.0


class MediaTooLarge(FileTooLargeError):
    """More than ``limit`` bytes arrived; ``received`` is how many had arrived when we stopped reading."""

    def __init__(self, limit: int, received: int):
        super().__init__(f"the media is larger than the limit of {limit} bytes (stopped after {received} bytes)")
        self.limit = limit
        self.received = received


class EmptyMedia(EmptyFileError):
    """The stream carried no bytes at all."""

    def __init__(self, message: str = "the media is empty (0 bytes)"):
        super().__init__(message)


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    path: Path
    size: int
    head: bytes  # the first bytes (up to 1024), for sniffing the media kind without reopening the file


class MediaStore:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.media_root = self.root / "media"
        self.artifacts_root = self.root / "artifacts"
        self.media_root.mkdir(parents=True, exist_ok=True)
        self.artifacts_root.mkdir(parents=True, exist_ok=True)

    def _media_path(self, sha256: str) -> Path:
        return self.media_root / sha256[:2] / sha256[2:4] / sha256

    def put_stream(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredMedia:
        """Store the streamed bytes by content; raises MediaTooLarge or EmptyMedia (nothing left behind)."""
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > max_bytes:  # refuse before writing the excess to disk
                        raise MediaTooLarge(max_bytes, size)
                    digest.update(chunk)
                    out.write(chunk)
                    if len(head) < _HEAD_BYTES:
                        head += chunk[: _HEAD_BYTES - len(head)]
                if size == 0:
                    raise EmptyMedia()
                out.flush()
                os.fsync(out.fileno())  # the rename below must not publish a file whose bytes are not on disk
            sha = digest.hexdigest()
            dest = self._media_path(sha)
            for attempt in range(3):  # a concurrent purge may remove the fan-out dir or an old copy between steps
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    if dest.is_file():
                        # Same content already stored: keep it, and refresh its age so retention counts from now.
                        os.utime(dest)
                        tmp.unlink()
                    else:
                        os.replace(tmp, dest)  # atomic; a concurrent identical upload just replaces equal bytes
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise
        except BaseException:
            # Any failure, including the client's stream raising (disconnect): no temp file survives.
            tmp.unlink(missing_ok=True)
            raise
        return StoredMedia(sha256=sha, path=dest, size=size, head=bytes(head))

    def path_for(self, sha256: str) -> Path | None:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            return None
        p = self._media_path(sha256)
        return p if p.is_file() else None

    def artifact_dir(self, scan_id: str) -> Path:
        """The scan's artifact folder; not created here (views only read it; writers create it)."""
        if not isinstance(scan_id, str) or not _SCAN_ID.fullmatch(scan_id):
            raise ValueError(f"not a scan id: {scan_id!r}")
        return self.artifacts_root / scan_id

    def purge(self, *, older_than_s: float, keep: set[str] | frozenset[str] = frozenset(), now: float | None = None) -> int:
        """Delete media files last modified before ``now - older_than_s`` except those in ``keep``.

        Artifacts (reports, previews) are never touched. Returns the number of media files deleted.
        Stale temp files of crashed uploads are removed too (not counted).
        """
        now = time.time() if now is None else now
        cutoff = now - older_than_s
        deleted = 0
        for fan1 in _subdirs(self.media_root):
            for fan2 in _subdirs(fan1):
                for f in list(fan2.iterdir()):
                    if f.name in keep or not _SHA256.fullmatch(f.name):
                        continue
                    if _unlink_if_older(f, cutoff):
                        deleted += 1
                _rmdir_if_empty(fan2)
            _rmdir_if_empty(fan1)
        for f in self.root.glob(_TMP_PREFIX + "*"):
            _unlink_if_older(f, now - _STALE_TMP_S)
        return deleted


def _subdirs(d: Path) -> list[Path]:
    try:
        return [p for p in d.iterdir() if p.is_dir() and not p.is_symlink()]
    except FileNotFoundError:  # removed by a concurrent purge
        return []


def _unlink_if_older(f: Path, cutoff: float) -> bool:
    try:
        if f.is_file() and f.stat().st_mtime < cutoff:
            f.unlink()
            return True
    except FileNotFoundError:  # a concurrent purge got there first
        pass
    return False


def _rmdir_if_empty(d: Path) -> None:
    # Tidy the fan-out dirs; a concurrent upload may just have created a file (or the dir): then leave it.
    try:
        d.rmdir()
    except OSError:
        pass
