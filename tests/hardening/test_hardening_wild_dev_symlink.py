"""Defect 9 of issue 13: a wild-dev folder reached through a symlink lists the same samples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facetrust.eval.adapters.wild_dev import default_root, load_wild_dev

_COLUMNS = ("relpath", "label", "kind", "source_repo", "path_in_repo", "license", "bytes", "image_size",
            "commit", "verified", "note", "sha256")
_ROWS = (
    ("raw/a__b/real.jpg", "real", "real-photo(yonsei)", "a/b"),
    ("raw/a__b/fake.jpg", "fake", "photoshop(yonsei)", "a/b"),
    ("raw/c__d/clip/v1_fr000.png", "fake", "video-frame-crop face-swap(FF++ FaceSwap c23)", "c/d"),
    ("raw/c__d/clip/v1_fr010.png", "fake", "video-frame-crop face-swap(FF++ FaceSwap c23)", "c/d"),
    ("raw/c__d/LICENSE", "other", "licence", "c/d"),
)


def _fake_wild_dev(root: Path) -> Path:
    lines = ["\t".join(_COLUMNS)]
    for rel, label, kind, repo in _ROWS:
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"not decoded by the adapter")
        lines.append("\t".join((rel, label, kind, repo) + ("",) * (len(_COLUMNS) - 4)))
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def linked(tmp_path) -> tuple[Path, Path]:
    """(real folder, a symlink to the folder above it standing in for ``../shared``)."""
    real = _fake_wild_dev(tmp_path / "store" / "data" / "wild-dev")
    link = tmp_path / "shared"
    try:
        link.symlink_to(tmp_path / "store", target_is_directory=True)
    except OSError:
        pytest.skip("symlinks not supported here")
    return real, link / "data" / "wild-dev"


def test_samples_lie_under_the_root_when_reached_through_a_symlink(linked):
    real, through_link = linked
    ds = load_wild_dev(through_link)
    assert len(ds) == 4 and len(ds.skipped) == 1
    for s in ds:  # the failing call of the issue: relative_to between the dataset root and a sample
        rel = Path(s.path).relative_to(ds.root)
        assert rel.as_posix().startswith("raw/")
        assert (through_link / rel).is_file()
    direct = load_wild_dev(real)
    assert [s.path for s in ds] == [s.path for s in direct]
    assert ds.root == direct.root and ds.manifest_hash == direct.manifest_hash
    groups = {s.group for s in ds if s.kind == "face-swap"}
    assert groups == {"raw/c__d/clip"}  # frame crops of one clip share a group


def test_the_default_root_through_a_symlink_gives_the_same_dataset(linked, monkeypatch):
    real, through_link = linked
    monkeypatch.setenv("FACETRUST_WILD_DEV", os.fspath(through_link))
    assert default_root() == through_link
    ds = load_wild_dev()
    assert Path(ds.root) == real.resolve()
    assert [s.path for s in ds] == [s.path for s in load_wild_dev(real)]
