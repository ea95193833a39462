"""YuNet called through libfacedetection directly: the arrays of ``yuface.detect``, without its leak."""

from __future__ import annotations

import numpy as np
import pytest

yuface = pytest.importorskip("yuface")

from facetrust.faces import yuface_call  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _images() -> list[np.ndarray]:
    import skimage.data

    bgr = np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1])
    rng = np.random.default_rng(3)
    return [bgr, np.ascontiguousarray(bgr[60:, 220:]),  # a face cut by the edge: negative coordinates
            np.ascontiguousarray(bgr[::2, ::2]), np.ascontiguousarray(np.tile(bgr[:300, :300], (2, 3, 1))),
            np.zeros((40, 60, 3), np.uint8), rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)]


@pytest.mark.parametrize("conf", [0.3, 0.5, 0.9])
def test_same_arrays_as_yuface_detect(conf):
    n_faces = 0
    for image in _images():
        expected = yuface.detect(image, conf=conf)
        got = yuface_call.detect(image, conf=conf)
        for e, g in zip(expected, got):
            assert g.dtype == e.dtype and g.shape == e.shape
            np.testing.assert_array_equal(g, e)
        n_faces += len(got[0])
    assert n_faces >= 3  # the comparison covered real detections, not only empty arrays


def test_memory_stays_flat_over_many_calls():
    image = _images()[0][::4, ::4].copy()
    for _ in range(50):  # warm up: libfacedetection's and the allocator's one-time buffers
        yuface_call.detect(image)
    before = _rss_mb()
    for _ in range(1500):
        yuface_call.detect(image)
    # yuface.detect would keep 1500 x 36 KB = 54 MB here
    assert _rss_mb() - before < 8


def test_rejects_what_is_not_a_bgr_image():
    with pytest.raises(ValueError, match="BGR"):
        yuface_call.raw_detect(np.zeros((10, 10), np.uint8))
