"""``facetrust scan --detector path/to/model.json`` runs any model shipped in ForensicNet's format
(card JSON + ONNX beside it, sha256 checked), reported under the card's name."""

from __future__ import annotations

import json
import shutil

import cv2
import pytest

from facetrust.cli import EXIT_USAGE, main
from facetrust.detectors import create_detector
from facetrust.detectors.forensicnet import MODELS_DIR
from facetrust.errors import ModelCardError, WeightIntegrityError


@pytest.fixture
def shipped(tmp_path):
    """The bundled model re-shipped under another name in a user folder."""
    d = tmp_path / "my_models"
    d.mkdir()
    card = json.loads((MODELS_DIR / "forensicnet.json").read_text())
    card["name"], card["version"] = "acme_v7", "7"
    shutil.copy(MODELS_DIR / card["onnx_file"], d / card["onnx_file"])
    (d / "acme_v7.json").write_text(json.dumps(card))
    return d / "acme_v7.json"


def test_scan_runs_a_card_path_named_as_the_card_says(shipped, tmp_path, astronaut):
    img = tmp_path / "astro.png"
    cv2.imwrite(str(img), astronaut[..., ::-1])
    for det, out in ((str(shipped), "card.json"), ("forensicnet", "builtin.json")):
        main(["scan", str(img), "--detector", det, "--json", str(tmp_path / out), "-q"])
    card_face = json.loads((tmp_path / "card.json").read_text())["results"][0]["faces"][0]
    builtin_face = json.loads((tmp_path / "builtin.json").read_text())["results"][0]["faces"][0]
    (card_score,) = card_face["scores"]
    (builtin_score,) = builtin_face["scores"]
    assert card_score["detector"] == "acme_v7" and card_score["version"] == "7"
    assert builtin_score["detector"] == "forensicnet"
    # the same weights: the same probability, whichever way the model was named
    assert card_score["fake_probability"] == pytest.approx(builtin_score["fake_probability"], abs=1e-6)


def test_a_tampered_weight_file_is_refused(shipped):
    onnx = shipped.parent / json.loads(shipped.read_text())["onnx_file"]
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError):
        create_detector(str(shipped))


def test_bad_card_paths_are_usage_errors(shipped, tmp_path, astronaut):
    not_a_card = tmp_path / "settings.json"
    not_a_card.write_text(json.dumps({"name": "x"}))
    with pytest.raises(ModelCardError, match="not a ForensicNet model card"):
        create_detector(not_a_card)
    (shipped.parent / json.loads(shipped.read_text())["onnx_file"]).unlink()
    with pytest.raises(ModelCardError, match="weight file"):
        create_detector(shipped)
    img = tmp_path / "astro.png"
    cv2.imwrite(str(img), astronaut[..., ::-1])
    assert main(["scan", str(img), "--detector", str(tmp_path / "missing.json"), "-q"]) == EXIT_USAGE
