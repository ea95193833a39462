"""Seed media of every supported format and byte-level mutations of them (issue 13's fuzz suite).

Shared by ``test_hardening_fuzz.py`` (hypothesis draws the mutations) and ``benchmarks/fuzz.py``
(a seeded ``random.Random`` draws them). Seeds are made here from a wheel-shipped face photo, small
enough that one scan takes milliseconds, with a face so the detectors run too.
"""

from __future__ import annotations

import io
import random
import struct
from dataclasses import dataclass

import numpy as np

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
# (container, codec, pixel format): each a different demuxer / decoder path of FFmpeg.
VIDEO_FORMATS = (
    ("mp4", "mpeg4", "yuv420p"),
    ("mp4", "libx264", "yuv420p"),
    ("matroska", "libvpx", "yuv420p"),
    ("webm", "libvpx-vp9", "yuv420p"),
    ("avi", "mjpeg", "yuvj420p"),
    ("mpegts", "mpeg2video", "yuv420p"),
    ("mov", "png", "rgb24"),
    ("flv", "flv", "yuv420p"),
)
# Values that make length / count fields lie (the poison stts of issue 13 was one).
INTERESTING_INT32 = (0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
OPS = ("flip", "overwrite", "truncate", "insert", "delete", "int32", "duplicate")


def face_image(side: int = 128) -> np.ndarray:  # the face clears the quality gate's 32 px
    import cv2
    import skimage.data

    face = skimage.data.astronaut()[0:300, 100:400]  # the astronaut's head and shoulders
    return cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)


def image_seed(fmt: str, image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    kwargs = {"quality": 80} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(image).save(buf, fmt, **kwargs)
    return buf.getvalue()


def video_seed(container: str, codec: str, pix_fmt: str, image: np.ndarray, n_frames: int = 4) -> bytes:
    import av

    h, w = image.shape[:2]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(image, 2 * i, axis=1)), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def make_seeds() -> dict[str, bytes]:
    """``{name: bytes}``: one valid file per image format and per video container/codec that encodes."""
    image = face_image()
    seeds = {f"image.{fmt.lower()}": image_seed(fmt, image) for fmt in IMAGE_FORMATS}
    for container, codec, pix_fmt in VIDEO_FORMATS:
        try:
            seeds[f"video.{container}.{codec}"] = video_seed(container, codec, pix_fmt, image)
        except Exception:  # an encoder missing from this PyAV build: that format is not seeded
            continue
    return seeds


@dataclass(frozen=True)
class Mutation:
    """One edit: ``op`` at ``where`` (a fraction of the length, squared to favour headers)."""

    op: str
    where: float
    payload: bytes = b""
    value: int = 0

    def apply(self, data: bytes) -> bytes:
        n = len(data)
        at = min(max(n - 1, 0), int(n * self.where * self.where))
        if self.op == "flip":
            return data[:at] + bytes([data[at] ^ (1 << (self.value % 8))]) + data[at + 1 :] if n else data
        if self.op == "overwrite":
            return data[:at] + self.payload + data[at + len(self.payload) :]
        if self.op == "truncate":
            return data[: max(at, 1)]
        if self.op == "insert":
            return data[:at] + self.payload + data[at:]
        if self.op == "delete":
            return data[:at] + data[at + 1 + self.value % 4096 :]
        if self.op == "int32":
            field = struct.pack(">I", self.value & 0xFFFFFFFF)
            if self.value & (1 << 32):
                field = field[::-1]  # little-endian formats (BMP, RIFF, TIFF II) too
            return data[:at] + field + data[at + 4 :]
        if self.op == "duplicate":
            chunk = data[at : at + 1 + self.value % 2048]
            return data[:at] + chunk + data[at:]
        raise ValueError(f"unknown mutation {self.op!r}")


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    for m in mutations:
        data = m.apply(data)
    return data


def random_mutations(rng: random.Random, max_mutations: int = 4) -> list[Mutation]:
    out = []
    for _ in range(rng.randint(1, max_mutations)):
        op = rng.choice(OPS)
        value = rng.choice(INTERESTING_INT32) | (rng.getrandbits(1) << 32) if op == "int32" else rng.getrandbits(16)
        payload = rng.randbytes(rng.randint(1, 64)) if op in ("overwrite", "insert") else b""
        out.append(Mutation(op, rng.random(), payload, value))
    return out


def known_error_types() -> set[str]:
    """Every ``error_type`` a scan may report on purpose (the typed errors and out-of-memory)."""
    from facetrust import errors

    codes = {"out_of_memory"}
    for obj in vars(errors).values():
        if isinstance(obj, type) and issubclass(obj, errors.FacetrustError):
            codes.add(obj.code)
    return codes
