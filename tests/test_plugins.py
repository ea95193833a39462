"""An extension is one new file: a detector, a dataset adapter, a synthesis family (trainable at
once) and a training backbone, all registered from ONE temporary module that facetrust never
imports by name, then listed by the CLI and used by scan, eval loading and training."""

from __future__ import annotations

import csv
import importlib
import json
import sys
import textwrap

import numpy as np
import pytest

PLUGIN = textwrap.dedent('''
    """A third-party facetrust extension in one file."""
    from pathlib import Path

    import numpy as np
    import torch
    from torch import nn

    from facetrust.detectors import Detector, DetectorInfo, DetectorOutput, register_detector
    from facetrust.eval.adapters import Dataset, Sample, register_adapter
    from facetrust.faces import CropSpec
    from facetrust.synth import Family, SynthResult, register_family
    from facetrust.train.backbones import register_backbone


    @register_detector("plugin_brightness")
    class Brightness(Detector):
        """Mean brightness of the crop as a probability (a plug-in test cue)."""

        info = DetectorInfo(name="plugin_brightness", version="1", crop=CropSpec(48, 0.1), catches="nothing")

        def predict(self, faces):
            return [DetectorOutput(float(f.crop.mean()) / 255.0) for f in faces]


    @register_adapter("plugin_list", aliases=("plist",), detect_order=5,
                      detect=lambda layout: "plugin.list" in layout.children,
                      summary="lines of <file> <real|fake> in plugin.list")
    def load_plugin_list(root, *, name=None):
        root = Path(root)
        samples, skipped = [], []
        for line in (root / "plugin.list").read_text().splitlines():
            rel, word = line.split()
            if not (root / rel).is_file():
                skipped.append((rel, "missing"))
                continue
            label = int(word == "fake")
            samples.append(Sample(str(root / rel), label, word, group=rel))
        return Dataset(name or "plugin_list", str(root), samples, skipped)


    @register_family
    class Stamp(Family):
        """A white square stamped on the face (a plug-in test family)."""

        name = "plugin_stamp"
        defaults = {"side": 8}

        def generate(self, target, rng, partner=None):
            out, side = target.crop.copy(), self.options["side"]
            mask = np.zeros(out.shape[:2], np.float32)
            mask[:side, :side] = 1.0
            out[:side, :side] = 255
            return SynthResult(out, mask, self.name, {"side": side}, (target.source_id,))


    @register_backbone("plugin_tiny", mean=(127.5, 127.5, 127.5), std=(64.0, 64.0, 64.0))
    class Tiny(nn.Module):
        """Three strided convolutions: feature maps at strides 8, 16 and 32."""

        def __init__(self, image_size, pretrained=True):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, stride=8, padding=1)
            self.s16 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
            self.s32 = nn.Conv2d(12, 16, 3, stride=2, padding=1)
            self.channels = (8, 12, 16)

        def stem_and_early(self):
            return [self.stem]

        def forward(self, x):
            f8 = torch.relu(self.stem(x))
            f16 = torch.relu(self.s16(f8))
            return [f8, f16, torch.relu(self.s32(f16))]
''')


@pytest.fixture
def plugin(tmp_path):
    pytest.importorskip("torch")
    from facetrust.detectors import DETECTORS
    from facetrust.eval.adapters import DATASET_ADAPTERS
    from facetrust.synth import SYNTH_FAMILIES
    from facetrust.train.backbones import BACKBONES

    name = f"ft_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(PLUGIN)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)
        DETECTORS.unregister("plugin_brightness")
        DATASET_ADAPTERS.unregister("plugin_list")
        SYNTH_FAMILIES.unregister("plugin_stamp")
        BACKBONES.unregister("plugin_tiny")


def test_a_new_detector_is_one_file(plugin, astronaut, capsys):
    import facetrust
    from facetrust.cli import main

    r = facetrust.scan(astronaut, detectors=("plugin_brightness",))
    assert len(r.faces) == 1 and r.faces[0].crop_size == 48
    assert 0.0 < r.faces[0].fake_probability < 1.0
    assert main(["detectors", "--json"]) == 0
    assert "plugin_brightness" in {d["name"] for d in json.loads(capsys.readouterr().out)}


def test_a_new_dataset_adapter_is_one_file(plugin, tmp_path, astronaut, capsys):
    import cv2

    from facetrust.cli import main
    from facetrust.eval.datasets import detect_format, load_dataset

    root = tmp_path / "plist_data"
    root.mkdir()
    for n in ("a.png", "b.png"):
        cv2.imwrite(str(root / n), astronaut[..., ::-1])
    (root / "plugin.list").write_text("a.png real\nb.png fake\ngone.png fake\n")
    (root / "real").mkdir()  # would be read as a real/fake folder, but the plug-in is tried first

    assert detect_format(root) == "plugin_list"
    for ds in (load_dataset(root), load_dataset(f"PLIST:{root}"), load_dataset("plugin_list", root=root)):
        assert [(s.kind, s.label) for s in ds.samples] == [("real", 0), ("fake", 1)]
        assert ds.skipped == [("gone.png", "missing")]
    assert main(["datasets", "--json"]) == 0
    row = {d["name"]: d for d in json.loads(capsys.readouterr().out)}["plugin_list"]
    assert row["aliases"] == ["plist"] and row["detect_order"] == 5


def _write_synth_dataset(d, families, size=32, n=36):
    """A synth-format dataset (manifest.csv, crops, masks) whose fakes come from ``families``."""
    import cv2

    from facetrust.synth import FaceSource, get_family
    from facetrust.synth.writer import MANIFEST_COLUMNS

    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        split = "val" if i % 6 < 2 else "train"
        crop = rng.integers(60, 200, (size, size, 3), dtype=np.uint8)
        mask = np.zeros((size, size), np.float32)
        family, label = "real", 0
        if i % 2:
            family, label = families[(i // 2) % len(families)], 1
            src = FaceSource(f"s{i}", crop, np.zeros((68, 2)), f"g{i}")
            res = get_family(family).generate(src, rng)
            crop, mask = res.image, res.mask
        cv2.imwrite(str(d / f"{i}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(d / f"{i}_m.png"), (mask * 255).astype(np.uint8))
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(sample_id=str(i), path=f"{i}.png", mask_path=f"{i}_m.png", label=label, family=family,
                   params="{}", split=split, identity_group=f"id{i % 12}" if split == "train" else f"v{i}",
                   seed=0, width=size, height=size, outside_frac=0.0)
        rows.append(row)
    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_a_new_family_and_backbone_are_one_file_each_and_trainable_at_once(plugin, tmp_path, capsys):
    from facetrust.cli import main
    from facetrust.synth import training_families
    from facetrust.train.config import TrainConfig
    from facetrust.train.export import load_run_model
    from facetrust.train.loop import train
    from facetrust.train.model import FAMILIES

    # new families come after the shipped heads, whose order (and so their indices) is unchanged
    assert training_families()[:7] == ("real", "self_blend", "swap", "region_edit", "morph", "inpaint", "resynth")
    assert training_families()[-1] == FAMILIES[-1] == "plugin_stamp"
    assert main(["families", "--json"]) == 0
    row = {d["name"]: d for d in json.loads(capsys.readouterr().out)}["plugin_stamp"]
    assert row["trainable"] and row["kind"] == "forgery" and row["options"] == {"side": 8}

    data = tmp_path / "synth"
    data.mkdir()
    _write_synth_dataset(data, ["plugin_stamp"])
    cfg = TrainConfig(name="p", data=str(data), out_dir=str(tmp_path / "runs"), backbone="plugin_tiny",
                      image_size=32, epochs=1, batch_size=12, threads=1, holdout_family=None)
    best = train(cfg, log=lambda *_: None)
    model, _, ck = load_run_model(cfg.run_dir)
    assert best.exists() and model.families == training_families() and ck["families"][-1] == "plugin_stamp"
    assert model.family_head.out_features == len(training_families())
    metrics = list(csv.DictReader(open(cfg.run_dir / "metrics.csv")))
    assert "val_auc_plugin_stamp" in metrics[0]
    # and it can be the held-out family of a leave-one-family-out run
    assert TrainConfig(holdout_family="plugin_stamp").holdout_family == "plugin_stamp"
    with pytest.raises(ValueError, match="holdout_family"):
        TrainConfig(holdout_family="no_such_family")
