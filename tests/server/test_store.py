"""The durable store and its job queue, on SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import math
import multiprocessing
import threading

import pytest
import sqlalchemy as sa

from facetrust.server import migrations
from facetrust.server.migrations import Migration, SchemaTooNewError
from facetrust.server.store import STATUSES, Store

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


def new_scan(store: Store, kind: str = "image", sha: str | None = SHA_A, **options):
    return store.create_scan(kind=kind, source="upload", filename=f"{kind}.bin", media_path=f"/m/{sha}",
                             media_sha256=sha, media_bytes=123, options=options or {"threshold": 0.5})


# -- migrations -----------------------------------------------------------------------------------

def test_migrate_twice_is_a_noop(store_factory):
    s = store_factory()
    assert s.schema_version() == 0
    assert s.migrate() == 1
    rec = new_scan(s)
    assert s.migrate() == 1
    assert s.schema_version() == 1
    with s.engine.connect() as conn:
        rows = conn.execute(sa.select(migrations.schema_migrations)).all()
    assert [(r.version, r.name) for r in rows] == [(1, "create scans")]
    assert s.get_scan(rec.id) == rec


def _add_note_column(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE scans ADD COLUMN note TEXT")


def test_a_later_step_is_applied_to_a_v1_database_and_newer_databases_are_refused(store_factory, monkeypatch):
    old = store_factory()
    assert old.migrate() == 1
    rec = new_scan(old)
    original = list(migrations.MIGRATIONS)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*original, Migration(2, "add note", _add_note_column)])
    new = store_factory()
    assert new.schema_version() == 1
    assert new.migrate() == 2
    assert new.migrate() == 2
    with new.engine.connect() as conn:
        assert "note" in {c["name"] for c in sa.inspect(conn).get_columns("scans")}
        assert conn.execute(sa.select(sa.func.count()).select_from(migrations.schema_migrations)).scalar() == 2
    assert new.get_scan(rec.id) == rec  # data survives the step
    # The old code (only step 1) must refuse a database at version 2 rather than run on it.
    monkeypatch.setattr(migrations, "MIGRATIONS", original)
    with pytest.raises(SchemaTooNewError, match=r"version 2, newer than this facetrust knows \(1\)"):
        store_factory().migrate()


def test_a_failing_step_is_rolled_back(store_factory, monkeypatch):
    s = store_factory()
    s.migrate()

    def half_done(conn: sa.Connection) -> None:
        _add_note_column(conn)
        raise RuntimeError("step 2 broke")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, Migration(2, "broken", half_done)])
    with pytest.raises(RuntimeError, match="step 2 broke"):
        s.migrate()
    assert s.schema_version() == 1
    with s.engine.connect() as conn:  # transactional DDL on both backends: the column is gone too
        assert "note" not in {c["name"] for c in sa.inspect(conn).get_columns("scans")}


def test_concurrent_migrate_applies_each_step_once(store_factory):
    stores = [store_factory() for _ in range(4)]
    versions, errors = [], []

    def run(s: Store) -> None:
        try:
            versions.append(s.migrate())
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and versions == [1, 1, 1, 1]
    with stores[0].engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(migrations.schema_migrations)).scalar() == 1


# -- records and listing ---------------------------------------------------------------------------

def test_create_and_get(store, clock):
    rec = new_scan(store, kind="video", sha=SHA_B, threshold=0.7, detectors=["forensicnet"])
    assert len(rec.id) == 32 and int(rec.id, 16) >= 0
    assert (rec.status, rec.kind, rec.source, rec.media_sha256, rec.media_bytes) == ("queued", "video", "upload", SHA_B, 123)
    assert rec.options == {"threshold": 0.7, "detectors": ["forensicnet"]}
    assert rec.created_at == rec.updated_at == pytest.approx(clock.now)
    assert rec.attempts == 0 and rec.progress == 0.0 and rec.worker is None and rec.result is None
    assert store.get_scan(rec.id) == rec
    assert store.get_scan("0" * 32) is None
    with pytest.raises(ValueError, match="kind"):
        new_scan(store, kind="audio")


def test_json_round_trip_is_exact(store_factory, store):
    result = {
        "schema_version": 1,
        "results": [{"fake_probability": 0.1 + 0.2, "tiny": 5e-324, "third": 1 / 3, "big": 1.7976931348623157e308,
                     "neg_zero": -0.0, "none": None, "ok": True, "faces": [{"box": [1, 2.5, 3, 4]}]}],
        "text": "café ✓ 日本語 😀 \u0000 \"quoted\" \\ back",
        "nested": {"a": {"b": {"c": [[], {}, [None, 0, -1]]}}},
    }
    options = {"threshold": 0.3000000000000001, "name": "Ünïcødé"}
    rec = store.create_scan(kind="image", source="path", filename="ファイル.jpg", media_path="/m/x",
                            media_sha256=None, media_bytes=None, options=options)
    claimed = store.claim_next(worker="w", lease_s=30)
    assert store.finish(claimed.id, worker="w", result=result, verdict="fake", fake_probability=0.1 + 0.2)
    # Read back through a second Store (another connection pool): nothing cached, all from the database.
    got = store_factory().get_scan(rec.id)
    assert got.result == result and got.options == options and got.filename == "ファイル.jpg"
    assert math.copysign(1.0, got.result["results"][0]["neg_zero"]) == -1.0
    assert got.fake_probability == 0.1 + 0.2  # a double column, not a rounded one


def _scan_at(store: Store, clock, t: float, **kw):
    clock.now, step = t, clock.step
    clock.step = 0.0
    try:
        return new_scan(store, **kw)
    finally:
        clock.step = step


def test_list_pages_newest_first_without_duplicates_or_skips(store, clock):
    # Many created_at ties: id breaks them, and the cursor must carry both.
    times = [1000.0, 1000.0, 1000.0, 1001.5, 1001.5, 1002.0] * 4 + [999.0]
    made = [_scan_at(store, clock, t) for t in times]
    expected = [r.id for r in sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)]
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = store.list_scans(limit=4, cursor=cursor)
        pages += 1
        seen += [r.id for r in page]
        if pages == 2:  # rows created meanwhile are newer than any cursor: they never shift later pages
            _scan_at(store, clock, 5000.0)
        if cursor is None:
            break
    assert seen == expected and pages == math.ceil(len(made) / 4)


def test_list_filters_clamps_and_rejects_bad_input(store, clock):
    made = [new_scan(store) for _ in range(5)]
    store.claim_next(worker="w", lease_s=30)  # the oldest: made[0]
    page, cursor = store.list_scans(status="queued", limit=100)
    assert [r.id for r in page] == [r.id for r in reversed(made[1:])] and cursor is None
    page, cursor = store.list_scans(limit=0)  # clamped to 1
    assert len(page) == 1 and cursor is not None
    page, _ = store.list_scans(limit=10_000)
    assert len(page) == 5
    page, _ = store.list_scans(with_result=False)
    assert all(r.result is None for r in page) and page[0].options == {"threshold": 0.5}
    for bad in ("garbage!", "bm90IGpzb24", "WzEsMl0", "W05hTiwiYSJd"):  # junk / not JSON / [1,2] / [NaN,"a"]
        with pytest.raises(ValueError, match="invalid cursor"):
            store.list_scans(cursor=bad)
    with pytest.raises(ValueError, match="status"):
        store.list_scans(status="paused")


def test_list_limit_is_at_most_100(store):
    for _ in range(101):
        new_scan(store)
    page, cursor = store.list_scans(limit=500)
    assert len(page) == 100 and cursor is not None
    rest, cursor = store.list_scans(limit=500, cursor=cursor)
    assert len(rest) == 1 and cursor is None


def test_counts(store):
    assert store.counts_by_status() == dict.fromkeys(STATUSES, 0)
    a, b, c, d = (new_scan(store) for _ in range(4))
    store.claim_next(worker="w", lease_s=30)  # a
    store.claim_next(worker="w", lease_s=30)  # b
    store.finish(b.id, worker="w", result={}, verdict="real", fake_probability=0.01)
    store.fail(c.id, error="bad", error_type="internal_error")
    assert store.counts_by_status() == {"queued": 1, "running": 1, "done": 1, "failed": 1}
    assert store.count() == 4 and store.count("queued") == 1


def test_media_in_use_is_the_media_of_queued_and_running_scans(store):
    new_scan(store, sha=SHA_A)  # will run
    new_scan(store, sha=SHA_B)  # will finish
    new_scan(store, sha=SHA_C)  # stays queued
    new_scan(store, sha=None)
    done = new_scan(store, sha="d" * 64)
    store.fail(done.id, error="x", error_type="internal_error")
    store.claim_next(worker="w", lease_s=30)
    b = store.claim_next(worker="w", lease_s=30)
    store.finish(b.id, worker="w", result={}, verdict="real", fake_probability=0.2)
    assert store.media_in_use() == {SHA_A, SHA_C}


# -- the queue --------------------------------------------------------------------------------------

def test_claim_order_kinds_filter_and_lease(store, clock):
    img1 = new_scan(store, kind="image")
    vid = new_scan(store, kind="video")
    img2 = new_scan(store, kind="image")
    assert store.claim_next(worker="w", lease_s=30, kinds=[]) is None
    got = store.claim_next(worker="w1", lease_s=30, kinds=["video"])
    assert got.id == vid.id
    assert (got.status, got.attempts, got.worker) == ("running", 1, "w1")
    assert got.lease_expires_at == pytest.approx(clock.now + 30) and got.started_at == pytest.approx(clock.now)
    assert store.claim_next(worker="w1", lease_s=30, kinds=("video",)) is None
    assert store.claim_next(worker="w2", lease_s=30).id == img1.id
    assert store.claim_next(worker="w2", lease_s=30, kinds=["image", "video"]).id == img2.id
    assert store.claim_next(worker="w2", lease_s=30) is None
    assert store.get_scan(vid.id) == got


def test_concurrent_claimers_claim_every_scan_exactly_once(store_factory, store):
    made = {new_scan(store).id for _ in range(20)}
    claims: list[str] = []
    lock, errors = threading.Lock(), []

    def worker(name: str, s: Store) -> None:
        try:
            while (rec := s.claim_next(worker=name, lease_s=60)) is not None:
                with lock:
                    claims.append(rec.id)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    # Two threads share a Store (its pool); two have their own, like separate processes.
    stores = [store, store, store_factory(), store_factory()]
    threads = [threading.Thread(target=worker, args=(f"w{i}", s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(claims) == sorted(made)
    assert all(store.get_scan(i).attempts == 1 for i in made)


def _claim_all(url: str, name: str) -> list[str]:
    s = Store(url)
    try:
        out = []
        while (rec := s.claim_next(worker=name, lease_s=60)) is not None:
            out.append(rec.id)
        return out
    finally:
        s.close()


@pytest.mark.slow  # starts three interpreters
def test_claimers_in_separate_processes_never_share_a_scan(store_url, store):
    made = {new_scan(store).id for _ in range(30)}
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited connections or locks
    with ctx.Pool(3) as pool:
        results = pool.starmap(_claim_all, [(store_url, f"p{i}") for i in range(3)])
    claims = [i for r in results for i in r]
    assert sorted(claims) == sorted(made)


def test_heartbeat_only_for_the_lease_holder(store, clock):
    rec = new_scan(store)
    store.claim_next(worker="w1", lease_s=10)
    assert store.heartbeat(rec.id, worker="w1", lease_s=10, progress=1.7, frames_done=3, frames_total=40)
    got = store.get_scan(rec.id)
    assert (got.progress, got.frames_done, got.frames_total) == (1.0, 3, 40)  # progress clamped to 0..1
    assert got.lease_expires_at == pytest.approx(clock.now + 10)
    assert not store.heartbeat(rec.id, worker="w2", lease_s=10)
    # w1 stalls; its lease runs out, the scan is requeued and w2 takes it: w1 must learn it lost it.
    assert store.recover_expired(max_attempts=3, now=clock.now + 60) == ([rec.id], [])
    assert not store.heartbeat(rec.id, worker="w1", lease_s=10)
    assert store.claim_next(worker="w2", lease_s=10).attempts == 2
    assert not store.heartbeat(rec.id, worker="w1", lease_s=10, progress=0.9)
    assert not store.finish(rec.id, worker="w1", result={"stale": True}, verdict="fake", fake_probability=0.9)
    assert not store.fail(rec.id, worker="w1", error="x", error_type="internal_error")
    assert store.heartbeat(rec.id, worker="w2", lease_s=10, progress=0.25)
    assert store.get_scan(rec.id).progress == 0.25
    assert not store.heartbeat("0" * 32, worker="w2", lease_s=10)


def test_finish(store, clock):
    rec = new_scan(store)
    assert not store.finish(rec.id, worker="w", result={}, verdict="real", fake_probability=0.1)  # not claimed
    store.claim_next(worker="w", lease_s=10)
    assert store.finish(rec.id, worker="w", result={"v": 1}, verdict="not_applicable", fake_probability=None)
    got = store.get_scan(rec.id)
    assert (got.status, got.progress, got.verdict, got.fake_probability, got.result) == (
        "done", 1.0, "not_applicable", None, {"v": 1})
    assert got.finished_at == pytest.approx(clock.now) and got.lease_expires_at is None
    assert not store.finish(rec.id, worker="w", result={"v": 2}, verdict="fake", fake_probability=1.0)
    assert store.get_scan(rec.id).result == {"v": 1}
    other = new_scan(store)
    store.claim_next(worker="w", lease_s=10)
    assert store.finish(other.id, worker="w", result={}, verdict="fake", fake_probability=0.9, frames=12)
    got = store.get_scan(other.id)
    assert (got.frames_done, got.frames_total, got.progress) == (12, 12, 1.0)


def test_fail(store):
    queued, running, other, done = (new_scan(store) for _ in range(4))
    assert store.fail(queued.id, error="media gone", error_type="media_gone")  # no worker: from queued
    store.claim_next(worker="w", lease_s=10)  # running
    store.claim_next(worker="w", lease_s=10)  # other
    store.claim_next(worker="w", lease_s=10)  # done
    store.finish(done.id, worker="w", result={}, verdict="real", fake_probability=0.0)
    assert not store.fail(running.id, worker="someone-else", error="x", error_type="internal_error")
    assert store.fail(running.id, worker="w", error="boom", error_type="internal_error")
    assert store.fail(other.id, error="shutdown", error_type="interrupted")  # no worker: from running
    assert not store.fail(done.id, error="late", error_type="internal_error")  # finished scans stay done
    assert not store.fail(queued.id, error="twice", error_type="internal_error")
    got = store.get_scan(running.id)
    assert (got.status, got.error, got.error_type, got.lease_expires_at) == ("failed", "boom", "internal_error", None)
    assert got.finished_at is not None
    assert store.get_scan(queued.id).error_type == "media_gone"
    assert store.get_scan(done.id).status == "done"


def test_recover_expired_requeues_then_fails_after_max_attempts(store, clock):
    a, b, c = (new_scan(store) for _ in range(3))
    for name in ("wa", "wb", "wc"):
        store.claim_next(worker=name, lease_s=10)
    t0 = clock.now
    first_start = store.get_scan(a.id).started_at
    store.heartbeat(c.id, worker="wc", lease_s=100, progress=0.5, frames_done=5, frames_total=10)
    assert store.recover_expired(max_attempts=2, now=t0 + 5) == ([], [])  # nothing expired yet
    requeued, failed = store.recover_expired(max_attempts=2, now=t0 + 20)
    assert requeued == [a.id, b.id] and failed == []  # oldest first; c still holds a live lease
    got = store.get_scan(a.id)
    assert (got.status, got.worker, got.lease_expires_at, got.progress, got.attempts) == ("queued", None, None, 0.0, 1)
    assert store.get_scan(c.id).status == "running"
    # Second attempt of a and b, which also expires: with max_attempts=2 they fail now.
    again = store.claim_next(worker="wa2", lease_s=10)
    assert again.id == a.id and again.started_at == first_start  # the first start is kept
    assert store.claim_next(worker="wb2", lease_s=10).attempts == 2
    requeued, failed = store.recover_expired(max_attempts=2, now=clock.now + 1000)
    assert (requeued, failed) == ([c.id], [a.id, b.id])  # c had 1 attempt of 2: it gets another
    got = store.get_scan(a.id)
    assert (got.status, got.error_type) == ("failed", "interrupted")
    assert "attempt 2 of 2" in got.error and got.finished_at is not None
    assert store.recover_expired(max_attempts=2, now=clock.now + 2000) == ([], [])


def test_sqlite_settings(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        s.close()


def test_store_urls(tmp_path):
    with pytest.raises(ValueError, match="in-memory"):
        Store("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        Store("mysql://u:secret@h/db")
    s = Store(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.db'}")  # parent directories are created
    try:
        assert s.dialect == "sqlite" and s.migrate() == 1
    finally:
        s.close()
