"""resynth: the face (or the whole crop) passed through a generator-like decoder.

Area down-sampling by 2 or 4 followed by one of the upsamplers in :mod:`facetrust.synth.upsample`
(nearest, bilinear, transposed convolution, pixel shuffle) reproduces the periodic upsampling
fingerprints of GAN/diffusion decoders and of "laundering" a fake through a generator.
``scope="face"`` blends the resynthesised face back through a feathered hull mask; ``"whole"``
replaces the crop (mask all ones). The trained-autoencoder decoder is the ``autoencoder``
upsampler, which needs torch and a checkpoint (it raises a clear error if requested).
"""

from __future__ import annotations

import numpy as np

from ..blend import alpha_blend
from ..masks import random_face_mask
from ..registry import Family, register_family
from ..types import FaceSource, SynthResult
from ..upsample import AVAILABLE_UPSAMPLERS, down_up


@register_family
class Resynth(Family):
    name = "resynth"
    head_order = 6
    defaults = {
        "upsamplers": AVAILABLE_UPSAMPLERS,
        "factors": (2, 2, 2, 4),
        "scopes": ("face", "face", "whole"),
        "kernel_noise": (0.01, 0.05),  # above ~0.06 the checkerboard is plainly visible
    }

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        o = self.options
        size = target.size
        upsampler = str(rng.choice(o["upsamplers"]))
        factor = int(rng.choice(o["factors"]))
        noise = float(rng.uniform(*o["kernel_noise"]))
        decoded = down_up(target.crop, factor, upsampler, rng, noise=noise)
        scope = str(rng.choice(o["scopes"]))
        params: dict = {"upsampler": upsampler, "factor": factor, "kernel_noise": round(noise, 4), "scope": scope}
        if scope == "whole":
            return SynthResult(decoded, np.ones((size, size), np.float32), self.name, params, (target.source_id,))
        mask, params["mask"] = random_face_mask(target.landmarks, size, rng, region="hull", grow_px=(0.0, 6.0), sigma_px=(4.0, 10.0))
        out = alpha_blend(target.crop, decoded, mask)
        return SynthResult(out, mask, self.name, params, (target.source_id,))
