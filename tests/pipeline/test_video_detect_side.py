"""``video_detect_side`` (issue 15): faces of video frames found at a smaller working size, mapped
back to the frame; not given, today's detection exactly; images never affected."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facetrust.faces import create_face_detector
from facetrust.pipeline import ScanOptions, Scanner


@pytest.fixture(scope="module")
def frame_1080p(astronaut) -> np.ndarray:
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    canvas[300:780, 900:1380] = cv2.resize(astronaut, (480, 480))
    return canvas


def test_working_size_of_the_detectors_own_cap_changes_nothing(frame_1080p):
    yunet = create_face_detector("yunet")  # caps at 960 px itself
    a, b = yunet.detect(frame_1080p), yunet.detect(frame_1080p, max_side=960)
    assert len(a) == len(b) == 1
    assert np.allclose(a[0].box, b[0].box, atol=1e-9) and np.allclose(a[0].landmarks5, b[0].landmarks5, atol=1e-9)
    assert a[0].score == b[0].score


def test_a_smaller_working_size_reports_full_frame_coordinates(frame_1080p):
    yunet = create_face_detector("yunet")
    full, small = yunet.detect(frame_1080p)[0], yunet.detect(frame_1080p, max_side=480)[0]
    ix = max(0, min(full.box[2], small.box[2]) - max(full.box[0], small.box[0]))
    iy = max(0, min(full.box[3], small.box[3]) - max(full.box[1], small.box[1]))
    union = full.width * full.height + small.width * small.height - ix * iy
    assert ix * iy / union > 0.8  # the same face, in the frame's pixels (not the 480 px copy's)
    assert np.abs(full.landmarks5 - small.landmarks5).max() < 0.1 * full.size  # 4 px quantisation at a quarter scale


def test_min_face_size_is_measured_at_full_resolution(frame_1080p):
    # The face is ~80 px in the frame, ~20 px at 480: a 60 px minimum keeps it (measured on the frame).
    yunet = create_face_detector("yunet", min_face_size=60)
    assert yunet.detect(frame_1080p, max_side=480)


def test_the_option_applies_to_video_frames_only(demo_media, monkeypatch):
    scanner = Scanner(ScanOptions(video_detect_side=160, previews=False))
    sides = []
    real = type(scanner.face_detector).detect

    def spy(self, image, *, max_side=None):
        sides.append(max_side)
        return real(self, image, max_side=max_side)

    monkeypatch.setattr(type(scanner.face_detector), "detect", spy)
    video = scanner.scan(str(demo_media["hopper_half_forged.mp4"]))
    assert video.verdict != "error" and set(sides) == {160} and len(sides) == len(video.frames)
    sides.clear()
    image = scanner.scan(str(demo_media["grace_hopper.jpg"]))
    assert sides == [None] and image.faces
    default = Scanner(ScanOptions(previews=False)).scan(str(demo_media["grace_hopper.jpg"]))
    assert image.fake_probability == default.fake_probability and image.faces[0].box == default.faces[0].box


def test_the_option_is_a_flag_and_checked():
    from facetrust.cli import build_parser
    from facetrust.options import from_args

    args = build_parser(stages=False).parse_args(["scan", "v.mp4", "--video-detect-side", "640"])
    assert from_args(args, ScanOptions)["video_detect_side"] == 640
    with pytest.raises(ValueError, match="video_detect_side"):
        ScanOptions(video_detect_side=10)


def test_eval_caches_faces_found_at_another_working_size_apart():
    from facetrust.eval.engine import Engine, EvalSettings

    a = Engine(["forensicnet"], EvalSettings(), None).face_detector_desc
    b = Engine(["forensicnet"], EvalSettings(video_detect_side=640), None).face_detector_desc
    assert a != b and "video_side=640" in b
