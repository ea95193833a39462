"""Evaluation datasets: :class:`Sample`, :class:`Dataset`, the adapters and :func:`load_dataset`.

A dataset is a list of samples (image file, video file, or a folder of frames) with a 0/1 label
(1 = fake), a short ``kind`` family, a ``group`` (the video / sequence an item belongs to) and an
optional split, plus ``skipped``: every row or file that could not become a sample, with the reason.
Adapters never raise for a bad row; they raise only when the layout itself is not there.
Layouts are documented in each adapter's docstring and in docs/datasets.md.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Callable

from .adapters import (
    Dataset,
    Sample,
    compute_manifest_hash,
    load_celebdf,
    load_df40,
    load_dfdc,
    load_ffpp,
    load_folder,
    load_forgerynet,
    load_manifest,
    load_wild_dev,
    load_wilddeepfake,
    parse_label,
)
from .adapters.df40 import DF40_FAMILY, _norm
from .adapters.generic import LABEL_DIRS
from .adapters.wilddeepfake import WDF_TOPS

ADAPTERS: dict[str, Callable[..., Dataset]] = {
    "wild-dev": load_wild_dev,
    "folder": load_folder,
    "manifest": load_manifest,
    "ffpp": load_ffpp,
    "celebdf": load_celebdf,
    "dfdc": load_dfdc,
    "wilddeepfake": load_wilddeepfake,
    "df40": load_df40,
    "forgerynet": load_forgerynet,
}
ALIASES = {
    "wild_dev": "wild-dev",
    "wilddev": "wild-dev",
    "ff++": "ffpp",
    "faceforensics++": "ffpp",
    "faceforensics": "ffpp",
    "celeb-df": "celebdf",
    "celeb-df-v2": "celebdf",
    "celebdf-v2": "celebdf",
    "cdf": "celebdf",
    "wild-deepfake": "wilddeepfake",
    "wdf": "wilddeepfake",
    "csv": "manifest",
    "tsv": "manifest",
    "parquet": "manifest",
}
_MANIFEST_SUFFIXES = (".csv", ".tsv", ".parquet")


def _is_wild_dev_manifest(f: Path) -> bool:
    if f.name != "MANIFEST.tsv" or not f.is_file():
        return False
    with open(f, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh, delimiter="\t"), [])
    return header[:3] == ["relpath", "label", "kind"]


def detect_format(path: str | os.PathLike) -> str:
    """The adapter name for a file or folder, judged by its layout (raises ValueError if none fits).

    Checked in order: a wild-dev MANIFEST.tsv (file or folder holding it) -> "wild-dev"; a
    .csv/.tsv/.parquet file -> "manifest"; original_sequences/ or manipulated_sequences/ -> "ffpp";
    Celeb-synthesis/ or List_of_testing_videos.txt -> "celebdf"; metadata.json in the folder or a
    child -> "dfdc"; {real,fake}_{train,test}/ -> "wilddeepfake"; *image_list*.txt /
    *video_list*.txt / spatial_localize/ -> "forgerynet"; <category>/{real,fake,0_real,1_fake}/ ->
    "folder"; two or more known DF40 method folders -> "df40"; real/ fake/ (or 0_real/ 1_fake/) ->
    "folder".
    """
    p = Path(path)
    if p.is_file():
        if _is_wild_dev_manifest(p):
            return "wild-dev"
        if p.suffix.lower() in _MANIFEST_SUFFIXES:
            return "manifest"
        raise ValueError(f"{p}: not a manifest (.csv, .tsv, .parquet)")
    if not p.is_dir():
        raise FileNotFoundError(p)
    children = {c.name for c in p.iterdir()}
    if _is_wild_dev_manifest(p / "MANIFEST.tsv"):
        return "wild-dev"
    if {"original_sequences", "manipulated_sequences"} & children:
        return "ffpp"
    if "Celeb-synthesis" in children or "List_of_testing_videos.txt" in children:
        return "celebdf"
    if (p / "metadata.json").is_file() or any((p / c / "metadata.json").is_file() for c in children):
        return "dfdc"
    if set(WDF_TOPS) & children:
        return "wilddeepfake"
    if "spatial_localize" in children or any(
        "image_list" in n.lower() or "video_list" in n.lower() for n in children
    ):
        return "forgerynet"
    nested = any(
        set(LABEL_DIRS) & {g.name for g in (p / c).iterdir()} for c in children if (p / c).is_dir()
    )
    if nested:  # <category>/{0_real,1_fake}/ (CNNDetection style)
        return "folder"
    if sum(_norm(c) in DF40_FAMILY for c in children) >= 2:
        return "df40"
    if set(LABEL_DIRS) & children:
        return "folder"
    raise ValueError(
        f"{p}: unrecognised dataset layout; pass a name ({', '.join(ADAPTERS)}) or see docs/datasets.md"
    )


def load_dataset(name_or_path: str | os.PathLike, **kw: Any) -> Dataset:
    """Load a dataset by registry name, ``"name:path"``, or a path whose layout is auto-detected.

    - ``load_dataset("wild-dev")`` -> :func:`load_wild_dev` (root from ``root=`` or the default).
    - ``load_dataset("ffpp", root="/data/FF++", compression="c40")`` or
      ``load_dataset("ffpp:/data/FF++")`` -> the named adapter on that root.
    - ``load_dataset("/data/some/folder")`` / ``load_dataset("list.csv")`` -> :func:`detect_format`.
    Extra keyword arguments go to the adapter. Names: see ``ADAPTERS`` and ``ALIASES``.
    """
    text = os.fspath(name_or_path)
    key = ALIASES.get(text.lower(), text.lower())
    if key not in ADAPTERS and ":" in text and not Path(text).exists():
        head, _, tail = text.partition(":")
        head = ALIASES.get(head.lower(), head.lower())
        if head in ADAPTERS and tail:
            key, kw = head, {**kw, ("path" if head == "manifest" else "root"): tail}
    if key in ADAPTERS:  # a registry name wins over a same-named relative path
        if key == "wild-dev":
            return load_wild_dev(kw.pop("root", None), **kw)
        target = kw.pop("path", None) if key == "manifest" else None
        target = target if target is not None else kw.pop("root", None)
        if target is None:
            raise ValueError(f"dataset {key!r} needs root=<path> (or use '{key}:<path>')")
        return ADAPTERS[key](target, **kw)
    p = Path(text)
    if not p.exists():
        raise ValueError(f"{text!r} is neither a dataset name ({', '.join(ADAPTERS)}) nor an existing path")
    fmt = detect_format(p)
    if fmt == "wild-dev":
        return load_wild_dev(p.parent if p.is_file() else p, **kw)
    return ADAPTERS[fmt](p, **kw)


__all__ = [
    "ADAPTERS",
    "ALIASES",
    "Dataset",
    "Sample",
    "compute_manifest_hash",
    "detect_format",
    "load_celebdf",
    "load_dataset",
    "load_df40",
    "load_dfdc",
    "load_ffpp",
    "load_folder",
    "load_forgerynet",
    "load_manifest",
    "load_wild_dev",
    "load_wilddeepfake",
    "parse_label",
]
