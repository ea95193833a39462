import cv2
import numpy as np
import pytest

from facetrust.faces import CropSpec, DetectedFace, align_face, create_face_detector, estimate_similarity


def _similarity(angle_deg, scale, tx, ty):
    a = np.radians(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_estimate_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    m = _similarity(23.0, 1.7, 12.0, -4.0)
    dst = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(estimate_similarity(src, dst), m, atol=1e-9)


def test_estimate_similarity_rejects_degenerate_points():
    with pytest.raises(ValueError):
        estimate_similarity(np.ones((5, 2)), np.zeros((5, 2)))


def _marker_image(points, shape=(900, 1200)):
    """Black image with a small white disc at each landmark."""
    img = np.zeros((*shape, 3), np.uint8)
    for x, y in points:
        cv2.circle(img, (int(round(x * 16)), int(round(y * 16))), 5 * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
    return img


def _blob_centroids(crop, expected):
    gray = crop[..., 0].astype(np.float64)
    out = []
    for ex, ey in expected:
        x0, y0 = int(max(0, ex - 6)), int(max(0, ey - 6))
        win = gray[y0 : int(ey + 7), x0 : int(ex + 7)]
        ys, xs = np.mgrid[y0 : y0 + win.shape[0], x0 : x0 + win.shape[1]]
        out.append([(xs * win).sum() / win.sum(), (ys * win).sum() / win.sum()])
    return np.array(out)


@pytest.mark.parametrize("face_scale", [0.5, 1.0, 3.0])  # upsampling, same size, area-downsampling path
@pytest.mark.parametrize("spec", [CropSpec(224, 0.25), CropSpec(112, 0.0)])
def test_align_puts_landmarks_at_template_in_pixels(face_scale, spec):
    # Frame landmarks = template under a rotated, scaled, shifted similarity: a perfect fit exists.
    tpl = spec.template()
    m = _similarity(17.0, face_scale * 224 / spec.size, 300.0, 200.0)
    pts = tpl @ m[:, :2].T + m[:, 2]
    face = DetectedFace(box=np.r_[pts.min(0), pts.max(0)], score=1.0, landmarks5=pts)
    image = _marker_image(pts)
    aligned = align_face(image, face, spec)
    assert aligned.crop.shape == (spec.size, spec.size, 3) and aligned.crop.dtype == np.uint8
    mapped = pts @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
    np.testing.assert_allclose(mapped, tpl, atol=1e-6)
    # the warped pixels agree: eye markers land on the template eye positions within 2 px
    if face_scale * 224 / spec.size * 5 >= 1.5:  # markers must stay visible after shrinking
        centroids = _blob_centroids(aligned.crop, tpl[:2])
        assert np.abs(centroids - tpl[:2]).max() < 2.0
    np.testing.assert_allclose(aligned.to_frame(tpl), pts, atol=1e-6)


def test_align_real_face_eyes_near_template(astronaut):
    face = create_face_detector("yunet").detect(astronaut)[0]
    spec = CropSpec(224, 0.25)
    a = align_face(astronaut, face, spec)
    mapped = face.landmarks5 @ a.matrix[:, :2].T + a.matrix[:, 2]
    # a real face is not the template: least squares leaves a residual, but eyes stay close
    assert np.abs(mapped[:2] - spec.template()[:2]).max() < 0.03 * spec.size
    # re-detecting on the crop finds the face where the template says
    again = create_face_detector("yunet").detect(a.crop)
    assert again and np.abs(again[0].landmarks5[:2] - mapped[:2]).max() < 0.04 * spec.size


def test_crop_spec_validates():
    with pytest.raises(ValueError):
        CropSpec(size=4)
    with pytest.raises(ValueError):
        CropSpec(margin=-0.1)


def test_downscaled_crop_is_antialiased():
    # A fine checkerboard shrunk 4x must average to grey, not alias into a pattern.
    board = (np.indices((800, 800)).sum(0) % 2 * 255).astype(np.uint8)
    image = np.repeat(board[..., None], 3, axis=2)
    spec = CropSpec(112, 0.0)
    m = _similarity(0.0, 4.0, 100.0, 100.0)
    pts = spec.template() @ m[:, :2].T + m[:, 2]
    crop = align_face(image, DetectedFace(np.r_[pts.min(0), pts.max(0)], 1.0, pts), spec).crop
    assert crop.std() < 20 and abs(crop.mean() - 127.5) < 10
