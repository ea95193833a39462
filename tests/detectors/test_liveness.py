"""``liveness`` / ``liveness_oneclass`` (presentation-attack detection): pinned weights, the
detector contract, attacks synthesised from a project-made face score above the same face through
the bona-fide camera pipeline, and ``facetrust scan --detector liveness`` on an image and a video."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from facetrust.detectors import create_detector
from facetrust.detectors import _pad_features as F
from facetrust.detectors.liveness import CARD_PATH, LivenessDetector
from facetrust.errors import ModelCardError, WeightIntegrityError


@pytest.fixture(scope="module")
def scanners():
    from facetrust.pipeline import Scanner

    return {name: Scanner(detectors=(name,)) for name in ("liveness", "liveness_oneclass")}


@pytest.fixture(scope="module")
def scene(hopper) -> np.ndarray:
    h, w = hopper.shape[:2]
    s = 480 / max(h, w)
    return cv2.resize(hopper, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def test_weights_are_small_and_sha256_pinned(tmp_path):
    card = json.loads(CARD_PATH.read_text())
    files = [CARD_PATH.parent / card[k] for k in ("weights_file", "backbone_file")]
    assert sum(f.stat().st_size for f in files) <= 25 * 1024 * 1024
    det = create_detector("liveness")
    assert det.info.crop == F.PAD_CROP and det.info.needs_frame and det.info.trained
    assert 0.0 < det.info.default_threshold < 1.0
    # a tampered copy of either file is refused, a missing one too
    for victim in files:
        shutil.copy(CARD_PATH, tmp_path / CARD_PATH.name)
        for f in files:
            shutil.copy(f, tmp_path / f.name)
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (tmp_path / victim.name).write_bytes(bytes(data))
        with pytest.raises(WeightIntegrityError):
            LivenessDetector(card_path=tmp_path / CARD_PATH.name)
        (tmp_path / victim.name).unlink()
        with pytest.raises(ModelCardError):
            LivenessDetector(card_path=tmp_path / CARD_PATH.name)


def test_outputs_follow_the_detector_contract(scanners, scene):
    result = scanners["liveness"].scan(scene)
    assert result.verdict in ("real", "fake")
    face = result.faces[0] if hasattr(result, "faces") and result.faces else None
    assert face is not None
    score = face.scores[0]
    assert score.detector == "liveness" and 0.0 <= score.fake_probability <= 1.0
    assert {"attack_score", "face_spectral_peak", "vertical_edge_strength"} <= set(score.evidence)
    assert face.heatmap is not None and face.heatmap.min() >= 0.0 and face.heatmap.max() <= 1.0


def test_synthesised_attacks_score_above_the_same_face_live(scanners, scene):
    """The same project-made face: through the bona-fide camera pipeline vs shown on a screen /
    printed and then through the same camera pipeline (seeds not used in training)."""
    from facetrust.synth.attacks import synthesize

    scanner = scanners["liveness"]

    def prob(img):
        r = scanner.scan(img)
        assert r.fake_probability is not None, r.reason
        return r.fake_probability

    for seed in (101, 102):
        bona = prob(synthesize(scene, "bona_fide", np.random.default_rng(seed)).image)
        screen = prob(synthesize(scene, "screen", np.random.default_rng(seed)).image)
        assert screen > bona, (seed, screen, bona)
    printed = prob(synthesize(scene, "print", np.random.default_rng(103)).image)
    bona = prob(synthesize(scene, "bona_fide", np.random.default_rng(103)).image)
    assert printed > bona


def test_the_one_class_score_is_the_distance_from_bona_fide():
    """At the bona-fide training mean the one-class model is least suspicious; moving away from it
    (in any direction, in units of the bona-fide spread) only raises the attack probability."""
    det = create_detector("liveness_oneclass")
    m, w = det.model, det.model.w
    x0 = np.zeros(len(F.ALL_NAMES))
    x0[w["oc_used"]] = w["oc_mean"]
    rng = np.random.default_rng(0)
    p0, raw0 = m.probability(x0, "one_class")
    assert raw0 < 1e-6
    for _ in range(3):
        direction = np.zeros_like(x0)
        direction[w["oc_used"]] = rng.standard_normal(int(w["oc_used"].sum())) * w["oc_scale"]
        probs = [m.probability(x0 + t * direction, "one_class")[0] for t in (0.0, 0.5, 1.0, 2.0)]
        assert all(b >= a for a, b in zip(probs, probs[1:])) and probs[-1] > p0
    assert det.info.name == "liveness_oneclass"


def test_scan_cli_runs_liveness_on_an_image_and_a_video(tmp_path, demo_media):
    from facetrust.cli import main

    out = tmp_path / "r.json"
    main(["scan", str(demo_media["grace_hopper.jpg"]), str(demo_media["hopper_half_forged.mp4"]),
          "--detector", "liveness", "--frames", "4", "--json", str(out), "-q"])
    results = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out.read_text())["results"]}
    for name in ("grace_hopper.jpg", "hopper_half_forged.mp4"):
        r = results[name]
        assert r["verdict"] in ("real", "fake"), r
        assert 0.0 <= r["fake_probability"] <= 1.0
        assert r["faces"] and r["faces"][0]["scores"][0]["detector"] == "liveness"
    # the video is decided by the media rule over its sampled frames' tracks
    assert len({f["frame_index"] for f in results["hopper_half_forged.mp4"]["faces"]}) > 1
