"""swap: identity swap between two different people (FaceSwap / Face X-ray style).

The partner's face is warped onto the target's landmarks (global affine or piecewise-affine over a
Delaunay triangulation), colour-matched (Reinhard, in Lab, inside the mask) and blended into the
target by feathered alpha or Poisson ``seamlessClone``, through one of three mask shapes: the full
landmark hull, the inner face (brows to mouth) or eyes-nose-mouth islands.
"""

from __future__ import annotations

import numpy as np

from ..blend import alpha_blend, poisson_blend
from ..color import reinhard_transfer
from ..masks import deform_polygon, dilate, feather, fill_polygons, px, region_polygons, scale_about_centroid
from ..registry import Family, register_family
from ..types import FaceSource, SkipSample, SynthResult
from ..warp import affine_warp, piecewise_affine


def warp_partner(partner: FaceSource, target: FaceSource, method: str) -> np.ndarray:
    """The partner's crop warped so its landmarks land on the target's."""
    if method == "delaunay":
        return piecewise_affine(partner.crop, partner.landmarks, target.landmarks)
    return affine_warp(partner.crop, partner.landmarks, target.landmarks, similarity=method == "similarity")


@register_family
class Swap(Family):
    name = "swap"
    head_order = 2
    partner = "required"
    defaults = {
        "warps": ("affine", "similarity", "delaunay", "delaunay"),
        "masks": ("hull", "inner", "enm"),
        "blends": ("alpha", "poisson"),
        "color_transfer": 0.9,  # probability of Reinhard colour matching
    }

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        if partner is None or partner.group == target.group:
            raise SkipSample("no_partner")
        o = self.options
        size, lm = target.size, target.landmarks
        warp = str(rng.choice(o["warps"]))
        donor = warp_partner(partner, target, warp)
        shape = str(rng.choice(o["masks"]))
        polys = region_polygons(lm, shape)
        if shape == "hull":  # stay inside the jaw line so the target's outline is kept
            polys = [scale_about_centroid(p, 0.94, 0.96) for p in polys]
        polys = [deform_polygon(p, rng, 0.04) for p in polys]
        binary = fill_polygons(size, polys)
        colour = bool(rng.random() < o["color_transfer"])
        if colour:
            donor = reinhard_transfer(donor, target.crop, binary)
        blend = str(rng.choice(o["blends"]))
        sigma = float(rng.uniform(2.0, 6.0))
        if blend == "poisson":
            out, mask = poisson_blend(target.crop, donor, binary, feather_px=px(size, sigma / 2))
        else:
            mask = feather(dilate(binary, px(size, -sigma / 2)), px(size, sigma))
            out = alpha_blend(target.crop, donor, mask)
        params = {"warp": warp, "mask_shape": shape, "color_transfer": colour, "blend": blend, "feather_px": round(sigma, 2)}
        return SynthResult(out, mask, self.name, params, (target.source_id, partner.source_id))
