"""Synthesised presentation attacks (facetrust.synth.attacks): each species leaves its measurable
signature, and the bona-fide class goes through the same camera pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facetrust.detectors import _pad_features as F
from facetrust.synth import attacks as A


@pytest.fixture(scope="module")
def scene(hopper) -> np.ndarray:
    h, w = hopper.shape[:2]
    s = 400 / max(h, w)
    return cv2.resize(hopper, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _peak(rgb_float: np.ndarray) -> float:
    g = _grey(np.clip(rgb_float * 255, 0, 255).astype(np.uint8))
    side = min(g.shape) // 2 * 2
    p, r = F._spectrum(g[:side, :side])
    return F.peak_score(p, r)


def _plain(scene: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(scene.astype(np.float32) / 255.0, size, interpolation=cv2.INTER_AREA)


def test_screen_pixel_grid_raises_a_spectral_peak(scene):
    size = (scene.shape[1], scene.shape[0])
    peaks_screen = [_peak(A.render_screen(scene.astype(np.float32) / 255, size, np.random.default_rng(s))) for s in range(4)]
    plain = _peak(_plain(scene, size))
    assert min(peaks_screen) > plain + 0.5, (peaks_screen, plain)


def test_print_halftone_raises_a_spectral_peak_and_paper_limits_the_gamut(scene):
    size = (scene.shape[1], scene.shape[0])
    rng = np.random.default_rng(3)
    printed = A.render_print(scene.astype(np.float32) / 255, size, rng)
    plain = _plain(scene, size)
    assert _peak(printed) > _peak(plain) + 0.5
    # inks on paper: no deep black, less saturation than the photo
    assert np.percentile(printed.mean(axis=2), 0.5) > np.percentile(plain.mean(axis=2), 0.5) + 0.03
    sat = lambda x: cv2.cvtColor(np.clip(x * 255, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV)[..., 1].mean()
    assert sat(printed) < sat(plain)


def test_screen_gamut_lifts_black_and_glare_brightens():
    rng = np.random.default_rng(0)
    black = np.zeros((64, 64, 3), np.float32)
    assert A.screen_gamut(black, rng).min() >= 0.04
    g = A.glare((64, 64), rng)
    assert g.max() > 0.1 and g.min() >= 0.0


def test_recapture_blurs_and_misexposes(scene):
    rng = np.random.default_rng(5)
    x = scene.astype(np.float32) / 255
    lap = lambda im: cv2.Laplacian(_grey(np.clip(im * 255, 0, 255).astype(np.uint8)), cv2.CV_32F).var()
    degraded = A.recapture_degrade(x, rng)
    assert lap(degraded) < 0.7 * lap(x)
    assert abs(degraded.mean() - x.mean()) > 0.03  # an exposure error, not only blur


@pytest.mark.parametrize("species", ["print", "screen"])
def test_held_up_media_show_a_straight_edge(scene, species):
    """A bezel or a paper margin is a long straight edge; the live scene has none of that strength."""
    grey = lambda im: _grey(im)
    ones = np.ones(scene.shape[:2], bool)
    live = max(F._line_strength(grey(scene), ones, 1), F._line_strength(grey(scene), ones, 0))
    strengths = []
    for seed in range(3):
        attack = A.present(scene, species, np.random.default_rng(seed))
        strengths.append(max(F._line_strength(grey(attack), ones, 1), F._line_strength(grey(attack), ones, 0)))
    assert np.mean(strengths) > live, (strengths, live)


def test_both_classes_share_the_camera_pipeline(scene):
    """The same camera settings give the same processing for any input: bona fide is the scene
    through it, an attack is the presented scene through it, with settings drawn the same way."""
    bona = A.synthesize(scene, "bona_fide", np.random.default_rng(1))
    attack = A.synthesize(scene, "screen", np.random.default_rng(1))
    assert bona.image.shape == attack.image.shape == scene.shape
    assert bona.camera == attack.camera  # drawn first, from the same seed: identical camera
    again = A.synthesize(scene, "bona_fide", np.random.default_rng(1))
    assert np.array_equal(bona.image, again.image)  # reproducible from the seed
    assert not np.array_equal(bona.image, scene)  # the camera did something (noise, JPEG)
    with pytest.raises(ValueError):
        A.present(scene, "hologram", np.random.default_rng(0))
