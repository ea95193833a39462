"""The video-codec round trip (H.264 / H.265 at a CRF) as a perturb op and an eval condition.

"Codec-like" is checked on the output's 8x8 block DCT: quantisation removes high-frequency
energy, more at a higher CRF, and the 4:2:0 chroma loses its fine detail; the error grows with the
CRF. The image is a 128 px crop of scikit-image's astronaut (a real photo, with texture to lose).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facetrust.eval import robustness
from facetrust.synth.families import perturb


@pytest.fixture(scope="module")
def crop(astronaut) -> np.ndarray:
    return cv2.resize(astronaut[0:256, 128:384], (128, 128), interpolation=cv2.INTER_AREA)


def _hf_energy(grey: np.ndarray) -> float:
    """Mean energy of the 8x8 block DCT coefficients with u + v >= 6 (high frequencies)."""
    h, w = (s - s % 8 for s in grey.shape)
    g = grey[:h, :w].astype(np.float32) - 128.0
    u, v = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    hf = (u + v) >= 6
    total = 0.0
    for y in range(0, h, 8):
        for x in range(0, w, 8):
            total += float((cv2.dct(g[y:y + 8, x:x + 8])[hf] ** 2).mean())
    return total / ((h // 8) * (w // 8))


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_round_trip_is_codec_like_and_keeps_shape(codec, crop):
    outs = {crf: robustness.video_codec(crop, crf, codec) for crf in (20, 30, 40)}
    psnr = {crf: cv2.PSNR(crop, o) for crf, o in outs.items()}
    hf = {crf: _hf_energy(_grey(o)) for crf, o in outs.items()}
    hf_in = _hf_energy(_grey(crop))
    for o in outs.values():
        assert o.shape == crop.shape and o.dtype == np.uint8 and o.flags["C_CONTIGUOUS"]
        assert not np.array_equal(o, crop)
    assert psnr[20] > psnr[30] > psnr[40] > 20.0  # a higher CRF loses more, and it is still the image
    assert hf_in > hf[20] > hf[30] > hf[40]  # quantisation removes high frequencies first
    assert hf[40] < 0.5 * hf_in
    # 4:2:0 chroma: the colour difference between neighbouring pixels mostly goes
    cr_in = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb)[..., 1].astype(np.float32)
    cr_out = cv2.cvtColor(outs[20], cv2.COLOR_RGB2YCrCb)[..., 1].astype(np.float32)
    assert np.abs(np.diff(cr_out, axis=1)).mean() < 0.7 * np.abs(np.diff(cr_in, axis=1)).mean()
    assert np.array_equal(robustness.video_codec(crop, 30, codec), outs[30])  # deterministic


def test_odd_sizes_bad_levels_and_the_eval_condition(crop):
    odd = np.ascontiguousarray(crop[:101, :77])
    out = robustness.video_codec(odd, 28, "h264")
    assert out.shape == odd.shape and out.dtype == np.uint8
    with pytest.raises(ValueError):
        robustness.video_codec(crop, 60, "h264")
    with pytest.raises(ValueError):
        robustness.video_codec(crop, 28, "vp9")
    assert robustness.parse_condition("h264:28") == ("h264", 28.0)
    assert np.array_equal(robustness.perturb(crop, "h265", 28), robustness.video_codec(crop, 28, "h265"))
    assert "h264" not in robustness.SWEEP  # not part of the default sweep


def test_perturb_op_draws_codec_and_crf_and_applies_to_any_label(crop):
    assert "video_codec" in perturb.OPS
    seen = set()
    for seed in range(12):
        img, params = perturb.apply_op(crop, "video_codec", np.random.default_rng(seed))
        assert params["op"] == "video_codec" and params["codec"] in perturb.VIDEO_CODEC_P
        assert perturb.VIDEO_CRF[0] <= params["crf"] <= perturb.VIDEO_CRF[1]
        assert np.array_equal(img, robustness.video_codec(crop, params["crf"], params["codec"]))
        seen.add(params["codec"])
    assert seen == {"h264", "h265"}
    # the family (label 0, post-processing of reals and fakes alike) reaches the op
    fam = perturb.Perturb(ops=("video_codec",), social_probability=0.0, max_ops=1)
    out, chain = fam.apply(crop, np.random.default_rng(0))
    assert chain["ops"][0]["op"] == "video_codec" and out.shape == crop.shape and not np.array_equal(out, crop)
