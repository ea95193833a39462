"""Evaluation datasets: :class:`Sample`, :class:`Dataset`, the adapters and :func:`load_dataset`.

A dataset is a list of samples (image file, video file, or a folder of frames) with a 0/1 label
(1 = fake), a short ``kind`` family, a ``group`` (the video / sequence an item belongs to) and an
optional split, plus ``skipped``: every row or file that could not become a sample, with the reason.
Adapters never raise for a bad row; they raise only when the layout itself is not there.
Layouts are documented in each adapter's docstring and in docs/datasets.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
from .adapters._registry import DATASET_ADAPTERS, Layout


def detect_format(path: str | os.PathLike) -> str:
    """The adapter name for a file or folder, judged by its layout (raises ValueError if none fits).

    Each adapter declares its own predicate (``register_adapter(detect=...)``); they are tried in
    ``detect_order``. Built-ins: a wild-dev MANIFEST.tsv (file or folder holding it) -> "wild-dev";
    a .csv/.tsv/.parquet file -> "manifest"; original_sequences/ or manipulated_sequences/ ->
    "ffpp"; Celeb-synthesis/ or List_of_testing_videos.txt -> "celebdf"; metadata.json in the folder
    or a child -> "dfdc"; {real,fake}_{train,test}/ -> "wilddeepfake"; *image_list*.txt /
    *video_list*.txt / spatial_localize/ -> "forgerynet"; two or more known DF40 method folders (not
    holding real/ fake/) -> "df40"; real/ fake/ (or 0_real/ 1_fake/), possibly under category
    folders -> "folder".
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(p)
    layout = Layout.of(p)
    adapters = sorted(
        (e for e in DATASET_ADAPTERS.entries() if e.metadata.get("detect")),
        key=lambda e: (e.metadata.get("detect_order", 100), e.name),
    )
    for entry in adapters:
        if entry.metadata["detect"](layout):
            return entry.name
    if layout.is_file:
        raise ValueError(f"{p}: not a manifest (.csv, .tsv, .parquet)")
    raise ValueError(
        f"{p}: unrecognised dataset layout; pass a name ({', '.join(DATASET_ADAPTERS.names())}) "
        "or see docs/datasets.md"
    )


def _load(name: str, target: str | os.PathLike | None, kw: dict[str, Any]) -> Dataset:
    entry = DATASET_ADAPTERS.entry(name)
    if target is None and not entry.metadata.get("target_optional"):
        raise ValueError(f"dataset {name!r} needs root=<path> (or use '{name}:<path>')")
    return entry.obj(target, **kw)


def load_dataset(name_or_path: str | os.PathLike, **kw: Any) -> Dataset:
    """Load a dataset by registry name, ``"name:path"``, or a path whose layout is auto-detected.

    - ``load_dataset("wild-dev")`` -> :func:`load_wild_dev` (root from ``root=`` or the default).
    - ``load_dataset("ffpp", root="/data/FF++", compression="c40")`` or
      ``load_dataset("ffpp:/data/FF++")`` -> the named adapter on that root.
    - ``load_dataset("/data/some/folder")`` / ``load_dataset("list.csv")`` -> :func:`detect_format`.
    Extra keyword arguments go to the adapter. Names and aliases: ``facetrust datasets``.
    """
    text = os.fspath(name_or_path)
    if text not in DATASET_ADAPTERS and ":" in text and not Path(text).exists():
        head, _, tail = text.partition(":")
        if head in DATASET_ADAPTERS and tail:
            target_kw = DATASET_ADAPTERS.entry(head).metadata.get("target", "root")
            text, kw = head, {**kw, target_kw: tail}
    if text in DATASET_ADAPTERS:  # a registry name wins over a same-named relative path
        name = DATASET_ADAPTERS.resolve(text)
        target_kw = DATASET_ADAPTERS.entry(name).metadata.get("target", "root")
        target = kw.pop(target_kw, None)
        if target is None and target_kw != "root":
            target = kw.pop("root", None)
        return _load(name, target, kw)
    p = Path(text)
    if not p.exists():
        raise ValueError(
            f"{text!r} is neither a dataset name ({', '.join(DATASET_ADAPTERS.names())}) nor an existing path"
        )
    name = detect_format(p)
    # a layout recognised by a file inside it (wild-dev's MANIFEST.tsv): the adapter gets the folder
    on_root = DATASET_ADAPTERS.entry(name).metadata.get("target", "root") == "root"
    return _load(name, p.parent if p.is_file() and on_root else p, kw)


__all__ = [
    "DATASET_ADAPTERS",
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
