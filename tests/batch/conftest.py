"""Fixtures of the batch tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from batch_media import make_images  # noqa: E402


@pytest.fixture
def images(tmp_path) -> list[Path]:
    return make_images(tmp_path / "in", 6)
