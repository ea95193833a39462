"""Training on several data folders: per-source sampling, deployment-like validation, per-source
threshold, and a shipped baseline scored on the same validation crops."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from test_train import tiny_dataset  # noqa: F401  (the module fixture)


@pytest.fixture(scope="module")
def deploy_dataset(tiny_dataset, tmp_path_factory):  # noqa: F811
    """A second folder standing for camera-resolution genuine media: the tiny set's crops, brighter,
    under new identity groups."""
    import cv2

    d = tmp_path_factory.mktemp("hires") / "hires"
    shutil.copytree(tiny_dataset, d, ignore=shutil.ignore_patterns(".train_cache*"))
    rows = list(csv.DictReader(open(d / "manifest.csv")))
    for r in rows:
        img = cv2.imread(str(d / r["path"]))
        cv2.imwrite(str(d / r["path"]), np.clip(img.astype(int) + 40, 0, 255).astype(np.uint8))
        r["identity_group"] = "hires-" + r["identity_group"]
    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return d


def test_several_folders_deploy_selection_and_per_source_threshold(tiny_dataset, deploy_dataset, tmp_path):  # noqa: F811
    import torch

    from facetrust.train.config import TrainConfig
    from facetrust.train.data import load_synth
    from facetrust.train.export import ship
    from facetrust.train.loop import train

    both = load_synth([str(tiny_dataset), str(deploy_dataset)], 64)
    assert len(both) == 96 and set(both.sources) == {tiny_dataset.name, "hires"}

    with pytest.raises(ValueError, match="deploy_sources"):
        TrainConfig(select_on="val_auc_select")
    cfg = TrainConfig(name="multi", data=[str(tiny_dataset), str(deploy_dataset)], out_dir=str(tmp_path / "runs"),
                      image_size=64, epochs=2, batch_size=16, threads=1, seed=1, samples_per_epoch=40,
                      deploy_sources=["hires"], source_weights={"hires": 3.0}, select_on="val_auc_select")
    best = torch.load(train(cfg, log=lambda *_: None), map_location="cpu", weights_only=True)
    rows = list(csv.DictReader(open(cfg.run_dir / "metrics.csv")))
    for r in rows:
        assert float(r["val_auc_select"]) == pytest.approx((float(r["val_auc_robust"]) + float(r["val_auc_deploy"])) / 2)
        assert r["val_auc_source_hires"] != ""
    assert best["epoch"] == int(np.argmax([float(r["val_auc_select"]) for r in rows]))

    first = ship(cfg.run_dir, tmp_path / "a", name="m")
    card = json.loads(ship(cfg.run_dir, tmp_path / "b", name="m", baseline=first).read_text())
    by = card["threshold_by_source"]
    assert set(by) == {"hires", "other"}
    for k, v in by.items():  # every genuine source at or under the validation FPR at the shipped threshold
        assert v["fpr"] <= cfg.val_fpr + 1e-9 and card["threshold"] >= v["threshold_at_fpr"]
    # the baseline is the same network here, so the same code must give it the same figures
    assert card["baseline"]["validation"]["val_auc_deploy"] == pytest.approx(card["validation"]["val_auc_deploy"], abs=1e-4)


def test_source_weights_change_the_draw(tiny_dataset, deploy_dataset):  # noqa: F811
    from facetrust.train.data import load_synth
    from facetrust.train.loop import cap_per_source, sampling_weights

    data = load_synth([str(tiny_dataset), str(deploy_dataset)], 64).split("train")
    assert sampling_weights(data, {}) is None
    w = sampling_weights(data, {"hires": 4.0})
    assert w.sum() == pytest.approx(1.0)
    assert w[data.sources == "hires"].sum() == pytest.approx(0.8)  # 4 : 1 over two equal folders
    with pytest.raises(ValueError):
        sampling_weights(data, {"hires": -1.0})
    val = load_synth([str(tiny_dataset), str(deploy_dataset)], 64).split("val")
    capped = cap_per_source(val, 5, seed=0)
    assert len(capped) == 10 and set(capped.sources) == set(val.sources)
    assert (cap_per_source(val, 5, seed=0).groups == capped.groups).all()  # fixed for the run


def test_several_folders_are_views_over_memory_mapped_caches(tiny_dataset, deploy_dataset):  # noqa: F811
    import cv2

    from facetrust.synth import read_manifest
    from facetrust.train.data import RowView, load_synth

    both = load_synth([str(tiny_dataset), str(deploy_dataset)], 64)
    assert isinstance(both.images, RowView)
    assert len(both.images.parts) == 2
    for part in both.images.parts:  # no copy of the crops: each folder's cache is a read-only map
        assert isinstance(part, np.memmap)
    again = load_synth([str(tiny_dataset), str(deploy_dataset)], 64)  # from the cache this time
    np.testing.assert_array_equal(np.asarray(both.images), np.asarray(again.images))
    # row i of the concatenation is the PNG of row i of the manifests, through split and subset views
    rows = [(tiny_dataset, r) for r in read_manifest(tiny_dataset / "manifest.csv")] + \
           [(deploy_dataset, r) for r in read_manifest(deploy_dataset / "manifest.csv")]
    val = both.split("val")
    picks = np.flatnonzero(both.splits == "val")
    for k in (0, len(picks) - 1):
        folder, r = rows[picks[k]]
        png = cv2.cvtColor(cv2.imread(str(folder / r["path"])), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(val.images[k], png)
    sub = val.subset(np.array([len(val) - 1, 0]))
    np.testing.assert_array_equal(sub.images[:], np.stack([val.images[len(val) - 1], val.images[0]]))
    assert np.asarray(val.materialized().images).shape == (len(val), 64, 64, 3)
