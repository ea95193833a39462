"""Every family: output contract, honest masks, determinism, partner rules, building blocks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facetrust.synth import SkipSample, available_families, forgery_families, get_family
from facetrust.synth.families.self_blend import SelfBlend
from facetrust.synth.types import FaceSource

FORGERIES = ["self_blend", "swap", "region_edit", "morph", "inpaint", "resynth"]


def test_all_families_registered():
    assert set(FORGERIES + ["perturb"]) <= set(available_families())
    assert set(FORGERIES) <= set(forgery_families())
    assert "perturb" not in forgery_families()


@pytest.mark.parametrize("name", FORGERIES)
def test_family_output_contract_and_honest_mask(name, sources, honesty):
    fam = get_family(name)
    made = 0
    for i, target in enumerate(sources):
        partner = sources[(i + 1) % len(sources)]
        for seed in range(3):
            res = fam.generate(target, np.random.default_rng(seed * 10 + i), partner)
            assert res.image.shape == target.crop.shape and res.image.dtype == np.uint8
            assert res.mask.shape == target.crop.shape[:2]
            assert res.mask.min() >= 0.0 and res.mask.max() <= 1.0 and res.mask.max() > 0.5
            assert res.label == 1 and res.family == name and res.source_ids[0] == target.source_id
            change = np.abs(res.image.astype(int) - target.crop.astype(int)).sum()
            assert change > 0, "a forgery must change something"
            h = honesty(target.crop, res.image, res.mask)
            assert h >= 0.9, f"{name} seed {seed}: only {h:.3f} of the change is inside the mask ({res.params})"
            made += 1
    assert made == 3 * len(sources)


@pytest.mark.parametrize("name", FORGERIES + ["perturb"])
def test_family_is_deterministic_per_seed(name, sources):
    fam = get_family(name)
    a = fam.generate(sources[0], np.random.default_rng(7), sources[1])
    b = fam.generate(sources[0], np.random.default_rng(7), sources[1])
    assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
    assert a.params == b.params
    others = [fam.generate(sources[0], np.random.default_rng(s), sources[1]) for s in (8, 9, 10)]
    assert any(o.image.tobytes() != a.image.tobytes() for o in others)


def test_perturb_is_not_a_forgery(sources):
    fam = get_family("perturb")
    for seed in range(6):
        res = fam.generate(sources[0], np.random.default_rng(seed))
        assert res.label == 0 and res.mask.max() == 0.0
        assert res.image.shape == sources[0].crop.shape
        assert res.params["chain"] in ("random", "social") and res.params["ops"]


@pytest.mark.parametrize("name", ["swap", "morph"])
def test_two_identity_families_need_another_person(name, sources):
    fam = get_family(name)
    with pytest.raises(SkipSample) as info:
        fam.generate(sources[0], np.random.default_rng(0), None)
    assert info.value.reason == "no_partner"
    same = FaceSource("other_photo", sources[1].crop, sources[1].landmarks, group=sources[0].group)
    with pytest.raises(SkipSample):
        fam.generate(sources[0], np.random.default_rng(0), same)


def test_region_edit_without_partner_retouches(sources):
    fam = get_family("region_edit")
    modes = {fam.generate(sources[0], np.random.default_rng(s), None).params["mode"] for s in range(8)}
    assert modes == {"retouch"}


def test_family_options_override_defaults_and_reject_unknown(sources):
    fam = get_family("morph", alpha=(0.5, 0.5), modes=("whole",))
    res = fam.generate(sources[0], np.random.default_rng(1), sources[1])
    assert res.params == {"alpha": 0.5, "mode": "whole"} and res.mask.min() == 1.0
    with pytest.raises(ValueError, match="no option"):
        get_family("swap", colour=True)
    with pytest.raises(ValueError, match="unknown synthesis family"):
        get_family("deepfake_magic")


def test_self_blend_mask_follows_landmarks(sources):
    """The blended region is the face: its centroid is near the landmarks' centroid."""
    src = sources[0]
    res = SelfBlend().generate(src, np.random.default_rng(3))
    ys, xs = np.nonzero(res.mask > 0.5)
    assert np.hypot(xs.mean() - src.landmarks[:, 0].mean(), ys.mean() - src.landmarks[:, 1].mean()) < 20
    corners = [res.mask[:20, :20], res.mask[:20, -20:], res.mask[-20:, :20], res.mask[-20:, -20:]]
    assert max(float(c.max()) for c in corners) == 0.0


def test_resynth_autoencoder_seam_raises_clearly(sources):
    fam = get_family("resynth", upsamplers=("autoencoder",))
    with pytest.raises(RuntimeError, match="torch"):
        fam.generate(sources[0], np.random.default_rng(0))


def test_upsamplers_without_noise_equal_bilinear_and_with_noise_leave_a_period():
    from facetrust.synth.upsample import _pixel_shuffle, _transposed, down_up

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    low = np.stack([np.sin(xx / 5.0) * 60 + 120, np.cos(yy / 7.0) * 50 + 100, (xx + yy) * 1.5], 2).astype(np.float32)
    for r in (2, 4):
        ref = cv2.resize(low, (64 * r, 64 * r), interpolation=cv2.INTER_LINEAR)
        for fn in (_transposed, _pixel_shuffle):
            out = fn(low, r, rng, 0.0)
            assert np.abs(out - ref).max() < 1e-3, (fn.__name__, r)  # edges included
    flat = np.full((128, 128, 3), 128, np.uint8)
    out = down_up(flat, 2, "transposed", np.random.default_rng(1), noise=0.08).astype(float)
    phases = [out[8:-8, 8:-8][i::2, j::2].mean() for i in range(2) for j in range(2)]
    assert max(phases) - min(phases) > 1.0  # the checkerboard of a transposed convolution
    assert down_up(flat, 2, "bilinear", rng).std() == 0.0


def test_piecewise_affine_moves_landmarks_where_asked():
    from facetrust.synth.warp import piecewise_affine

    rng = np.random.default_rng(0)
    src = rng.uniform(60, 196, (20, 2))
    dst = src + rng.uniform(-6, 6, (20, 2))
    img = np.zeros((256, 256, 3), np.uint8)
    for i, (x, y) in enumerate(src):
        cv2.circle(img, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1)
    warped = piecewise_affine(img, src, dst)
    for x, y in dst:
        xi, yi = int(round(x)), int(round(y))
        assert warped[yi - 1 : yi + 2, xi - 1 : xi + 2].max() > 100, (x, y)


def test_poisson_blend_changes_nothing_outside_its_mask(sources):
    from facetrust.synth.blend import poisson_blend
    from facetrust.synth.masks import region_mask

    t, d = sources[0], sources[1]
    binary = region_mask(t.landmarks, "inner", t.size)
    out, soft = poisson_blend(t.crop, d.crop, binary)
    diff = np.abs(out.astype(int) - t.crop.astype(int)).sum(2)
    assert diff[soft == 0].max() == 0
    assert diff[binary > 0].mean() > 2
