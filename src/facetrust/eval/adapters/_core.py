"""Core dataset types shared by every adapter (the registry itself is in :mod:`._registry`)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

MEDIA_TYPES = ("image", "video", "frames")
IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip", ".7z", ".rar")

# Label words seen in the wild, lower-cased. 1 = fake / attack, 0 = real / bona fide.
_LABEL_WORDS = {
    "0": 0, "real": 0, "bonafide": 0, "bona fide": 0, "bona_fide": 0, "genuine": 0, "live": 0,
    "pristine": 0, "original": 0, "authentic": 0, "0_real": 0,
    "1": 1, "fake": 1, "attack": 1, "spoof": 1, "manipulated": 1, "forged": 1, "synthetic": 1,
    "deepfake": 1, "morph": 1, "1_fake": 1,
}  # fmt: skip


@dataclass
class Sample:
    """One evaluation item.

    path: absolute path of an image file, a video file, or a directory of frames (``media_type``
      ``"frames"``: the image files inside, in lexical order, are the frames).
    label: 0 real / bona fide, 1 fake / attack.
    kind: short family of the item, e.g. "real", "face-swap", "face-reenactment", "gan-face",
      "photoshop", "morph-average", "real-photo" (adapter specific; the full source string goes in attrs).
    group: the video / sequence / source file the item belongs to. Frames of one video share a group,
      so frame scores can be aggregated per group and bootstrapped as clusters. Identity information,
      when an adapter knows it, is in ``attrs["identity"]`` (or target/source ids).
    split: "train" | "val" | "test" | ... or None when the dataset defines none.
    attrs: adapter metadata (method, compression, source, mask_path, segments, ...).
    """

    path: str
    label: int
    kind: str
    group: str
    split: str | None = None
    media_type: str = "image"
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {self.label!r}")
        if self.media_type not in MEDIA_TYPES:
            raise ValueError(f"media_type must be one of {MEDIA_TYPES}, got {self.media_type!r}")


def _rel(path: str, root: str) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # different drives on Windows
        return Path(path).as_posix()


def compute_manifest_hash(root: str, samples: Iterable[Sample]) -> str:
    """sha256 over the sorted lines ``relpath \\t label \\t kind \\t group \\t split \\t media_type``.

    Paths are taken relative to ``root``, so the hash identifies the *content of the list*, not where
    the dataset happens to be mounted.
    """
    lines = sorted(
        "\t".join(
            (_rel(s.path, root), str(s.label), s.kind, s.group, s.split or "", s.media_type)
        )
        for s in samples
    )
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class Dataset:
    """A named list of samples plus everything that was left out and why.

    skipped: ``(path, reason)`` for every row / file that could not become a sample (missing file,
    unknown label, label conflict, malformed line, ...). Loading never raises for such rows.
    manifest_hash: :func:`compute_manifest_hash` of the samples (filled in when left empty).
    """

    name: str
    root: str
    samples: list[Sample]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    manifest_hash: str = ""

    def __post_init__(self) -> None:
        if not self.manifest_hash:
            self.manifest_hash = compute_manifest_hash(self.root, self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def counts(self, by: str = "label") -> dict[Any, int]:
        """Sample counts keyed by a Sample field (``label``, ``kind``, ``split``, ``media_type``,
        ``group``) or, failing that, an ``attrs`` key."""
        c: Counter = Counter()
        for s in self.samples:
            c[getattr(s, by) if hasattr(s, by) else s.attrs.get(by)] += 1
        return dict(c)

    def skip_reasons(self) -> dict[str, int]:
        return dict(Counter(reason for _, reason in self.skipped))

    def filter(self, predicate: Callable[[Sample], bool], name: str | None = None) -> "Dataset":
        """A new Dataset with the samples for which ``predicate`` is true (skipped list kept)."""
        return Dataset(name or self.name, self.root, [s for s in self.samples if predicate(s)], list(self.skipped))

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "root": self.root,
            "n_samples": len(self.samples),
            "by_label": {("fake" if k else "real"): v for k, v in sorted(self.counts("label").items())},
            "by_kind": dict(sorted(self.counts("kind").items())),
            "by_split": {str(k): v for k, v in self.counts("split").items()},
            "n_skipped": len(self.skipped),
            "skip_reasons": self.skip_reasons(),
            "manifest_hash": self.manifest_hash,
        }


# ---------------------------------------------------------------------------------------------
# Small helpers shared by adapters
# ---------------------------------------------------------------------------------------------


def parse_label(value: Any) -> int | None:
    """0 / 1 from common spellings (0/1, real/fake, REAL/FAKE, bonafide/attack, ...); None if unknown."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if value is None:
        return None
    return _LABEL_WORDS.get(str(value).strip().lower())


def media_type_of(path: Path) -> str | None:
    """"image" / "video" by extension, "frames" for a directory holding images, else None."""
    if path.is_dir():
        return "frames" if any(True for _ in iter_images(path)) else None
    ext = path.suffix.lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    return None


def media_type_or_skip(path: Path, skipped: list[tuple[str, str]]) -> str | None:
    """``path``'s media type, or None after recording in ``skipped`` why it cannot be used
    (missing file, unsupported file type)."""
    if not path.exists():
        skipped.append((str(path), "missing file"))
        return None
    mt = media_type_of(path)
    if mt is None:
        skipped.append((str(path), f"unsupported file type {path.suffix!r}"))
    return mt


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def iter_images(directory: Path) -> Iterator[Path]:
    """Image files directly inside ``directory``, sorted by name."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return
    for p in entries:
        if p.is_file() and p.suffix.lower() in IMAGE_EXTS:
            yield p


def sequence_dirs(top: Path, skip_names: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Every directory under ``top`` (itself included) that directly contains image files, sorted.

    Directories named in ``skip_names`` (e.g. masks/, landmarks/) are not descended into.
    """
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_names and not d.startswith("."))
        if any(Path(f).suffix.lower() in IMAGE_EXTS for f in filenames):
            yield Path(dirpath)


def sequence_samples(
    seq: Path,
    *,
    label: int,
    kind: str,
    group: str,
    split: str | None,
    attrs: dict[str, Any],
    per_frame: bool,
) -> list[Sample]:
    """One "frames" sample for a sequence directory, or one "image" sample per frame."""
    if not per_frame:
        return [Sample(str(seq), label, kind, group, split, "frames", dict(attrs))]
    return [
        Sample(str(f), label, kind, group, split, "image", {**attrs, "frame": f.name})
        for f in iter_images(seq)
    ]


def split_from_name(text: str) -> str | None:
    """"train" / "val" / "test" when the name says so (Training, Validation, test_list, ...)."""
    t = text.lower()
    if "train" in t:
        return "train"
    if "val" in t or "dev" in t:
        return "val"
    if "test" in t:
        return "test"
    return None
