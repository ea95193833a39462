"""The batch ledger: which inputs of an output folder already have their row (SQLite, ``ledger.sqlite``).

A file is keyed by its path (as the walker gives it) and the sha256 of its bytes: the same path with
new content is a new input. A key is in ``files`` only once its row is in ``results.jsonl``; the
ledger also records how far into ``results.jsonl`` it has indexed (``jsonl_offset``), in the same
transaction. Rows written after the last commit (a kill between the two) are found past that offset
and adopted on the next start (:func:`facetrust.batch.writer.reconcile`), so the JSONL file is the
truth and the ledger its index: a kill at any instant loses at most the row being written.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

LEDGER_NAME = "ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY, started REAL NOT NULL, finished REAL,
    scanned INTEGER NOT NULL DEFAULT 0,      -- rows this run produced by scanning
    duplicates INTEGER NOT NULL DEFAULT 0,   -- rows copied from an earlier row with the same content
    already_done INTEGER NOT NULL DEFAULT 0, -- inputs skipped because their row existed
    adopted INTEGER NOT NULL DEFAULT 0       -- rows a killed run wrote but had not indexed yet
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,          -- '' when the bytes could not be read (missing file, not a regular file)
    row_offset INTEGER NOT NULL,   -- byte offset of the row in results.jsonl
    verdict TEXT NOT NULL,
    error_type TEXT,
    duplicate_of TEXT,             -- path of the earlier row with the same content, when copied from it
    run INTEGER NOT NULL,          -- the run that wrote the row
    PRIMARY KEY (path, sha256)
);
CREATE INDEX IF NOT EXISTS files_by_sha ON files (sha256);
CREATE TABLE IF NOT EXISTS parquet_parts (
    name TEXT PRIMARY KEY, first_row INTEGER NOT NULL, n_rows INTEGER NOT NULL, end_offset INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class LedgerRow:
    path: str
    sha256: str
    row_offset: int
    verdict: str
    error_type: str | None = None
    duplicate_of: str | None = None


class Ledger:
    """The ledger of one output folder, opened by the one process writing it."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / LEDGER_NAME
        # WAL: worker processes read it (is this input done?) while the writer commits.
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")
        self.run = 0

    # -- settings of the job ---------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def check_setting(self, key: str, value: object) -> None:
        """Record a job setting on the first run; later runs into the same folder must match it
        (rows scanned with other options or another shard would not be one job)."""
        text = json.dumps(value, sort_keys=True)
        known = self.meta(key)
        if known is None:
            self.set_meta(key, text)
        elif known != text:
            raise ValueError(f"{self.path.parent} holds a job with {key}={known}, not {text}: "
                             "use another --out folder")

    @property
    def jsonl_offset(self) -> int:
        return int(self.meta("jsonl_offset") or 0)

    @property
    def n_rows(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    # -- runs ------------------------------------------------------------------------------
    def start_run(self) -> int:
        cur = self.db.execute("INSERT INTO runs (started) VALUES (?)", (time.time(),))
        self.run = int(cur.lastrowid)
        self.commit()
        return self.run

    def last_run_before(self) -> int:
        """The run before this one (the one whose unindexed rows are adopted), 0 if none."""
        row = self.db.execute("SELECT MAX(run) FROM runs WHERE run < ?", (self.run,)).fetchone()
        return int(row[0] or 0)

    def count(self, column: str, n: int = 1) -> None:
        if column not in ("scanned", "duplicates", "already_done", "adopted"):
            raise ValueError(column)
        self.db.execute(f"UPDATE runs SET {column} = {column} + ? WHERE run = ?", (n, self.run))

    def finish_run(self) -> None:
        self.db.execute("UPDATE runs SET finished = ? WHERE run = ?", (time.time(), self.run))
        self.commit()

    def runs(self) -> list[dict]:
        cur = self.db.execute("SELECT * FROM runs ORDER BY run")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- files -----------------------------------------------------------------------------
    def is_done(self, path: str, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM files WHERE path = ? AND sha256 = ?", (path, sha256)).fetchone() is not None

    def has_content(self, sha256: str) -> bool:
        return self.first_with_content(sha256) is not None

    def first_with_content(self, sha256: str) -> LedgerRow | None:
        """The first row of these bytes (None for unreadable files: '' is no content)."""
        if not sha256:
            return None
        r = self.db.execute("SELECT path, sha256, row_offset, verdict, error_type, duplicate_of FROM files "
                            "WHERE sha256 = ? ORDER BY row_offset LIMIT 1", (sha256,)).fetchone()
        return None if r is None else LedgerRow(*r)

    def add(self, row: LedgerRow, *, run: int | None = None) -> None:
        self.db.execute(
            "INSERT INTO files (path, sha256, row_offset, verdict, error_type, duplicate_of, run) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.path, row.sha256, row.row_offset, row.verdict, row.error_type, row.duplicate_of,
             self.run if run is None else run),
        )

    def commit(self, jsonl_offset: int | None = None) -> None:
        """Commit the rows added since the last commit, with the JSONL offset they reach."""
        if jsonl_offset is not None:
            self.set_meta("jsonl_offset", str(jsonl_offset))
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    # -- the summary -----------------------------------------------------------------------
    def counts_by(self, column: str) -> dict[str, int]:
        if column not in ("verdict", "error_type"):
            raise ValueError(column)
        rows = self.db.execute(f"SELECT {column}, COUNT(*) FROM files WHERE {column} IS NOT NULL "
                               f"GROUP BY {column} ORDER BY {column}").fetchall()
        return {k: n for k, n in rows}

    def n_duplicates(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM files WHERE duplicate_of IS NOT NULL").fetchone()[0]

    # -- parquet parts ---------------------------------------------------------------------
    def parquet_parts(self) -> list[tuple[str, int, int, int]]:
        return self.db.execute("SELECT name, first_row, n_rows, end_offset FROM parquet_parts "
                               "ORDER BY first_row").fetchall()

    def add_parquet_part(self, name: str, first_row: int, n_rows: int, end_offset: int) -> None:
        self.db.execute("INSERT INTO parquet_parts VALUES (?, ?, ?, ?)", (name, first_row, n_rows, end_offset))

    def close(self) -> None:
        """Close, dropping what was not committed: a row is done only with the JSONL offset that
        covers it (an interrupted run's last rows are adopted from the file on the next start)."""
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass
        self.db.close()


def open_readonly(folder: str | Path) -> sqlite3.Connection:
    """A worker's connection: it asks whether an input is done while the writer commits (WAL)."""
    return sqlite3.connect(f"file:{Path(folder) / LEDGER_NAME}?mode=ro", uri=True, check_same_thread=False)
