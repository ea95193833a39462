"""Fixtures of the verification tests: another view of the astronaut photo (the same person)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut_view(astronaut) -> np.ndarray:
    """The astronaut photo cropped off-centre, mirrored, darkened and JPEG-recompressed."""
    h, w = astronaut.shape[:2]
    crop = np.ascontiguousarray(astronaut[h // 25: h - h // 6, w // 12: w - w // 20][:, ::-1])
    darker = np.clip(crop.astype(np.float32) * 0.8, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(darker, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
