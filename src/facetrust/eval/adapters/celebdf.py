"""Celeb-DF v2 (Li et al. 2020)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._core import VIDEO_EXTS, Dataset, Sample, iter_images
from ._registry import register_adapter

# folder -> (label, kind)
CELEBDF_FOLDERS = {"Celeb-real": (0, "real"), "YouTube-real": (0, "real"), "Celeb-synthesis": (1, "face-swap")}
TEST_LIST = "List_of_testing_videos.txt"


def _entries(folder: Path) -> list[tuple[Path, str]]:
    """Videos in the folder (or its videos/ sub-folder), and frame folders (``<video>/<frame>.png``)."""
    base = folder / "videos" if (folder / "videos").is_dir() else folder
    out = []
    for p in sorted(base.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_EXTS:
            out.append((p, "video"))
        elif p.is_dir() and any(True for _ in iter_images(p)):
            out.append((p, "frames"))
    return out


def _identity(folder: str, stem: str) -> dict[str, Any]:
    parts = stem.split("_")
    if folder == "Celeb-real" and len(parts) == 2:  # id0_0000
        return {"identity": parts[0]}
    if folder == "Celeb-synthesis" and len(parts) == 3:  # id0_id1_0000: target id0, source face id1
        return {"identity": parts[0], "target": parts[0], "source_id": parts[1]}
    return {}


@register_adapter("celebdf", aliases=("celeb-df", "celeb-df-v2", "celebdf-v2", "cdf"), detect_order=30,
                  detect=lambda layout: "Celeb-synthesis" in layout.children or TEST_LIST in layout.children,
                  summary="Celeb-DF (v2): Celeb-real/, YouTube-real/, Celeb-synthesis/ and the test list")
def load_celebdf(
    root: str | os.PathLike,
    *,
    split: str | None = None,
    test_list: str | os.PathLike | None = None,
    name: str | None = None,
) -> Dataset:
    """Celeb-DF v2. Expected layout::

        root/Celeb-real/id0_0000.mp4            real   (kind "real")
        root/YouTube-real/00000.mp4             real   (kind "real")
        root/Celeb-synthesis/id0_id1_0000.mp4   fake   (kind "face-swap")
        root/List_of_testing_videos.txt         lines "<label> <folder>/<name>.mp4"

    Each folder may hold the videos directly or under ``videos/``, or frame folders
    (``Celeb-real/id0_0000/000.png``; matched to the list by folder + name without extension).
    CAREFUL: in List_of_testing_videos.txt label **1 means REAL** and 0 means fake (the opposite of
    facetrust's convention); the adapter converts. Listed videos get split "test", all others
    "train" (Celeb-DF v2 defines no other split; everything outside the test list is conventionally
    training data); without a list, split is None. A list row whose label disagrees with its folder,
    that names a missing video, or that cannot be parsed is recorded in ``skipped``; a conflicting
    video is excluded. group = video name; attrs: subset (folder), source "Celeb-DF", identity.
    """
    r = Path(root).resolve()
    skipped: list[tuple[str, str]] = []
    lst = Path(test_list) if test_list is not None else r / TEST_LIST
    listed: dict[tuple[str, str], int] | None = None
    if lst.is_file():
        listed = {}
        for i, line in enumerate(lst.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            tok = line.split()
            if len(tok) != 2 or tok[0] not in ("0", "1") or "/" not in tok[1]:
                skipped.append((f"{lst}:{i}", f"malformed test-list line {line.strip()!r}"))
                continue
            folder, fname = tok[1].split("/", 1)
            listed[(folder, Path(fname).stem)] = 0 if tok[0] == "1" else 1  # file: 1 = real
    elif test_list is not None:
        raise FileNotFoundError(lst)
    if split is not None and listed is None:
        raise ValueError(f"split={split!r} requested but {TEST_LIST} not found")

    samples: list[Sample] = []
    found: set[tuple[str, str]] = set()
    for folder, (label, kind) in CELEBDF_FOLDERS.items():
        d = r / folder
        if not d.is_dir():
            skipped.append((str(d), "missing folder"))
            continue
        for p, mt in _entries(d):
            stem = p.stem if mt == "video" else p.name
            key = (folder, stem)
            found.add(key)
            sp = None
            if listed is not None:
                if key in listed and listed[key] != label:
                    said = "fake" if listed[key] else "real"
                    skipped.append((str(p), f"label conflict: test list says {said}, folder says {kind}"))
                    continue
                sp = "test" if key in listed else "train"
            attrs = {"subset": folder, "source": "Celeb-DF", **_identity(folder, stem)}
            samples.append(Sample(str(p), label, kind, stem, sp, mt, attrs))
    if listed is not None:
        for key in sorted(set(listed) - found):
            skipped.append((str(r / key[0] / key[1]), "listed in test list but missing"))
    if split is not None:
        samples = [s for s in samples if s.split == split]
    return Dataset(name or "celebdf-v2" + (f"-{split}" if split else ""), str(r), samples, skipped)
