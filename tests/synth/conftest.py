"""Fixtures for the synthesis tests: a few aligned faces made from wheel-shipped photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


def _stretch(image: np.ndarray, fx: float, fy: float, hue: int) -> np.ndarray:
    """A geometrically and chromatically different 'person' for two-identity tests."""
    out = cv2.resize(image, None, fx=fx, fy=fy, interpolation=cv2.INTER_CUBIC)
    hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + hue) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


@pytest.fixture(scope="session")
def faces_dir(tmp_path_factory, astronaut, hopper) -> Path:
    """Four colour face photos, each its own identity (no identities.tsv)."""
    d = tmp_path_factory.mktemp("faces")
    photos = {
        "astronaut.png": astronaut,
        "hopper.png": hopper,
        "astronaut_wide.png": _stretch(astronaut, 1.2, 1.0, 8),
        "hopper_long.png": _stretch(hopper, 1.0, 1.15, -6),
    }
    for name, img in photos.items():
        cv2.imwrite(str(d / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return d


@pytest.fixture(scope="session")
def sources(faces_dir):
    """The four photos as aligned 256-px FaceSources (one group each)."""
    from facetrust.faces import CropSpec
    from facetrust.synth.sources import SourcePreparer, list_images, load_face

    spec = CropSpec(256, 0.25)
    prep = SourcePreparer(spec)
    out = []
    for rel in list_images(faces_dir):
        rec = prep.prepare(faces_dir, rel)
        assert not isinstance(rec, str), f"{rel}: {rec}"
        rec.group = rec.source_id
        out.append(load_face(rec, spec))
    return out


@pytest.fixture(scope="session")
def faces_train_or_none() -> Path | None:
    """faces-train under ../shared/data (resolved from the repo root), or None when absent."""
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces-train"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_faces(shared_data) -> Path:
    path = shared_data / "faces-train"
    if not path.is_dir():
        pytest.skip("faces-train is absent")
    return path


def _honesty(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    """Share of the total absolute pixel change that lies where mask > 0.1."""
    diff = np.abs(after.astype(np.int32) - before.astype(np.int32)).sum(axis=2)
    total = float(diff.sum())
    return float(diff[mask > 0.1].sum()) / total if total else 1.0


@pytest.fixture(scope="session")
def honesty():
    """The honest-mask measure: share of |after - before| inside mask > 0.1."""
    return _honesty
