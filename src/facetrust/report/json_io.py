"""Versioned JSON report files: :func:`write_json` / :func:`read_json`.

The file is ``to_json_dict(report)`` as UTF-8, indent 2. Non-finite floats never reach the file
(they become ``null``), and the file appears atomically: a reader sees the old file or the new
one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from .schema import ScanReport, from_json_dict, to_json_dict

__all__ = ["write_json", "read_json", "atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``.

    The parent folder is created when missing. A replaced file keeps its permission bits; a new
    one gets 0o644 (``mkstemp`` alone would leave it owner-only). Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8 (newlines written as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def finite_json(value: Any) -> Any:
    """Map every non-finite float to None, recursively (strict JSON has no NaN/Infinity).

    ``schema._plain`` already does this for Python floats, but a numpy float32 scalar becomes a
    Python float only after its NaN check, so we re-check the plain tree here.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_json(v) for v in value]
    return value


def report_to_json_text(report: ScanReport, *, heatmaps: bool = False) -> str:
    """The exact text :func:`write_json` writes (strict JSON: no NaN/Infinity tokens)."""
    data = finite_json(to_json_dict(report, heatmaps=heatmaps))
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(report: ScanReport, path: str | os.PathLike[str], *, heatmaps: bool = False) -> Path:
    """Write ``report`` as versioned JSON to ``path`` atomically (``heatmaps``: with each face's
    heatmap, see schema.heatmap_rows); returns the path."""
    return atomic_write_text(path, report_to_json_text(report, heatmaps=heatmaps))


def read_json(path: str | os.PathLike[str]) -> ScanReport:
    """Load a report written by :func:`write_json` (or any producer of the same schema).

    Raises ``ValueError`` for an unsupported major ``schema_version`` or malformed JSON.
    """
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top-level JSON value must be an object")
    return from_json_dict(data)
