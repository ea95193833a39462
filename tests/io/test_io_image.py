from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from facetrust.errors import (
    CorruptMediaError,
    DecompressionBombError,
    EmptyFileError,
    MediaError,
    UnsupportedMediaError,
)
from facetrust.io import DEFAULT_MAX_PIXELS, image_size, load_image

SRC = Path(__file__).resolve().parents[2] / "src"


def quadrants(h: int = 40, w: int = 60) -> np.ndarray:
    """Four flat colours, asymmetric so every rotation/flip is distinguishable."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (230, 20, 20)
    a[: h // 2, w // 2 :] = (20, 230, 20)
    a[h // 2 :, : w // 2] = (20, 20, 230)
    a[h // 2 :, w // 2 :] = (240, 240, 30)
    return a


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bilevel_png(path: Path, w: int, h: int) -> Path:
    """A real, valid w x h 1-bit PNG, all black: ~w*h/8 bytes raw, compressed to almost nothing.

    Built row by row with a streaming compressor, so the test itself never holds the raw pixels.
    """
    row = b"\x00" * (1 + (w + 7) // 8)
    comp = zlib.compressobj(1)
    idat = b"".join([comp.compress(row * 500) for _ in range(h // 500)] + [comp.compress(row * (h % 500)), comp.flush()])
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bombs")
    return {
        # above Pillow's own hard limit (2 x MAX_IMAGE_PIXELS ~ 179 MP): refused inside Image.open
        "huge": bilevel_png(d / "bomb_30000.png", 30000, 30000),
        # 108 MP: above our 100 MP default but below Pillow's hard limit -> only our check stops it
        "big": bilevel_png(d / "bomb_12000x9000.png", 12000, 9000),
    }


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}),
                                    ("TIFF", {"compression": "tiff_lzw"})])
def test_lossless_formats_roundtrip_exactly(tmp_path, fmt, kw):
    a = quadrants()
    p = tmp_path / f"img.{fmt.lower()}"
    p.write_bytes(encode(Image.fromarray(a), fmt, **kw))
    out = load_image(p)
    assert out.dtype == np.uint8 and out.shape == a.shape and out.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(out, a)
    assert image_size(p) == (60, 40)


def test_jpeg_and_lossy_webp_close(tmp_path):
    a = quadrants()
    for fmt in ("JPEG", "WEBP"):
        out = load_image(encode(Image.fromarray(a), fmt, quality=95))
        assert out.shape == a.shape
        assert np.abs(out.astype(int) - a).mean() < 6


@pytest.mark.parametrize("orientation,turn", [(1, lambda a: a), (3, lambda a: np.rot90(a, 2)),
                                              (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1)),
                                              (2, lambda a: a[:, ::-1])])
def test_exif_orientation_is_applied(tmp_path, orientation, turn):
    a = quadrants()
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / "oriented.jpg"
    p.write_bytes(encode(Image.fromarray(a), "JPEG", quality=95, exif=exif))
    out = load_image(p)
    expected = turn(a)  # EXIF 6 = rotate 90 clockwise to display, 8 = counter-clockwise
    assert out.shape == expected.shape
    assert np.abs(out.astype(int) - expected).mean() < 6
    assert image_size(p) == (expected.shape[1], expected.shape[0])


def test_16bit_grayscale_png_and_tiff_keep_high_byte(tmp_path):
    g16 = (np.arange(40 * 60, dtype=np.uint32).reshape(40, 60) * 27 % 65536).astype(np.uint16)
    expected = np.repeat((g16 >> 8).astype(np.uint8)[..., None], 3, axis=2)
    for fmt in ("PNG", "TIFF"):
        im = Image.fromarray(g16)
        data = encode(im, fmt)
        assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really stored as 16-bit
        np.testing.assert_array_equal(load_image(data), expected)


def test_16bit_rgb_png(tmp_path):
    cv2 = pytest.importorskip("cv2")
    rgb16 = np.random.default_rng(1).integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    ok, buf = cv2.imencode(".png", rgb16[..., ::-1])  # cv2 writes BGR
    assert ok
    np.testing.assert_array_equal(load_image(buf.tobytes()), (rgb16 >> 8).astype(np.uint8))


def test_grayscale_and_bilevel(tmp_path):
    g = np.random.default_rng(2).integers(0, 256, (30, 20), dtype=np.uint8)
    out = load_image(encode(Image.fromarray(g), "PNG"))
    assert out.shape == (30, 20, 3)
    np.testing.assert_array_equal(out, np.stack([g, g, g], axis=2))
    bits = Image.fromarray(g > 127).convert("1")
    out = load_image(encode(bits, "PNG"))
    np.testing.assert_array_equal(out[..., 0], np.where(g > 127, 255, 0))


def test_rgba_composited_over_white():
    a = np.zeros((2, 3, 4), np.uint8)
    a[0, 0] = (200, 10, 10, 255)  # opaque -> unchanged
    a[0, 1] = (200, 10, 10, 0)  # transparent -> white
    a[0, 2] = (0, 0, 0, 128)  # half black over white -> ~127
    a[1] = (10, 100, 200, 64)
    out = load_image(encode(Image.fromarray(a, "RGBA"), "PNG"))
    assert tuple(out[0, 0]) == (200, 10, 10)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert tuple(out[0, 2]) == (127, 127, 127)
    expected = np.round(np.array([10, 100, 200]) * 64 / 255 + 255 * (1 - 64 / 255))
    np.testing.assert_allclose(out[1, 0], expected, atol=1)
    # la (gray + alpha) goes through the same path
    la = Image.fromarray(np.array([[[0, 0], [50, 255]]], np.uint8), "LA")
    np.testing.assert_array_equal(load_image(encode(la, "PNG"))[0], [[255, 255, 255], [50, 50, 50]])


def test_palette_with_and_without_transparency():
    a = quadrants()
    p = Image.fromarray(a).quantize(colors=4)
    assert p.mode == "P"
    np.testing.assert_array_equal(load_image(encode(p, "PNG")), a)
    # palette index of the red quadrant marked transparent -> white there
    red_index = p.getpixel((0, 0))
    out = load_image(encode(p, "PNG", transparency=red_index))
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[-1, -1]) == (240, 240, 30)
    gif = load_image(encode(p, "GIF"))
    np.testing.assert_array_equal(gif, a)


def test_cmyk_jpeg():
    cmyk = np.zeros((16, 32, 4), np.uint8)
    cmyk[:, :16] = (0, 255, 255, 0)  # red
    cmyk[:, 16:] = (255, 0, 255, 0)  # green
    data = encode(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = load_image(data).astype(int)
    assert np.abs(out[4:12, 2:12] - (255, 0, 0)).max() < 12
    assert np.abs(out[4:12, 20:30] - (0, 255, 0)).max() < 12


# --------------------------------------------------------------------------- array inputs


def test_array_inputs_convert_and_never_alias():
    a = quadrants()
    out = load_image(a)
    np.testing.assert_array_equal(out, a)
    assert not np.shares_memory(out, a)
    np.testing.assert_array_equal(load_image(np.asfortranarray(a)), a)
    assert load_image(np.asfortranarray(a)).flags["C_CONTIGUOUS"]
    g = a[..., 0]
    np.testing.assert_array_equal(load_image(g), np.stack([g] * 3, axis=2))
    np.testing.assert_array_equal(load_image(g[..., None]), np.stack([g] * 3, axis=2))
    np.testing.assert_array_equal(load_image(a.astype(np.uint16) * 257), a)  # 16-bit -> high byte
    np.testing.assert_array_equal(load_image(a.astype(np.float32) / 255.0), a)
    assert load_image(np.ones((2, 2), bool))[0, 0, 0] == 255
    rgba = np.dstack([a, np.zeros(a.shape[:2], np.uint8)])
    assert (load_image(rgba) == 255).all()


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 2), np.uint8), np.zeros((5,), np.uint8), np.zeros((0, 4, 3), np.uint8),
                                 np.full((3, 3, 3), 2.0), np.full((3, 3), np.nan, np.float32),
                                 np.zeros((3, 3, 3), np.complex64)])
def test_bad_arrays_are_unsupported(bad):
    with pytest.raises(UnsupportedMediaError):
        load_image(bad)


# --------------------------------------------------------------------------- bad inputs


def test_missing_and_directory_and_empty(tmp_path):
    with pytest.raises(MediaError) as e:
        load_image(tmp_path / "nope.jpg")
    assert e.value.code == "media_error" and "not found" in str(e.value)
    with pytest.raises(MediaError):
        load_image(tmp_path)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        load_image(empty)
    with pytest.raises(EmptyFileError):
        load_image(b"")


def test_text_named_jpg_is_unsupported(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("this is not a picture\n" * 20)
    with pytest.raises(UnsupportedMediaError):
        load_image(p)
    with pytest.raises(UnsupportedMediaError):
        image_size(p)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_jpeg_is_corrupt_not_grey_filled(tmp_path, keep):
    noise = np.random.default_rng(3).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "JPEG", quality=90)
    p = tmp_path / "cut.jpg"
    p.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptMediaError):
        load_image(p)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_and_damaged_png(tmp_path):
    noise = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    with pytest.raises(CorruptMediaError):
        load_image(data[: len(data) // 2])
    with pytest.raises(CorruptMediaError):
        load_image(data[:20])  # magic bytes, then the header breaks off
    damaged = bytearray(data)
    damaged[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    with pytest.raises(CorruptMediaError):
        load_image(bytes(damaged))


def test_bombs_refused_fast_from_the_header(bombs):
    for key in ("huge", "big"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not leak out
            with pytest.raises(DecompressionBombError):
                load_image(bombs[key])
        assert time.perf_counter() - t0 < 1.0
    # our limit is configurable; Pillow's warning threshold (~89 MP) is not what decides
    assert image_size(bombs["big"]) == (12000, 9000)
    with pytest.raises(DecompressionBombError):
        load_image(encode(Image.fromarray(quadrants()), "PNG"), max_pixels=1000)
    with pytest.raises(DecompressionBombError):
        load_image(quadrants(), max_pixels=1000)
    assert load_image(quadrants(), max_pixels=2400).shape == (40, 60, 3)
    assert DEFAULT_MAX_PIXELS == 100_000_000


def test_bombs_do_not_allocate(bombs):
    """Peak RSS of a fresh interpreter barely moves: the 108 MP / 900 MP rasters are never allocated."""
    script = (
        "import resource, sys\n"
        "from facetrust.io import load_image\n"
        "from facetrust.errors import DecompressionBombError\n"
        "import PIL.PngImagePlugin\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        load_image(p)\n"
        "    except DecompressionBombError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('not refused')\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    res = subprocess.run([sys.executable, "-c", script, str(bombs["big"]), str(bombs["huge"])],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    grew_mb = float(res.stdout.strip())
    assert grew_mb < 30, f"peak RSS grew by {grew_mb:.0f} MB"  # decoding 'big' alone would need > 100 MB
