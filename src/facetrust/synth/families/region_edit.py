"""region_edit: a partial attribute edit of one face region.

Two modes:

- ``donor``: the eyes, nose or mouth of another person, warped piecewise-affinely onto the
  target's landmarks, colour-matched and blended in (alpha or Poisson);
- ``retouch``: a photoshop-style edit of one region of the face itself: smoothing (skin
  "beautification"), a local liquify warp (bigger eyes, slimmer nose, wider/narrower mouth),
  brightness change, or recolouring (lip/eye colour).

For liquify the mask comes from the warp itself (see :func:`liquify`), so pixels the warp did not
touch are never marked.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import landmarks as L
from ..blend import alpha_blend, poisson_blend
from ..color import reinhard_transfer, shift_hue
from ..masks import dilate, feather, px, region_mask
from ..registry import Family, register_family
from ..types import FaceSource, SynthResult
from ..warp import displacement, piecewise_affine, remap

# Liquify centres and strengths per region: (landmark index sets, strength range). Positive
# strength magnifies (content pushed outwards), negative shrinks.
_LIQUIFY = {
    "eyes": ((L.EYE_L, L.EYE_R), (0.10, 0.25)),
    "nose": ((L.NOSE[4:],), (-0.25, -0.08)),
    "mouth": ((L.MOUTH,), (0.06, 0.15)),  # sign drawn separately: wider or narrower
}


def liquify(
    image: np.ndarray, centres: list[np.ndarray], radii: list[float], strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """Radial magnify/shrink around each centre; returns (image, edit mask).

    The mask is 1 where a pixel moved by >= 0.5 px *or* its neighbourhood was rescaled by >= 5 %
    (the warp weight times the strength): the centre of a magnified eye does not move, yet it is
    edited. Pixels outside every radius are untouched and get 0.
    """
    size = image.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    map_x, map_y = xx.copy(), yy.copy()
    rescale = np.zeros((size, size), np.float32)
    for c, r in zip(centres, radii):
        dx, dy = xx - c[0], yy - c[1]
        d = np.sqrt(dx * dx + dy * dy) / r
        w = np.where(d < 1.0, (1.0 - d * d) ** 2, 0.0).astype(np.float32)
        map_x -= dx * strength * w
        map_y -= dy * strength * w
        rescale = np.maximum(rescale, w * abs(strength))
    motion = displacement(map_x, map_y)
    mask = np.maximum(np.clip(motion / 0.5, 0, 1), np.clip(rescale / 0.05, 0, 1))
    return remap(image, map_x, map_y), mask.astype(np.float32)


def _feather_range(region: str) -> tuple[float, float]:
    """Feather sigma (px at 256) per region: small features get a narrow edge, so the faint
    tail of the blend (mask <= 0.1) stays a negligible share of the edit."""
    return {"eyes": (1.5, 3.0), "nose": (1.5, 3.5), "mouth": (1.5, 3.5)}.get(region, (2.0, 5.0))


@register_family
class RegionEdit(Family):
    name = "region_edit"
    head_order = 3
    partner = "optional"
    defaults = {
        "donor_probability": 0.5,
        "donor_regions": ("eyes", "nose", "mouth"),
        "retouch_ops": ("smooth", "liquify", "brightness", "recolor"),
    }

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        o = self.options
        usable = partner is not None and partner.group != target.group
        if usable and rng.random() < o["donor_probability"]:
            return self._donor(target, partner, rng)
        return self._retouch(target, rng)

    def _donor(self, target: FaceSource, partner: FaceSource, rng: np.random.Generator) -> SynthResult:
        size, lm = target.size, target.landmarks
        region = str(rng.choice(self.options["donor_regions"]))
        donor = piecewise_affine(partner.crop, partner.landmarks, lm)
        binary = region_mask(lm, region, size)
        donor = reinhard_transfer(donor, target.crop, dilate(binary, px(size, 4)))
        blend = str(rng.choice(["alpha", "poisson"]))
        sigma = float(rng.uniform(*_feather_range(region)))
        if blend == "poisson":
            out, mask = poisson_blend(target.crop, donor, dilate(binary, px(size, 2)), feather_px=px(size, sigma / 2))
        else:
            mask = feather(binary, px(size, sigma))
            out = alpha_blend(target.crop, donor, mask)
        params = {"mode": "donor", "region": region, "blend": blend, "feather_px": round(sigma, 2)}
        return SynthResult(out, mask, self.name, params, (target.source_id, partner.source_id))

    def _retouch(self, target: FaceSource, rng: np.random.Generator) -> SynthResult:
        size, lm, img = target.size, target.landmarks, target.crop
        op = str(rng.choice(self.options["retouch_ops"]))
        params: dict = {"mode": "retouch", "op": op}
        if op == "liquify":
            region = str(rng.choice(sorted(_LIQUIFY)))
            sets, (lo, hi) = _LIQUIFY[region]
            strength = float(rng.uniform(lo, hi))
            if region == "mouth" and rng.random() < 0.5:
                strength = -strength
            centres = [lm[idx].mean(0) for idx in sets]
            radii = [max(px(size, 6), 1.6 * float(np.ptp(lm[idx][:, 0]))) for idx in sets]
            out, mask = liquify(img, centres, radii, strength)
            params.update(region=region, strength=round(strength, 3))
            return SynthResult(out, mask, self.name, params, (target.source_id,))
        choices = {"smooth": ["skin"], "brightness": ["eyes", "mouth", "nose", "skin"], "recolor": ["eyes", "mouth"]}[op]
        region = str(rng.choice(choices))
        mask = feather(region_mask(lm, region, size), px(size, float(rng.uniform(*_feather_range(region)))))
        if op == "smooth":
            d = int(round(px(size, 9)))
            edited = cv2.bilateralFilter(img, d, float(rng.uniform(30, 75)), float(px(size, rng.uniform(4, 9))))
        elif op == "brightness":
            gain = float(rng.uniform(0.8, 1.25))
            edited = np.clip(img.astype(np.float32) * gain + 0.5, 0, 255).astype(np.uint8)
            params["gain"] = round(gain, 3)
        else:  # recolor
            hue, sat = float(rng.uniform(-25, 25)), float(rng.uniform(0.8, 1.5))
            edited = shift_hue(img, hue, sat)
            params.update(hue_deg=round(hue, 2), saturation=round(sat, 3))
        params["region"] = region
        out = alpha_blend(img, edited, mask)
        return SynthResult(out, mask, self.name, params, (target.source_id,))
