"""Defect 7 of issue 13: wrong input types are typed errors; uint64 pixels above 2**63 do not wrap."""

from __future__ import annotations

import numpy as np
import pytest

import facetrust
from facetrust.errors import UnsupportedMediaError
from facetrust.io import open_media
from facetrust.io.image import array_to_rgb


@pytest.mark.parametrize("source", [None, [1, 2, 3], [[0, 255], [255, 0]], 7, 2.5, {"path": "x.jpg"}, object()])
def test_a_wrong_input_type_is_a_typed_error_row(source):
    result = facetrust.scan(source, detectors=("noise_residual",))
    assert result.verdict == "error"
    assert result.error_type == "unsupported_media", result.error
    assert type(source).__name__ in result.error and type(source).__name__ in result.path


def test_open_media_refuses_a_wrong_type_with_the_typed_error():
    with pytest.raises(UnsupportedMediaError, match="NoneType"):
        open_media(None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2**64 - 1, 255), (2**63 + 5, 255), (2**63 - 1, 255), (65535, 255), (256 * 100, 100), (200, 200), (0, 0)],
)
def test_uint64_pixels_saturate_instead_of_wrapping_to_black(value, expected):
    image = np.full((4, 4), value, np.uint64)
    assert array_to_rgb(image)[0, 0].tolist() == [expected] * 3


def test_uint32_pixels_above_the_16_bit_range_saturate():
    image = np.full((4, 4, 3), 2**32 - 1, np.uint32)
    assert array_to_rgb(image)[0, 0].tolist() == [255, 255, 255]
