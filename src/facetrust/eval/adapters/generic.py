"""Generic adapters: a real/ fake/ folder tree, and a manifest table (CSV / TSV / Parquet)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from ._core import IMAGE_EXTS, VIDEO_EXTS, Dataset, Sample, is_archive, media_type_of, parse_label
from ._registry import Layout, register_adapter

# Folder names that carry a label in a folder tree (CNNDetection-style 0_real / 1_fake included).
LABEL_DIRS = {"real": 0, "0_real": 0, "fake": 1, "1_fake": 1}


def _label_dirs(d: Path) -> list[tuple[Path, int]]:
    return [(d / n, lab) for n, lab in LABEL_DIRS.items() if (d / n).is_dir()]


def has_nested_label_dirs(layout: Layout) -> bool:
    """<category>/{real,fake,0_real,1_fake}/ (CNNDetection style)."""
    return any(set(LABEL_DIRS) & {g.name for g in d.iterdir()} for d in layout.child_dirs())


def _detect_folder(layout: Layout) -> bool:
    return not layout.is_file and (bool(set(LABEL_DIRS) & layout.children) or has_nested_label_dirs(layout))


@register_adapter("folder", detect=_detect_folder, detect_order=90,
                  summary="real/ and fake/ (or 0_real/ 1_fake/) folders, optionally under category folders")
def load_folder(root: str | os.PathLike, *, name: str | None = None) -> Dataset:
    """Folder tree. Expected layout (``<category>/`` level optional)::

        root/[<category>/]{real,fake,0_real,1_fake}/[<kind>/][<sequence>/]<file>

    Every image or video file below a label folder is one sample labelled by that folder.
    kind = the first sub-folder under the label folder, else the category, else "real" / "fake".
    group = the file's parent folder (relative to root) when the file sits two or more folders below
    the label folder (``fake/<kind>/<video>/<frame>.png``: frames of one video), else the file itself.
    Files with other extensions are skipped (reason given); hidden files are ignored.
    """
    r = Path(root).resolve()
    tops: list[tuple[Path, int, str | None]] = [(p, lab, None) for p, lab in _label_dirs(r)]
    if not tops:
        for cat in sorted(p for p in r.iterdir() if p.is_dir() and not p.name.startswith(".")):
            tops += [(p, lab, cat.name) for p, lab in _label_dirs(cat)]
    if not tops:
        raise ValueError(f"{r}: no real/ fake/ (or 0_real/ 1_fake/) folders found")
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for top, label, category in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fname in sorted(filenames):
                if fname.startswith("."):
                    continue
                f = Path(dirpath) / fname
                mt = media_type_of(f)
                if mt is None:
                    why = "archive not extracted" if is_archive(f) else f"unsupported file type {f.suffix!r}"
                    skipped.append((str(f), why))
                    continue
                parts = f.relative_to(top).parts
                kind = parts[0] if len(parts) >= 2 else (category or ("fake" if label else "real"))
                rel = f.relative_to(r)
                group = rel.parent.as_posix() if len(parts) >= 3 else rel.as_posix()
                attrs: dict[str, Any] = {"label_dir": top.name}
                if category:
                    attrs["category"] = category
                samples.append(Sample(str(f), label, kind, group, None, mt, attrs))
    return Dataset(name or r.name, str(r), samples, skipped)


_PATH_COLUMNS = ("path", "relpath", "filepath", "file", "filename")
_KNOWN = {"label", "kind", "group", "split", "media_type"}


def _read_table(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # optional dependency
            raise ImportError("reading a Parquet manifest needs pyarrow (pip install pyarrow)") from exc
        return pq.read_table(path).to_pylist()
    delimiter = "," if suffix == ".csv" else "\t"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _attr_value(v: Any) -> Any:
    # Structured values (segments, lists) may be stored as JSON text in a CSV cell.
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


MANIFEST_SUFFIXES = (".csv", ".tsv", ".parquet")


@register_adapter("manifest", aliases=("csv", "tsv", "parquet"), target="path", detect_order=10,
                  detect=lambda layout: layout.is_file and layout.path.suffix.lower() in MANIFEST_SUFFIXES,
                  summary="a .csv / .tsv / .parquet list of path, label (kind, group, split, media_type optional)")
def load_manifest(
    path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    name: str | None = None,
    check_exists: bool = True,
) -> Dataset:
    """Manifest table: ``.csv`` (comma), ``.tsv`` / ``.txt`` (tab) or ``.parquet`` (needs pyarrow).

    Columns: ``path`` (or relpath / filepath / file / filename) and ``label`` are required; ``kind``,
    ``group``, ``split``, ``media_type`` are optional; every other column goes into ``attrs``
    (cells that hold JSON lists / objects, e.g. ``segments``, are decoded). Relative paths are
    resolved against ``root`` (default: the manifest's folder). Labels accept 0/1, real/fake,
    REAL/FAKE, bonafide/attack. Defaults: kind "real" / "fake", group = the path, media_type from
    the extension ("frames" for a directory of images). Rows with an unknown label, a missing file,
    an unrecognised media type or a repeated path are skipped with the reason.
    """
    p = Path(path).resolve()
    base = Path(root).resolve() if root is not None else p.parent
    rows = _read_table(p)
    if not rows:
        return Dataset(name or p.stem, str(base), [], [(str(p), "empty manifest")])
    cols = set(rows[0].keys())
    path_col = next((c for c in _PATH_COLUMNS if c in cols), None)
    if path_col is None or "label" not in cols:
        raise ValueError(f"{p}: manifest needs a path column ({'/'.join(_PATH_COLUMNS)}) and a label column")
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        raw = str(row.get(path_col) or "").strip()
        if not raw:
            skipped.append((f"{p}:{i}", "empty path"))
            continue
        f = Path(raw) if os.path.isabs(raw) else base / raw
        label = parse_label(row.get("label"))
        if label is None:
            skipped.append((str(f), f"unknown label {row.get('label')!r}"))
            continue
        if str(f) in seen:
            skipped.append((str(f), "duplicate row"))
            continue
        if check_exists and not f.exists():
            skipped.append((str(f), "missing file"))
            continue
        mt = str(row.get("media_type") or "").strip() or (media_type_of(f) if f.exists() else None)
        if mt is None:
            ext = f.suffix.lower()
            mt = "video" if ext in VIDEO_EXTS else "image" if ext in IMAGE_EXTS else None
        if mt not in ("image", "video", "frames"):
            skipped.append((str(f), f"unrecognised media type {mt!r}"))
            continue
        seen.add(str(f))
        attrs = {
            k: _attr_value(v)
            for k, v in row.items()
            if k not in _KNOWN and k != path_col and v not in (None, "")
        }
        samples.append(
            Sample(
                str(f),
                label,
                str(row.get("kind") or "").strip() or ("fake" if label else "real"),
                str(row.get("group") or "").strip() or raw,
                str(row.get("split") or "").strip() or None,
                mt,
                attrs,
            )
        )
    return Dataset(name or p.stem, str(base), samples, skipped)
