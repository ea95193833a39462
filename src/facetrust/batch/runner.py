"""Running a batch job: inputs -> (skip what the ledger has) -> scan -> row -> ledger, one file at a time.

Order that survives a kill at any instant: the row is appended and flushed to ``results.jsonl``
first; every :data:`CHECKPOINT_ROWS` rows (or :data:`CHECKPOINT_S` seconds) the file is fsynced and
the ledger commits those rows with the offset they reach. A restart adopts the rows written after
the last commit and drops a torn last line (:func:`facetrust.batch.writer.reconcile`), so no input
is scanned twice once its row is written and no row is ever written twice.

Memory does not grow with the number of files: a result is turned into its row, written and dropped;
the ledger answers "is this one done?" from SQLite, not from a set in memory. Only the walked list of
inputs (a path per file) is held.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

from ..io import SourceEntry
from ..io.sources import file_sha256
from .engine import EngineSettings
from .inputs import Shard
from .ledger import Ledger, open_readonly
from .writer import JSONL_NAME, JsonlWriter, ParquetMirror, ledger_row, pyarrow_available, reconcile

CHECKPOINT_ROWS = 32
CHECKPOINT_S = 1.0
SUMMARY_NAME = "summary.json"

OutcomeKind = Literal["already_done", "duplicate", "scanned"]


@dataclass
class Outcome:
    """What one input came to: done in an earlier run, the same bytes as a recorded row, or scanned."""

    path: str
    sha256: str
    kind: OutcomeKind
    row: dict[str, Any] | None = None


def content_sha256(path: Path) -> str:
    """The sha256 of a regular file's bytes; '' when there are none to read (missing, a FIFO...)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""  # reading a FIFO would block; devices and sockets are not media
        return file_sha256(path)
    except OSError:
        return ""


def result_row(result) -> dict[str, Any]:
    """A MediaResult as its JSON row (the schema of ``facetrust.report``; arrays left out)."""
    from ..report.schema import ScanReport, to_json_dict

    return to_json_dict(ScanReport(results=[result]))["results"][0]


class _Lookup:
    """The two questions asked of the ledger before scanning, over a read-only connection (workers)."""

    def __init__(self, folder: Path) -> None:
        self.db = open_readonly(folder)

    def is_done(self, path: str, sha256: str) -> bool:
        q = "SELECT 1 FROM files WHERE path = ? AND sha256 = ?"
        return self.db.execute(q, (path, sha256)).fetchone() is not None

    def has_content(self, sha256: str) -> bool:
        return bool(sha256) and self.db.execute("SELECT 1 FROM files WHERE sha256 = ? LIMIT 1",
                                                (sha256,)).fetchone() is not None


def precheck(entry: SourceEntry, lookup) -> tuple[Outcome | None, str]:
    """Before scanning: the input's sha256, and its outcome when the ledger already answers it
    (done in an earlier run, or the same bytes as a recorded row); None when it is to be scanned."""
    path = str(entry.path)
    sha = content_sha256(entry.path)
    if lookup.is_done(path, sha):
        return Outcome(path, sha, "already_done"), sha
    if lookup.has_content(sha):
        return Outcome(path, sha, "duplicate"), sha
    return None, sha


def scan_outcome(entry: SourceEntry, sha: str, scan_options: dict[str, Any], progress=None) -> Outcome:
    """Scan one input (whose ledger check said so) into its row."""
    from .. import api

    result = api.scan_entry(api.get_scanner(**scan_options), entry, progress=progress)
    row = result_row(result)
    row["sha256"], row["duplicate_of"] = sha or None, None
    return Outcome(str(entry.path), sha, "scanned", row)


def examine(entry: SourceEntry, lookup, scan_options: dict[str, Any], progress=None) -> Outcome:
    """One input: skipped when the ledger has it, flagged when its bytes were scanned, else scanned."""
    known, sha = precheck(entry, lookup)
    return known if known is not None else scan_outcome(entry, sha, scan_options, progress)


# -- worker processes ------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def prepare_worker(scan_options: dict[str, Any]) -> None:
    """Set up a process that scans beside others (a local worker, a Ray actor) and load the models once."""
    # One thread per worker: the processes are the parallelism (ORT and OpenCV would each take every core).
    os.environ.setdefault("FACETRUST_THREADS", "1")
    import cv2

    cv2.setNumThreads(1)
    from .. import api

    api.get_scanner(**scan_options)


def _init_worker(folder: str, scan_options: dict[str, Any]) -> None:
    prepare_worker(scan_options)
    _WORKER.update(lookup=_Lookup(Path(folder)), options=scan_options)


def _examine_in_worker(entry: SourceEntry) -> Outcome:
    return examine(entry, _WORKER["lookup"], _WORKER["options"])


@dataclass
class RunStats:
    scanned: int = 0
    duplicates: int = 0
    already_done: int = 0
    adopted: int = 0
    started: float = field(default_factory=time.perf_counter)
    first_row_at: float | None = None  # when the first row of this run was written (models loaded)
    last_row_at: float | None = None
    rows_after_first: int = 0

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def wrote_row(self) -> None:
        now = time.perf_counter()
        if self.first_row_at is None:
            self.first_row_at = now
        else:
            self.rows_after_first += 1
        self.last_row_at = now

    @property
    def steady_files_per_s(self) -> float | None:
        """Rows per second after the first one: the rate without start-up (imports, model loading)."""
        if self.first_row_at is None or self.last_row_at is None or self.last_row_at <= self.first_row_at:
            return None
        return self.rows_after_first / (self.last_row_at - self.first_row_at)

    @property
    def files_per_s(self) -> float:
        done = self.scanned + self.duplicates
        return done / self.elapsed_s if self.elapsed_s > 0 else 0.0


class OutputLocked(RuntimeError):
    pass


class BatchJob:
    """One run of a batch job into ``out`` (create it, or resume it)."""

    def __init__(self, out: str | Path, scan_options: dict[str, Any], *, shard: Shard = Shard(),
                 workers: int = 1, parquet: bool | None = None, engine: str = "local",
                 ray_address: str | None = None) -> None:
        from ..pipeline import ScanOptions

        self.out = Path(out)
        # Previews and heatmaps feed only the HTML report: never made, so never kept (issue 13).
        self.scan_options = {**scan_options, "previews": False}
        self.settings = ScanOptions.given(**self.scan_options).as_dict()  # checks them
        self.shard = shard
        self.engine = EngineSettings(engine=engine, workers=workers, ray_address=ray_address)
        self.workers = self.engine.workers
        if self.engine.engine == "ray":
            from .ray_engine import require_ray

            require_ray()
        self.on_frames = None  # set by run()
        self.parquet = pyarrow_available() if parquet is None else parquet
        if self.parquet and not pyarrow_available():
            raise ValueError("Parquet output needs pyarrow: pip install pyarrow")

    def run(self, entries: list[SourceEntry], *, on_advance: Callable[[Outcome], None] | None = None,
            on_frames=None) -> dict:
        """Scan what the ledger lacks among ``entries`` (already this shard's); returns the summary.
        ``on_frames``: a :data:`facetrust.pipeline.ProgressFn` called per analysed frame (one worker only)."""
        self.on_frames = on_frames
        self.out.mkdir(parents=True, exist_ok=True)
        lock = open(self.out / ".lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise OutputLocked(f"{self.out} is being written by another facetrust batch") from None
        ledger = Ledger(self.out)
        try:
            return self._run(ledger, entries, on_advance)
        finally:
            ledger.close()
            lock.close()

    def _run(self, ledger: Ledger, entries: list[SourceEntry], on_advance) -> dict:
        ledger.check_setting("scan_options", self.settings)
        ledger.check_setting("shard", str(self.shard))
        ledger.start_run()
        stats = RunStats()
        stats.adopted, _ = reconcile(self.out, ledger)
        jsonl = JsonlWriter(self.out)
        mirror = ParquetMirror(self.out, ledger) if self.parquet else None
        if mirror is not None:
            mirror.catch_up(self.out / JSONL_NAME)
        uncommitted: list[tuple[str, int]] = []  # (line, end offset) of rows not yet in the ledger
        last_commit = time.monotonic()

        def checkpoint() -> None:
            nonlocal last_commit
            jsonl.sync()  # the rows are on disk before the ledger says they are done
            ledger.commit(jsonl.offset)
            if mirror is not None:
                for line, end in uncommitted:
                    mirror.add(line, end)
            uncommitted.clear()
            last_commit = time.monotonic()

        try:
            for outcome in self._outcomes(entries, ledger):
                self._record(outcome, ledger, jsonl, uncommitted, stats)
                if on_advance is not None:
                    on_advance(outcome)
                if len(uncommitted) >= CHECKPOINT_ROWS or time.monotonic() - last_commit >= CHECKPOINT_S:
                    checkpoint()
            checkpoint()
            if mirror is not None:
                mirror.flush()
            ledger.finish_run()
        finally:
            jsonl.close()
        return self.summary(ledger, stats, len(entries))

    def _outcomes(self, entries: list[SourceEntry], ledger: Ledger) -> Iterator[Outcome]:
        if self.engine.engine == "ray":
            from .ray_engine import ray_outcomes

            yield from ray_outcomes(entries, ledger, self.scan_options, self.engine, precheck=precheck,
                                    prepare=prepare_worker, scan=scan_outcome)
            return
        if self.workers == 1:
            for entry in entries:
                yield examine(entry, ledger, self.scan_options, self.on_frames)
            return
        import multiprocessing

        ledger.commit()  # the workers' read-only connections see what is recorded so far
        ctx = multiprocessing.get_context("spawn")  # no fork of a process holding threads and SQLite
        with ctx.Pool(self.workers, initializer=_init_worker, initargs=(str(self.out), self.scan_options)) as pool:
            yield from pool.imap_unordered(_examine_in_worker, entries, chunksize=1)

    def _record(self, outcome: Outcome, ledger: Ledger, jsonl: JsonlWriter, uncommitted: list,
                stats: RunStats) -> None:
        if outcome.kind == "already_done" or ledger.is_done(outcome.path, outcome.sha256):
            stats.already_done += 1
            ledger.count("already_done")
            return
        first = ledger.first_with_content(outcome.sha256)
        if outcome.kind == "duplicate" and first is not None:
            # The same bytes as a recorded row: its result, under this path (scanning would give it again).
            row = jsonl.read_row(first.row_offset)  # rows are flushed as written: readable at once
            row.update(path=outcome.path, sha256=outcome.sha256, duplicate_of=first.path, elapsed_s=0.0)
            stats.duplicates += 1
            ledger.count("duplicates")
        else:
            if outcome.row is None:  # a worker saw a row this ledger lacks: rows are never deleted
                raise RuntimeError(f"ledger has no row with the content of {outcome.path}")
            row = outcome.row
            # Scanned in parallel with the first copy of its bytes: kept, and marked as the same content.
            row["duplicate_of"] = first.path if first is not None else None
            stats.scanned += 1
            ledger.count("scanned")
        offset, line = jsonl.write(row)
        stats.wrote_row()
        ledger.add(ledger_row(row, offset))
        uncommitted.append((line, jsonl.offset))

    def summary(self, ledger: Ledger, stats: RunStats, n_inputs: int) -> dict:
        from ..report.json_io import atomic_write_text

        n_rows = ledger.n_rows
        summary = {
            "out": str(self.out),
            "shard": str(self.shard),
            "inputs": n_inputs,
            "rows": n_rows,
            "verdicts": ledger.counts_by("verdict"),
            "error_types": ledger.counts_by("error_type"),
            "duplicates": ledger.n_duplicates(),
            "this_run": {
                "run": ledger.run,
                "scanned": stats.scanned,
                "duplicates": stats.duplicates,
                "already_done": stats.already_done,
                "adopted_after_crash": stats.adopted,
                "elapsed_s": round(stats.elapsed_s, 3),
                "files_per_s": round(stats.files_per_s, 3),
                "steady_files_per_s": None if stats.steady_files_per_s is None else round(stats.steady_files_per_s, 3),
                "workers": self.workers,
                "engine": self.engine.engine,
            },
            "outputs": {"jsonl": JSONL_NAME, "parquet": "parquet/" if self.parquet else None},
        }
        import json

        atomic_write_text(self.out / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
        return summary


def run_batch(entries: Iterable[SourceEntry], out: str | Path, *, shard: Shard = Shard(), workers: int = 1,
              engine: str = "local", ray_address: str | None = None,
              on_advance: Callable[[Outcome], None] | None = None, **scan_options) -> dict:
    """The Python form of ``facetrust batch``: scan this shard of ``entries`` into ``out``."""
    job = BatchJob(out, scan_options, shard=shard, workers=workers, engine=engine, ray_address=ray_address)
    return job.run(shard.select(entries), on_advance=on_advance)
