"""What a file is, from its first bytes: ``"image"``, ``"video"`` or None (never the extension).

The lowest piece of the io stage: :mod:`.image` and :mod:`.video` use it to tell a mislabelled file
from a corrupt one, :mod:`.sources` to classify the files it walks.
"""

from __future__ import annotations

import os
from typing import Literal

MediaKind = Literal["image", "video"]

_SNIFF_BYTES = 1024
_TS_PACKET = 188
# ISO-BMFF major brands of still-image formats (HEIF/HEIC/AVIF); every other brand is a video/audio file.
_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# Top-level boxes that can open an old QuickTime file that has no 'ftyp'.
_QUICKTIME_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# BITMAPINFOHEADER sizes: 'BM' alone is too weak a signature (text can start with it).
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def _is_mpeg_ts(head: bytes, offset: int, stride: int) -> bool:
    syncs = range(offset, len(head), stride)
    return len(syncs) >= 2 and all(head[i] == 0x47 for i in syncs)


def sniff_head(head: bytes) -> MediaKind | None:
    """Media kind from the first bytes of a file (see :func:`sniff_media_type`)."""
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "image"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "image"
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return "image"
        if form in (b"AVI ", b"AVIX"):
            return "video"
        return None  # WAV and other RIFF forms
    if head[4:8] == b"ftyp":
        return "image" if head[8:12] in _IMAGE_BRANDS else "video"
    if head[4:8] in _QUICKTIME_BOXES:
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM (EBML)
        return "video"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):  # MPEG-PS / MPEG-1/2 video
        return "video"
    if head.startswith(b"FLV\x01"):
        return "video"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):  # ASF (WMV)
        return "video"
    if head.startswith(b"OggS"):  # Ogg (Theora); audio-only Ogg is refused later: no video stream
        return "video"
    if _is_mpeg_ts(head, 0, _TS_PACKET) or _is_mpeg_ts(head, 4, _TS_PACKET + 4):  # TS / M2TS
        return "video"
    return None


def sniff_media_type(path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview) -> MediaKind | None:
    """``"image"``, ``"video"`` or None (not recognised), from the content's magic bytes only.

    ISO-BMFF files (MP4/MOV/M4V/M4A) are "video" (an audio-only one is refused when opened), except
    HEIF/AVIF brands, which are images. Raises OSError if a path cannot be read.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        head = bytes(path_or_bytes[:_SNIFF_BYTES])
    else:
        with open(path_or_bytes, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    return sniff_head(head)
