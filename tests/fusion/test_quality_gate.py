"""The face-quality gate inside the media rule: weak faces are reported but never decide a verdict."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import facetrust
from facetrust import fusion
from facetrust.detectors import Detector, DetectorInfo, DetectorOutput, register_detector
from facetrust.faces import CropSpec, align_face, create_face_detector
from facetrust.fusion.quality import QualityGate, landmark_plausibility, measure_quality

RULE = fusion.MediaRule(threshold=0.5)
E = fusion.FaceEvidence


def test_a_face_below_the_gate_cannot_flip_an_image_verdict_a_good_one_can():
    real = E(0.1)
    weak_fake = E(0.99, passed=False)
    good_fake = E(0.9)
    assert fusion.fuse_media([real, weak_fake], RULE, video=False).verdict == "real"
    assert fusion.fuse_media([real, weak_fake], RULE, video=False).probability == 0.1
    assert fusion.fuse_media([real, weak_fake, good_fake], RULE, video=False).verdict == "fake"
    none = fusion.fuse_media([weak_fake], RULE, video=False)
    assert none.verdict == "not_applicable" and none.probability is None and "quality gate" in none.reason
    assert fusion.fuse_media([], RULE, video=False).reason == "no face found"
    assert fusion.frame_probability([real, weak_fake]) == 0.1


def test_video_tracks_need_frames_and_one_frame_does_not_decide_a_track():
    # a real person over 6 frames, and a face glimpsed once that scores as fake
    person = [E(0.2, i, float(i), track_id=0) for i in range(6)]
    glimpse = [E(0.95, 3, 3.0, track_id=1)]
    r = fusion.fuse_media(person + glimpse, RULE, video=True)
    assert r.verdict == "real" and [t.counted for t in r.tracks] == [True, False]
    # one noisy frame within a track weighs at most half of the track's score (top-k mean, k >= 2):
    # a 0.7 spike among 0.2 frames, which alone (k = 1 for 6 frames) would make the track fake ...
    spiky = [E(0.7 if i == 2 else 0.2, i, float(i), track_id=0) for i in range(6)]
    r = fusion.fuse_media(spiky, RULE, video=True)
    assert r.verdict == "real" and r.probability == pytest.approx((0.7 + 0.2) / 2)
    assert fusion.aggregate([0.9, 0.1], "topk_mean") == pytest.approx(0.5)
    assert fusion.aggregate([0.9], "topk_mean") == 0.9
    # ... a forgery over part of the video still does
    half = [E(0.9 if i >= 3 else 0.2, i, float(i), track_id=0) for i in range(6)]
    assert fusion.fuse_media(half, RULE, video=True).verdict == "fake"
    # the gated frames of a track are left out of its score
    r = fusion.fuse_media([E(0.1, i, float(i), 0) for i in range(3)] + [
        E(0.99, i, float(i), 0, passed=False) for i in range(3, 6)], RULE, video=True)
    assert r.verdict == "real" and r.tracks[0].frame_indices == [0, 1, 2]


def test_measurements_and_their_checks(astronaut):
    face = create_face_detector().detect(astronaut)[0]
    crop = align_face(astronaut, face, CropSpec(224, 0.3)).crop
    gate = QualityGate(min_confidence=0.6, min_size_px=32, min_landmarks=0.85, min_sharpness=20)
    q = measure_quality(face.box, face.score, face.landmarks5, crop, gate)
    assert q.passed and q.landmarks == 1.0 and q.size_px == pytest.approx(face.size)
    assert q.as_dict()["passed"] is True and q.as_dict()["failed"] == []
    # each check on its own
    assert measure_quality(face.box, 0.55, face.landmarks5, crop, gate).failed == ("confidence",)
    blurred = cv2.GaussianBlur(crop, (0, 0), 6)
    assert measure_quality(face.box, face.score, face.landmarks5, blurred, gate).failed == ("sharpness",)
    upside_down = face.landmarks5[[3, 4, 2, 0, 1]]  # mouth where the eyes are
    assert landmark_plausibility(face.box, upside_down) < 0.85
    assert measure_quality(face.box, face.score, upside_down, crop, gate).failed == ("landmarks",)
    tiny = np.array([0, 0, 20, 20], float)
    assert "size_px" in measure_quality(tiny, face.score, face.landmarks5 * 0.1, crop, gate).failed
    assert measure_quality(face.box, 0.1, upside_down, blurred, QualityGate()).passed  # 0 disables


# ---------------------------------------------------------------------------------------------
# Through the scanner
# ---------------------------------------------------------------------------------------------


def _blueness(rgb: np.ndarray) -> float:
    x = rgb.astype(np.float32)
    h, w = x.shape[:2]
    c = x[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    return float(np.clip(0.5 + (c[..., 2].mean() - c[..., :2].mean()) / 160.0, 0.0, 1.0))


@register_detector("test_gate_blue")
class BlueCast(Detector):
    """Crop-only cue: a blue cast on the face reads as forged."""

    info = DetectorInfo(name="test_gate_blue", version="0.1", crop=CropSpec(64, 0.1), catches="(test)",
                        default_threshold=0.5)

    def predict(self, faces):
        return [DetectorOutput(_blueness(f.crop)) for f in faces]


def _tint(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    out = rgb.astype(np.int16).copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    out[max(0, y0) : y1, max(0, x0) : x1, 2] += 90
    out[max(0, y0) : y1, max(0, x0) : x1, :2] -= 30
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def scenes(astronaut, hopper):
    det = create_face_detector()
    a = astronaut
    h = cv2.resize(hopper, (round(hopper.shape[1] * 512 / hopper.shape[0]), 512), interpolation=cv2.INTER_AREA)
    hbox = det.detect(h)[0].box
    fake_h = _tint(h, hbox)
    blurred_fake_h = cv2.GaussianBlur(fake_h, (0, 0), 7)
    return {
        "real_and_blurred_fake": np.hstack([a, blurred_fake_h[:, : a.shape[1]]]),
        "real_and_sharp_fake": np.hstack([a, fake_h[:, : a.shape[1]]]),
    }


def test_a_blurred_fake_face_is_reported_but_cannot_flip_the_verdict(scenes):
    r = facetrust.scan(scenes["real_and_blurred_fake"], detectors=("test_gate_blue",))
    assert len(r.faces) == 2
    weak = [f for f in r.faces if not f.decisive]
    assert len(weak) == 1 and "sharpness" in weak[0].quality["failed"]
    assert weak[0].fake_probability >= 0.5  # the detector alone would have called it fake
    assert r.verdict == "real" and r.fake_probability < 0.5
    # and the explanation names the gated face (1-based, issue 16) and quotes the deciding probability
    assert f"Face {weak[0].face_index + 1} is below the face-quality gate (failed: " in r.explanation
    assert f"fake probability {r.fake_probability * 100:.1f} %" in r.explanation
    # with the gate's sharpness check off the same face decides: the gate is what kept it out
    off = facetrust.scan(scenes["real_and_blurred_fake"], detectors=("test_gate_blue",), quality_min_sharpness=0)
    assert off.verdict == "fake"


def test_a_good_confident_fake_face_still_decides(scenes):
    r = facetrust.scan(scenes["real_and_sharp_fake"], detectors=("test_gate_blue",))
    assert all(f.decisive for f in r.faces) and r.verdict == "fake"


def test_no_face_passing_the_gate_is_not_applicable_with_the_reason(scenes, astronaut):
    blurred = cv2.GaussianBlur(astronaut, (0, 0), 6)
    r = facetrust.scan(blurred, detectors=("test_gate_blue",))
    assert r.faces and not any(f.decisive for f in r.faces)
    assert r.verdict == "not_applicable" and r.fake_probability is None
    assert "quality gate" in r.reason and "sharpness" in r.reason
