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

    # Issue 16: the fixture's face 2 was "real" with a family; a family is now shown only for a face
    # judged fake, so the test makes it a fake face.
    image_result.faces[1].family = "synthesis"
    image_result.faces[1].family_probabilities = {"synthesis": 0.8, "faceswap": 0.2}
    image_result.faces[1].fake_probability, image_result.faces[1].verdict = 0.95, "fake"
    path = write_csv(ScanReport([image_result]), tmp_path / "s.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["family"] == "synthesis"


def _row(tmp_path, result) -> dict:
    from facetrust.report import ScanReport

    path = write_csv(ScanReport([result]), tmp_path / "r.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    return row


def test_family_only_for_fake_faces_and_unknown_below_the_floor(tmp_path, image_result):
    from facetrust.report.labels import FAMILY_MIN_CONFIDENCE, UNKNOWN_METHOD

    face = image_result.faces[0]
    face.verdict = "real"
    assert _row(tmp_path, image_result)["family"] == ""  # a genuine face shows no forgery family
    face.verdict = "fake"
    face.family_probabilities = {"faceswap": FAMILY_MIN_CONFIDENCE - 0.01, "synthesis": 0.3}
    assert _row(tmp_path, image_result)["family"] == UNKNOWN_METHOD
    face.family_probabilities = {"faceswap": FAMILY_MIN_CONFIDENCE, "synthesis": 0.3}
    assert _row(tmp_path, image_result)["family"] == "faceswap"


def test_faces_below_the_quality_gate_and_notes_are_counted(tmp_path, image_result):
    assert _row(tmp_path, image_result)["n_faces_not_deciding"] == "0"
    image_result.faces[0].decisive = False
    image_result.notes = ["face cap reached", "second note"]
    row = _row(tmp_path, image_result)
    assert row["n_faces_not_deciding"] == "1" and row["notes"] == "face cap reached | second note"
    assert row["family"] == ""  # the only fake face does not decide


def test_empty_report_has_header_only(tmp_path):
    from facetrust.report import ScanReport

    path = write_csv(ScanReport([]), tmp_path / "e.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [list(CSV_COLUMNS)]
