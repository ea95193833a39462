import numpy as np
import pytest

from facetrust.faces import available_face_detectors, create_face_detector


def test_yunet_finds_the_astronaut_with_landmarks(astronaut):
    faces = create_face_detector("yunet").detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    x0, y0, x1, y1 = f.box
    assert 0.5 < f.score <= 1.0
    # landmarks lie inside the box, eyes above the mouth, image-left eye first
    assert np.all((f.landmarks5[:, 0] > x0) & (f.landmarks5[:, 0] < x1))
    assert f.landmarks5[0, 0] < f.landmarks5[1, 0]
    assert f.landmarks5[:2, 1].mean() < f.landmarks5[3:, 1].mean()


def test_every_face_is_returned_not_only_the_largest(astronaut, hopper):
    import cv2

    small = cv2.resize(hopper, (256, 300))
    canvas = np.full((600, 1100, 3), 200, np.uint8)
    canvas[50:562, 0:512] = astronaut
    canvas[100:400, 700:956] = small
    faces = create_face_detector("yunet").detect(canvas)
    assert len(faces) == 2
    assert faces[0].width * faces[0].height >= faces[1].width * faces[1].height  # largest first


def test_min_face_size_filters_small_faces(astronaut):
    import cv2

    tiny = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)
    canvas = np.full((400, 400, 3), 128, np.uint8)
    canvas[100:228, 100:228] = tiny
    assert create_face_detector("yunet", min_face_size=10).detect(canvas)
    assert not create_face_detector("yunet", min_face_size=60).detect(canvas)


def test_large_frames_are_detected_in_frame_coordinates(astronaut):
    import cv2

    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    f = create_face_detector("yunet").detect(big)[0]
    ref = create_face_detector("yunet").detect(astronaut)[0]
    eye_dist = np.linalg.norm(ref.landmarks5[1] - ref.landmarks5[0])
    # same face, same place: differences are landmark jitter (integer outputs), not a 4x scale bug
    assert np.abs(f.landmarks5 / 4.0 - ref.landmarks5).max() < 0.15 * eye_dist
    assert f.box[2] - f.box[0] > 3.0 * (ref.box[2] - ref.box[0])


def test_no_face_in_a_face_free_image():
    import skimage.data

    assert create_face_detector("yunet").detect(skimage.data.coffee()) == []


@pytest.mark.parametrize("name", ["mediapipe", "dlib"])
def test_optional_backends_agree_with_yunet(name, astronaut):
    try:
        det = create_face_detector(name)
    except ImportError as exc:
        pytest.skip(f"{name} backend not installed: {exc}")
    faces = det.detect(astronaut)
    ref = create_face_detector("yunet").detect(astronaut)[0]
    assert faces, name
    eye_dist = np.linalg.norm(ref.landmarks5[1] - ref.landmarks5[0])
    assert np.linalg.norm(faces[0].landmarks5[:2] - ref.landmarks5[:2], axis=1).max() < 0.25 * eye_dist
    if name == "dlib":
        assert faces[0].landmarks_extra.shape == (68, 2)


def test_unknown_backend():
    assert "yunet" in available_face_detectors()
    with pytest.raises(ValueError):
        create_face_detector("nope")


def test_mediapipe_backend_leaves_no_fake_tensorflow_behind():
    import importlib.util
    import sys

    try:
        create_face_detector("mediapipe")
    except ImportError as exc:
        pytest.skip(f"mediapipe backend not installed: {exc}")
    # torch._dynamo (and others) probe for tensorflow with find_spec: the stand-in must be gone
    assert "tensorflow" not in sys.modules
    importlib.util.find_spec("tensorflow")  # raised ValueError while the stand-in was left there
