"""morph: landmark/Delaunay face morph of two (or more) identities (the ID-document morphing attack).

Both faces are warped piecewise-affinely to an alpha-weighted average shape and cross-dissolved
with weight alpha. ``whole`` keeps the full morphed image (a classic full-frame morph; the mask is
all ones); ``splice`` keeps the first identity's photo and only blends the morphed face inside its
landmark hull, with the jaw line fixed to that photo so the outline fits (a "spliced morph").

:func:`morph_pair` makes one morph at a chosen ratio and mode (the MAD corpus draws them itself,
``facetrust.train.fit_mad``); :func:`average_morph` averages three or more faces the same way (the
"averaged face" of face_morpher-style tools). The family's :meth:`Morph.generate` draws ratio and mode.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import landmarks as L
from ..blend import alpha_blend, poisson_blend
from ..color import reinhard_transfer
from ..masks import dilate, feather, fill_polygons, px, region_polygons, scale_about_centroid
from ..registry import Family, register_family
from ..types import FaceSource, SkipSample, SynthResult
from ..warp import piecewise_affine

MODES = ("whole", "splice")
NAME = "morph"


def _composite(target: FaceSource, morphed: np.ndarray, shape: np.ndarray, mode: str, rng: np.random.Generator,
               params: dict, source_ids: tuple[str, ...]) -> SynthResult:
    """The morph as a whole frame, or spliced into ``target``'s photo inside the morphed hull."""
    size = target.size
    if mode == "whole":
        return SynthResult(morphed, np.ones((size, size), np.float32), NAME, params, source_ids)
    binary = fill_polygons(size, [scale_about_centroid(p, 0.96) for p in region_polygons(shape, "hull")])
    blend = str(rng.choice(["alpha", "poisson"]))
    sigma = float(rng.uniform(3.0, 7.0))
    if blend == "poisson":
        out, mask = poisson_blend(target.crop, morphed, binary, feather_px=px(size, sigma / 2))
    else:
        mask = feather(dilate(binary, px(size, -sigma / 2)), px(size, sigma))
        out = alpha_blend(target.crop, morphed, mask)
    params.update(blend=blend, feather_px=round(sigma, 2))
    return SynthResult(out, mask, NAME, params, source_ids)


def morph_pair(target: FaceSource, partner: FaceSource, alpha: float, mode: str,
               rng: np.random.Generator) -> SynthResult:
    """``target`` morphed with ``partner`` at ratio ``alpha`` (0: all target, 1: all partner).

    ``rng`` draws only the splice's blending (Poisson or feathered alpha, feather width)."""
    if mode not in MODES:
        raise ValueError(f"unknown morph mode {mode!r}; known: {MODES}")
    la, lb = target.landmarks, partner.landmarks
    shape = (1 - alpha) * la + alpha * lb
    b_img = partner.crop
    if mode == "splice":
        shape[L.JAW] = la[L.JAW]  # the outline stays the background photo's
        b_img = reinhard_transfer(partner.crop, target.crop, fill_polygons(target.size, region_polygons(lb, "hull")))
    wa = piecewise_affine(target.crop, la, shape).astype(np.float32)
    wb = piecewise_affine(b_img, lb, shape).astype(np.float32)
    morphed = np.clip((1 - alpha) * wa + alpha * wb + 0.5, 0, 255).astype(np.uint8)
    params = {"alpha": round(float(alpha), 4), "mode": mode}
    return _composite(target, morphed, shape, mode, rng, params, (target.source_id, partner.source_id))


def average_morph(faces: Sequence[FaceSource], mode: str, rng: np.random.Generator,
                  weights: Sequence[float] | None = None) -> SynthResult:
    """The weighted average of several faces: each warped to the weighted mean shape, then averaged.

    ``splice`` keeps the first face's photo (and its jaw line) around the averaged face."""
    if len(faces) < 2:
        raise ValueError("an averaged morph needs at least two faces")
    if mode not in MODES:
        raise ValueError(f"unknown morph mode {mode!r}; known: {MODES}")
    w = np.full(len(faces), 1.0 / len(faces)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    shape = np.tensordot(w, np.stack([f.landmarks for f in faces]), axes=1)
    first = faces[0]
    if mode == "splice":
        shape[L.JAW] = first.landmarks[L.JAW]
    acc = np.zeros(first.crop.shape, np.float32)
    for k, (face, wk) in enumerate(zip(faces, w)):
        img = face.crop
        if mode == "splice" and k > 0:
            img = reinhard_transfer(face.crop, first.crop, fill_polygons(first.size, region_polygons(face.landmarks, "hull")))
        acc += wk * piecewise_affine(img, face.landmarks, shape).astype(np.float32)
    morphed = np.clip(acc + 0.5, 0, 255).astype(np.uint8)
    params = {"faces": len(faces), "weights": [round(float(v), 4) for v in w], "mode": mode, "kind": "average"}
    return _composite(first, morphed, shape, mode, rng, params, tuple(f.source_id for f in faces))


@register_family
class Morph(Family):
    name = NAME
    head_order = 4
    partner = "required"
    defaults = {"alpha": (0.3, 0.7), "modes": ("whole", "splice", "splice")}

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        if partner is None or partner.group == target.group:
            raise SkipSample("no_partner")
        lo, hi = self.options["alpha"] if np.ndim(self.options["alpha"]) else (self.options["alpha"],) * 2
        alpha = float(rng.uniform(lo, hi))
        mode = str(rng.choice(self.options["modes"]))
        return morph_pair(target, partner, alpha, mode, rng)
