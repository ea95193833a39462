"""Schema of the job store and its versioned migrations (SQLAlchemy Core, SQLite and PostgreSQL).

Each step runs in its own transaction under a lock (PostgreSQL advisory lock, SQLite BEGIN IMMEDIATE),
re-reading the version inside it, so a server and its worker processes may all call migrate() at start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, ContextManager

import sqlalchemy as sa

# Any constant shared by every process of every facetrust install; only this module takes it.
_PG_LOCK_KEY = 0x66_74_72_75_73_74  # "ftrust"


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer facetrust: refuse rather than misread or damage it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sa.Connection], None]


def scans_table_v1(metadata: sa.MetaData) -> sa.Table:
    """The scans table as migration 1 creates it.

    Frozen: a later schema change adds a migration (ALTER ...) and defines the new shape for queries in
    store.py, so that migration 1 keeps creating exactly what later steps expect to find.
    """
    return sa.Table(
        "scans",
        metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("media_path", sa.Text),
        sa.Column("media_sha256", sa.String(64)),
        sa.Column("media_bytes", sa.BigInteger),
        sa.Column("options", sa.Text, nullable=False),  # JSON text: identical round trip on both backends
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("started_at", sa.Double),
        sa.Column("finished_at", sa.Double),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("worker", sa.String(128)),
        sa.Column("lease_expires_at", sa.Double),
        sa.Column("progress", sa.Double, nullable=False, server_default="0"),
        sa.Column("frames_done", sa.Integer),
        sa.Column("frames_total", sa.Integer),
        sa.Column("verdict", sa.String(32)),
        sa.Column("fake_probability", sa.Double),
        sa.Column("result", sa.Text),  # JSON text
        sa.Column("error", sa.Text),
        sa.Column("error_type", sa.String(64)),
        # Queue scan (claim_next) and newest-first paging (list_scans) both walk an index.
        sa.Index("ix_scans_status_created", "status", "created_at"),
        sa.Index("ix_scans_created_id", "created_at", "id"),
    )


def _v1_scans(conn: sa.Connection) -> None:
    scans_table_v1(sa.MetaData()).create(conn)


MIGRATIONS: list[Migration] = [
    Migration(1, "create scans", _v1_scans),
]

_metadata = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations",
    _metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("applied_at", sa.Double, nullable=False),
)


def current_version(conn: sa.Connection) -> int:
    """Highest applied version; 0 for a database never migrated."""
    if not sa.inspect(conn).has_table("schema_migrations"):
        return 0
    return int(conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0)


def _check_steps(steps: list[Migration]) -> None:
    versions = [m.version for m in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"migration versions must be 1..n in order, got {versions}")


def migrate(engine: sa.Engine, begin_write: Callable[[], ContextManager[sa.Connection]]) -> int:
    """Apply pending steps of MIGRATIONS in order, one transaction each; returns the schema version.

    ``begin_write`` opens a write transaction (a context manager yielding a Connection) that holds the
    SQLite write lock from its start; on PostgreSQL an advisory lock serialises concurrent migrators.
    """
    steps = list(MIGRATIONS)  # read at call time: tests add steps by patching the module attribute
    _check_steps(steps)
    latest = steps[-1].version if steps else 0
    while True:
        with begin_write() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
            schema_migrations.create(conn, checkfirst=True)
            current = current_version(conn)
            if current > latest:
                raise SchemaTooNewError(
                    f"the database schema is at version {current}, newer than this facetrust knows "
                    f"({latest}); upgrade facetrust or point it at another database"
                )
            pending = [m for m in steps if m.version > current]
            if not pending:
                return current
            step = pending[0]
            step.apply(conn)
            conn.execute(schema_migrations.insert().values(version=step.version, name=step.name, applied_at=time.time()))
