"""ForensicNet: facetrust's own trained detector, run with ONNX Runtime (no torch at inference).

Weights live in ``facetrust/models/forensicnet.onnx`` with a model card JSON beside it; the
ONNX file's sha256 is checked at every load, so a corrupted or tampered file never runs.
See MODEL_CARD.md for data, training and measured accuracy.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..errors import DetectorError, ModelCardError, WeightIntegrityError
from ..faces.align import CropSpec
from .base import Detector, DetectorInfo, DetectorOutput, register_detector

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
# What the detector needs from a card written by ``facetrust ship`` (facetrust.train.export).
CARD_KEYS = ("version", "backbone", "input_size", "margin", "families", "temperature", "threshold",
             "onnx_file", "sha256")


def is_model_card(name: str | os.PathLike) -> bool:
    """True when a detector name is a path to a model card (``*.json``) rather than a registered name."""
    return str(name).lower().endswith(".json")


def load_card(card_path: str | Path) -> dict:
    card_path = Path(card_path)
    if not card_path.exists():
        raise ModelCardError(f"model card {card_path} is missing")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCardError(f"model card {card_path} cannot be read: {exc}") from exc
    missing = [k for k in CARD_KEYS if k not in card] if isinstance(card, dict) else list(CARD_KEYS)
    if missing:
        raise ModelCardError(f"{card_path} is not a ForensicNet model card (no {', '.join(missing)})")
    return card


def verified_onnx_bytes(card: dict, card_path: Path) -> bytes:
    onnx_path = card_path.parent / card["onnx_file"]
    if not onnx_path.exists():
        raise ModelCardError(f"weight file {onnx_path} (named by the card) is missing")
    data = onnx_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != card["sha256"]:
        raise WeightIntegrityError(
            f"{onnx_path}: sha256 {digest[:16]}... does not match the model card ({card['sha256'][:16]}...); "
            "the file is corrupted or was replaced. Reinstall facetrust or restore the file."
        )
    return data


def _session(model_bytes: bytes, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    if os.environ.get("FACETRUST_ORT_SPIN", "0") != "1":
        # Idle pool threads otherwise spin waiting for the next run: on a 2-core machine that cost
        # ~3 CPU-s per 100 stills, stealing the core YuNet runs on (benchmarks/scan_cpu.py).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(model_bytes, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own exception types for opset/IR mismatches
        raise DetectorError(
            f"ONNX Runtime {ort.__version__} cannot load the model ({exc}); "
            "fix: pip install -U 'onnxruntime>=1.17'"
        ) from exc


@register_detector("forensicnet")
class ForensicNetDetector(Detector):
    """facetrust's trained network; ``card_path`` runs any model shipped in its format."""

    def __init__(self, card_path: str | Path | None = None, threads: int | None = None):
        card_path = Path(card_path) if card_path else MODELS_DIR / "forensicnet.json"
        self.card = load_card(card_path)
        self._threads = int(threads or os.environ.get("FACETRUST_THREADS", 0) or 0)
        self._session = _session(verified_onnx_bytes(self.card, card_path), self._threads)
        self.temperature = float(self.card["temperature"])
        self.families = tuple(self.card["families"])
        self.info = DetectorInfo(
            # a shipped model is reported under its card's name (the file name for a card without one)
            name=str(self.card.get("name") or card_path.stem),
            version=str(self.card["version"]),
            crop=CropSpec(int(self.card["input_size"]), float(self.card["margin"])),
            catches="face swaps, blends, partial edits, morphs, inpainting, decoder re-synthesis (trained on "
            "pseudo-fakes synthesised from genuine faces)",
            description=f"{self.card['backbone']} at {self.card['input_size']} px, heads for fake probability, "
            "forgery mask and family; temperature-calibrated on validation",
            outputs_heatmap=True,
            outputs_embedding=True,
            outputs_family=True,
            trained=True,
            default_threshold=float(self.card["threshold"]),
        )

    def predict(self, faces):
        if not faces:
            return []
        x = np.stack([f.crop for f in faces]).transpose(0, 3, 1, 2).astype(np.float32)
        logit, fam, mask, emb = self._session.run(None, {"image": x})
        prob = 1.0 / (1.0 + np.exp(-logit / self.temperature))
        fam = np.exp(fam - fam.max(1, keepdims=True))
        fam /= fam.sum(1, keepdims=True)
        heat = 1.0 / (1.0 + np.exp(-mask))
        out = []
        for i in range(len(faces)):
            fp = {name: float(fam[i, k]) for k, name in enumerate(self.families) if name != "real"}
            top = max(fp, key=fp.get)
            out.append(
                DetectorOutput(
                    fake_probability=float(prob[i]),
                    heatmap=heat[i].astype(np.float32),
                    embedding=emb[i].astype(np.float32),
                    family_probabilities=fp,
                    evidence={
                        "logit": float(logit[i]),
                        "masked_area": float((heat[i] > 0.5).mean()),
                        f"family_{top}": fp[top],
                        "p_real_family": float(fam[i, self.families.index("real")]),
                    },
                )
            )
        return out
