"""Streaming the rows of a batch: ``results.jsonl`` (the truth) and Parquet parts (a columnar copy).

One JSON object per line, the scan result schema of ``facetrust.report.schema`` (``MediaResult``)
plus the batch keys ``sha256`` and ``duplicate_of``. Each row is flushed to the OS as soon as it is
written, so a killed process leaves every finished row in the file; the file is fsynced before the
ledger records the rows (:class:`facetrust.batch.ledger.Ledger`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from ..report.json_io import finite_json
from .ledger import Ledger, LedgerRow

JSONL_NAME = "results.jsonl"
PARQUET_DIR = "parquet"
PARQUET_PART_ROWS = 1000  # rows per Parquet part: a part is written once complete, then never touched



def row_text(row: dict[str, Any]) -> str:
    """One JSONL line (strict JSON, newline-terminated)."""
    return json.dumps(finite_json(row), ensure_ascii=False, allow_nan=False) + "\n"


def ledger_row(row: dict[str, Any], offset: int) -> LedgerRow:
    return LedgerRow(row["path"], row.get("sha256") or "", offset, row["verdict"], row.get("error_type"),
                     row.get("duplicate_of"))


class JsonlWriter:
    """Appends rows to ``results.jsonl``; :attr:`offset` is the end of the last complete row."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JSONL_NAME
        self.fh = open(self.path, "ab")
        self.offset = self.fh.tell()
        self.reader = open(self.path, "rb")

    def write(self, row: dict[str, Any]) -> tuple[int, str]:
        """Write and flush one row; returns its byte offset and its line."""
        start, line = self.offset, row_text(row)
        self.fh.write(line.encode("utf-8"))
        self.fh.flush()  # in the OS's hands now: a kill -9 of this process cannot lose it
        self.offset = self.fh.tell()
        return start, line

    def read_row(self, offset: int) -> dict[str, Any]:
        self.reader.seek(offset)
        return json.loads(self.reader.readline())

    def sync(self) -> None:
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.sync()
        self.fh.close()
        self.reader.close()


def reconcile(folder: Path, ledger: Ledger) -> tuple[int, int]:
    """Make ``results.jsonl`` and the ledger agree after a crash; returns (rows adopted, bytes dropped).

    Past the ledger's offset: a complete row whose key the ledger lacks was written by a run killed
    before its commit, and is adopted (recorded, not scanned again); a row whose key is already
    recorded would be a duplicate and is dropped, and so is a torn last line (killed mid-write).
    """
    path = folder / JSONL_NAME
    start = ledger.jsonl_offset
    if not path.exists():
        if start:
            raise ValueError(f"{path} is missing but its ledger has {ledger.n_rows} rows: use a new --out folder")
        return 0, 0
    size = path.stat().st_size
    if size == start:
        return 0, 0
    if size < start:
        raise ValueError(f"{path} is shorter than its ledger says ({size} < {start} bytes): "
                         "it was edited; use a new --out folder")
    kept: list[bytes] = []
    skipped = False
    adopted_keys: set[tuple[str, str]] = set()
    offset = start
    run = ledger.last_run_before()
    with open(path, "rb") as fh:
        fh.seek(start)
        for line in fh:
            if not line.endswith(b"\n"):
                break  # torn last line
            try:
                row = json.loads(line)
                key = (row["path"], row.get("sha256") or "")
                row["verdict"]
            except (ValueError, KeyError, TypeError):
                break  # a damaged line: everything from here on is dropped and rescanned
            if key in adopted_keys or ledger.is_done(*key):
                skipped = True
                continue
            adopted_keys.add(key)
            ledger.add(ledger_row(row, offset), run=run)
            kept.append(line)
            offset += len(line)
    dropped = size - offset
    with open(path, "r+b") as fh:
        if skipped:  # rows after a dropped one moved: rewrite the tail
            fh.seek(start)
            fh.write(b"".join(kept))
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
    if adopted_keys:
        ledger.count("adopted", len(adopted_keys))
    ledger.commit(offset)
    return len(adopted_keys), dropped


def pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


# The Parquet columns: the scalar fields of a MediaResult, and the whole row as JSON (faces, frames and
# tracks are nested lists whose types vary by row; one fixed schema keeps every part readable as one table).
_SCALARS = {
    "path": "string", "sha256": "string", "duplicate_of": "string", "verdict": "string",
    "fake_probability": "float64", "error": "string", "error_type": "string", "reason": "string",
    "media_type": "string", "width": "int64", "height": "int64", "fps": "float64", "duration_s": "float64",
    "n_frames_total": "int64", "threshold": "float64", "aggregation": "string", "explanation": "string",
    "elapsed_s": "float64",
}


def parquet_schema():
    import pyarrow as pa

    fields = [pa.field(k, getattr(pa, v)()) for k, v in _SCALARS.items()]
    fields += [pa.field("n_faces", pa.int64()), pa.field("detectors", pa.list_(pa.string())),
               pa.field("row_json", pa.string())]
    return pa.schema(fields)


class ParquetMirror:
    """Parquet parts of the committed rows, ``parquet/part-NNNNNNNNN.parquet``, PARQUET_PART_ROWS each.

    A part is written to a temporary name, renamed, then recorded in the ledger; an unrecorded part
    (killed in between) is deleted and rewritten. Read the folder as one table
    (``pyarrow.parquet.read_table(DIR / 'parquet')``). At most one part's rows wait in memory.
    """

    def __init__(self, folder: Path, ledger: Ledger, part_rows: int | None = None) -> None:
        self.dir = folder / PARQUET_DIR
        self.dir.mkdir(exist_ok=True)
        self.ledger = ledger
        self.part_rows = part_rows or PARQUET_PART_ROWS
        self.schema = parquet_schema()
        parts = ledger.parquet_parts()
        recorded = {name for name, *_ in parts}
        for f in self.dir.iterdir():
            if f.name not in recorded:
                f.unlink()
        self.next_row = sum(n for _, _, n, _ in parts)
        self.end_offset = max((end for *_, end in parts), default=0)
        self.pending: list[tuple[str, int]] = []  # (line, end offset)

    def catch_up(self, jsonl: Path) -> None:
        """Queue the committed rows no part holds yet (after a resume)."""
        if not jsonl.exists():
            return
        limit = self.ledger.jsonl_offset
        with open(jsonl, "rb") as fh:
            fh.seek(self.end_offset)
            pos = self.end_offset
            while pos < limit:
                line = fh.readline()
                pos += len(line)
                self.add(line.decode("utf-8"), pos)

    def add(self, line: str, end_offset: int) -> None:
        self.pending.append((line, end_offset))
        if len(self.pending) >= self.part_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns: dict[str, list] = {name: [] for name in self.schema.names}
        for line, _ in self.pending:
            row = json.loads(line)
            for k in _SCALARS:
                columns[k].append(row.get(k))
            columns["n_faces"].append(len(row.get("faces") or []))
            columns["detectors"].append(row.get("detectors") or [])
            columns["row_json"].append(line.rstrip("\n"))
        table = pa.table(columns, schema=self.schema)
        name = f"part-{self.next_row:09d}.parquet"
        tmp = self.dir / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.dir / name)
        n, end = len(self.pending), self.pending[-1][1]
        self.ledger.add_parquet_part(name, self.next_row, n, end)
        self.ledger.commit()
        self.next_row += n
        self.end_offset = end
        self.pending = []


def iter_rows(folder: str | Path) -> Iterator[dict[str, Any]]:
    """The rows of a batch folder's ``results.jsonl``, one at a time."""
    with open(Path(folder) / JSONL_NAME, encoding="utf-8") as fh:
        for line in fh:
            if line.endswith("\n"):
                yield json.loads(line)
