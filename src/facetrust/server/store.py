"""Durable scan store and job queue: SQLAlchemy 2 Core on SQLite or PostgreSQL.

The queue lives in the scans table itself: workers claim the oldest queued row under a lease, renew it
with heartbeats, and recover_expired() hands rows of dead workers back to the queue (or fails them).
Every write that reads-then-updates runs under the database's write lock (SQLite BEGIN IMMEDIATE,
PostgreSQL row locks with SKIP LOCKED), so threads and processes can share one database.
"""

from __future__ import annotations

import base64
import json
import math
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import sqlalchemy as sa

from facetrust.server import migrations
from facetrust.server.migrations import SchemaTooNewError

__all__ = ["STATUSES", "KINDS", "SOURCES", "ScanRecord", "Store", "SchemaTooNewError"]

STATUSES = ("queued", "running", "done", "failed")
KINDS = ("image", "video")
SOURCES = ("upload", "path")
_ACTIVE = ("queued", "running")

# The current shape of the table for queries (see migrations.scans_table_v1 for why they are separate).
scans = migrations.scans_table_v1(sa.MetaData())
_FLOATS = {"created_at", "updated_at", "started_at", "finished_at", "lease_expires_at", "progress", "fake_probability"}


@dataclass
class ScanRecord:
    id: str
    status: str
    kind: str
    source: str
    filename: str | None
    media_path: str | None
    media_sha256: str | None
    media_bytes: int | None
    options: dict
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    worker: str | None
    lease_expires_at: float | None
    progress: float
    frames_done: int | None
    frames_total: int | None
    verdict: str | None
    fake_probability: float | None
    result: dict | None
    error: str | None
    error_type: str | None


_RECORD_FIELDS = [f.name for f in fields(ScanRecord)]


def _dumps(value: Any) -> str:
    # ensure_ascii: lone surrogates (undecodable file names) stay encodable for both drivers.
    return json.dumps(value, separators=(",", ":"))


def _record(row: sa.Row) -> ScanRecord:
    m = row._mapping
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        v = m.get(name)  # "result" is absent when a listing leaves it out
        if name in ("options", "result"):
            v = None if v is None else json.loads(v)
        elif name in _FLOATS and v is not None:
            v = float(v)  # SQLite gives back an int for a whole-number REAL written as int
        values[name] = v
    return ScanRecord(**values)


def _encode_cursor(rec: ScanRecord) -> str:
    raw = json.dumps([rec.created_at, rec.id]).encode()  # repr of a float round-trips exactly
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, scan_id = json.loads(raw)
        if not isinstance(scan_id, str) or isinstance(ts, bool) or not isinstance(ts, (int, float)):
            raise TypeError
        if not math.isfinite(ts):
            raise ValueError
        return float(ts), scan_id
    except (ValueError, TypeError) as e:
        raise ValueError("invalid cursor") from e


class Store:
    """Scan records and the job queue. Thread-safe: every call uses its own pooled connection."""

    def __init__(self, url: str, *, echo: bool = False, clock: Callable[[], float] = time.time):
        # clock: tests pass a fake one for deterministic ordering; production uses wall-clock epoch seconds.
        self._clock = clock
        u = sa.make_url(url)
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")  # psycopg 3 is what we ship, not psycopg2
        backend = u.get_backend_name()
        if backend == "sqlite":
            if u.database in (None, "", ":memory:"):
                raise ValueError("the SQLite store needs a file: an in-memory database is private to one connection")
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = sa.create_engine(
                u, echo=echo, connect_args={"check_same_thread": False, "timeout": 10}
            )
            sa.event.listen(self._engine, "connect", _sqlite_on_connect)
            sa.event.listen(self._engine, "begin", _sqlite_on_begin)
        elif backend == "postgresql":
            self._engine = sa.create_engine(u, echo=echo, pool_pre_ping=True)
        else:
            raise ValueError(f"unsupported database URL {u.render_as_string(hide_password=True)!r}: use sqlite or postgresql")

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A transaction that will write: on SQLite it takes the write lock at BEGIN.

        A deferred transaction that reads and then writes can fail with SQLITE_BUSY at once (its snapshot
        went stale) without the busy timeout helping; BEGIN IMMEDIATE queues for the lock instead.
        """
        with self._engine.connect() as conn:
            conn.execution_options(facetrust_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn:
            yield conn

    # -- schema ---------------------------------------------------------------------------------
    def migrate(self) -> int:
        # Servers starting together race to create a fresh SQLite file; a step is one transaction, so a
        # "database is locked" that escaped the busy timeout (WAL set-up) is safe to retry.
        for attempt in range(5):
            try:
                return migrations.migrate(self._engine, self._write)
            except sa.exc.OperationalError as exc:
                if self.dialect != "sqlite" or "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    def schema_version(self) -> int:
        with self._read() as conn:
            return migrations.current_version(conn)

    # -- records --------------------------------------------------------------------------------
    def create_scan(
        self,
        *,
        kind: str,
        source: str,
        filename: str | None,
        media_path: str | None,
        media_sha256: str | None,
        media_bytes: int | None,
        options: dict,
    ) -> ScanRecord:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        now = self._clock()
        values = dict(
            id=uuid.uuid4().hex, status="queued", kind=kind, source=source, filename=filename,
            media_path=media_path, media_sha256=media_sha256, media_bytes=media_bytes,
            options=_dumps(dict(options)), created_at=now, updated_at=now, attempts=0, progress=0.0,
        )
        with self._write() as conn:
            conn.execute(scans.insert().values(**values))
            row = conn.execute(sa.select(scans).where(scans.c.id == values["id"])).one()
        return _record(row)

    def get_scan(self, scan_id: str) -> ScanRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(scans).where(scans.c.id == scan_id)).first()
        return None if row is None else _record(row)

    def list_scans(
        self, *, limit: int = 20, cursor: str | None = None, status: str | None = None, with_result: bool = True
    ) -> tuple[list[ScanRecord], str | None]:
        """Newest first; pass the returned cursor back for the next page (None: no more pages).

        Keyset paging on (created_at, id): rows inserted meanwhile never shift a page. with_result=False
        leaves the (possibly large) result JSON out of every record (result is None then).
        """
        limit = max(1, min(100, int(limit)))
        cols = list(scans.c) if with_result else [c for c in scans.c if c.name != "result"]
        q = sa.select(*cols).order_by(scans.c.created_at.desc(), scans.c.id.desc()).limit(limit + 1)
        if status is not None:
            q = q.where(scans.c.status == _check_status(status))
        if cursor:
            ts, last_id = _decode_cursor(cursor)
            q = q.where(sa.or_(scans.c.created_at < ts, sa.and_(scans.c.created_at == ts, scans.c.id < last_id)))
        with self._read() as conn:
            rows = conn.execute(q).all()
        items = [_record(r) for r in rows[:limit]]
        return items, (_encode_cursor(items[-1]) if len(rows) > limit else None)

    def count(self, status: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(scans)
        if status is not None:
            q = q.where(scans.c.status == _check_status(status))
        with self._read() as conn:
            return int(conn.execute(q).scalar_one())

    def counts_by_status(self) -> dict[str, int]:
        q = sa.select(scans.c.status, sa.func.count()).group_by(scans.c.status)
        with self._read() as conn:
            found = {s: int(n) for s, n in conn.execute(q)}
        return {s: found.get(s, 0) for s in STATUSES}

    def media_in_use(self) -> set[str]:
        q = sa.select(scans.c.media_sha256).distinct().where(
            scans.c.status.in_(_ACTIVE), scans.c.media_sha256.is_not(None)
        )
        with self._read() as conn:
            return set(conn.execute(q).scalars())

    # -- queue ----------------------------------------------------------------------------------
    def claim_next(self, *, worker: str, lease_s: float, kinds: Sequence[str] | None = None) -> ScanRecord | None:
        """Oldest queued scan (optionally of these kinds) -> running under ``worker``; None if none."""
        q = sa.select(scans.c.id).where(scans.c.status == "queued")
        if kinds is not None:
            kinds = list(kinds)
            if not kinds:
                return None
            q = q.where(scans.c.kind.in_(kinds))
        q = q.order_by(scans.c.created_at, scans.c.id).limit(1)
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)  # concurrent claimers take the next row, not wait
        with self._write() as conn:
            scan_id = conn.execute(q).scalar()
            if scan_id is None:
                return None
            now = self._clock()
            done = conn.execute(
                scans.update()
                .where(scans.c.id == scan_id, scans.c.status == "queued")
                .values(
                    status="running", attempts=scans.c.attempts + 1, worker=worker,
                    lease_expires_at=now + lease_s, started_at=sa.func.coalesce(scans.c.started_at, now),
                    updated_at=now,
                )
            )
            if done.rowcount != 1:  # cannot happen under the lock; never hand out a scan we did not take
                return None
            row = conn.execute(sa.select(scans).where(scans.c.id == scan_id)).one()
        return _record(row)

    def _update_held(self, scan_id: str, worker: str, values: dict[str, Any]) -> bool:
        """Apply ``values`` only while the scan is running under ``worker`` (the lease check)."""
        with self._write() as conn:
            res = conn.execute(
                scans.update()
                .where(scans.c.id == scan_id, scans.c.status == "running", scans.c.worker == worker)
                .values(**values)
            )
            return res.rowcount == 1

    def heartbeat(
        self,
        scan_id: str,
        *,
        worker: str,
        lease_s: float,
        progress: float | None = None,
        frames_done: int | None = None,
        frames_total: int | None = None,
    ) -> bool:
        now = self._clock()
        values: dict[str, Any] = {"lease_expires_at": now + lease_s, "updated_at": now}
        if progress is not None:
            values["progress"] = min(1.0, max(0.0, float(progress)))
        if frames_done is not None:
            values["frames_done"] = int(frames_done)
        if frames_total is not None:
            values["frames_total"] = int(frames_total)
        return self._update_held(scan_id, worker, values)

    def finish(
        self, scan_id: str, *, worker: str, result: dict, verdict: str, fake_probability: float | None,
        frames: int | None = None,
    ) -> bool:
        """running (under ``worker``) -> done; ``frames``: frames analysed (sets frames_done and frames_total)."""
        now = self._clock()
        values = dict(
            status="done", progress=1.0, finished_at=now, updated_at=now, lease_expires_at=None,
            result=_dumps(result), verdict=verdict,
            fake_probability=None if fake_probability is None else float(fake_probability),
            error=None, error_type=None,
        )
        if frames is not None:
            values.update(frames_done=frames, frames_total=frames)
        return self._update_held(scan_id, worker, values)

    def fail(self, scan_id: str, *, error: str, error_type: str, worker: str | None = None) -> bool:
        now = self._clock()
        values = dict(
            status="failed", finished_at=now, updated_at=now, lease_expires_at=None, error=error, error_type=error_type
        )
        if worker is not None:
            return self._update_held(scan_id, worker, values)
        with self._write() as conn:
            res = conn.execute(
                scans.update().where(scans.c.id == scan_id, scans.c.status.in_(_ACTIVE)).values(**values)
            )
            return res.rowcount == 1

    def recover_expired(self, *, max_attempts: int, now: float | None = None) -> tuple[list[str], list[str]]:
        """Running scans whose lease ran out: requeue them, or fail those that used up max_attempts."""
        now = self._clock() if now is None else now
        expired = sa.and_(
            scans.c.status == "running",
            # A running row without a lease has no owner that could ever renew it.
            sa.or_(scans.c.lease_expires_at < now, scans.c.lease_expires_at.is_(None)),
        )
        q = sa.select(scans.c.id, scans.c.attempts).where(expired).order_by(scans.c.created_at, scans.c.id)
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)  # a row being finished right now is not expired
        requeued: list[str] = []
        failed: list[str] = []
        with self._write() as conn:
            for scan_id, attempts in conn.execute(q).all():
                if attempts < max_attempts:
                    values: dict[str, Any] = dict(
                        status="queued", worker=None, lease_expires_at=None, progress=0.0,
                        frames_done=None, frames_total=None, updated_at=now,
                    )
                    bucket = requeued
                else:
                    values = dict(
                        status="failed", finished_at=now, updated_at=now, lease_expires_at=None,
                        error_type="interrupted",
                        error=f"the worker stopped responding (lease expired) on attempt {attempts} of "
                        f"{max_attempts}; not retried",
                    )
                    bucket = failed
                res = conn.execute(scans.update().where(scans.c.id == scan_id, expired).values(**values))
                if res.rowcount == 1:
                    bucket.append(scan_id)
        return requeued, failed


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    return status


def _sqlite_on_connect(dbapi_conn: Any, _conn_record: Any) -> None:
    # We emit BEGIN ourselves (see _sqlite_on_begin): the sqlite3 module's implicit transactions skip
    # SELECTs and cannot do BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    # WAL: readers do not block the writer, across processes too. Switching a fresh database to WAL
    # needs an exclusive lock and can fail at once with "database is locked" (no busy wait) while
    # another connection is in a transaction: retry, as when several workers open a new database.
    deadline = time.monotonic() + 10.0
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: never corrupt; a power cut may lose the last commits
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get("facetrust_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
