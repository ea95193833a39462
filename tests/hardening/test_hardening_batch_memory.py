"""Defect 4 of issue 13: a batch scan keeps only what its outputs need (no previews or heatmaps
without --html), so memory does not grow by ~1 MB per image."""

from __future__ import annotations

import pytest

from facetrust import api
from facetrust.cli import main


@pytest.fixture
def kept(monkeypatch):
    """The results the CLI holds until it writes its reports."""
    seen: list = []
    real = api.make_report

    def spy(results, **options):
        seen.extend(results)
        return real(results, **options)

    monkeypatch.setattr(api, "make_report", spy)
    return seen


@pytest.fixture
def folder(tmp_path, demo_media):
    d = tmp_path / "batch"
    d.mkdir()
    data = demo_media["astronaut.png"].read_bytes()
    for i in range(4):
        (d / f"face_{i}.png").write_bytes(data)
    return d


def test_without_html_no_preview_or_heatmap_is_kept(folder, tmp_path, kept):
    main(["scan", str(folder), "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"), "-q"])
    assert len(kept) == 4 and all(r.faces for r in kept)  # faces were found and scored
    assert all(r.previews == {} for r in kept)
    assert all(f.heatmap is None for r in kept for f in r.faces)
    assert (tmp_path / "r.json").stat().st_size > 0


def test_with_html_the_previews_and_heatmaps_are_there(folder, tmp_path, kept):
    main(["scan", str(folder), "--html", str(tmp_path / "r.html"), "-q"])
    assert len(kept) == 4
    assert all(r.previews for r in kept)
    assert all(f.heatmap is not None for r in kept for f in r.faces)
    assert "heatmap overlay" in (tmp_path / "r.html").read_text()
