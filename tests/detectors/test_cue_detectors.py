"""The two training-free cue detectors: contract, determinism, calibration provenance, and that
they react to the manipulations they are meant to catch (made here from wheel-shipped images)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetrust.detectors import FaceInput, available_detectors, create_detector
from facetrust.detectors import _cues, noise_residual, spectral
from facetrust.train import fit_cues  # the offline fitting script (issue 12: moved out of the runtime package)
from facetrust.errors import DetectorError
from facetrust.faces import align_face, create_face_detector, estimate_similarity

REPO = Path(__file__).resolve().parents[2]
CUES = ("noise_residual", "spectral")


@pytest.fixture(scope="module")
def yunet():
    return create_face_detector("yunet")


def face_inputs(image: np.ndarray, yunet, spec) -> list[FaceInput]:
    out = []
    for f in yunet.detect(image):
        a = align_face(image, f, spec)
        out.append(FaceInput(a.crop, a.matrix, image, f.box, f.landmarks5))
    return out


def predict_one(name: str, image: np.ndarray, yunet):
    det = create_detector(name)
    faces = face_inputs(image, yunet, det.info.crop)
    assert faces, "the test image must contain a detectable face"
    return det.predict(faces[:1])[0]


def face_unit_grid(shape, landmarks, spec) -> np.ndarray:
    to_face = _cues.frame_to_face_units(estimate_similarity(landmarks, spec.template()), spec)
    h, w = shape
    return _cues.apply(to_face, np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1).astype(float))


def jpeg(img: np.ndarray, q: int) -> np.ndarray:
    return fit_cues.jpeg(img, q)


@pytest.fixture(scope="module")
def pasted(astronaut, hopper, yunet):
    """Grace Hopper's face, blurred and resampled, blended into the astronaut's face."""
    fa, fh = yunet.detect(astronaut)[0], yunet.detect(hopper)[0]
    h, w = astronaut.shape[:2]
    m = estimate_similarity(fh.landmarks5, fa.landmarks5)
    donor = cv2.warpAffine(cv2.GaussianBlur(hopper, (0, 0), 1.0), m, (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101)
    donor = cv2.resize(cv2.resize(donor, (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h),
                       interpolation=cv2.INTER_LINEAR)
    uv = face_unit_grid((h, w), fa.landmarks5, noise_residual.CROP)
    mask = _cues.inside_ellipse(uv, (0.5, 0.6), (0.4, 0.46)).astype(np.float32)
    mask = cv2.GaussianBlur(mask, (0, 0), 3.0)[..., None]
    return np.clip(astronaut * (1 - mask) + donor * mask, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------- contract


def test_registry_creates_both_cues():
    assert set(CUES) <= set(available_detectors())
    for name in CUES:
        det = create_detector(name)
        assert det.info.name == name and det.info.outputs_heatmap and det.info.needs_frame
        assert not det.info.trained and det.info.catches
        assert 0.25 <= det.info.crop.margin <= 0.35 and 192 <= det.info.crop.size <= 256


@pytest.mark.parametrize("name", CUES)
def test_contract_one_output_per_face(name, astronaut, hopper, yunet):
    det = create_detector(name)
    faces = face_inputs(astronaut, yunet, det.info.crop) + face_inputs(hopper, yunet, det.info.crop)
    assert len(faces) == 2
    outs = det.predict(faces)
    assert len(outs) == 2
    module = noise_residual if name == "noise_residual" else spectral
    for out in outs:
        assert 0.0 <= out.fake_probability <= 1.0
        assert out.heatmap is not None and out.heatmap.ndim == 2 and out.heatmap.dtype == np.float32
        assert out.heatmap.min() >= 0.0 and out.heatmap.max() <= 1.0
        assert set(out.evidence) == set(module.EVIDENCE_KEYS)
        assert all(isinstance(v, float) and math.isfinite(v) for v in out.evidence.values())
        assert out.evidence["too_small"] == 0.0 and out.evidence["frame_available"] == 1.0
    assert outs[0].evidence != outs[1].evidence
    assert det.predict([]) == []


@pytest.mark.parametrize("name", CUES)
def test_deterministic(name, astronaut, yunet):
    a, b = predict_one(name, astronaut, yunet), predict_one(name, astronaut, yunet)
    assert a.fake_probability == b.fake_probability and a.evidence == b.evidence
    np.testing.assert_array_equal(a.heatmap, b.heatmap)


@pytest.mark.parametrize("name", CUES)
def test_without_frame_the_crop_is_analysed(name, astronaut, yunet):
    det = create_detector(name)
    face = face_inputs(astronaut, yunet, det.info.crop)[0]
    out = det.predict([FaceInput(face.crop, face.matrix)])[0]
    assert out.evidence["frame_available"] == 0.0 and out.evidence["too_small"] == 0.0
    assert 0.0 <= out.fake_probability <= 1.0 and out.heatmap.shape == (56, 56)


@pytest.mark.parametrize("name", CUES)
def test_tiny_face_returns_the_prior(name):
    det = create_detector(name)
    frame = np.full((40, 40, 3), 128, np.uint8)
    # a face 6 px wide: nothing to measure
    lm = det.info.crop.template() * 0.03 + 10
    matrix = estimate_similarity(lm, det.info.crop.template())
    out = det.predict([FaceInput(np.zeros((224, 224, 3), np.uint8), matrix, frame)])[0]
    assert out.evidence["too_small"] == 1.0
    assert out.fake_probability == pytest.approx(det.calibration.prior())


# ------------------------------------------------------------------------------- real behaviour


def test_noise_residual_pasted_face_scores_higher_and_lights_up_inside(astronaut, pasted, yunet):
    orig = predict_one("noise_residual", astronaut, yunet)
    fake = predict_one("noise_residual", pasted, yunet)
    assert fake.evidence["noise_face"] < 0.5 * orig.evidence["noise_face"]  # smoothed paste
    assert fake.fake_probability > orig.fake_probability + 0.1
    hs = fake.heatmap.shape[0]
    spec = noise_residual.CROP
    c = (np.arange(hs) + 0.5) / hs * (1 + 2 * spec.margin) - spec.margin  # heatmap px -> face units
    u, v = np.meshgrid(c, c)
    inside = ((u - 0.5) / 0.3) ** 2 + ((v - 0.6) / 0.35) ** 2 <= 1
    outside = ((u - 0.5) / 0.55) ** 2 + ((v - 0.6) / 0.65) ** 2 > 1
    assert fake.heatmap[inside].mean() > fake.heatmap[outside].mean() + 0.3
    assert fake.heatmap[inside].mean() > orig.heatmap[inside].mean() + 0.2


def test_noise_residual_sees_a_shifted_jpeg_grid(astronaut, yunet):
    """A face spliced in from a copy compressed on another 8x8 grid phase (no resampling)."""
    f = yunet.detect(astronaut)[0]
    base = jpeg(astronaut, 70)
    donor = np.roll(jpeg(np.roll(astronaut, (3, 3), (0, 1)), 70), (-3, -3), (0, 1))
    uv = face_unit_grid(astronaut.shape[:2], f.landmarks5, noise_residual.CROP)
    mask = _cues.inside_ellipse(uv, (0.5, 0.6), (0.4, 0.46))[..., None]
    spliced = np.where(mask, donor, base)
    genuine = predict_one("noise_residual", base, yunet).evidence
    forged = predict_one("noise_residual", spliced, yunet).evidence
    assert genuine["grid_strength_context"] > 0.08  # the context shows the grid
    assert (genuine["grid_phase_face_x"], genuine["grid_phase_context_x"]) == (7.0, 7.0)
    assert forged["grid_phase_face_x"] == 4.0 and forged["grid_phase_face_y"] == 4.0
    assert forged["grid_phase_mismatch"] > 0.8 > 0.3 > genuine["grid_phase_mismatch"]


def _down_up(img: np.ndarray, method: str) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if method == "nearest":
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    z = np.zeros((h, w, 3), np.float32)  # transposed conv: zero insertion + uneven 3x3 kernel
    z[::2, ::2] = small
    k = np.array([[0.5, 1.0, 0.6], [1.1, 1.6, 0.9], [0.4, 1.0, 0.7]], np.float32)
    return np.clip(cv2.filter2D(z, -1, k * 4 / k.sum()), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("method", ["nearest", "transposed_conv"])
def test_spectral_upsampled_face_scores_higher(method, astronaut, yunet):
    orig = predict_one("spectral", astronaut, yunet)
    up = predict_one("spectral", _down_up(astronaut, method), yunet)
    assert up.evidence["nyquist_snr"] > orig.evidence["nyquist_snr"] + 2.0
    assert up.fake_probability > orig.fake_probability + 0.2
    assert up.heatmap.mean() > orig.heatmap.mean()


@pytest.mark.parametrize("method", ["nearest", "transposed_conv"])
def test_spectral_upsampled_crop_scores_higher(method, astronaut, yunet):
    """Crop-only fallback: a 2x up-sampled crop against the crop itself."""
    det = create_detector("spectral")
    face = face_inputs(astronaut, yunet, det.info.crop)[0]
    orig = det.predict([FaceInput(face.crop, face.matrix)])[0]
    up = det.predict([FaceInput(_down_up(face.crop, method), face.matrix)])[0]
    assert up.fake_probability > orig.fake_probability


def test_spectral_ignores_jpeg_blocking(astronaut, yunet):
    """JPEG's 8x8 grid raises the period-8 bins, not the up-sampling evidence."""
    orig = predict_one("spectral", astronaut, yunet)
    comp = predict_one("spectral", jpeg(astronaut, 60), yunet)
    assert comp.evidence["grid8_snr"] > orig.evidence["grid8_snr"]
    assert comp.fake_probability < 0.5


# -------------------------------------------------------------------------------- calibration


def test_calibration_file_provenance():
    data = json.loads(_cues.CALIBRATION_PATH.read_text())
    assert data["note"] == "fitted on faces-train synthetic pseudo-fakes; not tuned on wild-dev"
    assert "fit_cues" in data["command"] and isinstance(data["seed"], int) and data["date"]
    for name, module in (("noise_residual", noise_residual), ("spectral", spectral)):
        entry = data["detectors"][name]
        assert entry["version"] == module.VERSION and entry["features"] == list(module.FEATURES)
        assert entry["validation"]["auc"] > 0.6 and entry["validation"]["n_real"] > 100


def test_missing_or_stale_calibration_fails_loudly(tmp_path):
    with pytest.raises(DetectorError, match="missing"):
        create_detector("noise_residual", calibration_path=str(tmp_path / "none.json"))
    data = json.loads(_cues.CALIBRATION_PATH.read_text())
    data["detectors"]["spectral"]["version"] = "0.0-old"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(data))
    with pytest.raises(DetectorError, match="version"):
        create_detector("spectral", calibration_path=str(stale))
    create_detector("noise_residual", calibration_path=str(stale))  # the other entry is fine


def test_ece_definition():
    """The calibration report's ECE is facetrust.eval.metrics.ece with ECE_BINS equal-width bins."""
    from facetrust.eval.metrics import ece

    def report_ece(y, p):
        return ece(y, p, n_bins=fit_cues.ECE_BINS).ece.value

    y = np.array([0, 0, 1, 1])
    assert report_ece(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    # one bin [0.5, 0.6) holding everything: |0.5 - 0.55|
    assert report_ece(y, np.full(4, 0.55)) == pytest.approx(0.05)


def test_pseudo_fakes_are_made_from_the_photos(astronaut, hopper, yunet):
    rng = np.random.default_rng(0)
    a = fit_cues.Sample("a", "x", astronaut, yunet.detect(astronaut)[0].landmarks5)
    b = fit_cues.Sample("b", "x", hopper, yunet.detect(hopper)[0].landmarks5)
    paste, kind = fit_cues.make_paste(a, b, rng)
    assert paste.shape == astronaut.shape and kind
    changed = np.abs(paste.astype(int) - astronaut).sum(-1) > 10
    ys, xs = np.nonzero(changed)
    box = yunet.detect(astronaut)[0].box
    assert box[0] - 20 < np.median(xs) < box[2] + 20 and box[1] - 20 < np.median(ys) < box[3] + 20
    for _ in range(3):
        up, kind = fit_cues.make_upsampled(a, rng)
        assert up.shape == astronaut.shape and kind.rsplit("x", 1)[0] in fit_cues.UPSAMPLERS  # "pixel_shufflex2/face"


# ---------------------------------------------------------------------------------- benchmark


def test_wild_dev_benchmark_runs_on_a_synthetic_manifest(tmp_path, astronaut, pasted, capsys, monkeypatch):
    """The benchmark script end to end on a manifest made here (wild-dev itself is not read)."""
    spec = importlib.util.spec_from_file_location("wild_dev_cues", REPO / "benchmarks" / "wild_dev_cues.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "wild_dev_cues", bench)  # dataclasses resolve their module
    spec.loader.exec_module(bench)
    assert bench.family_of("video-frame-crop face-swap(FF++ Deepfakes)") == "face-swap"
    assert bench.source_of("video(FF++ original c23)") == "FF++"
    root = tmp_path / "wild"
    root.mkdir()
    files = {
        "real1.png": (astronaut, "real", "real-photo(test)"),
        "real2.jpg": (jpeg(astronaut, 90), "real", "real-photo(test)"),
        "fake1.png": (pasted, "fake", "face-swap(test)"),
        "fake2.png": (_down_up(astronaut, "nearest"), "fake", "gan-face(test)"),
        "noface.png": (np.full((64, 64, 3), 90, np.uint8), "real", "real-photo(test)"),
    }
    lines = ["relpath\tlabel\tkind"]
    for name, (img, label, kind) in files.items():
        cv2.imwrite(str(root / name), img[..., ::-1])
        lines.append(f"{name}\t{label}\t{kind}")
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "res.json"
    assert bench.main(["--manifest", str(root / "MANIFEST.tsv"), "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    recall = {r["group"]: r for r in res["face_detector_recall"]}
    assert recall["all images"]["n"] == 5 and recall["all images"]["with_face"] == 4
    families = {e["fakes"]: e for e in res["auc"] if e["level"] == "image"}
    assert families["all fakes"]["n_fake"] == 2 and families["all fakes"]["n_real"] == 2
    assert families["gan-face"]["spectral"] == 1.0  # the 2x nearest face vs both reals
    assert "Face-detector recall" in capsys.readouterr().out


def test_periodic_snr_is_about_one_without_periodicity_and_large_with_it(astronaut):
    """The SNR statistic itself: ~1 for stationary content (white noise, a photo's differences),
    large for a period-2 pattern; the rfft symmetry mapping reproduces the full 8x8 DFT power."""
    rng = np.random.default_rng(0)
    white = rng.normal(0, 10, (256, 256)).astype(np.float32)
    power, cells = spectral._cell_power(white)
    full = np.abs(np.fft.fft2(cells, axes=(2, 3))) ** 2
    np.testing.assert_allclose(power, full.mean(axis=(0, 1)), rtol=1e-4)
    photo_dx = np.diff(astronaut[:, :, 1].astype(np.float32), axis=1)[:, :504]
    for m in (white, photo_dx):
        cells = spectral._cell_power(m)
        snr, _ = spectral._periodic_snr(cells[1], cells[0])
        assert 0.5 < snr[spectral._EVEN].mean() < 2.0 and 0.5 < snr[spectral._ODD].mean() < 2.0
    checker = white + 2.0 * (-1.0) ** np.add.outer(np.arange(256), np.arange(256))
    power, cells = spectral._cell_power(checker)
    snr, _ = spectral._periodic_snr(cells, power)
    assert snr[4, 4] > 100 and snr[spectral._ODD].mean() < 2.0
