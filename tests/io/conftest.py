"""Synthetic media for the facetrust.io tests: every frame carries its index as a binary code.

Frame layout (W x H = 128 x 96 by default): a top band of BITS blocks (white = 1, black = 0) that
spells the frame index, a saturated red patch bottom-left (to catch channel-order mistakes), and an
optional per-frame noise area (bottom-right) that makes packets big and incompressible.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

BITS = 10
BLOCK = 12
RED = (220, 30, 30)


def frame_image(index: int, w: int = 128, h: int = 96, noise: bool = False) -> np.ndarray:
    img = np.full((h, w, 3), 60 + (index * 7) % 100, np.uint8)
    for b in range(BITS):
        x0 = 4 + b * BLOCK
        img[2:22, x0 : x0 + BLOCK - 2] = 235 if (index >> b) & 1 else 16
    img[h - 24 :, :32] = RED
    if noise:
        rng = np.random.default_rng(index)
        img[32:, 40:] = rng.integers(0, 256, (h - 32, w - 40, 3), dtype=np.uint8)
    return img


def frame_number(img: np.ndarray) -> int:
    """Read back the index drawn by :func:`frame_image` (robust to lossy coding)."""
    value = 0
    for b in range(BITS):
        x0 = 4 + b * BLOCK
        if img[6:18, x0 + 2 : x0 + BLOCK - 4].mean() > 128:
            value |= 1 << b
    return value


def _pick_codec() -> str:
    import av

    for name in ("libx264", "mpeg4"):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - missing encoder in this wheel
            continue
    pytest.skip("no H.264 or MPEG-4 encoder in this PyAV build")


def write_video(
    path: Path,
    n: int,
    *,
    w: int = 128,
    h: int = 96,
    fps: int = 25,
    codec: str | None = None,
    options: dict | None = None,
    fmt: str | None = None,
    rotation: int | None = None,
    noise: bool = False,
    times_ms: list[int] | None = None,
) -> Path:
    """Encode frames 0..n-1 (or one frame per entry of ``times_ms``, variable frame rate)."""
    import av

    codec = codec or _pick_codec()
    with av.open(str(path), "w", format=fmt, options=options or {}) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            s.options = {"crf": "18", "preset": "ultrafast" if not noise else "veryfast"}
        if times_ms is not None:
            s.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            s.set_display_rotation(rotation)
        count = len(times_ms) if times_ms is not None else n
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(frame_image(i, w, h, noise), format="rgb24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[i], Fraction(1, 1000)
            for packet in s.encode(frame):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return path


def write_audio_only(path: Path) -> Path:
    import av

    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=16000)
        for k in range(10):
            fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            fr.sample_rate, fr.pts = 16000, k * 1024
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("io_media")


@pytest.fixture(scope="session")
def mp4_40(media_dir) -> Path:
    """40 frames, 25 fps, moov at the end (the default MP4 layout)."""
    return write_video(media_dir / "forty.mp4", 40)


@pytest.fixture
def make_video():
    return write_video


@pytest.fixture
def make_audio_only():
    return write_audio_only


@pytest.fixture
def frame_index():
    return frame_number


@pytest.fixture
def make_frame():
    return frame_image
