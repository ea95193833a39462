"""self_blend: Self-Blended Images (Shiohara & Yamasaki, CVPR 2022).

The face is blended with a copy of itself that was colour-jittered, filtered (blur, sharpen or
down-up resampling) and slightly shifted/scaled, through a randomly deformed, eroded/dilated and
blurred landmark-hull mask. The blend leaves the subtle boundary and statistics mismatches that
generic face-forgery detectors should learn, with no identity change at all.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..blend import alpha_blend
from ..color import jitter_color
from ..masks import random_face_mask
from ..registry import Family, register_family
from ..types import FaceSource, SynthResult


def frequency_jitter(image: np.ndarray, rng: np.random.Generator, kind: str) -> tuple[np.ndarray, dict]:
    """Blur, sharpen or down-up resample ``image`` (``kind`` = none/blur/sharpen/downup)."""
    if kind == "blur":
        sigma = float(rng.uniform(0.5, 1.5))
        return cv2.GaussianBlur(image, (0, 0), sigma), {"sigma": round(sigma, 3)}
    if kind == "sharpen":
        amount = float(rng.uniform(0.3, 1.0))
        blur = cv2.GaussianBlur(image, (0, 0), 1.0).astype(np.float32)
        out = image.astype(np.float32) * (1 + amount) - blur * amount
        return np.clip(out + 0.5, 0, 255).astype(np.uint8), {"amount": round(amount, 3)}
    if kind == "downup":
        f = float(rng.uniform(0.4, 0.8))
        h, w = image.shape[:2]
        small = cv2.resize(image, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), {"factor": round(f, 3)}
    return image, {}


@register_family
class SelfBlend(Family):
    name = "self_blend"
    head_order = 1
    defaults = {
        "regions": ("hull", "hull", "hull", "inner"),
        "blend_ratios": (0.25, 0.5, 0.75, 1.0, 1.0, 1.0),
        "max_shift": 0.03,  # fraction of the crop
        "max_scale": 0.05,
    }

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        o = self.options
        img, lm, size = target.crop, target.landmarks, target.size
        copy, colour = jitter_color(img, rng, strength=float(rng.uniform(0.4, 1.0)))
        kind = str(rng.choice(["none", "blur", "sharpen", "downup"]))
        copy, freq = frequency_jitter(copy, rng, kind)
        scale = 1.0 + rng.uniform(-o["max_scale"], o["max_scale"], 2)
        shift = rng.uniform(-o["max_shift"], o["max_shift"], 2) * size
        c = lm.mean(0)
        m = np.array([[scale[0], 0, c[0] * (1 - scale[0]) + shift[0]], [0, scale[1], c[1] * (1 - scale[1]) + shift[1]]])
        copy = cv2.warpAffine(copy, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        region = str(rng.choice(o["regions"]))
        mask, mparams = random_face_mask(lm, size, rng, region=region)
        ratio = float(rng.choice(o["blend_ratios"]))
        out = alpha_blend(img, copy, mask * ratio)
        params = {
            "color": colour,
            "frequency": {"kind": kind, **freq},
            "scale": [round(float(s), 4) for s in scale],
            "shift_px": [round(float(s), 2) for s in shift],
            "mask": mparams,
            "blend_ratio": ratio,
        }
        return SynthResult(out, mask, self.name, params, (target.source_id,))
