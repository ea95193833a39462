"""Defect 2 of issue 13: extreme aspect ratios (1 x 5000, 5000 x 1) must not crash the face detector."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facetrust.faces import create_face_detector
from facetrust.pipeline import Scanner

STRIPS = [(1, 5000), (5000, 1), (3, 4000), (1, 1)]  # (height, width)
FORMATS = ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"]


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(detectors=("noise_residual",))


@pytest.mark.parametrize("shape", STRIPS)
def test_yunet_detects_nothing_in_a_strip_instead_of_crashing(shape):
    image = np.full((*shape, 3), 128, np.uint8)
    assert create_face_detector("yunet").detect(image) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", STRIPS)
def test_a_strip_in_every_format_is_not_applicable(scanner, shape, fmt):
    buf = io.BytesIO()
    Image.fromarray(np.full((*shape, 3), 128, np.uint8)).save(buf, fmt)
    result = scanner.scan(buf.getvalue())
    assert result.error_type is None, result.error
    assert result.verdict == "not_applicable"
    assert (result.height, result.width) == shape
