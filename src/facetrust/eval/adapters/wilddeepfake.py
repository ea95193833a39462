"""WildDeepfake (Zi et al. 2020): internet deepfake videos as face-frame sequences."""

from __future__ import annotations

import os
from pathlib import Path

from ._core import Dataset, Sample, is_archive, sequence_dirs, sequence_samples
from ._registry import register_adapter

WDF_TOPS = {
    "real_train": (0, "train"),
    "real_test": (0, "test"),
    "fake_train": (1, "train"),
    "fake_test": (1, "test"),
}


@register_adapter("wilddeepfake", aliases=("wild-deepfake", "wdf"), detect_order=50,
                  detect=lambda layout: bool(set(WDF_TOPS) & layout.children),
                  summary="WildDeepfake: {real,fake}_{train,test}/ face-frame sequences")
def load_wilddeepfake(
    root: str | os.PathLike,
    *,
    split: str | None = None,
    per_frame: bool = False,
    name: str | None = None,
) -> Dataset:
    """WildDeepfake, extracted. Expected layout::

        root/{real,fake}_{train,test}/<video_id>/{real,fake}/<sequence_id>/<frame>.png

    (any depth below the top folder works: every folder that directly holds images is one
    sequence). Label and split come from the top folder. A sequence whose path contains a
    ``real`` / ``fake`` folder contradicting the top folder is skipped ("label conflict"); unextracted
    ``.tar.gz`` archives are skipped too. One sample per sequence (media_type "frames"), or one
    "image" sample per frame with ``per_frame=True``. group = the sequence folder (relative to root);
    attrs: video_id, source "WildDeepfake". kind: "real" / "fake" (the dataset does not name methods).
    """
    r = Path(root).resolve()
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    found_any = False
    for top_name, (label, sp) in WDF_TOPS.items():
        top = r / top_name
        if not top.is_dir():
            continue
        found_any = True
        if split is not None and sp != split:
            continue
        for dirpath, _, filenames in os.walk(top):
            for fn in filenames:
                if is_archive(Path(fn)):
                    skipped.append((str(Path(dirpath) / fn), "archive not extracted"))
        for seq in sequence_dirs(top):
            rel = seq.relative_to(top).parts
            words = {p.lower() for p in rel}
            other = "fake" if label == 0 else "real"
            if other in words:
                skipped.append((str(seq), f"label conflict: inside {top_name}/ but under a '{other}' folder"))
                continue
            attrs = {"source": "WildDeepfake", "video_id": rel[0] if len(rel) > 1 else seq.name}
            samples += sequence_samples(
                seq,
                label=label,
                kind="fake" if label else "real",
                group=seq.relative_to(r).as_posix(),
                split=sp,
                attrs=attrs,
                per_frame=per_frame,
            )
    if not found_any:
        raise ValueError(f"{r}: none of {', '.join(WDF_TOPS)} found")
    return Dataset(name or "wilddeepfake" + (f"-{split}" if split else ""), str(r), samples, skipped)
