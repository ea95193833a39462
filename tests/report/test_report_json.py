"""JSON round trip and contract of facetrust.report.json_io."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from facetrust.report import (
    SCHEMA_VERSION,
    DetectorScore,
    FaceResult,
    MediaResult,
    ScanReport,
    read_json,
    write_json,
)


def _strict_load(path):
    def reject(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def test_round_trip_equal(tmp_path, report):
    out = write_json(report, tmp_path / "sub" / "report.json")
    back = read_json(out)
    assert back == report  # dataclass equality; heatmaps/previews are compare=False
    assert [r.verdict for r in back.results] == ["fake", "fake", "error", "not_applicable"]
    assert back.results[0].faces[0].scores[0].evidence == report.results[0].faces[0].scores[0].evidence
    assert back.results[1].tracks[0].segments == report.results[1].tracks[0].segments
    # in-memory arrays never enter the file
    assert back.results[0].faces[0].heatmap is None and back.results[0].previews == {}
    # no temp file left behind next to the output
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]


def test_contract_keys_and_utf8(tmp_path, report):
    report.results[3].path = "photos/café ☕.jpg"
    path = write_json(report, tmp_path / "r.json")
    data = _strict_load(path)
    assert data["schema_version"] == SCHEMA_VERSION
    for r in data["results"]:
        assert {"path", "verdict", "fake_probability", "faces", "error"} <= r.keys()
    assert data["results"][2]["error"].startswith("truncated JPEG")
    assert data["results"][2]["fake_probability"] is None
    assert data["results"][0]["faces"][0]["box"] == report.results[0].faces[0].box
    assert "café ☕" in path.read_text(encoding="utf-8")  # written as UTF-8, not \u escapes
    assert "heatmap" not in data["results"][0]["faces"][0]
    assert "previews" not in data["results"][0]
    assert path.read_text(encoding="utf-8").startswith('{\n  "')  # indent=2


def test_nan_and_inf_become_null(tmp_path):
    face = FaceResult(
        frame_index=0, face_index=0, box=[1.0, 2.0, 3.0, float("inf")], landmarks=[],
        detection_score=float("nan"), fake_probability=float("nan"), verdict="real",
        scores=[DetectorScore("d", "1", 0.5, evidence={"a": np.float32("nan"), "b": np.float64("-inf"), "c": 1.5})],
    )
    rep = ScanReport(results=[MediaResult("x.png", "real", float("nan"), faces=[face], elapsed_s=np.float32("inf"))])
    path = write_json(rep, tmp_path / "nan.json")
    data = _strict_load(path)
    r = data["results"][0]
    assert r["fake_probability"] is None and r["elapsed_s"] is None
    f = r["faces"][0]
    assert f["box"] == [1.0, 2.0, 3.0, None]
    assert f["detection_score"] is None and f["fake_probability"] is None
    assert f["scores"][0]["evidence"] == {"a": None, "b": None, "c": 1.5}
    back = read_json(path)
    assert back.results[0].fake_probability is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in back.results[0].faces[0].box)


def test_rejects_other_major_version(tmp_path, report):
    path = write_json(report, tmp_path / "r.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = "2.0"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="schema_version"):
        read_json(path)


def test_overwrite_replaces_whole_file(tmp_path, report):
    path = tmp_path / "r.json"
    write_json(report, path)
    small = ScanReport(results=[])
    write_json(small, path)
    assert read_json(path) == small
