import numpy as np
import pytest

import facetrust
from facetrust.report import read_json, write_json


def test_image_scan_gives_a_calibrated_face_verdict(demo_media):
    r = facetrust.scan(str(demo_media["astronaut.png"]))
    assert r.verdict in ("real", "fake") and r.media_type == "image"
    assert len(r.faces) == 1 and 0.0 <= r.fake_probability <= 1.0
    face = r.faces[0]
    from facetrust.detectors import DEFAULT_DETECTORS

    assert [s.detector for s in face.scores] == list(DEFAULT_DETECTORS)
    # the face probability is the documented fusion (mean) of the detectors' probabilities
    assert face.fake_probability == pytest.approx(np.mean([s.fake_probability for s in face.scores]))
    assert r.fake_probability == face.fake_probability  # image: max over faces
    assert face.heatmap is not None and face.heatmap.min() >= 0 and face.heatmap.max() <= 1
    assert r.explanation and r.verdict in r.explanation
    assert 0 in r.previews


def test_threshold_is_a_parameter(demo_media):
    path = str(demo_media["grace_hopper.jpg"])
    p = facetrust.scan(path).fake_probability
    assert facetrust.scan(path, threshold=max(0.0, p - 1e-6)).verdict == "fake"
    assert facetrust.scan(path, threshold=min(1.0, p + 1e-6)).verdict == "real"


def test_detectors_can_be_fused(demo_media):
    r = facetrust.scan(str(demo_media["astronaut.png"]), detectors=("noise_residual", "spectral"))
    face = r.faces[0]
    assert [s.detector for s in face.scores] == ["noise_residual", "spectral"]
    assert face.fake_probability == pytest.approx(np.mean([s.fake_probability for s in face.scores]))
    assert r.threshold == 0.5  # several detectors: the documented default


def test_every_face_in_the_frame_is_scored(astronaut, hopper):
    import cv2

    canvas = np.full((600, 1100, 3), 200, np.uint8)
    canvas[50:562, 0:512] = astronaut
    canvas[100:400, 700:956] = cv2.resize(hopper, (256, 300))
    r = facetrust.scan(canvas)
    assert r.media_type == "array" and len(r.faces) == 2
    assert r.fake_probability == max(f.fake_probability for f in r.faces)


def test_no_face_is_not_applicable_with_a_reason(demo_media):
    r = facetrust.scan(str(demo_media["coffee_no_face.png"]))
    assert r.verdict == "not_applicable" and r.fake_probability is None
    assert "no face" in r.reason and r.error is None


@pytest.mark.parametrize(
    "name, code",
    [
        ("empty.jpg", "empty_file"),
        ("text.jpg", "unsupported_media"),
        ("truncated.jpg", "corrupt_media"),
        ("bomb.png", "decompression_bomb"),
        ("garbage.mp4", "unsupported_media"),
        ("audio_only.mp4", "unsupported_media"),
    ],
)
def test_bad_input_gets_a_typed_error(bad_media, name, code):
    r = facetrust.scan(str(bad_media[name]))
    assert r.verdict == "error" and r.error_type == code and r.error
    assert r.fake_probability is None


def test_truncated_video_is_scanned_as_far_as_it_decodes_or_errors(bad_media):
    r = facetrust.scan(str(bad_media["truncated.mp4"]), frames=8)
    assert r.verdict in ("real", "fake", "not_applicable", "error")
    if r.verdict == "error":
        assert r.error_type in ("corrupt_media", "no_decodable_frames", "unsupported_media")
    else:
        assert r.frames  # whatever decoded was used


def test_missing_file_is_an_error_not_a_crash(tmp_path):
    r = facetrust.scan(str(tmp_path / "nope.jpg"))
    assert r.verdict == "error" and r.error_type


def test_a_batch_goes_on_past_bad_files(bad_media, demo_media):
    paths = sorted(bad_media.values()) + [demo_media["astronaut.png"]]
    report = facetrust.scan_paths([str(p) for p in paths])
    assert len(report.results) == len(paths)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in report.results}
    assert by_name["astronaut.png"].verdict in ("real", "fake")
    assert report.counts()["error"] >= 6


def test_video_scan_tracks_one_person_and_round_trips(demo_media, tmp_path):
    r = facetrust.scan(str(demo_media["hopper_half_forged.mp4"]), frames=12)
    assert r.media_type == "video" and r.verdict in ("real", "fake")
    assert len(r.frames) == 12 and r.fps == pytest.approx(10)
    assert [f.time_s for f in r.frames] == sorted(f.time_s for f in r.frames)
    assert len(r.tracks) == 1  # one person panning across the frame
    t = r.tracks[0]
    assert len(t.frame_indices) == len(r.faces) >= 10
    assert r.fake_probability == pytest.approx(t.fake_probability)
    assert 0 < len(r.previews) <= 8
    report = facetrust.make_report([r])
    write_json(report, tmp_path / "r.json")
    back = read_json(tmp_path / "r.json")
    assert back.results[0] == r  # heatmaps/previews are in-memory only (compare=False)


@pytest.mark.parametrize("opts, n", [({"frames": 5}, 5), ({"every": 10}, 4), ({"fps": 2.0}, 8)])
def test_video_sampling_options(demo_media, opts, n):
    r = facetrust.scan(str(demo_media["hopper_half_forged.mp4"]), **opts)
    assert len(r.frames) == n


def test_bytes_input(demo_media):
    r = facetrust.scan(demo_media["astronaut.png"].read_bytes())
    assert r.path == "<bytes>" and len(r.faces) == 1


def test_extract_faces_uses_the_one_crop_function(demo_media):
    from facetrust.faces import CropSpec, align_face, create_face_detector
    from facetrust.io import load_image

    faces = facetrust.extract_faces(str(demo_media["astronaut.png"]), size=128, margin=0.3)
    assert len(faces) == 1 and faces[0].crop.shape == (128, 128, 3)
    img = load_image(demo_media["astronaut.png"])
    ref = align_face(img, create_face_detector().detect(img)[0], CropSpec(128, 0.3)).crop
    np.testing.assert_array_equal(faces[0].crop, ref)


def test_options_are_validated():
    with pytest.raises(ValueError):
        facetrust.scan(np.zeros((10, 10, 3), np.uint8), frames=3, every=2)
    with pytest.raises(ValueError):
        facetrust.scan(np.zeros((10, 10, 3), np.uint8), threshold=1.5)


def test_prefetch_keeps_order_and_reraises_errors():
    from facetrust.pipeline import prefetch

    assert list(prefetch(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise ValueError("decoder broke")

    got = []
    with pytest.raises(ValueError, match="decoder broke"):
        for x in prefetch(failing()):
            got.append(x)
    assert got == [1]
    # stopping early does not hang on a producer blocked by a full queue
    it = prefetch(iter(range(1000)), depth=1)
    assert next(it) == 0
    it.close()
