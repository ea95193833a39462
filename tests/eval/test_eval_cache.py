"""The face-detection cache: keys, round trips and recovery from damaged files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from facetrust.eval.cache import (
    CacheEntry,
    CachedFrame,
    CropBundle,
    FaceCache,
    FaceCacheKey,
    describe_face_detector,
    file_sha256,
    media_sha256,
)
from facetrust.faces import CropSpec
from facetrust.faces.types import DetectedFace


def _face(x: float, score: float = 0.9) -> DetectedFace:
    box = np.array([x, 10.0, x + 50.0, 70.0])
    lm = np.array([[x + 15, 30], [x + 35, 30], [x + 25, 42], [x + 17, 55], [x + 33, 55]], dtype=np.float64)
    return DetectedFace(box=box, score=score, landmarks5=lm, backend="yunet")


def _key(digest: str = "a" * 64, **kw) -> FaceCacheKey:
    base = dict(face_detector="yunet(max_side=960,min_face_size=24.0,min_score=0.5)", sampler="uniform:16",
                max_faces=16)
    base.update(kw)
    return FaceCacheKey(digest, **base)


def _entry() -> CacheEntry:
    return CacheEntry("video", 320, 240, [
        CachedFrame(0, 0.0, [_face(5.0), _face(100.0, 0.7)]),
        CachedFrame(8, 0.333, []),
        CachedFrame(16, 0.667, [_face(7.5)]),
    ])


def test_faces_round_trip(tmp_path):
    cache = FaceCache(tmp_path)
    key = _key()
    assert cache.get(key) is None and cache.stats["misses"] == 1
    cache.put(key, _entry())
    got = cache.get(key)
    assert got is not None and cache.stats["hits"] == 1
    assert (got.media_kind, got.width, got.height) == ("video", 320, 240)
    assert [(f.index, f.time_s, len(f.faces)) for f in got.frames] == [(0, 0.0, 2), (8, 0.333, 0), (16, 0.667, 1)]
    for a, b in zip([f for fr in _entry().frames for f in fr.faces], [f for fr in got.frames for f in fr.faces]):
        assert np.array_equal(a.box, b.box) and np.array_equal(a.landmarks5, b.landmarks5)
        assert a.score == b.score and b.backend == "yunet"
    assert got.frame(16).faces[0].box[0] == 7.5 and got.frame(3) is None and got.n_faces == 3


def test_error_entries_and_crops_round_trip(tmp_path):
    cache = FaceCache(tmp_path)
    bad = _key("b" * 64)
    cache.put(bad, CacheEntry("image", error_code="corrupt_media", error="truncated"))
    e = cache.get(bad)
    assert e.error_code == "corrupt_media" and e.error == "truncated" and e.frames == []

    key, spec = _key(), CropSpec(32, 0.2)
    cache.put(key, _entry())
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    mats = rng.normal(size=(3, 2, 3))
    cache.put_crops(key, spec, CropBundle(crops, mats))
    b = cache.get_crops(key, spec, 3)
    assert np.array_equal(b.crops, crops) and np.allclose(b.matrices, mats)
    assert cache.get_crops(key, CropSpec(32, 0.3), 3) is None  # another spec: a miss
    assert cache.get_crops(key, spec, 2) is None  # face count does not match: rejected
    assert cache.stats["corrupt"] == 1


def test_key_depends_on_content_and_settings_not_on_the_file_name(tmp_path, astronaut):
    import cv2

    p1, p2 = tmp_path / "a.png", tmp_path / "renamed.png"
    cv2.imwrite(str(p1), astronaut)
    shutil.copy(p1, p2)
    assert media_sha256(p1) == media_sha256(p2) == file_sha256(p1)
    base = _key(media_sha256(p1))
    variants = [
        _key(media_sha256(p1), sampler="uniform:8"),
        _key(media_sha256(p1), max_faces=1),
        _key(media_sha256(p1), condition="jpeg:30"),
        _key(media_sha256(p1), face_detector="mediapipe()"),
    ]
    assert len({base.digest, *(v.digest for v in variants)}) == 5
    p2.write_bytes(p2.read_bytes()[:-1] + b"\x00")
    assert media_sha256(p2) != media_sha256(p1)
    # a frame folder: names and bytes of its images
    d = tmp_path / "frames"
    d.mkdir()
    shutil.copy(p1, d / "0001.png")
    h1 = media_sha256(d, "frames")
    shutil.copy(p1, d / "0002.png")
    assert media_sha256(d, "frames") != h1


def test_describe_face_detector_names_its_parameters():
    from facetrust.faces import create_face_detector

    d = create_face_detector("yunet", min_score=0.6, min_face_size=30)
    text = describe_face_detector(d)
    assert text.startswith("yunet(") and "min_score=0.6" in text and "min_face_size=30" in text


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty", "other_key", "nan"])
def test_damaged_files_are_a_miss_and_removed(tmp_path, damage):
    cache = FaceCache(tmp_path)
    key = _key()
    cache.put(key, _entry())
    path = cache.faces_path(key)
    if damage == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "other_key":  # a valid file of another key copied over (e.g. a bad sync)
        other = _key("c" * 64)
        cache.put(other, CacheEntry("image", 10, 10, [CachedFrame(0, None, [])]))
        shutil.copy(cache.faces_path(other), path)
    else:
        e = _entry()
        e.frames[0].faces[0].box[0] = np.nan
        cache.put(key, e)
    assert cache.get(key) is None
    assert cache.stats["corrupt"] == 1 and not path.exists()
    cache.put(key, _entry())  # recomputed and stored again
    assert cache.get(key) is not None


def test_unwritable_cache_is_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = FaceCache(blocker)  # a file where the folder should be
    cache.put(_key(), _entry())
    assert cache.stats["write_errors"] == 1 and cache.get(_key()) is None
