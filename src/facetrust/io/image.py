"""Still images -> RGB uint8 arrays, with typed errors for every way an input can be bad.

Decoding goes through Pillow (JPEG, PNG, WebP, BMP, TIFF, GIF, ...). Policies:

* EXIF orientation is applied, so the array is what a viewer shows.
* Alpha is composited over **white** (what most viewers show for transparent areas), so faces on
  transparent PNGs keep natural edges instead of turning black.
* 16-bit data keeps its top 8 bits (``>> 8``); grayscale / palette / CMYK become 3-channel RGB.
* Decompression bombs are refused from the header, before any pixel is decoded: the pixel count
  (``max_pixels``) and the decoded size, width x height x channels x bytes per sample
  (``max_decoded_bytes``). A JPEG over either limit is decoded reduced instead (1/2, 1/4 or 1/8
  scale, by the DCT), the one format whose decoder can do so without the full raster.
* Conversion to RGB runs in strips of rows, so the peak is the decoder's raster plus the RGB result,
  not several full-size temporaries (a 100 MP RGBA PNG peaked at 3 GB before).
* Truncated files are errors (``ImageFile.LOAD_TRUNCATED_IMAGES`` is never turned on): a half-grey,
  half-decoded JPEG would otherwise reach the detectors as if it were the real picture.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import (
    CorruptMediaError,
    DecompressionBombError,
    EmptyFileError,
    MediaError,
    UnsupportedMediaError,
)

DEFAULT_MAX_PIXELS = 100_000_000
# 100 MP of 8-bit RGBA. With the strip conversion the peak of a load is about this plus the RGB
# result (measured in tests/hardening/test_hardening_memory.py and docs/security.md).
DEFAULT_MAX_DECODED_BYTES = 400_000_000
# Pixels converted per strip: big enough to keep the Python loop short, small enough not to matter.
_STRIP_PIXELS = 1 << 22

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray]

# What Pillow raises for damaged data, depending on format and where the damage is.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)
# EXIF orientation values that swap width and height.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


def check_media_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it is a non-empty regular file; typed errors otherwise."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(f"file not found: {p}") from None
    except OSError as exc:
        raise MediaError(f"cannot access {p}: {exc.strerror or exc}") from None
    if p.is_dir():
        raise MediaError(f"is a directory, not a media file: {p}")
    if st.st_size == 0:
        raise EmptyFileError(f"empty file (0 bytes): {p}")
    return p


def _label(source: ImageSource) -> str:
    if isinstance(source, np.ndarray):
        return "<array>"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return str(source)


def _bomb(w: int, h: int, max_pixels: int, label: str) -> DecompressionBombError:
    return DecompressionBombError(
        f"{label}: {w}x{h} = {w * h} pixels exceeds the limit of {max_pixels} (possible decompression bomb)"
    )


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """Bytes of a ``mode`` raster of ``width`` x ``height``: channels x bytes per sample per pixel."""
    from PIL import Image

    try:
        bands = Image.getmodebands(mode)
    except (KeyError, ValueError):
        bands = 4  # an exotic mode: assume the widest common layout
    sample = 2 if mode.startswith("I;16") else 4 if mode in ("I", "F") else 1
    return width * height * bands * sample


def _decode_cost(fmt: str | None, mode: str, w: int, h: int) -> int:
    """What decoding allocates: the raster, times the working copies a decoder is known to make."""
    if fmt == "WEBP":
        # Pillow's WebP decoder goes through RGBA/RGBX and holds libwebp's canvas, the bytes it hands
        # over and Pillow's raster at once: a 98 MP WebP peaked at 1.5 GB with 4 bytes x 3 copies.
        return w * h * 4 * 3
    return decoded_bytes(mode, w, h)


def _too_big(w: int, h: int, im, max_pixels: int, max_decoded_bytes: int) -> bool:
    return w * h > max_pixels or _decode_cost(im.format, im.mode, w, h) > max_decoded_bytes


def _reduce_jpeg(im, max_pixels: int, max_decoded_bytes: int) -> bool:
    """Ask the JPEG decoder for the least reduction (1/2, 1/4, 1/8) that fits both limits."""
    w, h = im.size
    for k in (2, 4, 8):
        size = (-(-w // k), -(-h // k))
        if not _too_big(*size, im, max_pixels, max_decoded_bytes):
            im.draft(im.mode, size)  # the decoder now produces the reduced raster directly
            return not _too_big(*im.size, im, max_pixels, max_decoded_bytes)
    return False


def _open_pil(source: ImageSource, max_pixels: int, max_decoded_bytes: int = 2**62):
    """Open lazily (header only) and check the declared size; nothing is decoded yet."""
    from PIL import Image, UnidentifiedImageError

    from .sniff import sniff_media_type

    label = _label(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise EmptyFileError("empty input (0 bytes)")
        fp: object = io.BytesIO(data)
        sniff_target: object = data
    else:
        fp = check_media_file(source)
        sniff_target = fp
    try:
        with warnings.catch_warnings():
            # We apply our own (configurable) limit below; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp)
    except Image.DecompressionBombError as exc:
        # Pillow's hard limit (2x Image.MAX_IMAGE_PIXELS, ~179 MP) fires inside open(), before ours can.
        raise DecompressionBombError(f"{label}: {exc}") from None
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        if sniff_media_type(sniff_target) == "image":
            raise CorruptMediaError(f"{label}: damaged image header ({exc})") from None
        raise UnsupportedMediaError(f"{label}: not a supported image format") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise CorruptMediaError(f"{label}: image declares an empty size {w}x{h}")
    if _too_big(w, h, im, max_pixels, max_decoded_bytes):
        if im.format == "JPEG" and _reduce_jpeg(im, max_pixels, max_decoded_bytes):
            return im, label
        im.close()
        if w * h > max_pixels:
            raise _bomb(w, h, max_pixels, label)
        cost = _decode_cost(im.format, im.mode, w, h)
        raise DecompressionBombError(
            f"{label}: {w}x{h} {im.format} {im.mode} needs {cost} bytes to decode, above the limit of "
            f"{max_decoded_bytes} (possible decompression bomb)"
        )
    return im, label


def _exif_orientation(im) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return 1  # malformed EXIF: show the pixels as stored


def image_size(source: ImageSource) -> tuple[int, int]:
    """``(width, height)`` as stored (after EXIF rotation), read from the header only.

    :func:`load_image` returns this size, except for a JPEG over its limits, decoded reduced.

    EXIF orientations that rotate by 90 degrees swap the stored width and height. No size limit is
    applied here, except Pillow's own hard one (2x ``Image.MAX_IMAGE_PIXELS``), which it enforces
    inside ``Image.open`` and which surfaces as :class:`DecompressionBombError`.
    """
    if isinstance(source, np.ndarray):
        if source.ndim < 2:
            raise UnsupportedMediaError(f"array of shape {source.shape} is not an image")
        return int(source.shape[1]), int(source.shape[0])
    im, _ = _open_pil(source, max_pixels=2**62)
    try:
        w, h = im.size
        if _exif_orientation(im) in _TRANSPOSING_ORIENTATIONS:
            w, h = h, w
        return int(w), int(h)
    finally:
        im.close()


def load_image(
    source: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
) -> np.ndarray:
    """Decode ``source`` (path, encoded bytes, or an RGB-ordered array) to RGB uint8 ``(H, W, 3)``.

    The result is C-contiguous and never shares memory with an input array.
    Raises :class:`MediaError` (missing file), :class:`EmptyFileError`, :class:`UnsupportedMediaError`,
    :class:`CorruptMediaError` or :class:`DecompressionBombError` (over ``max_pixels`` or
    ``max_decoded_bytes``, except a JPEG, which is decoded reduced to fit).
    """
    if isinstance(source, np.ndarray):
        return array_to_rgb(source, max_pixels=max_pixels)
    im, label = _open_pil(source, max_pixels, max_decoded_bytes)
    try:
        try:
            im.load()  # full decode now: truncation / corruption surfaces here, not later
        except MemoryError:
            raise MediaError(f"{label}: out of memory while decoding") from None
        except _DECODE_ERRORS as exc:
            raise CorruptMediaError(f"{label}: damaged or truncated image ({exc})") from None
        orientation = _exif_orientation(im)
        rgb = _pil_to_rgb(im)
    finally:
        im.close()  # the decoder's raster goes before the rotated copy is made
    return _orient(rgb, orientation)


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (what ``ImageOps.exif_transpose`` does, on the array)."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return rgb if turned is None else np.ascontiguousarray(turned(rgb))


def _pil_to_rgb(im) -> np.ndarray:
    """A decoded Pillow image -> RGB uint8, converted strip by strip into one preallocated array."""
    w, h = im.size
    mode = im.mode
    # Decisions that need the whole image are taken once, from its extrema, not per strip.
    wide = floats_255 = False
    if mode == "I":
        wide = im.getextrema()[1] > 255
    elif mode == "F":
        lo, hi = im.getextrema()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise UnsupportedMediaError("float image contains NaN or infinite values")
        floats_255 = lo < -1e-6 or hi > 1.0 + 1e-6
    out = np.empty((h, w, 3), np.uint8)
    rows = max(1, _STRIP_PIXELS // max(1, w))
    for y in range(0, h, rows):
        strip = im.crop((0, y, w, min(h, y + rows)))
        out[y : y + rows] = _strip_to_rgb(strip, wide=wide, floats_255=floats_255)
    return out


def _strip_to_rgb(im, *, wide: bool, floats_255: bool) -> np.ndarray:
    mode = im.mode
    if mode.startswith("I;16"):
        return _gray_to_rgb((np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8))
    if mode == "I":
        a = np.asarray(im).astype(np.int64)
        return _gray_to_rgb((np.clip(a, 0, 65535) >> 8 if wide else np.clip(a, 0, 255)).astype(np.uint8))
    if mode == "F":
        a = np.asarray(im).astype(np.float64)
        if not np.isfinite(a).all():
            raise UnsupportedMediaError("float image contains NaN or infinite values")
        return _gray_to_rgb(np.clip(np.rint(a if floats_255 else a * 255.0), 0, 255).astype(np.uint8))
    if mode == "1":
        im = im.convert("L")
        mode = "L"
    if {"A", "a"} & set(im.getbands()) or "transparency" in im.info:
        return _composite_over_white(np.asarray(im.convert("RGBA")))
    if mode == "L":
        return _gray_to_rgb(np.asarray(im))
    if mode != "RGB":
        im = im.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, ...
    return np.asarray(im)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray.astype(np.uint8, copy=False)[:, :, None], 3, axis=2))


def _composite_over_white(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3].astype(np.uint16)
    alpha = rgba[..., 3:4].astype(np.uint16)
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return np.ascontiguousarray(out.astype(np.uint8))


def _int_to_uint8(a: np.ndarray) -> np.ndarray:
    """32-bit integer pixels: 8-bit data passes through, anything wider is read as 16-bit."""
    if np.issubdtype(a.dtype, np.unsignedinteger):
        # Saturate before the signed cast: uint64 values above 2**63 would otherwise wrap negative (black).
        a = np.minimum(a, 65535)
    a = a.astype(np.int64, copy=False)
    if a.size and a.max() > 255:
        return (np.clip(a, 0, 65535) >> 8).astype(np.uint8)
    return np.clip(a, 0, 255).astype(np.uint8)


def _float_to_uint8(a: np.ndarray, *, strict: bool) -> np.ndarray:
    a = a.astype(np.float64, copy=False)
    if not np.isfinite(a).all():
        raise UnsupportedMediaError("float image contains NaN or infinite values")
    if a.size and (a.min() < -1e-6 or a.max() > 1.0 + 1e-6):
        if strict:
            raise UnsupportedMediaError(
                f"float image values must lie in [0, 1]; got [{a.min():.4g}, {a.max():.4g}]"
            )
        return np.clip(np.rint(a), 0, 255).astype(np.uint8)  # e.g. TIFF 'F' holding 0..255 data
    return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)


def array_to_rgb(array: np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An in-memory image (RGB channel order) -> RGB uint8 ``(H, W, 3)`` copy.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` and ``(H, W, 4)`` (alpha composited over white);
    dtypes uint8, bool, uint16 (``>> 8``), other integers (0..255, or 16-bit when larger) and floats
    in ``[0, 1]``.
    """
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise UnsupportedMediaError(f"array of shape {a.shape} is not an (H, W[, 1|3|4]) image")
    h, w = a.shape[:2]
    if h == 0 or w == 0:
        raise UnsupportedMediaError(f"array image is empty: shape {a.shape}")
    if h * w > max_pixels:
        raise _bomb(w, h, max_pixels, "<array>")
    if a.dtype == np.uint8:
        a8 = a
    elif a.dtype == np.bool_:
        a8 = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a8 = (a >> 8).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        a8 = _int_to_uint8(a)
    elif np.issubdtype(a.dtype, np.floating):
        a8 = _float_to_uint8(a, strict=True)
    else:
        raise UnsupportedMediaError(f"unsupported array dtype {a.dtype}")
    if a8.ndim == 2:
        return _gray_to_rgb(a8)
    if a8.shape[2] == 4:
        return _composite_over_white(a8)
    return np.array(a8, dtype=np.uint8, order="C", copy=True)
