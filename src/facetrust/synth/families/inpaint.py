"""inpaint: a region removed and filled in (object/blemish removal).

The region is a facial feature (eye, brow, nose, mouth) or 1-3 skin blobs (moles, scars,
wrinkles). It is filled by OpenCV's Telea or Navier-Stokes inpainting, or by exemplar copy: a
patch of the same face's skin moved over it with a feathered edge (clone-stamp / copy-move).
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import landmarks as L
from ..blend import alpha_blend
from ..masks import dilate, feather, px, region_mask
from ..registry import Family, register_family
from ..types import FaceSource, SynthResult

_FEATURES = ("eyes", "brows", "nose", "mouth")


def _skin_blobs(lm: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """1-3 random ellipses on cheeks, forehead or chin."""
    centre = lm[L.NOSE].mean(0)
    anchors = {
        "cheek_l": (lm[3] + lm[31]) / 2 * 0.5 + lm[L.EYE_L].mean(0) * 0.5 + np.array([0.0, 0.25]) * (lm[8] - centre),
        "cheek_r": (lm[13] + lm[35]) / 2 * 0.5 + lm[L.EYE_R].mean(0) * 0.5 + np.array([0.0, 0.25]) * (lm[8] - centre),
        "forehead": lm[17:27].mean(0) - np.array([0.0, 0.12]) * (lm[8] - lm[27])[1],
        "chin": (lm[8] + lm[57]) / 2,
    }
    mask = np.zeros((size, size), np.float32)
    blobs = []
    for _ in range(int(rng.integers(1, 4))):
        name = str(rng.choice(sorted(anchors)))
        c = anchors[name] + rng.normal(0, px(size, 5), 2)
        axes = rng.uniform(px(size, 4), px(size, 14), 2)
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(mask, (tuple(float(v) for v in c), tuple(float(2 * a) for a in axes), angle), 1.0, -1)
        blobs.append({"at": name, "centre": [round(float(v), 1) for v in c], "axes": [round(float(a), 1) for a in axes]})
    return mask, blobs


def _skin_offset(
    binary: np.ndarray, lm: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray | None, float]:
    """An offset o such that the region moved by o lies on skin (>= 85% of it), or None."""
    skin = region_mask(lm, "skin", size)
    ys, xs = np.nonzero(binary > 0.5)
    if len(xs) == 0:
        return None, 0.0
    extent = max(np.ptp(xs), np.ptp(ys)) + px(size, 6)
    area = float((binary > 0.5).sum())
    candidates = []
    for angle in rng.permutation(16) * (2 * np.pi / 16):
        for dist in (1.0, 1.4):
            o = np.array([np.cos(angle), np.sin(angle)]) * extent * dist
            moved = cv2.warpAffine(binary, np.float32([[1, 0, o[0]], [0, 1, o[1]]]), (size, size))
            candidates.append((float((moved * skin).sum()) / area, o))
    good = [c for c in candidates if c[0] >= 0.85]
    if good:
        overlap, o = good[0]
        return o, overlap
    return None, max(c[0] for c in candidates)


@register_family
class Inpaint(Family):
    name = "inpaint"
    head_order = 5
    defaults = {"methods": ("telea", "ns", "exemplar"), "regions": ("blob", "blob", "eyes", "brows", "nose", "mouth")}

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        size, lm, img = target.size, target.landmarks, target.crop
        region = str(rng.choice(self.options["regions"]))
        params: dict = {"region": region}
        if region == "blob":
            binary, params["blobs"] = _skin_blobs(lm, size, rng)
        else:
            binary = region_mask(lm, region, size)
            if region in ("eyes", "brows"):  # one side or both
                side = str(rng.choice(["left", "right", "both"]))
                params["side"] = side
                half = np.zeros_like(binary)
                mid = int(round(lm[27, 0]))
                if side != "right":
                    half[:, :mid] = 1
                if side != "left":
                    half[:, mid:] = 1
                binary = binary * half
        binary = dilate(binary, px(size, 2))
        method = str(rng.choice(self.options["methods"]))
        params["method"] = method
        if method in ("telea", "ns"):
            radius = float(rng.uniform(3, 7))
            flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
            m8 = (binary > 0.5).astype(np.uint8)
            out = cv2.inpaint(img, m8, radius, flag)  # only masked pixels change
            params["radius"] = round(radius, 2)
            return SynthResult(out, m8.astype(np.float32), self.name, params, (target.source_id,))
        # Exemplar (clone stamp): copy the same-shaped patch from a spot that is skin.
        offset, overlap = _skin_offset(binary, lm, size, rng)
        if offset is None:  # no skin patch big enough: fall back to diffusion filling
            m8 = (binary > 0.5).astype(np.uint8)
            params.update(method="telea", radius=5.0, fallback="no_skin_patch")
            return SynthResult(cv2.inpaint(img, m8, 5.0, cv2.INPAINT_TELEA), m8.astype(np.float32), self.name, params, (target.source_id,))
        # patch(x) = img(x + offset): warpAffine's translation is the negated offset.
        shift = np.float32([[1, 0, -offset[0]], [0, 1, -offset[1]]])
        patch = cv2.warpAffine(img, shift, (size, size), borderMode=cv2.BORDER_REFLECT_101)
        mask = feather(binary, px(size, 2.5))
        out = alpha_blend(img, patch, mask)
        params.update(offset_px=[round(float(v), 1) for v in offset], skin_overlap=round(overlap, 3))
        return SynthResult(out, mask, self.name, params, (target.source_id,))
