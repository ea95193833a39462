"""Deterministic perturbations at fixed levels, for the robustness protocol.

``perturb(image, name, level)`` is a pure function: the same RGB uint8 image, name and level always
give the same bytes (the Gaussian noise is seeded from the image content and the level). Each
perturbation is applied to the *decoded* frame before face detection, as a re-upload would be.

Sweep (``SWEEP``; level order = increasing severity):

- ``jpeg``: re-encode with OpenCV's libjpeg at quality 90, 70, 50, 30 (4:2:0 chroma, the default).
- ``resize``: area-downscale by 0.75, 0.5, 0.25, then bilinear back to the original size.
- ``blur``: Gaussian blur, sigma 0.5, 1, 2 pixels (kernel 2 * ceil(3 sigma) + 1, reflected borders).
- ``noise``: additive Gaussian noise, sigma 2, 5, 10 grey levels, rounded and clipped to [0, 255].

Not in the default sweep, named explicitly (``h264:28``): ``h264`` / ``h265``, a video-codec round
trip at a CRF (:func:`video_codec`).

``facetrust.synth.families.perturb`` draws *random* strengths of the same primitives (``jpeg``,
``resize``) for data augmentation; these are the fixed-level sweeps.
"""

from __future__ import annotations

import math
import zlib

import cv2
import numpy as np

SWEEP: dict[str, tuple[float, ...]] = {
    "jpeg": (90, 70, 50, 30),
    "resize": (0.75, 0.5, 0.25),
    "blur": (0.5, 1.0, 2.0),
    "noise": (2.0, 5.0, 10.0),
}
# What a level means, for labels in reports.
LEVEL_UNITS = {"jpeg": "quality", "resize": "scale", "blur": "sigma px", "noise": "sigma grey levels",
               "h264": "CRF", "h265": "CRF"}
CLEAN = "clean"


def _check(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {a.dtype} {a.shape}")
    return a


def jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    """Re-encode as JPEG at ``quality`` (1-100) and decode again."""
    q = int(round(quality))
    if not 1 <= q <= 100:
        raise ValueError(f"JPEG quality must be in [1, 100], got {quality}")
    a = _check(image)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:  # pragma: no cover - OpenCV failing to encode a valid array
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, scale: float, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Area-downscale by ``scale`` in (0, 1], then back up to the original size (bilinear unless
    ``interpolation`` says otherwise)."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"resize scale must be in (0, 1], got {scale}")
    a = _check(image)
    if scale == 1.0:
        return a.copy()
    h, w = a.shape[:2]
    small = cv2.resize(a, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=interpolation)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel 2 * ceil(3 sigma) + 1)."""
    if sigma < 0:
        raise ValueError(f"blur sigma must be >= 0, got {sigma}")
    a = _check(image)
    if sigma == 0:
        return a.copy()
    k = 2 * math.ceil(3 * sigma) + 1
    return cv2.GaussianBlur(a, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def noise(image: np.ndarray, sigma: float) -> np.ndarray:
    """Add N(0, sigma^2) noise per pixel and channel; the generator is seeded by crc32(pixels) and
    the level, so the result is a pure function of its inputs (and differs between images)."""
    if sigma < 0:
        raise ValueError(f"noise sigma must be >= 0, got {sigma}")
    a = np.ascontiguousarray(_check(image))
    if sigma == 0:
        return a.copy()
    seed = [zlib.crc32(a.data), *a.shape, int(round(sigma * 1000))]
    rng = np.random.default_rng(seed)
    out = a.astype(np.float32) + rng.normal(0.0, sigma, a.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# Video codecs of the round trip: name -> (PyAV encoder, decoder, encoder options). The PyAV wheels
# bundle FFmpeg with libx264 and libx265, so this runs offline. One thread each: deterministic
# output and no oversubscription on a shared machine.
VIDEO_CODECS: dict[str, tuple[str, str, dict[str, str]]] = {
    "h264": ("libx264", "h264", {"preset": "veryfast", "threads": "1"}),
    "h265": ("libx265", "hevc", {"preset": "veryfast",
                                 "x265-params": "log-level=none:pools=none:frame-threads=1:lookahead-threads=0"}),
}
VIDEO_CLIP_FRAMES = 3  # the image repeated 3 times; the last frame (predicted, not the key frame) comes back


def video_codec(image: np.ndarray, crf: float, codec: str = "h264") -> np.ndarray:
    """Round trip through a video codec at constant rate factor ``crf`` (0-51; 23 is x264's default,
    higher = smaller and blockier): encode a short clip of the image repeated
    (:data:`VIDEO_CLIP_FRAMES`, yuv420p, 4:2:0 chroma as in nearly all delivered video) and decode
    its last frame back. Odd sizes are edge-padded to even for 4:2:0 and cropped back. Deterministic."""
    import av
    from fractions import Fraction

    if codec not in VIDEO_CODECS:
        raise ValueError(f"unknown video codec {codec!r}; known: {', '.join(VIDEO_CODECS)}")
    q = int(round(crf))
    if not 0 <= q <= 51:
        raise ValueError(f"CRF must be in [0, 51], got {crf}")
    a = _check(image)
    h, w = a.shape[:2]
    padded = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if (h | w) & 1 else a
    enc_name, dec_name, options = VIDEO_CODECS[codec]
    enc = av.CodecContext.create(enc_name, "w")
    enc.width, enc.height, enc.pix_fmt = padded.shape[1], padded.shape[0], "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, 25), Fraction(25)
    enc.options = {**options, "crf": str(q)}
    packets = []
    for i in range(VIDEO_CLIP_FRAMES):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
        frame.pts = i
        packets += enc.encode(frame)
    packets += enc.encode(None)
    dec = av.CodecContext.create(dec_name, "r")
    frames = []
    for p in packets:
        frames += dec.decode(p)
    frames += dec.decode(None)
    if not frames:  # pragma: no cover - an encoder that returned nothing for a valid image
        raise RuntimeError(f"{codec} round trip returned no frame")
    return np.ascontiguousarray(frames[-1].to_ndarray(format="rgb24")[:h, :w])


def h264(image: np.ndarray, crf: float) -> np.ndarray:
    """H.264 (libx264) round trip at ``crf``, see :func:`video_codec`."""
    return video_codec(image, crf, "h264")


def h265(image: np.ndarray, crf: float) -> np.ndarray:
    """H.265 / HEVC (libx265) round trip at ``crf``, see :func:`video_codec`."""
    return video_codec(image, crf, "h265")


# Every perturbation a condition can name (NAME:LEVEL); the default sweep is SWEEP's subset.
_OPS = {"jpeg": jpeg, "resize": resize, "blur": blur, "noise": noise, "h264": h264, "h265": h265}


def perturb(image: np.ndarray, name: str, level: float) -> np.ndarray:
    """Apply perturbation ``name`` at ``level`` (see the module docstring); returns a new image."""
    if name == CLEAN:
        return _check(image)
    if name not in _OPS:
        raise ValueError(f"unknown perturbation {name!r}; known: {', '.join(_OPS)}")
    return _OPS[name](image, level)


def condition_name(name: str, level: float | None = None) -> str:
    """``"jpeg:30"``, ``"blur:0.5"``; ``"clean"`` for no perturbation."""
    if name == CLEAN or level is None:
        return CLEAN
    return f"{name}:{level:g}"


def parse_condition(text: str) -> tuple[str, float | None]:
    """Inverse of :func:`condition_name` (``"clean"`` -> ``("clean", None)``)."""
    if text == CLEAN:
        return CLEAN, None
    name, sep, level = text.partition(":")
    if not sep or name not in _OPS:
        raise ValueError(f"bad perturbation {text!r}: expected NAME:LEVEL with NAME in {', '.join(_OPS)}")
    return name, float(level)


def sweep_conditions(names: tuple[str, ...] | list[str] | None = None) -> list[tuple[str, float]]:
    """The (name, level) pairs of the sweep for the given perturbation names (default: all), or for
    explicit ``NAME:LEVEL`` items."""
    out: list[tuple[str, float]] = []
    for n in names or list(SWEEP):
        if ":" in n:
            name, level = parse_condition(n)
            out.append((name, float(level)))  # type: ignore[arg-type]
        elif n in SWEEP:
            out += [(n, float(v)) for v in SWEEP[n]]
        else:
            raise ValueError(f"unknown perturbation {n!r}; known: {', '.join(SWEEP)}")
    return out


__all__ = [
    "CLEAN",
    "LEVEL_UNITS",
    "SWEEP",
    "VIDEO_CODECS",
    "blur",
    "condition_name",
    "h264",
    "h265",
    "jpeg",
    "noise",
    "parse_condition",
    "perturb",
    "resize",
    "sweep_conditions",
    "video_codec",
]
