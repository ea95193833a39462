"""Content-addressed media store: streaming hash, dedup, limits, retention, artifact dirs."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from facetrust.errors import EmptyFileError, FileTooLargeError
from facetrust.server.media import EmptyMedia, MediaStore, MediaTooLarge

DAY = 86_400.0


def chunked(data: bytes, sizes: list[int]):
    """Yield ``data`` in chunks of the given sizes (cycled), like a network stream."""
    i, k = 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        yield data[i : i + n]
        i, k = i + n, k + 1


def random_bytes(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def media_files(ms: MediaStore) -> list[Path]:
    return sorted(p for p in ms.media_root.rglob("*") if p.is_file())


def temp_files(ms: MediaStore) -> list[Path]:
    return sorted(ms.root.glob(".upload-*"))


@pytest.fixture
def ms(tmp_path) -> MediaStore:
    return MediaStore(tmp_path / "data")


def test_layout_and_streaming_hash(ms):
    assert ms.media_root.is_dir() and ms.artifacts_root.is_dir()
    data = random_bytes(200_003)
    stored = ms.put_stream(chunked(data, [1, 7, 4096, 65_536, 0, 333]), max_bytes=len(data))
    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha and stored.size == len(data)
    assert stored.path == ms.media_root / sha[:2] / sha[2:4] / sha
    assert stored.path.read_bytes() == data
    assert stored.head == data[:1024]
    assert ms.path_for(sha) == stored.path
    assert media_files(ms) == [stored.path] and temp_files(ms) == []


def test_small_media_head_is_everything(ms):
    stored = ms.put_stream([b"\xff\xd8", b"\xff", b"tiny"], max_bytes=100)
    assert stored.head == b"\xff\xd8\xfftiny" and stored.size == 7


def test_same_content_is_stored_once_and_its_age_refreshed(ms):
    data = random_bytes(10_000, seed=1)
    first = ms.put_stream(chunked(data, [1000]), max_bytes=10**6)
    os.utime(first.path, (1_000_000.0, 1_000_000.0))  # stored long ago
    second = ms.put_stream(chunked(data, [3, 5000]), max_bytes=10**6)
    assert second == first
    assert media_files(ms) == [first.path] and temp_files(ms) == []
    assert first.path.stat().st_mtime > 1_000_000.0 + DAY  # retention counts from the latest upload
    other = ms.put_stream([data + b"!"], max_bytes=10**6)
    assert other.sha256 != first.sha256 and len(media_files(ms)) == 2


def test_concurrent_identical_uploads_end_as_one_file(ms):
    data = random_bytes(50_000, seed=2)
    results, errors = [], []

    def upload() -> None:
        try:
            results.append(ms.put_stream(chunked(data, [4096]), max_bytes=len(data)))
        except Exception as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len({r.path for r in results}) == 1
    assert media_files(ms) == [results[0].path] and results[0].path.read_bytes() == data
    assert temp_files(ms) == []


def test_too_large_stops_reading_at_the_limit_and_leaves_nothing(ms):
    consumed = []

    def stream():
        for i in range(100):
            consumed.append(i)
            yield b"x" * 1000

    with pytest.raises(MediaTooLarge) as err:
        ms.put_stream(stream(), max_bytes=2500)
    assert err.value.limit == 2500 and err.value.received == 3000
    assert "2500" in str(err.value)
    assert isinstance(err.value, FileTooLargeError)  # the project's error family, code "file_too_large"
    assert consumed == [0, 1, 2]  # stopped as soon as the limit was crossed, not at the end of the stream
    assert temp_files(ms) == [] and media_files(ms) == []
    # Exactly at the limit is fine.
    assert ms.put_stream([b"x" * 1000] * 2 + [b"x" * 500], max_bytes=2500).size == 2500


@pytest.mark.parametrize("chunks", [[], [b"", b""]])
def test_empty_media(ms, chunks):
    with pytest.raises(EmptyMedia) as err:
        ms.put_stream(iter(chunks), max_bytes=100)
    assert isinstance(err.value, EmptyFileError)
    assert temp_files(ms) == [] and media_files(ms) == []


def test_a_failing_stream_leaves_nothing(ms):
    def stream():
        yield b"partial upload"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        ms.put_stream(stream(), max_bytes=10**6)
    assert temp_files(ms) == [] and media_files(ms) == []
    with pytest.raises(ValueError, match="max_bytes"):
        ms.put_stream([b"x"], max_bytes=0)


def test_path_for_unknown_or_malformed(ms):
    assert ms.path_for("0" * 64) is None
    for bad in ("../../etc/passwd", "A" * 64, "a" * 63, ""):
        assert ms.path_for(bad) is None


def test_artifact_dir(ms):
    scan_id = "0123456789abcdef0123456789abcdef"
    d = ms.artifact_dir(scan_id)
    assert d == ms.artifacts_root / scan_id and not d.exists()  # a lookup (views) creates nothing
    d.mkdir()
    (d / "report.html").write_text("<html></html>")
    assert ms.artifact_dir(scan_id) == d and (d / "report.html").exists()  # idempotent, keeps contents
    for bad in ("../escape", "a/b", "", ".."):
        with pytest.raises(ValueError):
            ms.artifact_dir(bad)


def _aged(path: Path, mtime: float) -> Path:
    if not path.exists():
        path.write_bytes(b"partial")
    os.utime(path, (mtime, mtime))
    return path


def test_purge_respects_age_keep_and_artifacts(ms):
    now = 2_000_000_000.0
    old = _aged(ms.put_stream([b"old"], max_bytes=100).path, now - 8 * DAY)
    old_kept = ms.put_stream([b"old but in use"], max_bytes=100)
    _aged(old_kept.path, now - 30 * DAY)
    fresh = _aged(ms.put_stream([b"fresh"], max_bytes=100).path, now - 1 * DAY)
    ms.artifact_dir("a" * 32).mkdir()
    report = _aged(ms.artifact_dir("a" * 32) / "report.html", now - 365 * DAY)
    stale_tmp = _aged(ms.root / ".upload-crashed", now - 2 * DAY)
    live_tmp = _aged(ms.root / ".upload-live", now - 60)

    assert ms.purge(older_than_s=7 * DAY, keep={old_kept.sha256}, now=now) == 1
    assert not old.exists() and not old.parent.exists()  # emptied fan-out dirs are tidied away
    assert old_kept.path.exists() and fresh.exists() and report.exists()
    assert not stale_tmp.exists() and live_tmp.exists()
    # Once no longer in use, the old file goes on the next run; a second run finds nothing more.
    assert ms.purge(older_than_s=7 * DAY, now=now) == 1
    assert ms.purge(older_than_s=7 * DAY, now=now) == 0
    assert media_files(ms) == [fresh]


def test_purge_with_zero_age_spares_an_upload_in_progress(ms):
    live_tmp = ms.root / ".upload-live"
    live_tmp.write_bytes(b"being written")
    stored = ms.put_stream([b"done"], max_bytes=100)
    assert ms.purge(older_than_s=0, now=stored.path.stat().st_mtime + 1) == 1
    assert live_tmp.exists() and media_files(ms) == []
