"""Training data: a dataset written by ``facetrust synth`` (crops made by the one crop function).

The whole split is loaded into memory as uint8 arrays (10k crops of 128 px are ~0.5 GB) and
cached as an ``.npz`` beside the manifest, so epochs and re-runs skip PNG decoding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np



@dataclass
class SynthArrays:
    images: np.ndarray  # (N, S, S, 3) uint8 RGB
    masks: np.ndarray  # (N, S/8, S/8) uint8, soft mask * 255 at the mask head's resolution
    labels: np.ndarray  # (N,) int64, 1 = fake
    families: np.ndarray  # (N,) int64 index into the family list it was loaded with
    splits: np.ndarray  # (N,) str
    groups: np.ndarray  # (N,) str identity group (for identity-disjoint checks)
    sources: np.ndarray  # (N,) str: name of the synth folder the sample came from (per-source metrics)

    def subset(self, idx: np.ndarray) -> "SynthArrays":
        return SynthArrays(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    def split(self, name: str) -> "SynthArrays":
        return self.subset(np.flatnonzero(self.splits == name))

    def __len__(self) -> int:
        return len(self.labels)


def concat(parts: Sequence[SynthArrays]) -> SynthArrays:
    names = SynthArrays.__dataclass_fields__
    return SynthArrays(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in names})


def load_synth(data_dir: str | Path | Sequence[str | Path], image_size: int,
               families: tuple[str, ...] | None = None) -> SynthArrays:
    """Load one synth dataset, or several concatenated (a list: e.g. faces-train fakes, fakes made
    from camera-resolution corpora, real generator outputs); crops must already be ``image_size`` px
    (no silent resampling). Each sample keeps the name of its folder in ``sources``.

    ``families`` (default: ``("real", *every registered forgery family)``) maps each row's family to
    its index, the order of the model's family head."""
    from ..synth import read_manifest, training_families

    families = training_families() if families is None else tuple(families)
    if not isinstance(data_dir, (str, Path)):
        return concat([load_synth(d, image_size, families) for d in data_dir])

    data_dir = Path(data_dir)
    manifest = data_dir / "manifest.csv"
    # the family list is part of the key: the cached family indices are positions in it
    digest = hashlib.sha256(manifest.read_bytes() + "\n".join(families).encode()).hexdigest()[:16]
    cache = data_dir / f".train_cache_{image_size}_{digest}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "sources"}
        return SynthArrays(**arrays, sources=np.full(len(arrays["labels"]), data_dir.name))
    rows = read_manifest(manifest)
    n, g = len(rows), image_size // 8
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    masks = np.zeros((n, g, g), np.uint8)
    fam_index = {f: i for i, f in enumerate(families)}
    labels, fams, splits, groups = [], [], [], []
    for i, r in enumerate(rows):
        img = cv2.imread(str(data_dir / r["path"]), cv2.IMREAD_COLOR)
        if img is None or img.shape[:2] != (image_size, image_size):
            raise ValueError(f"{r['path']}: expected a {image_size}px crop, got {None if img is None else img.shape}")
        images[i] = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if r.get("mask_path"):
            m = cv2.imread(str(data_dir / r["mask_path"]), cv2.IMREAD_GRAYSCALE)
            masks[i] = cv2.resize(m, (g, g), interpolation=cv2.INTER_AREA)
        if r["family"] not in fam_index:
            raise ValueError(f"family {r['family']!r} is not one of the model's families {families}")
        labels.append(int(r["label"]))
        fams.append(fam_index[r["family"]])
        splits.append(r["split"])
        groups.append(str(r["identity_group"]))
    arrays = SynthArrays(images, masks, np.array(labels), np.array(fams), np.array(splits), np.array(groups),
                         np.full(n, data_dir.name))
    np.savez(cache, **{f: getattr(arrays, f) for f in arrays.__dataclass_fields__ if f != "sources"})
    return arrays


def augment(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator, p_perturb: float,
            chain: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal flip and, with probability ``p_perturb``, post-processing from the synth engine's
    perturb family: one op (jpeg, blur, resize, noise, colour, gamma, sharpen), or with ``chain``
    the family's own draw (1-3 ops in random order, or the social-media re-upload chain)."""
    from ..synth.families.perturb import Perturb, apply_op

    if rng.random() < 0.5:
        image, mask = image[:, ::-1], mask[:, ::-1]
    if rng.random() < p_perturb:
        image = np.ascontiguousarray(image)
        if chain:
            image, _ = Perturb().apply(image, rng)
        else:
            op = str(rng.choice(["jpeg", "jpeg", "blur", "resize", "noise", "color", "gamma", "sharpen"]))
            image, _ = apply_op(image, op, rng)
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)
