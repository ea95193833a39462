"""The liveness fit (facetrust.train.fit_liveness): the least-ACER threshold, and a fit on
hand-made features that the shipped scorer (facetrust.detectors.liveness.LivenessModel) reads back."""

from __future__ import annotations

import numpy as np

from facetrust.detectors import _pad_features as F
from facetrust.detectors.liveness import LivenessModel
from facetrust.train.fit_liveness import acer_threshold, fit


def test_acer_threshold_takes_the_worst_species():
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.9, 0.35, 0.95])
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    species = np.array(["bona_fide"] * 3 + ["print", "print", "screen", "screen"])
    t, at = acer_threshold(p, y, species)
    assert 0.3 < t <= 0.35 and at["acer"] == 0.0 and at["bpcer"] == 0.0
    assert set(at["apcer"]) == {"print", "screen"}


def test_fit_separates_and_the_scorer_reads_it_back():
    rng = np.random.default_rng(0)
    n = 480
    y = np.tile([0, 1], n // 2)
    x = rng.standard_normal((n, len(F.ALL_NAMES))).astype(np.float32)
    signal = np.array([name.startswith(("deep_s32_", "face_spectral_peak")) for name in F.ALL_NAMES])
    x[np.ix_(y == 1, signal)] += 1.5  # attacks differ in some backbone channels and the moire peak
    split = np.where((np.arange(n) // 2) % 4 == 0, "val", "train")  # pairs: both classes in each split
    source = np.where(np.arange(n) % 3 == 0, "public", "synth")
    species = np.where(y == 1, np.where(np.arange(n) % 8 < 4, "print", "screen"), "bona_fide")
    w, report = fit(x, y, split, species, source)
    assert report["two_class"]["val_auc"] > 0.95
    assert report["two_class"]["val_at_threshold"]["acer"] < 0.15
    model = LivenessModel({}, w)
    bona = np.zeros(len(F.ALL_NAMES), np.float32)
    attack = bona.copy()
    attack[signal] = 1.5
    assert model.probability(attack, "two_class")[0] > 0.5 > model.probability(bona, "two_class")[0]
    # the one-class model only saw bona fide: the attack offset is far from it
    assert model.probability(attack, "one_class")[1] > model.probability(bona, "one_class")[1]
