"""Shared fixtures. Test media is made here, from images that installed wheels ship."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    import matplotlib.cbook as cbook
    from PIL import Image

    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory) -> dict[str, Path]:
    """The demo's sample media (made from wheel-shipped images), built once per session."""
    from facetrust.demo import build_samples

    out = tmp_path_factory.mktemp("demo")
    paths = build_samples(out)
    return {p.name: p for p in paths}


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory, demo_media) -> dict[str, Path]:
    """One file per kind of bad input, each made here."""
    import av

    d = tmp_path_factory.mktemp("bad")
    good_jpg = demo_media["grace_hopper.jpg"].read_bytes()
    video = demo_media["hopper_half_forged.mp4"].read_bytes()
    files = {
        "empty.jpg": b"",
        "text.jpg": b"just some text, not an image\n" * 10,
        "truncated.jpg": good_jpg[: len(good_jpg) // 3],
        "truncated.mp4": video[: len(video) // 5],
        "garbage.mp4": bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8)),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    # A 30000x30000 PNG: a valid header declaring 900 MP (the bomb must be refused unread).
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    (d / "bomb.png").write_bytes(bomb)
    # An audio-only MP4: a container with no video stream.
    with av.open(str(d / "audio_only.mp4"), "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(10):
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return {p.name: p for p in d.iterdir()}
