"""No trivial shortcut: global file statistics must not separate real from fake (AUC <= 0.6)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetrust.synth import SplitPolicy, generate, read_manifest


def _global_features(out: Path, rows: list[dict]) -> np.ndarray:
    """File size, image size, mean colour, and the JPEG quantisation tables when JPEG."""
    from PIL import Image

    feats = []
    for r in rows:
        path = out / r["path"]
        img = cv2.imread(str(path))
        with Image.open(path) as im:
            q = getattr(im, "quantization", None) or {}
            qsum = [float(np.sum(v)) for _, v in sorted(q.items())][:2] or [0.0, 0.0]
        feats.append([os.path.getsize(path), img.shape[0], img.shape[1], *img.reshape(-1, 3).mean(0), *qsum])
    return np.asarray(feats, float)


def _cross_validated_auc(out: Path) -> tuple[float, int, int]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = read_manifest(out / "manifest.csv")
    x = _global_features(out, rows)
    y = np.array([r["label"] for r in rows])
    groups = [r["identity_group"] for r in rows]
    clf = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    folds = min(5, len(set(groups)))
    p = cross_val_predict(clf, x, y, cv=GroupKFold(folds), groups=groups, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p)), int((y == 0).sum()), int((y == 1).sum())


@pytest.fixture(scope="module")
def shortcut_dataset(tmp_path_factory, faces_dir, faces_train_or_none) -> Path:
    """16 faces-train photos when ../shared/data exists, else the 4 fixture faces (more reals each).

    Default settings (every family, perturb with p=0.5), one split so every family has partners.
    """
    out = tmp_path_factory.mktemp("shortcut")
    one_split = SplitPolicy(fractions={"train": 1.0}, pinned={})
    if faces_train_or_none is not None:
        generate(faces_train_or_none, out, limit=16, reals_per_face=3, split=one_split)
    else:
        generate(faces_dir, out, per_face=2, reals_per_face=6, seed=11, split=one_split)
    return out


def test_trivial_classifier_on_global_statistics_is_near_chance(shortcut_dataset):
    auc, n_real, n_fake = _cross_validated_auc(shortcut_dataset)
    assert n_real >= 24 and n_fake >= 48
    assert auc <= 0.6, f"global statistics separate real from fake: AUC {auc:.3f}"
