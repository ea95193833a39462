"""The embedding's face choice (the scan's quality gate) and the pinned recognition model."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

pytest.importorskip("dlib")

from facetrust.api import get_scanner  # noqa: E402
from facetrust.biometrics.embedding import distances, load_embedder, recognition_model_path  # noqa: E402
from facetrust.errors import WeightIntegrityError  # noqa: E402
from facetrust.faces.detect import verify_model_file  # noqa: E402


def test_a_face_too_blurred_to_trust_is_not_embedded(astronaut):
    scanner = get_scanner()
    outcome = load_embedder().embed(cv2.GaussianBlur(astronaut, (0, 0), 9), scanner.face_detector,
                                    scanner.quality_gate)
    assert outcome.embedding is None and outcome.faces_found == 1
    assert outcome.reason == "no face passed the quality gate (1 found; failed: sharpness)"


def test_the_embedding_is_128_d_and_the_largest_passing_face(astronaut, hopper):
    scanner = get_scanner()
    # two faces side by side: the larger one (the astronaut at full size) is chosen
    small = cv2.resize(hopper, (hopper.shape[1] * 300 // hopper.shape[0], 300))
    canvas = np.zeros((512, 512 + small.shape[1], 3), np.uint8)
    canvas[:, :512], canvas[:300, 512:] = astronaut, small
    both = load_embedder().embed(canvas, scanner.face_detector, scanner.quality_gate)
    alone = load_embedder().embed(astronaut, scanner.face_detector, scanner.quality_gate)
    assert both.faces_found == 2 and both.embedding.vector.shape == (128,)
    assert distances(both.embedding.vector, alone.embedding.vector)[0] < 0.1


def test_the_recognition_model_is_sha256_pinned(tmp_path):
    assert verify_model_file(recognition_model_path()) == recognition_model_path()
    tampered = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    shutil.copyfile(recognition_model_path(), tampered)
    with open(tampered, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(WeightIntegrityError):
        verify_model_file(tampered)
