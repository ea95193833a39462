"""The shortcut audit (protocol ``shortcut-audit``) on datasets made here with known shortcuts.

Every image is a variant (flip x scale) of the scikit-image astronaut or matplotlib's Grace Hopper.
Fakes carry a smooth blue blob on the face centre; ``test_audit_tint`` is a crop-only cue that
answers 0.9 when it sees the blob and 0.1 otherwise, so its score on genuine faces cannot depend on
any nuisance. Planted shortcuts: reals all JPEG / fakes all PNG (the data separates by encoder), and
half the reals blurred with a detector that reads sharpness (its genuine scores depend on it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facetrust.detectors import Detector, DetectorInfo, DetectorOutput, register_detector
from facetrust.eval.nuisance import NUISANCE_NAMES, crop_border_stats, file_encoding, jpeg_quality_from_table
from facetrust.eval.runner import evaluate
from facetrust.faces import CropSpec
from facetrust.fusion.quality import sharpness


def _blueness(rgb: np.ndarray) -> float:
    x = rgb.astype(np.float32)
    h, w = x.shape[:2]
    c = x[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
    return float(0.5 + (c[..., 2].mean() - c[..., :2].mean()) / 160.0)


@register_detector("test_audit_tint")
class TintPresent(Detector):
    info = DetectorInfo(name="test_audit_tint", version="0.1", crop=CropSpec(64, 0.1), catches="blue blob (test)")

    def predict(self, faces):
        return [DetectorOutput(0.9 if _blueness(f.crop) >= 0.55 else 0.1) for f in faces]


@register_detector("test_audit_sharpness")
class SharpnessReader(Detector):
    """A detector with a shortcut: the sharper the crop, the more 'fake'."""

    info = DetectorInfo(name="test_audit_sharpness", version="0.1", crop=CropSpec(64, 0.1), catches="(test)")

    def predict(self, faces):
        return [DetectorOutput(sharpness(f.crop) / (sharpness(f.crop) + 200.0)) for f in faces]


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", [20, 50, 75, 90, 95])
def test_jpeg_quality_is_read_back_from_the_quantisation_table(quality, hopper, tmp_path):
    p = tmp_path / "q.jpg"
    Image.fromarray(hopper).save(p, "JPEG", quality=quality)
    fmt, q = file_encoding(p)
    assert fmt == "JPEG" and q == quality
    assert jpeg_quality_from_table(range(10)) is None  # not a 64-entry table


def test_encoder_of_png_webp_video_and_unreadable(hopper, tmp_path):
    Image.fromarray(hopper).save(tmp_path / "a.png")
    Image.fromarray(hopper).save(tmp_path / "a.webp", "WEBP")
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    assert file_encoding(tmp_path / "a.png") == ("PNG", None)
    assert file_encoding(tmp_path / "a.webp") == ("WEBP", None)
    assert file_encoding(tmp_path / "clip.mp4", "video") == ("video:mp4", None)
    assert file_encoding(tmp_path / "bad.jpg") == (None, None)


def test_crop_border_stats_reads_only_the_outer_ring():
    img = np.full((100, 100, 3), 200, np.uint8)
    img[10:90, 10:90] = 0  # the inside does not count
    mean, std = crop_border_stats(img)
    assert mean == pytest.approx(200, abs=0.5) and std == pytest.approx(0, abs=0.5)
    img[:10] = 0  # a dark top band: the ring's mean drops and its spread grows
    mean2, std2 = crop_border_stats(img)
    assert mean2 < 170 and std2 > 50


# ------------------------------------------------------------------------------------------------
# The datasets
# ------------------------------------------------------------------------------------------------


def _blob(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in box)
    yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]].astype(np.float32)
    sig = 0.15 * (x1 - x0)
    g = np.exp(-(((xx - (x0 + x1) / 2) ** 2 + (yy - (y0 + y1) / 2) ** 2) / (2 * sig ** 2)))
    out = rgb.astype(np.float32)
    out[..., 2] += 80 * g
    out[..., :2] -= 25 * g[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _save(path: Path, rgb: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        Image.fromarray(rgb).save(path, "JPEG", quality=90)
    else:
        Image.fromarray(rgb).save(path, "PNG")


@pytest.fixture(scope="module")
def variants(astronaut, hopper):
    """12 (name, image, face box): 2 photos x 2 flips x 3 scales."""
    from facetrust.faces import create_face_detector

    det = create_face_detector()
    out = []
    for name, img in {"astronaut": astronaut, "hopper": hopper}.items():
        for flip in (False, True):
            im = np.ascontiguousarray(img[:, ::-1]) if flip else img
            for scale in (0.5, 0.75, 1.0):
                sm = cv2.resize(im, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else im
                faces = det.detect(sm)
                assert faces, (name, flip, scale)
                out.append((f"{name}{'_flip' if flip else ''}_{scale:g}", sm, faces[0].box))
    return out


def _dataset(root: Path, reals: list[tuple[str, np.ndarray, str]], fakes: list[tuple[str, np.ndarray, str]]) -> Path:
    for label, items in (("real", reals), ("fake", fakes)):
        for name, img, fmt in items:
            _save(root / label / f"{name}.{'jpg' if fmt == 'JPEG' else 'png'}", img, fmt)
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit_cache")


def _audit(ds: Path, detector: str, out: Path, cache_dir: Path, **kw) -> dict:
    run = evaluate(detector, ds, "shortcut-audit", cache_dir=cache_dir, out_dir=out, n_boot=300,
                   quality_min_sharpness=0.0, **kw)
    res = json.loads((out / "results.json").read_text())  # strict JSON on disk
    assert res == run.results
    return res["shortcut_audit"]


def _row(sa: dict, nuisance: str, category: str | None = None) -> dict:
    rows = [r for r in sa["dataset"] if r["nuisance"] == nuisance and r["category"] == category]
    assert len(rows) == 1, (nuisance, category, sa["dataset"])
    return rows[0]


def test_no_shortcut_nothing_flagged(variants, tmp_path_factory, cache_dir):
    """Reals and fakes are the same variants in the same encoders: nothing may be flagged."""
    root = tmp_path_factory.mktemp("clean")
    reals = [(f"{n}_{f}", im, f) for n, im, _ in variants for f in ("JPEG", "PNG")]
    fakes = [(f"{n}_{f}", _blob(im, box), f) for n, im, box in variants for f in ("JPEG", "PNG")]
    out = tmp_path_factory.mktemp("clean_out")
    sa = _audit(_dataset(root, reals, fakes), "test_audit_tint", out, cache_dir)
    assert sa["n_units"] == 48
    assert sa["flags"] == []
    assert not any(r["auc"]["flagged"] for r in sa["dataset"] + sa["genuine_vs_genuine"])
    enc = _row(sa, "encoder", "JPEG")
    assert enc["auc"]["value"] == pytest.approx(0.5) and enc["n_fake"] == enc["n_real"] == 12
    # the genuine buckets were analysed (the detector's genuine scores tie, so each sits at 0.5)
    g = [r for r in sa["genuine_vs_genuine"] if r["nuisance"] in ("encoder", "image_short_side", "sharpness")]
    assert {r["nuisance"] for r in g} == {"encoder", "image_short_side", "sharpness"}
    assert all(r["auc"]["value"] == pytest.approx(0.5) and r["auc"]["low"] is not None for r in g)
    measured = {n["name"]: n["n_measured"] for n in sa["nuisances"]}
    assert set(measured) == set(NUISANCE_NAMES)
    assert measured["jpeg_quality"] == 24 and measured["face_size"] == 48 and measured["postprocess"] == 0
    assert {v["values"]["jpeg_quality"] for v in sa["per_sample"] if v["values"]["encoder"] == "JPEG"} == {90.0}
    html = (out / "report.html").read_text()
    assert "Shortcut audit" in html and "Nothing flagged." in html


def test_planted_encoder_shortcut_is_flagged(variants, tmp_path_factory, cache_dir):
    """Reals all JPEG, fakes all PNG: the encoder alone separates the classes."""
    root = tmp_path_factory.mktemp("planted_enc")
    reals = [(n, im, "JPEG") for n, im, _ in variants]
    fakes = [(n, _blob(im, box), "PNG") for n, im, box in variants]
    out = tmp_path_factory.mktemp("planted_enc_out")
    sa = _audit(_dataset(root, reals, fakes), "test_audit_tint", out, cache_dir)
    png, jpg = _row(sa, "encoder", "PNG"), _row(sa, "encoder", "JPEG")
    assert png["auc"]["value"] == pytest.approx(1.0) and png["auc"]["flagged"]
    assert jpg["auc"]["value"] == pytest.approx(0.0) and jpg["auc"]["flagged"]
    assert any(f.startswith("dataset: encoder=PNG") for f in sa["flags"])
    # the same pixels otherwise: resolution and face size do not separate the classes
    assert not _row(sa, "image_short_side")["auc"]["flagged"] and not _row(sa, "face_size")["auc"]["flagged"]
    # JPEG quality exists for one class only: not analysed, with the reason
    jq = next(n for n in sa["nuisances"] if n["name"] == "jpeg_quality")
    assert jq["n_fake"] == 0 and jq["dataset_reason"]
    html = (out / "report.html").read_text()
    assert "Flagged:" in html and "encoder=PNG" in html


def test_detector_that_reads_sharpness_is_flagged_genuine_vs_genuine(variants, tmp_path_factory, cache_dir):
    """Half the reals blurred; a detector scoring sharpness ranks the blurred genuine faces apart."""
    root = tmp_path_factory.mktemp("planted_sharp")
    reals = [(n, im, "PNG") for n, im, _ in variants]
    reals += [(f"{n}_blur", cv2.GaussianBlur(im, (0, 0), 2.0), "PNG") for n, im, _ in variants]
    fakes = [(n, _blob(im, box), "PNG") for n, im, box in variants]
    out = tmp_path_factory.mktemp("planted_sharp_out")
    sa_cue = _audit(_dataset(root, reals, fakes), "test_audit_tint", out, cache_dir)
    sa = _audit(root, "test_audit_sharpness", tmp_path_factory.mktemp("planted_sharp_out2"), cache_dir)
    rows = [r for r in sa["genuine_vs_genuine"] if r["nuisance"] == "sharpness"]
    assert len(rows) == 3  # tertiles of the 24 genuine samples
    low, high = rows[0], rows[-1]
    assert low["auc"]["value"] < 0.1 and low["auc"]["flagged"] and low["mean_score"] < high["mean_score"]
    assert high["auc"]["value"] > 0.9 and high["auc"]["flagged"]
    assert any("genuine sharpness" in f for f in sa["flags"])
    # the tint cue on the same data: its genuine scores do not move with sharpness
    assert not any(r["auc"]["flagged"] for r in sa_cue["genuine_vs_genuine"])
    # the data half does not depend on the detector: only reals were blurred, so fakes are sharper
    assert _row(sa, "sharpness")["auc"] == _row(sa_cue, "sharpness")["auc"]
    assert _row(sa, "sharpness")["auc"]["value"] > 0.6


def test_protocol_from_the_cli(variants, tmp_path, cache_dir, capsys):
    from facetrust.cli import main
    from facetrust.eval.protocols import PROTOCOL_REGISTRY, resolve

    assert resolve("shortcuts") == "shortcut-audit"
    assert "shortcut-audit" in PROTOCOL_REGISTRY.names()
    root = _dataset(tmp_path / "ds", [(n, im, "JPEG") for n, im, _ in variants[:6]],
                    [(n, _blob(im, box), "PNG") for n, im, box in variants[:6]])
    out = tmp_path / "out"
    rc = main(["eval", "--detector", "test_audit_tint", "--dataset", str(root), "--protocol", "shortcuts",
               "--out", str(out), "--cache", str(cache_dir), "--n-boot", "100", "--quality-min-sharpness", "0", "-q"])
    assert rc == 0
    sa = json.loads((out / "results.json").read_text())["shortcut_audit"]
    assert sa["n_units"] == 12 and any(f.startswith("dataset: encoder=") for f in sa["flags"])


def test_buckets_keep_ties_together_and_need_enough_samples():
    from facetrust.eval.sections.shortcut_audit import _buckets

    values = [160.0] * 40 + [float(v) for v in range(100, 110)] + [float(v) for v in range(200, 210)]
    idx, labels = _buckets(values, "continuous", 5)
    assert labels == ["[100, 160]", "[200, 209]"]  # the 40 images of one size are never split
    assert np.bincount(idx).tolist() == [50, 10]
    assert all(idx[i] == 0 for i in range(40))
    idx, labels = _buckets([float(v) for v in range(24)], "continuous", 5)
    assert labels == ["[0, 7]", "[8, 15]", "[16, 23]"]
    assert _buckets([1.0] * 30, "continuous", 5)[0] is None  # one value: nothing to compare
    assert _buckets([1.0] * 30 + [2.0] * 3, "continuous", 5)[0] is None  # a bucket of 3 is too small
    idx, cats = _buckets(["PNG", "JPEG", "PNG"], "categorical", 5)
    assert cats == ["JPEG", "PNG"] and idx.tolist() == [1, 0, 1]
