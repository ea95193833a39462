"""Defect 3 of issue 13: memory is bounded by the decoded size, not only the pixel count.

A 10000 x 10000 RGBA PNG of ~400 KB reached 3.0 GB of RSS; now the decoded bytes are checked from the
header (WebP counted with its decoder's copies), JPEG is decoded reduced when over a limit, and the
conversion to RGB runs in strips, so any accepted image stays well under 1.5 GB.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facetrust.errors import DecompressionBombError
from facetrust.io import load_image
from facetrust.io.image import DEFAULT_MAX_DECODED_BYTES, decoded_bytes, image_size

SRC = Path(__file__).resolve().parents[2] / "src"
PEAK_LIMIT_MB = 1536


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def rgba_png(path: Path, w: int, h: int) -> Path:
    """A ``w`` x ``h`` 8-bit RGBA PNG of half-transparent red stripes: a few hundred KB on disk."""
    row = b"\x00" + bytes([255, 0, 0, 128]) * w
    comp = zlib.compressobj(1)
    parts = [comp.compress(row * 100) for _ in range(h // 100)] + [comp.compress(row * (h % 100)), comp.flush()]
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts))
                     + _chunk(b"IEND", b""))
    return path


def _encode(a: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt, **kw)
    return buf.getvalue()


def test_decoded_bytes_is_width_height_channels_sample_size():
    assert decoded_bytes("RGBA", 10, 20) == 800
    assert decoded_bytes("RGB", 10, 20) == 600
    assert decoded_bytes("I;16", 10, 20) == 400
    assert decoded_bytes("F", 10, 20) == 800
    assert decoded_bytes("L", 10, 20) == 200


def test_over_the_decoded_byte_limit_is_refused_before_decoding(tmp_path):
    png = rgba_png(tmp_path / "rgba.png", 1000, 1000)  # 4 MB decoded
    with pytest.raises(DecompressionBombError, match="needs 4000000 bytes"):
        load_image(png, max_decoded_bytes=3_999_999)
    assert load_image(png, max_decoded_bytes=4_000_000).shape == (1000, 1000, 3)


def test_webp_counts_its_decoder_copies(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (500, 600, 3), dtype=np.uint8)
    webp, png = _encode(a, "WEBP", quality=80), _encode(a, "PNG")
    limit = 600 * 500 * 4 * 3 - 1  # the WebP decoder's three RGBA copies do not fit, one RGB raster does
    with pytest.raises(DecompressionBombError, match="WEBP"):
        load_image(webp, max_decoded_bytes=limit)
    np.testing.assert_array_equal(load_image(png, max_decoded_bytes=limit), a)


def test_a_jpeg_over_the_limit_is_decoded_reduced_not_refused():
    a = np.zeros((2000, 3000, 3), np.uint8)
    a[:, :1500] = (200, 40, 40)
    a[:, 1500:] = (40, 40, 200)
    data = _encode(a, "JPEG", quality=90)
    assert image_size(data) == (3000, 2000)
    out = load_image(data, max_pixels=2_000_000)  # 6 MP -> 1/2 scale = 1.5 MP
    assert out.shape == (1000, 1500, 3)
    assert np.abs(out[:, :700].astype(int) - (200, 40, 40)).mean() < 8
    assert np.abs(out[:, 800:].astype(int) - (40, 40, 200)).mean() < 8
    with pytest.raises(DecompressionBombError):  # even 1/8 would not fit: refused
        load_image(data, max_pixels=1000)
    with pytest.raises(DecompressionBombError):  # a PNG cannot be decoded reduced: refused
        load_image(_encode(a, "PNG"), max_pixels=2_000_000)


@pytest.mark.slow
def test_a_10000_square_rgba_png_scans_within_the_memory_bound(tmp_path):
    png = rgba_png(tmp_path / "rgba_10000.png", 10000, 10000)
    assert png.stat().st_size < 3_000_000 and decoded_bytes("RGBA", 10000, 10000) <= DEFAULT_MAX_DECODED_BYTES
    script = (
        "import resource, sys\n"
        "from facetrust.pipeline import Scanner\n"
        "r = Scanner(detectors=('noise_residual',)).scan(sys.argv[1])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(r.verdict, r.error_type, r.width, r.height, peak)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    res = subprocess.run([sys.executable, "-c", script, str(png)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    verdict, error_type, w, h, peak = res.stdout.split()[-5:]
    assert (verdict, error_type, w, h) == ("not_applicable", "None", "10000", "10000")
    assert float(peak) <= PEAK_LIMIT_MB, f"peak RSS {float(peak):.0f} MB"  # was 3.0 GB


def test_video_frames_above_the_frame_byte_limit_are_refused(tmp_path):
    import av

    from facetrust.io import open_media
    from facetrust.io.video import MAX_FRAME_BYTES

    assert 7680 * 4320 * 3 <= MAX_FRAME_BYTES  # 8K UHD still scans
    side = 6000  # 36 MP: under the pixel limit, over the frame byte limit (a 100 MP one peaked at 2.5 GB)
    path = tmp_path / "huge_frames.mov"
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = side, side, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((side, side, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(DecompressionBombError, match="bytes each as RGB"):
        open_media(path)
