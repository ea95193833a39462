"""wild-dev: the project's third-party real/fake evaluation folder (``shared/data/wild-dev``).

EVALUATION ONLY: never fit, tune or select anything on it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from ._core import VIDEO_EXTS, Dataset, Sample
from ._registry import Layout, register_adapter

# Forgery families recognised inside a wild-dev kind string, most specific first.
_FAMILIES = ("face-swap", "face-reenactment", "photoshop", "gan-face", "morph-average")
# (substring of the kind string, source name), first match wins.
_SOURCES = (
    ("FF++", "FF++"),
    ("Celeb-DF", "Celeb-DF"),
    ("Google DFD", "DFD"),
    ("DFDC", "DFDC"),
    ("yonsei", "yonsei"),
    ("boredhumans", "boredhumans"),
    ("face_morpher", "face_morpher"),
)
_FFPP_METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
_FRAME_OF_VIDEO = re.compile(r"^(?P<video>.+)_fr\d+$")


def normalise_kind(kind: str) -> str:
    """Short family of a wild-dev kind string.

    The forgery family when one is named (``"video-frame-crop face-swap(FF++ FaceSwap)"`` ->
    ``"face-swap"``), else the first word outside the parentheses (``"real-photo(yonsei)"`` ->
    ``"real-photo"``, ``"video-frame-crop(FF++ original)"`` -> ``"video-frame-crop"``,
    ``"video(real)"`` -> ``"video"``).
    """
    outside = re.sub(r"\([^)]*\)", " ", kind)
    words = outside.split()
    for fam in _FAMILIES:
        if fam in words:
            return fam
    return words[0] if words else "unknown"


def source_of(kind: str, source_repo: str) -> str:
    """Where the media originally comes from (FF++, Celeb-DF, DFDC, DFD, yonsei, ...), else the repo."""
    for needle, src in _SOURCES:
        if needle in kind:
            return src
    return source_repo or "unknown"


def default_root() -> Path | None:
    """``$FACETRUST_WILD_DEV``, else ``../shared/data/wild-dev`` next to the repo or the cwd."""
    env = os.environ.get("FACETRUST_WILD_DEV")
    cands = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[4]  # src/facetrust/eval/adapters/ -> repo root
    cands += [repo.parent / "shared" / "data" / "wild-dev", Path.cwd().parent / "shared" / "data" / "wild-dev"]
    return next((c for c in cands if (c / "MANIFEST.tsv").is_file()), None)


def _group(relpath: str, fam_words: str, media_type: str) -> str:
    p = Path(relpath)
    if media_type == "video":
        return p.with_suffix("").as_posix()  # frames named <video>_fr<N> share this group
    if "video-frame-crop" in fam_words:
        return p.parent.as_posix()  # crops of one video live in one folder
    if "video-frame" in fam_words:
        m = _FRAME_OF_VIDEO.match(p.stem)
        if m:
            return (p.parent / m.group("video")).as_posix()
    return relpath


def is_wild_dev_manifest(f: Path) -> bool:
    """A ``MANIFEST.tsv`` whose header starts relpath, label, kind."""
    if f.name != "MANIFEST.tsv" or not f.is_file():
        return False
    with open(f, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh, delimiter="\t"), [])
    return header[:3] == ["relpath", "label", "kind"]


def _detect(layout: Layout) -> bool:
    return is_wild_dev_manifest(layout.path if layout.is_file else layout.path / "MANIFEST.tsv")


@register_adapter("wild-dev", aliases=("wild_dev", "wilddev"), detect=_detect, detect_order=0, target_optional=True,
                  summary="facetrust's in-the-wild evaluation set, from its MANIFEST.tsv (evaluation only)")
def load_wild_dev(
    root: str | os.PathLike | None = None,
    *,
    check_exists: bool = True,
    verify_sha256: bool = False,
    drop_duplicates: bool = False,
    name: str = "wild-dev",
) -> Dataset:
    """wild-dev from its ``MANIFEST.tsv``. Layout::

        wild-dev/MANIFEST.tsv   columns relpath, label (real|fake|weights|other), kind, source_repo,
                                path_in_repo, license, bytes, image_size, commit, verified, note, sha256
        wild-dev/raw/<owner>__<repo>/...

    Only ``real`` / ``fake`` rows become samples; ``weights`` / ``other`` rows (licences, metadata,
    masks, model files) are listed in ``skipped`` as "not an evaluation sample (label ...)", as are
    unknown labels and missing files. kind = :func:`normalise_kind` of the kind string (full string
    in ``attrs["kind_full"]``); media_type "video" for video files, else "image"; group: the video
    for a video file and for ``<video>_fr<N>`` frames of it, the folder for video-frame crops
    (frames of one clip), else the file. attrs: kind_full, source (:func:`source_of`), source_repo,
    license, image_size, note, sha256, method / compression when the kind names them, and
    ``duplicate_of`` for rows the manifest flags as exact duplicates (``drop_duplicates=True`` skips
    them instead). ``root`` defaults to :func:`default_root`.
    """
    # Resolved whichever way the root was found, so sample paths always sit under ``Dataset.root`` even
    # when a folder on the way (e.g. ../shared) is a symlink.
    r = Path(root) if root is not None else default_root()
    r = r.resolve() if r is not None else None
    if r is None or not (r / "MANIFEST.tsv").is_file():
        raise FileNotFoundError(f"wild-dev MANIFEST.tsv not found (root={root!r}; set FACETRUST_WILD_DEV)")
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    with open(r / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        rel = (row.get("relpath") or "").strip()
        lab = (row.get("label") or "").strip()
        f = r / rel
        if lab in ("weights", "other"):
            skipped.append((str(f), f"not an evaluation sample (label {lab})"))
            continue
        if lab not in ("real", "fake"):
            skipped.append((str(f), f"unknown label {lab!r}"))
            continue
        if check_exists and not f.is_file():
            skipped.append((str(f), "missing file"))
            continue
        note = (row.get("note") or "").strip()
        dup = note.split("exact-duplicate-of", 1)[1].strip().split()[0] if "exact-duplicate-of" in note else None
        if dup and drop_duplicates:
            skipped.append((str(f), f"exact duplicate of {dup}"))
            continue
        if verify_sha256 and f.is_file():
            if hashlib.sha256(f.read_bytes()).hexdigest() != (row.get("sha256") or "").strip():
                skipped.append((str(f), "sha256 mismatch"))
                continue
        kind_full = (row.get("kind") or "").strip()
        mt = "video" if Path(rel).suffix.lower() in VIDEO_EXTS else "image"
        attrs: dict[str, Any] = {
            "kind_full": kind_full,
            "source": source_of(kind_full, row.get("source_repo", "")),
            "source_repo": row.get("source_repo", ""),
            "license": row.get("license", ""),
            "image_size": row.get("image_size", ""),
            "note": note,
            "sha256": row.get("sha256", ""),
        }
        method = next((m for m in _FFPP_METHODS if m in kind_full), None)
        if method:
            attrs["method"] = method
        comp = re.search(r"\b(c23|c40|raw)\b", kind_full)
        if comp:
            attrs["compression"] = comp.group(1)
        if dup:
            attrs["duplicate_of"] = dup
        label = 1 if lab == "fake" else 0
        samples.append(Sample(str(f), label, normalise_kind(kind_full), _group(rel, kind_full, mt), None, mt, attrs))
    return Dataset(name, str(r), samples, skipped)
