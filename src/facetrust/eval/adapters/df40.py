"""DF40 (Yan et al. 2024): 40 forgery methods, released as face-frame folders.

The layout below is an ASSUMPTION (the DeepfakeBench-style release we expect); nothing here was
checked against a real copy. Adjust the docstring and docs/datasets.md if a real copy differs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._core import Dataset, Sample, media_type_of, sequence_dirs, sequence_samples
from ._registry import Layout, register_adapter
from .generic import has_nested_label_dirs

_FAMILIES = {
    "face-swap": "faceswap fsgan simswap inswap inswapper blendface uniface mobileswap e4s facedancer deepfacelab",
    "face-reenactment": (
        "fomm facevid2vid fsvid2vid wav2lip mraa oneshotfree oneshot pirender tpsm lia danet dagan "
        "sadtalker mcnet hyperreenact heygen"
    ),
    "face-synthesis": (
        "vqgan stylegan2 stylegan3 styleganxl sd21 sd2 ddim pixart pixartalpha dit ditxl2 sit sitxl2 "
        "midjourney midjourney6 whichisreal rddm"
    ),
    "face-editing": "collabdiff e4e stargan stargan2 starganv2 styleclip",
}
DF40_FAMILY = {m: fam for fam, names in _FAMILIES.items() for m in names.split()}
_REAL_NAMES = {"real", "original", "originals", "youtube", "celebreal", "youtubereal", "ffreal", "cdfreal"}
_NOT_SAMPLES = frozenset({"masks", "mask", "landmarks", "landmark", "face_landmarks"})
_SUBSETS = {"ff", "cdf", "ffpp", "celebdf", "fake", "frames"}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def df40_family(method: str) -> str:
    """Forgery family of a DF40 method folder name ("fake" when unknown)."""
    return DF40_FAMILY.get(_norm(method), "fake")


def _detect(layout: Layout) -> bool:
    # two or more method folders; method folders that hold real/ fake/ are a category tree (folder)
    return sum(_norm(c) in DF40_FAMILY for c in layout.children) >= 2 and not has_nested_label_dirs(layout)


@register_adapter("df40", detect=_detect, detect_order=70,
                  summary="DF40: one folder per forgery method (40 methods) of face frames")
def load_df40(root: str | os.PathLike, *, per_frame: bool = False, name: str | None = None) -> Dataset:
    """DF40. ASSUMED layout (see module docstring)::

        root/<method>/[<subset: ff | cdf>/][frames/]<video>/<frame>.png
        root/<method>/.../<video>.mp4          (loose videos are taken too)

    method = the top folder; every folder below it that directly holds images is one sequence
    (media_type "frames", or one "image" sample per frame with ``per_frame=True``). DF40 ships only
    forgeries, so every method folder is fake (kind = family: face-swap, face-reenactment,
    face-synthesis, face-editing, or "fake" for a name not in the table) unless the top folder is
    named like real / original / youtube (label 0, kind "real"). ``masks/`` and ``landmarks/``
    folders are not samples. group = the sequence folder relative to root; attrs: method, subset
    (the ff / cdf level when present), source "DF40".
    """
    r = Path(root).resolve()
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for mdir in sorted(p for p in r.iterdir() if p.is_dir() and not p.name.startswith(".")):
        method = mdir.name
        real = _norm(method) in _REAL_NAMES
        label, kind = (0, "real") if real else (1, df40_family(method))
        n_before = len(samples)
        for seq in sequence_dirs(mdir, skip_names=_NOT_SAMPLES):
            rel = seq.relative_to(mdir).parts
            attrs = {"method": method, "source": "DF40"}
            if len(rel) > 1 and rel[0].lower() in _SUBSETS - {"frames", "fake"}:
                attrs["subset"] = rel[0]
            samples += sequence_samples(
                seq, label=label, kind=kind, group=seq.relative_to(r).as_posix(), split=None,
                attrs=attrs, per_frame=per_frame,
            )
        for dirpath, dirnames, filenames in os.walk(mdir):
            dirnames[:] = sorted(d for d in dirnames if d not in _NOT_SAMPLES)
            for fn in sorted(filenames):
                f = Path(dirpath) / fn
                if media_type_of(f) == "video":
                    group = f.relative_to(r).with_suffix("").as_posix()
                    attrs = {"method": method, "source": "DF40"}
                    samples.append(Sample(str(f), label, kind, group, None, "video", attrs))
        if len(samples) == n_before:
            skipped.append((str(mdir), "method folder without frames or videos"))
    return Dataset(name or "df40", str(r), samples, skipped)
