"""DFDC (Deepfake Detection Challenge, Dolhansky et al. 2020): metadata.json per part."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from ._core import Dataset, Sample, media_type_or_skip
from ._registry import Layout, register_adapter

_DFDC_LABELS = {"FAKE": 1, "REAL": 0}


def _metadata_files(r: Path) -> list[Path]:
    files = [r / "metadata.json"] + sorted(p / "metadata.json" for p in r.iterdir() if p.is_dir())
    return [f for f in files if f.is_file()]


def _detect(layout: Layout) -> bool:
    p = layout.path
    return not layout.is_file and (
        (p / "metadata.json").is_file() or any((p / c / "metadata.json").is_file() for c in layout.children)
    )


@register_adapter("dfdc", detect=_detect, detect_order=40,
                  summary="DFDC: metadata.json (in the folder or its parts) labelling each video")
def load_dfdc(root: str | os.PathLike, *, split: str | None = None, name: str | None = None) -> Dataset:
    """DFDC. Expected layout (the Kaggle training parts; root itself may be one part)::

        root/dfdc_train_part_0/metadata.json   {"x.mp4": {"label": "FAKE", "original": "y.mp4",
        root/dfdc_train_part_0/x.mp4                      "split": "train"}, ...}
        root/labels.csv                         optional: "filename,label" rows, label 1 = fake
                                                (the public test set), videos next to it

    Label "FAKE" -> 1 (kind "face-swap"), "REAL" -> 0 (kind "real"); anything else, a missing video
    or an unreadable metadata.json is recorded in ``skipped``. split = the entry's "split" field
    ("test" for labels.csv rows). group = video name; attrs: part (folder), original (the real video
    a fake was made from, also as ``identity`` so a fake and its original share an identity key),
    source "DFDC". Note: some DFDC "FAKE" videos manipulate only the audio track.
    """
    r = Path(root).resolve()
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []

    def add(f: Path, label: int, sp: str | None, original: str | None) -> None:
        mt = media_type_or_skip(f, skipped)
        if mt is None:
            return
        orig = Path(original).stem if original else None
        attrs = {"part": f.parent.name, "source": "DFDC", "identity": orig or f.stem}
        if orig:
            attrs["original"] = orig
        samples.append(Sample(str(f), label, "face-swap" if label else "real", f.stem, sp, mt, attrs))

    for meta in _metadata_files(r):
        try:
            entries = json.loads(meta.read_text(encoding="utf-8"))
            if not isinstance(entries, dict):
                raise ValueError("top level is not an object")
        except ValueError as exc:
            skipped.append((str(meta), f"unreadable metadata.json: {exc}"))
            continue
        for fname, info in entries.items():
            f = meta.parent / fname
            raw = info.get("label") if isinstance(info, dict) else None
            label = _DFDC_LABELS.get(str(raw).upper()) if raw is not None else None
            if label is None:
                skipped.append((str(f), f"unknown label {raw!r}"))
                continue
            add(f, label, info.get("split"), info.get("original"))
    labels_csv = r / "labels.csv"
    if labels_csv.is_file():
        with open(labels_csv, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                f = r / str(row.get("filename", "")).strip()
                raw = str(row.get("label", "")).strip()
                if raw not in ("0", "1"):
                    skipped.append((str(f), f"unknown label {raw!r}"))
                    continue
                add(f, int(raw), "test", None)
    if split is not None:
        samples = [s for s in samples if s.split == split]
    return Dataset(name or "dfdc" + (f"-{split}" if split else ""), str(r), samples, skipped)
