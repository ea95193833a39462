"""The calibration maths, the shipped calibration file, and the fitting script on a tiny set."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from facetrust.biometrics.calibration import (
    CALIBRATION_FILE, HELD_OUT_KEYS, REQUIRED_KEYS, equal_error_rate, error_rates, fit_logistic, held_out_figures,
    load_calibration, roc_auc)


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 1.2, 20_000)
    p = 1 / (1 + np.exp(-(12.0 - 20.0 * x)))
    y = (rng.random(x.size) < p).astype(float)
    intercept, coef = fit_logistic(x, y)
    assert intercept == pytest.approx(12.0, rel=0.1) and coef == pytest.approx(-20.0, rel=0.1)


def test_auc_eer_and_rates_on_hand_made_distances():
    genuine = np.array([0.1, 0.2, 0.3, 0.7])
    impostor = np.array([0.5, 0.6, 0.8, 0.9])
    # pairs (g, i) with g < i: 0.1, 0.2, 0.3 beat all four, 0.7 beats two -> 14 / 16
    assert roc_auc(genuine, impostor) == pytest.approx(14 / 16)
    assert roc_auc(np.array([0.5]), np.array([0.5])) == 0.5  # a tie counts half
    assert error_rates(genuine, impostor, 0.55) == (0.25, 0.25)
    eer, t = equal_error_rate(genuine, impostor)
    assert eer == 0.25 and error_rates(genuine, impostor, t) == (0.25, 0.25)
    assert equal_error_rate(np.array([0.1, 0.2]), np.array([0.8, 0.9]))[0] == 0.0
    figures = held_out_figures(genuine, impostor, 0.55)
    assert figures == {"auc": 14 / 16, "eer": 0.25, "eer_threshold": t, "far": 0.25, "frr": 0.25}


def test_the_shipped_calibration_file_is_complete_and_consistent():
    data = json.loads(CALIBRATION_FILE.read_text())
    assert set(REQUIRED_KEYS) <= set(data) and set(HELD_OUT_KEYS) <= set(data["held_out"])
    assert data["embedding_model"] == "dlib_face_recognition_resnet_model_v1"
    assert data["coef"] < 0  # farther apart, less likely the same person
    cal = load_calibration()
    assert cal.threshold == pytest.approx(-data["intercept"] / data["coef"])
    assert cal.probability(cal.threshold) == pytest.approx(0.5)
    assert cal.probability(cal.threshold - 0.1) > 0.5 > cal.probability(cal.threshold + 0.1)
    for half in ("fit", "held_out"):
        counts = data["pairs"][half]
        assert counts["genuine"] >= 500 and counts["impostor"] == counts["genuine"]
    held = data["held_out"]
    assert 0.5 < held["auc"] <= 1 and all(0 <= held[k] <= 1 for k in ("eer", "far", "frr"))
    assert "89x109" in data["data"]["image_size"]


def test_identity_halves_are_disjoint(shared_data):
    from facetrust.train.fit_verify import identity_halves, read_identities

    photos = read_identities(shared_data / "faces-train")
    fit, held = identity_halves(photos, 300, seed=0)
    assert {p.identity for p in fit}.isdisjoint({p.identity for p in held})
    assert 300 <= len(fit) < 310 and 300 <= len(held) < 310


def test_the_fitting_script_on_a_tiny_set(shared_data, tmp_path):
    """The script writes the shipped file's schema; its figures are the calibration functions' own."""
    from facetrust.train import fit_verify

    out = tmp_path / "cal.json"
    assert fit_verify.main(["--data", str(shared_data / "faces-train"), "--images-per-half", "16",
                            "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    shipped = json.loads(CALIBRATION_FILE.read_text())
    assert set(data) == set(shipped) and set(data["held_out"]) == set(shipped["held_out"])
    assert data["pairs"]["fit"]["genuine"] > 0 and data["data"]["images_per_half"] == 16
    assert data["threshold"] == pytest.approx(-data["intercept"] / data["coef"])
    assert math.isfinite(data["held_out"]["auc"])
