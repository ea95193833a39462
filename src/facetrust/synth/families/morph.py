"""morph: landmark/Delaunay face morph of two identities (the ID-document morphing attack).

Both faces are warped piecewise-affinely to an alpha-weighted average shape and cross-dissolved
with weight alpha. ``whole`` keeps the full morphed image (a classic full-frame morph; the mask is
all ones); ``splice`` keeps the first identity's photo and only blends the morphed face inside its
landmark hull, with the jaw line fixed to that photo so the outline fits (a "spliced morph").
"""

from __future__ import annotations

import numpy as np

from .. import landmarks as L
from ..blend import alpha_blend, poisson_blend
from ..color import reinhard_transfer
from ..masks import dilate, feather, fill_polygons, px, region_polygons, scale_about_centroid
from ..registry import Family, register_family
from ..types import FaceSource, SkipSample, SynthResult
from ..warp import piecewise_affine


@register_family
class Morph(Family):
    name = "morph"
    head_order = 4
    partner = "required"
    defaults = {"alpha": (0.3, 0.7), "modes": ("whole", "splice", "splice")}

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        if partner is None or partner.group == target.group:
            raise SkipSample("no_partner")
        lo, hi = self.options["alpha"] if np.ndim(self.options["alpha"]) else (self.options["alpha"],) * 2
        alpha = float(rng.uniform(lo, hi))
        mode = str(rng.choice(self.options["modes"]))
        size = target.size
        la, lb = target.landmarks, partner.landmarks
        shape = (1 - alpha) * la + alpha * lb
        b_img = partner.crop
        if mode == "splice":
            shape[L.JAW] = la[L.JAW]  # the outline stays the background photo's
            b_img = reinhard_transfer(partner.crop, target.crop, fill_polygons(size, region_polygons(lb, "hull")))
        wa = piecewise_affine(target.crop, la, shape).astype(np.float32)
        wb = piecewise_affine(b_img, lb, shape).astype(np.float32)
        morphed = np.clip((1 - alpha) * wa + alpha * wb + 0.5, 0, 255).astype(np.uint8)
        params = {"alpha": round(alpha, 4), "mode": mode}
        if mode == "whole":
            mask = np.ones((size, size), np.float32)
            return SynthResult(morphed, mask, self.name, params, (target.source_id, partner.source_id))
        binary = fill_polygons(size, [scale_about_centroid(p, 0.96) for p in region_polygons(shape, "hull")])
        blend = str(rng.choice(["alpha", "poisson"]))
        sigma = float(rng.uniform(3.0, 7.0))
        if blend == "poisson":
            out, mask = poisson_blend(target.crop, morphed, binary, feather_px=px(size, sigma / 2))
        else:
            mask = feather(dilate(binary, px(size, -sigma / 2)), px(size, sigma))
            out = alpha_blend(target.crop, morphed, mask)
        params.update(blend=blend, feather_px=round(sigma, 2))
        return SynthResult(out, mask, self.name, params, (target.source_id, partner.source_id))
