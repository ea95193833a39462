"""Store fixtures: every store test runs on SQLite (a temp file) and on PostgreSQL.

PostgreSQL needs FACETRUST_TEST_PG_URL (``.ci/postgres.sh`` starts a local server and prints it); without
it those cases skip. Each PostgreSQL case gets its own schema (via search_path), dropped afterwards, so
cases never see each other's rows and two test runs may share one database.
"""

from __future__ import annotations

import os
import uuid
from typing import Callable, Iterator

import importlib.util

import pytest

# The service is an optional extra (`pip install facetrust[server]`): without it, skip these tests
# instead of failing their collection.
_SERVER_DEPS = ("fastapi", "sqlalchemy", "uvicorn", "multipart", "prometheus_client")
if not all(importlib.util.find_spec(m) for m in _SERVER_DEPS):
    collect_ignore_glob = ["test_*.py"]
    Store = None
else:
    import sqlalchemy as sa

    from facetrust.server.store import Store

PG_URL_ENV = "FACETRUST_TEST_PG_URL"


class FakeClock:
    """Epoch seconds that move only when told: deterministic ordering and lease arithmetic."""

    def __init__(self, start: float = 1_800_000_000.0, step: float = 0.001):
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step  # every call a little later, like the real clock (step 0: all ties)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database (never migrated), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests need {PG_URL_ENV} (run .ci/postgres.sh to start a local server)")
    schema = f"ft_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store_factory(store_url) -> Iterator[Callable[..., Store]]:
    """Makes Stores on the same database (as separate processes would); all closed at teardown."""
    made: list[Store] = []

    def make(**kwargs) -> Store:
        s = Store(store_url, **kwargs)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_factory, clock) -> Store:
    """A migrated store on each backend, on a fake clock."""
    s = store_factory(clock=clock)
    s.migrate()
    return s
