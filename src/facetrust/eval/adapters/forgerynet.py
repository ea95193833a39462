"""ForgeryNet (He et al. 2021): image and video list files with labels, masks and fake segments.

The list-file formats follow the ForgeryNet release README; how mask paths map to image paths is
an ASSUMPTION taken from public loaders (see :func:`load_forgerynet`), not checked on a real copy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._core import Dataset, Sample, media_type_or_skip, parse_label, split_from_name
from ._registry import Layout, register_adapter


def _find_lists(r: Path) -> list[Path]:
    cands = list(r.glob("*.txt")) + list(r.glob("*/*.txt"))
    return sorted(p for p in cands if "image_list" in p.name.lower() or "video_list" in p.name.lower())


def _mask_for(rel: str, bases: list[Path]) -> str | None:
    first, _, rest = rel.partition("/")
    cands = [rel]
    if first.endswith("_release") and rest:
        cands.insert(0, f"{first[: -len('_release')]}_mask_release/{rest}")
    for b in bases:
        for c in cands:
            m = b / "spatial_localize" / c
            if m.is_file():
                return str(m)
    return None


def _resolve(rel: str, bases: list[Path]) -> Path:
    return next((b / rel for b in bases if (b / rel).exists()), bases[0] / rel)


def _parse_video_line(tok: list[str]) -> tuple[str, list[list[int]], list[list[Any]], list[str]]:
    n = int(tok[0])
    video = tok[1]
    seg_tok = tok[2 : 2 + 3 * n]
    labels = tok[2 + 3 * n :]
    if len(seg_tok) != 3 * n or not labels:
        raise ValueError("segment count does not match the line")
    fake, every = [], []
    for j in range(n):
        start, count, lab = int(seg_tok[3 * j]), int(seg_tok[3 * j + 1]), parse_label(seg_tok[3 * j + 2])
        if lab is None:
            raise ValueError(f"unknown segment label {seg_tok[3 * j + 2]!r}")
        every.append([start, start + count, lab])
        if lab == 1:
            fake.append([start, start + count])
    return video, fake, every, labels


def _detect(layout: Layout) -> bool:
    return "spatial_localize" in layout.children or any(
        "image_list" in n.lower() or "video_list" in n.lower() for n in layout.children
    )


@register_adapter("forgerynet", detect=_detect, detect_order=60,
                  summary="ForgeryNet: *image_list*.txt / *video_list*.txt lists, spatial_localize/ masks")
def load_forgerynet(
    root: str | os.PathLike,
    *,
    list_files: list[str | os.PathLike] | None = None,
    split: str | None = None,
    name: str | None = None,
) -> Dataset:
    """ForgeryNet. Expected layout (list formats from the release README; mask mapping ASSUMED)::

        root/<Split>/image_list.txt   "<image_relpath> <binary> <triple> <16cls>"
        root/<Split>/video_list.txt   "<n_seg> <video_relpath> [<start> <n_frames> <seg_label>]*n_seg
                                       <binary> <triple> <16cls>"
        root/<Split>/spatial_localize/<X>_mask_release/... masks for <X>_release/... images

    ``<Split>`` is e.g. Training / Validation (split "train" / "val" / "test" from the folder or file
    name). List files are found as ``*image_list*.txt`` / ``*video_list*.txt`` in root or one level
    down, or given via ``list_files``. Paths resolve against the list's folder, then root. binary 1
    = fake, 0 = real (assumed, as in the paper's labels). kind: "real", or ``"forgerynet-<16cls>"``
    for fakes (the 15 method ids are kept as numbers; the README gives no names). attrs: triple_cls,
    cls16, source "ForgeryNet"; images: ``mask_path`` (None when no mask file exists), group =
    the image's folder; videos: ``segments`` = fake segments ``[start_frame, end_frame)`` and
    ``segments_all`` = ``[start, end, label]``, group = the video. Malformed lines, unknown
    labels and missing files are ``skipped``.
    """
    r = Path(root).resolve()
    lists = [Path(p).resolve() for p in list_files] if list_files is not None else _find_lists(r)
    if not lists:
        raise ValueError(f"{r}: no *image_list*.txt or *video_list*.txt found")
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for lst in lists:
        sp = split_from_name(lst.parent.name) or split_from_name(lst.stem)
        if split is not None and sp != split:
            continue
        bases = [lst.parent, r]
        is_video = "video" in lst.name.lower()
        for i, line in enumerate(lst.read_text(encoding="utf-8").splitlines(), start=1):
            tok = line.split()
            if not tok:
                continue
            where = f"{lst}:{i}"
            try:
                if is_video:
                    rel, fake_segs, all_segs, labels = _parse_video_line(tok)
                else:
                    rel, labels, fake_segs, all_segs = tok[0], tok[1:], None, None
            except ValueError as exc:
                skipped.append((where, f"malformed line: {exc}"))
                continue
            label = parse_label(labels[0]) if labels else None
            if label is None:
                skipped.append((where, f"unknown label {labels[0] if labels else None!r}"))
                continue
            f = _resolve(rel, bases)
            mt = media_type_or_skip(f, skipped)
            if mt is None:
                continue
            cls16 = labels[2] if len(labels) > 2 else None
            attrs: dict[str, Any] = {
                "source": "ForgeryNet",
                "triple_cls": labels[1] if len(labels) > 1 else None,
                "cls16": cls16,
            }
            if is_video:
                attrs.update(segments=fake_segs, segments_all=all_segs)
                group = Path(rel).with_suffix("").as_posix()
            else:
                attrs["mask_path"] = _mask_for(rel, bases) if label == 1 else None
                group = Path(rel).parent.as_posix() if "/" in rel else rel
            kind = "real" if label == 0 else (f"forgerynet-{cls16}" if cls16 is not None else "fake")
            samples.append(Sample(str(f), label, kind, group, sp, mt, attrs))
    return Dataset(name or "forgerynet" + (f"-{split}" if split else ""), str(r), samples, skipped)
