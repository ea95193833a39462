"""FaceForensics++ (Rössler et al. 2019) in its official download layout."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from ._core import VIDEO_EXTS, Dataset, Sample, iter_images
from ._registry import register_adapter

FFPP_METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
FFPP_FAMILY = {
    "Deepfakes": "face-swap",
    "FaceSwap": "face-swap",
    "FaceShifter": "face-swap",
    "DeepFakeDetection": "face-swap",
    "Face2Face": "face-reenactment",
    "NeuralTextures": "face-reenactment",
}
COMPRESSIONS = ("raw", "c23", "c40")
SPLITS = ("train", "val", "test")


def _find_splits_dir(root: Path, splits_dir: str | os.PathLike | None) -> Path | None:
    cands = [Path(splits_dir)] if splits_dir is not None else [root / "splits", root / "dataset" / "splits", root]
    return next((c for c in cands if any((c / f"{s}.json").is_file() for s in SPLITS)), None)


def _read_splits(d: Path, skipped: list[tuple[str, str]]) -> dict[str, str]:
    """video name (``"004"`` or ``"004_982"``) -> split, from the official [[a, b], ...] pair lists."""
    out: dict[str, str] = {}
    for split in SPLITS:
        f = d / f"{split}.json"
        if not f.is_file():
            continue
        try:
            pairs = json.loads(f.read_text(encoding="utf-8"))
            pairs = [(str(a), str(b)) for a, b in pairs]
        except (ValueError, TypeError) as exc:
            skipped.append((str(f), f"unreadable split file: {exc}"))
            continue
        for a, b in pairs:
            for key in (a, b, f"{a}_{b}", f"{b}_{a}"):
                out[key] = split
    return out


def _items(folder: Path, media: str) -> list[tuple[Path, str]]:
    """(path, media_type) of the videos in ``<c>/videos`` or the frame folders in ``<c>/frames``."""
    if media == "videos":
        return [(p, "video") for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return [(p, "frames") for p in sorted(folder.iterdir()) if p.is_dir() and any(True for _ in iter_images(p))]


@register_adapter("ffpp", aliases=("ff++", "faceforensics++", "faceforensics"), detect_order=20,
                  detect=lambda layout: bool({"original_sequences", "manipulated_sequences"} & layout.children),
                  summary="FaceForensics++: original_sequences/ and manipulated_sequences/, official splits")
def load_ffpp(
    root: str | os.PathLike,
    *,
    compression: str = "c23",
    methods: Sequence[str] = FFPP_METHODS,
    split: str | None = None,
    splits_dir: str | os.PathLike | None = None,
    media: str = "videos",
    name: str | None = None,
) -> Dataset:
    """FaceForensics++. Expected layout (``media="videos"``; ``"frames"`` reads ``<c>/frames/<video>/``)::

        root/original_sequences/youtube/<c>/videos/000.mp4 ...            real, kind "real"
        root/manipulated_sequences/<Method>/<c>/videos/000_003.mp4 ...    fake, kind = family
        root/splits/{train,val,test}.json  (or root/dataset/splits/, root/, or ``splits_dir``)

    ``<c>`` is ``compression`` (raw | c23 | c40). Methods: Deepfakes, FaceSwap, FaceShifter
    (kind "face-swap"), Face2Face, NeuralTextures ("face-reenactment"). The split files are the
    official lists of ``[a, b]`` pairs: each pair puts the reals ``a`` and ``b`` and the fakes
    ``a_b`` (target a, source face b) and ``b_a`` in that split. Videos in no list get split None;
    ``split=...`` keeps one split (and requires split files). group = video name; attrs: method,
    compression, source "FF++", target / source ids. A missing method folder or a non-video file is
    recorded in ``skipped``.
    """
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    if media not in ("videos", "frames"):
        raise ValueError("media must be 'videos' or 'frames'")
    r = Path(root).resolve()
    skipped: list[tuple[str, str]] = []
    sd = _find_splits_dir(r, splits_dir)
    split_of = _read_splits(sd, skipped) if sd is not None else {}
    if split is not None and not split_of:
        raise ValueError(f"split={split!r} requested but no FF++ splits/*.json found under {r}")
    samples: list[Sample] = []

    def add(folder: Path, method: str) -> None:
        if not folder.is_dir():
            skipped.append((str(folder), f"missing folder for {method} {compression}"))
            return
        for p, mt in _items(folder, media):
            if mt == "video" and p.suffix.lower() not in VIDEO_EXTS:
                skipped.append((str(p), f"not a video ({p.suffix or 'no extension'})"))
                continue
            stem = p.stem if mt == "video" else p.name
            attrs: dict[str, Any] = {"method": method, "compression": compression, "source": "FF++"}
            if method == "original":
                label, kind = 0, "real"
                attrs["identity"] = stem
            else:
                ids = stem.split("_")
                if len(ids) != 2:
                    skipped.append((str(p), "fake name is not <target>_<source>"))
                    continue
                label, kind = 1, FFPP_FAMILY.get(method, "fake")
                attrs.update(target=ids[0], source_id=ids[1], identity=ids[0])
            samples.append(Sample(str(p), label, kind, stem, split_of.get(stem), mt, attrs))

    add(r / "original_sequences" / "youtube" / compression / media, "original")
    for m in methods:
        add(r / "manipulated_sequences" / m / compression / media, m)
    if split is not None:
        samples = [s for s in samples if s.split == split]
    return Dataset(name or f"ffpp-{compression}" + (f"-{split}" if split else ""), str(r), samples, skipped)
