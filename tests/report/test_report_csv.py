"""CSV summary: one row per media, parsed back."""

from __future__ import annotations

import csv

from facetrust.report import write_csv
from facetrust.report.csv_io import CSV_COLUMNS


def _num(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def test_one_row_per_media_with_values(tmp_path, report):
    path = write_csv(report, tmp_path / "out" / "scan.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == len(report.results)
    for row, r in zip(rows, report.results):
        assert row["path"] == r.path  # includes a comma and quotes in the image path
        assert row["verdict"] == r.verdict
        assert _num(row["fake_probability"]) == r.fake_probability
        assert int(row["n_faces"]) == len(r.faces)
        assert int(row["n_tracks"]) == len(r.tracks)
        assert row["media_type"] == (r.media_type or "")
        assert (None if row["width"] == "" else int(row["width"])) == r.width
        assert (None if row["height"] == "" else int(row["height"])) == r.height
        assert _num(row["duration_s"]) == r.duration_s
        assert row["error_type"] == (r.error_type or "")
        assert row["error"] == (r.error or "")
        assert row["reason"] == (r.reason or "")
        assert _num(row["elapsed_s"]) == r.elapsed_s
    img, vid, err, na = rows
    assert img["family"] == "faceswap"  # family of the most suspicious face that reports one
    assert vid["family"] == "" and err["family"] == ""
    assert int(vid["n_tracks"]) == 2 and int(vid["n_faces"]) == 16
    assert err["fake_probability"] == "" and err["error_type"] == "corrupt_media"
    assert na["reason"].startswith("no face detected")
    assert [p.name for p in path.parent.iterdir()] == ["scan.csv"]


def test_family_follows_most_suspicious_face(tmp_path, image_result):
    from facetrust.report import ScanReport

    image_result.faces[1].family = "synthesis"
    image_result.faces[1].fake_probability = 0.95
    path = write_csv(ScanReport([image_result]), tmp_path / "s.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["family"] == "synthesis"


def test_empty_report_has_header_only(tmp_path):
    from facetrust.report import ScanReport

    path = write_csv(ScanReport([]), tmp_path / "e.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [list(CSV_COLUMNS)]
