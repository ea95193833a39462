"""perturb: ForgeryNet-style post-processing; *not* a forgery (label 0, empty mask).

The writer applies it with the same probability to real and fake samples, so compression, blur
or resampling never separate the classes. One to three operations (JPEG, resize, blur, noise,
colour, gamma, sharpening, an H.264 / H.265 round trip) in random order, or the
``social`` chain (downscale, JPEG, upscale, optional sharpening, JPEG again) that mimics a
social-media re-upload. Output size always equals input size.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...eval import robustness  # one definition of each degradation primitive
from ..registry import Family, register_family
from ..types import FaceSource, SynthResult

OPS = ("jpeg", "resize", "blur", "noise", "color", "gamma", "sharpen", "video_codec")
# video_codec: a round trip through H.264 (libx264) or H.265 (libx265) at a random CRF, as a face in
# a delivered video has been (facetrust.eval.robustness.video_codec); H.264 is the common one.
VIDEO_CODEC_P = {"h264": 0.7, "h265": 0.3}
VIDEO_CRF = (20, 40)  # inclusive: near-transparent to heavily compressed web video


def _jpeg(img: np.ndarray, q: int) -> np.ndarray:
    return robustness.jpeg(img, q)


def _resize(img: np.ndarray, f: float, interp: int) -> np.ndarray:
    return robustness.resize(img, f, interpolation=interp)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def apply_op(img: np.ndarray, op: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One post-processing operation with random strength; returns (image, its parameters)."""
    if op == "jpeg":
        q = int(rng.integers(30, 96))
        return _jpeg(img, q), {"op": op, "quality": q}
    if op == "resize":
        f = float(rng.uniform(0.4, 0.9))
        name = str(rng.choice(["linear", "cubic", "area"]))
        interp = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}[name]
        return _resize(img, f, interp), {"op": op, "factor": round(f, 3), "interp": name}
    if op == "blur":
        s = float(rng.uniform(0.3, 1.5))
        return cv2.GaussianBlur(img, (0, 0), s), {"op": op, "sigma": round(s, 3)}
    if op == "noise":
        s = float(rng.uniform(1.0, 8.0))
        return _u8(img.astype(np.float32) + rng.normal(0, s, img.shape).astype(np.float32)), {"op": op, "sigma": round(s, 3)}
    if op == "color":
        b, c, sat = rng.uniform(-0.15, 0.15), rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.3)
        x = img.astype(np.float32)
        x = (x - 127.5) * c + 127.5 + 255 * b
        g = x.mean(2, keepdims=True)
        x = g + (x - g) * sat
        return _u8(x), {"op": op, "brightness": round(float(b), 3), "contrast": round(float(c), 3), "saturation": round(float(sat), 3)}
    if op == "gamma":
        g = float(rng.uniform(0.7, 1.4))
        lut = _u8(255.0 * (np.arange(256) / 255.0) ** g)
        return cv2.LUT(img, lut), {"op": op, "gamma": round(g, 3)}
    if op == "video_codec":
        codec = str(rng.choice(list(VIDEO_CODEC_P), p=list(VIDEO_CODEC_P.values())))
        crf = int(rng.integers(VIDEO_CRF[0], VIDEO_CRF[1] + 1))
        return robustness.video_codec(img, crf, codec), {"op": op, "codec": codec, "crf": crf}
    if op == "sharpen":
        a = float(rng.uniform(0.3, 1.5))
        blur = cv2.GaussianBlur(img, (0, 0), 1.0).astype(np.float32)
        return _u8(img.astype(np.float32) * (1 + a) - blur * a), {"op": op, "amount": round(a, 3)}
    raise ValueError(f"unknown perturbation {op!r}; known: {OPS}")


@register_family
class Perturb(Family):
    name = "perturb"
    label = 0
    defaults = {"ops": OPS, "social_probability": 0.3, "max_ops": 3}

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        """Post-process ``image``; returns (image, {"chain": ..., "ops": [...]})."""
        if rng.random() < self.options["social_probability"]:
            f = float(rng.uniform(0.5, 0.8))
            q1, q2 = int(rng.integers(60, 86)), int(rng.integers(70, 91))
            h, w = image.shape[:2]
            small = cv2.resize(image, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
            small = _jpeg(small, q1)
            out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            ops = [{"op": "resize_down", "factor": round(f, 3)}, {"op": "jpeg", "quality": q1}, {"op": "resize_up"}]
            if rng.random() < 0.5:
                out, p = apply_op(out, "sharpen", rng)
                ops.append(p)
            out = _jpeg(out, q2)
            ops.append({"op": "jpeg", "quality": q2})
            return out, {"chain": "social", "ops": ops}
        n = int(rng.integers(1, self.options["max_ops"] + 1))
        chosen = rng.choice(list(self.options["ops"]), size=min(n, len(self.options["ops"])), replace=False)
        out, ops = image, []
        for op in chosen:
            out, p = apply_op(out, str(op), rng)
            ops.append(p)
        return out, {"chain": "random", "ops": ops}

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        out, params = self.apply(target.crop, rng)
        mask = np.zeros(target.crop.shape[:2], np.float32)
        return SynthResult(out, mask, self.name, params, (target.source_id,), label=0)
