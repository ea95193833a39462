"""One-row-per-media CSV summary of a :class:`ScanReport`.

Empty cells mean "not measured" (``None``); floats are written with ``repr`` so they parse back
exactly. Values are written verbatim (no spreadsheet-formula escaping), so the CSV stays data.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from .json_io import atomic_write_text
from .labels import shown_family
from .schema import MediaResult, ScanReport

__all__ = ["CSV_COLUMNS", "write_csv", "csv_row", "top_family"]

CSV_COLUMNS = (
    "path",
    "verdict",
    "fake_probability",
    "n_faces",
    "n_tracks",
    "media_type",
    "width",
    "height",
    "duration_s",
    "error_type",
    "error",
    "reason",
    "elapsed_s",
    "family",
    "n_faces_not_deciding",  # below the face-quality gate: reported, not deciding the verdict
    "notes",  # e.g. the face cap was reached; several joined by " | "
)


def top_family(result: MediaResult) -> str | None:
    """The forgery family shown for the most suspicious deciding face judged fake that reports one
    (``report.labels.shown_family``: its name, or "unknown method" below the floor); None if none."""
    best: tuple[float, str] | None = None
    for face in result.faces:
        family = shown_family(face)
        if family is None or not face.decisive:
            continue
        p = face.fake_probability
        key = p if p is not None and math.isfinite(p) else -1.0
        if best is None or key > best[0]:
            best = (key, family)
    return best[1] if best else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def csv_row(result: MediaResult) -> dict[str, str]:
    """The CSV cells of one media result, keyed by :data:`CSV_COLUMNS`."""
    values = {
        "path": result.path,
        "verdict": result.verdict,
        "fake_probability": result.fake_probability,
        "n_faces": len(result.faces),
        "n_tracks": len(result.tracks),
        "media_type": result.media_type,
        "width": result.width,
        "height": result.height,
        "duration_s": result.duration_s,
        "error_type": result.error_type,
        "error": result.error,
        "reason": result.reason,
        "elapsed_s": result.elapsed_s,
        "family": top_family(result),
        "n_faces_not_deciding": sum(not f.decisive for f in result.faces),
        "notes": " | ".join(result.notes),
    }
    return {k: _cell(values[k]) for k in CSV_COLUMNS}


def write_csv(report: ScanReport, path: str | os.PathLike[str]) -> Path:
    """Write one row per media (header :data:`CSV_COLUMNS`) to ``path`` atomically."""
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for result in report.results:
        writer.writerow(csv_row(result))
    return atomic_write_text(path, buf.getvalue())
