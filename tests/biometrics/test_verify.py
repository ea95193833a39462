"""facetrust verify: same person / different people / no face / unreadable, the report files, the facade."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("dlib")

import facetrust  # noqa: E402
from facetrust.api import get_scanner  # noqa: E402
from facetrust.biometrics import VerifyReport, verify_pair  # noqa: E402
from facetrust.biometrics.calibration import load_calibration  # noqa: E402
from facetrust.biometrics.render import render_verify_html, write_verify_json  # noqa: E402


@pytest.fixture(scope="module")
def scanner():
    return get_scanner()


@pytest.fixture(scope="module")
def same(scanner, astronaut, astronaut_view) -> VerifyReport:
    return verify_pair(astronaut, astronaut_view, scanner=scanner, keep_chips=True)


@pytest.fixture(scope="module")
def different(scanner, astronaut, hopper) -> VerifyReport:
    return verify_pair(astronaut, hopper, scanner=scanner)


def test_two_views_of_one_photo_are_the_same_person(same):
    assert same.status == "ok" and same.decision == "same_person"
    assert same.same_person_probability > 0.95
    assert same.euclidean_distance < load_calibration().threshold
    assert 0.0 <= same.cosine_distance < 0.05
    assert same.probe_scan is not None and same.probe_scan.verdict in ("real", "fake")
    assert same.accepted == (same.probe_scan.verdict == "real")
    assert same.probe_face.quality["passed"] and same.reference_face.faces_found == 1


def test_astronaut_and_grace_hopper_are_different_people(different):
    assert different.status == "ok" and different.decision == "different_person"
    assert different.same_person_probability < 0.5
    assert different.euclidean_distance > different.threshold
    assert not different.accepted


def test_the_probability_falls_as_the_distance_grows(same, different):
    assert same.euclidean_distance < different.euclidean_distance
    assert same.same_person_probability > different.same_person_probability


def test_no_face_in_the_reference_is_not_applicable(scanner, astronaut):
    import skimage.data

    report = verify_pair(astronaut, skimage.data.coffee(), scanner=scanner)
    assert report.status == "not_applicable" and report.decision is None
    assert report.reason == "reference: no face found"
    assert report.same_person_probability is None and not report.accepted
    assert report.probe_face is not None and report.reference_face is None
    assert report.probe_scan.verdict in ("real", "fake")  # the probe is still scanned


def test_unreadable_probe_is_a_typed_error(scanner, astronaut):
    report = verify_pair(b"not an image at all", astronaut, scanner=scanner)
    assert report.status == "error" and report.error_type == "unsupported_media"
    assert report.error.startswith("probe:") and report.decision is None
    assert report.probe_scan.verdict == "error"


def test_json_and_html(same, tmp_path):
    path = write_verify_json(same, tmp_path / "v.json")
    data = json.loads(path.read_text())
    assert data["schema"] == "facetrust.verify/1" and data["decision"] == "same_person"
    assert data["same_person_probability"] == pytest.approx(same.same_person_probability)
    assert "chip" not in data["probe_face"] and len(data["probe_face"]["box"]) == 4
    assert data["probe_scan"]["verdict"] == same.probe_scan.verdict
    page = render_verify_html(same)
    assert page.count("data:image/jpeg;base64,") == 2 and "same_person" in page
    assert "<script" not in page and "://" not in page  # self-contained: no external URL


def test_the_facade(astronaut, astronaut_view):
    report = facetrust.verify(astronaut, astronaut_view)
    assert isinstance(report, VerifyReport) and report.decision == "same_person"
    assert "verify" in facetrust.__all__


def test_a_video_probe_is_refused_with_a_typed_error(scanner, astronaut, tmp_path):
    import av
    import cv2

    path = tmp_path / "clip.mp4"
    small = cv2.resize(astronaut, (256, 256))
    with av.open(str(path), "w") as c:
        stream = c.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        for _ in range(4):
            for packet in stream.encode(av.VideoFrame.from_ndarray(small, format="rgb24")):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    report = verify_pair(str(path), astronaut, scanner=scanner)
    assert report.status == "error" and report.error_type == "unsupported_media"
    assert "still images" in report.error and report.probe_scan.media_type == "video"


def test_the_probe_gets_its_liveness_scan(same):
    """The report carries the probe's presentation-attack (liveness) scan beside its forgery scan."""
    live = same.probe_liveness
    assert live is not None and live.verdict in ("real", "fake")
    assert live.faces[0].scores[0].detector == "liveness"
    assert same.to_dict()["probe_liveness"]["verdict"] == live.verdict
