"""Training data: a dataset written by ``facetrust synth`` (crops made by the one crop function).

The first load decodes every PNG once into a cache beside the manifest: the crops as a
memory-mapped ``.npy`` (200k crops of 128 px are ~10 GB, more than this machine can hold twice)
and the small per-sample fields as an ``.npz``. Several folders and their splits are
:class:`RowView` s over those maps, so concatenating and splitting never copies the crops.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np



class RowView:
    """Rows of one or more arrays (memory-mapped caches) under one index, without copying them.

    An int gives one row (a fresh array); a slice, an index array or a boolean mask gives the
    stacked rows (use it for batches and small splits); :meth:`take` gives another view.
    """

    def __init__(self, parts: Sequence, index: np.ndarray | None = None) -> None:
        self.parts = list(parts)
        self._offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.index = np.arange(self._offsets[-1], dtype=np.int64) if index is None else np.asarray(index, np.int64)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple:
        return (len(self.index), *self.parts[0].shape[1:])

    @property
    def dtype(self):
        return self.parts[0].dtype

    def _row(self, g: int) -> np.ndarray:
        k = int(np.searchsorted(self._offsets, g, side="right")) - 1
        return np.array(self.parts[k][g - self._offsets[k]])

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._row(int(self.index[key]))
        rows = self.index[key]
        if len(rows) == 0:
            return np.empty((0, *self.shape[1:]), self.dtype)
        return np.stack([self._row(int(g)) for g in rows])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def take(self, idx) -> "RowView":
        return RowView(self.parts, self.index[idx])


def _take(values, idx):
    return values.take(idx) if isinstance(values, RowView) else values[idx]


@dataclass
class SynthArrays:
    images: np.ndarray | RowView  # (N, S, S, 3) uint8 RGB
    masks: np.ndarray  # (N, S/8, S/8) uint8, soft mask * 255 at the mask head's resolution
    labels: np.ndarray  # (N,) int64, 1 = fake
    families: np.ndarray  # (N,) int64 index into the family list it was loaded with
    splits: np.ndarray  # (N,) str
    groups: np.ndarray  # (N,) str identity group (for identity-disjoint checks)
    sources: np.ndarray  # (N,) str: name of the synth folder the sample came from (per-source metrics)

    def subset(self, idx: np.ndarray) -> "SynthArrays":
        return SynthArrays(*(_take(getattr(self, f), idx) for f in self.__dataclass_fields__))

    def split(self, name: str) -> "SynthArrays":
        return self.subset(np.flatnonzero(self.splits == name))

    def __len__(self) -> int:
        return len(self.labels)

    def materialized(self) -> "SynthArrays":
        """The same samples with the crops in memory (for a validation or test split read many times)."""
        from dataclasses import replace

        return replace(self, images=np.asarray(self.images))


def concat(parts: Sequence[SynthArrays]) -> SynthArrays:
    # one flat view over every folder's map (not views of views: a training row is copied once)
    arrays, index, base = [], [], 0
    for p in parts:
        view = p.images if isinstance(p.images, RowView) else RowView([p.images])
        arrays += view.parts
        index.append(view.index + base)
        base += sum(len(a) for a in view.parts)
    names = [f for f in SynthArrays.__dataclass_fields__ if f != "images"]
    return SynthArrays(images=RowView(arrays, np.concatenate(index)),
                       **{f: np.concatenate([getattr(p, f) for p in parts]) for f in names})


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
    image_cache = cache.with_suffix(".images.npy")
    if cache.exists() and image_cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "sources"}
        images = RowView([np.load(image_cache, mmap_mode="r")])
        return SynthArrays(images=images, **arrays, sources=np.full(len(arrays["labels"]), data_dir.name))
    rows = read_manifest(manifest)
    n, g = len(rows), image_size // 8
    partial = image_cache.with_suffix(".partial.npy")  # renamed when complete: a killed load is never read
    images = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(n, image_size, image_size, 3))
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
    images.flush()
    del images
    partial.replace(image_cache)
    small = {"masks": masks, "labels": np.array(labels), "families": np.array(fams), "splits": np.array(splits),
             "groups": np.array(groups)}
    np.savez(cache, **small)
    return SynthArrays(images=RowView([np.load(image_cache, mmap_mode="r")]), **small, sources=np.full(n, data_dir.name))


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
