"""Fit the ``liveness`` PAD models (two-class and one-class) and write ``models/liveness.{npz,json}``.

    nice -n 10 python -m facetrust.train.fit_liveness --pad-corpus ../cache/pad \\
        --genuine ../cache/corpus/genuine_photos/files --faces-train ../shared/data/faces-train \\
        --work ../cache/pad_work

Data (every split by subject or source photo, never by frame):

* public captures, ``recipes/pad.tsv`` built with ``facetrust corpus build`` into ``--pad-corpus``:
  LVTN_Detected only (Apfol is held out as the cross-dataset test). Subject A's live frames and
  70 % of the phone-replay capture windows train, subject B's live frames and the other windows
  validate; every ``--frame-step``-th frame (neighbouring webcam frames are near copies).
* synthesised attacks (:mod:`facetrust.synth.attacks`): each genuine photo (the corpus' genuine
  photos, a slice of faces-train's UTKFace chips, LVTN live frames of the training / validation
  subject) gives one bona-fide sample through the camera pipeline and one attack of a species
  taken in turn; the photo's hash puts it in train (70 %), val (15 %) or test (15 %, reported in
  the model card, never used here).

Every sample's face is found by the project's face detector (largest face) and cropped with the
one crop function at :data:`facetrust.detectors._pad_features.PAD_CROP`, as at inference.
Features are cached under ``--work`` (``features_<name>.npz``) with one row per sample and a TSV of
what each row is, so the eval manifests can name the same synthesised images.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..detectors import _pad_features as F
from ..faces import DEFAULT_FACE_DETECTOR, align_face, create_face_detector

VERSION = "1.0"
SPECIES_CYCLE = ("print", "screen", "recapture")
SCENE_MAX_SIDE = 480  # synthesised scenes are webcam-sized


@dataclass
class Item:
    path: str  # image on disk
    label: int  # 1 attack
    species: str  # bona_fide | print | screen | recapture | screen-replay
    subject: str
    split: str  # train | val | test
    source: str  # public | synth


def _split_of(key: str, val: float = 0.15, test: float = 0.15) -> str:
    u = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if u < test else "val" if u < test + val else "train"


def public_items(corpus: Path, frame_step: int) -> list[Item]:
    rows = list(csv.DictReader(open(corpus / "manifest.tsv"), delimiter="\t"))
    items = []
    for i, r in enumerate(sorted(rows, key=lambda r: r["path"])):
        if r["source_repo"] != "DangThanhLiem/LVTN_Detected" or i % frame_step:
            continue
        path = str(corpus / "files" / r["source_repo"].replace("/", "+") / r["path"])
        if r["label"] == "real":
            split = "train" if r["group"].endswith("subject-A") else "val"
            items.append(Item(path, 0, "bona_fide", r["group"], split, "public"))
        else:
            split = "val" if _split_of(r["group"], 0.3, 0.0) == "val" else "train"
            items.append(Item(path, 1, "screen-replay", f"LVTN_Detected/replay-{r['group']}", split, "public"))
    return items


def scene_sources(genuine: Path, faces_train: Path, pad_corpus: Path, n_utk: int, n_lvtn: int) -> list[tuple[str, str, str]]:
    """(path, subject, split) of genuine photos to synthesise from."""
    out = []
    for p in sorted(genuine.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            key = str(p.relative_to(genuine))
            out.append((str(p), key, _split_of(key)))
    utk = sorted((faces_train / "images" / "utkface_crop_part1").glob("*.jpg"))
    for p in utk[:: max(1, len(utk) // n_utk)][:n_utk]:
        out.append((str(p), p.name, _split_of(p.name)))
    rows = list(csv.DictReader(open(pad_corpus / "manifest.tsv"), delimiter="\t"))
    for subject, split in (("subject-A", "train"), ("subject-B", "val")):
        lv = sorted(r["path"] for r in rows if r["group"].endswith(subject))
        for path in lv[:: max(1, len(lv) // n_lvtn)][:n_lvtn]:
            out.append((str(pad_corpus / "files" / "DangThanhLiem+LVTN_Detected" / path),
                        f"LVTN_Detected/{subject}", split))
    return out


def read_rgb(path: str) -> np.ndarray | None:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def synth_items(sources, out_dir: Path, seed: int) -> list[Item]:
    from ..synth.attacks import synthesize

    out_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for k, (path, subject, split) in enumerate(sources):
        img = read_rgb(path)
        if img is None:
            continue
        s = SCENE_MAX_SIDE / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        rng = np.random.default_rng([seed, k])
        for species in ("bona_fide", SPECIES_CYCLE[k % len(SPECIES_CYCLE)]):
            dest = out_dir / f"{k:05d}_{species}.jpg"
            if not dest.is_file():
                sample = synthesize(img, species, rng)
                # stored losslessly after the camera's own JPEG: PNG would double the disk use, so q=98
                cv2.imwrite(str(dest), cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98])
            items.append(Item(str(dest), int(species != "bona_fide"), species, subject, split, "synth"))
    return items


def export_backbone(path: Path) -> bytes:
    """The frozen ImageNet backbone as ONNX: 0..255 RGB in, its pooled stride-8/16/32 maps out."""
    import torch

    from .backbones import backbone_normalisation, create_backbone

    class Trunk(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = create_backbone(F.BACKBONE, F.BACKBONE_INPUT, pretrained=True).eval()
            mean, std = backbone_normalisation(F.BACKBONE)
            self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

        def forward(self, x):
            feats = self.net((x - self.mean) / self.std)
            return torch.cat([f.mean(dim=(2, 3)) for f in feats], dim=1)

    trunk = Trunk().eval()
    x = torch.zeros(1, 3, F.BACKBONE_INPUT, F.BACKBONE_INPUT)
    with torch.no_grad():
        torch.onnx.export(trunk, (x,), str(path), input_names=["image"], output_names=["features"],
                          dynamic_axes={"image": {0: "n"}, "features": {0: "n"}}, opset_version=17, dynamo=False)
    return path.read_bytes()


def featurise(items: list[Item], cache: Path, backbone: "F.BackboneFeatures") -> tuple[np.ndarray, np.ndarray]:
    """(features (N, D), found (N,) bool): the largest face of each image, cropped as at inference."""
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if list(z["paths"]) == [it.path for it in items] and z["x"].shape[1] == len(F.ALL_NAMES):
            return z["x"], z["found"]
    det = create_face_detector(DEFAULT_FACE_DETECTOR)  # the scan default (YuNet)
    xs = np.zeros((len(items), len(F.ALL_NAMES)), np.float32)
    found = np.zeros(len(items), bool)
    for i, it in enumerate(items):
        img = read_rgb(it.path)
        faces = det.detect(img) if img is not None else []
        if not faces:
            continue
        a = align_face(img, faces[0], F.PAD_CROP)
        xs[i, : len(F.FEATURE_NAMES)], _ = F.pad_features(a.crop, F.valid_mask(a.matrix, img.shape[:2]), heatmap=False)
        xs[i, len(F.FEATURE_NAMES) :] = backbone([a.crop])[0]
        found[i] = True
        if i % 200 == 0:
            print(f"  {cache.name}: {i}/{len(items)}", flush=True)
    np.savez(cache, x=xs, found=found, paths=np.array([it.path for it in items]))
    return xs, found


def acer_threshold(p: np.ndarray, y: np.ndarray, species: np.ndarray) -> tuple[float, dict]:
    """The threshold of least ACER (worst-species APCER + BPCER) / 2 on validation."""
    best = (9.0, 0.5, {})
    for t in np.unique(np.round(p, 4)):
        bpcer = float(np.mean(p[y == 0] >= t))
        apcers = {s: float(np.mean(p[(y == 1) & (species == s)] < t)) for s in sorted(set(species[y == 1]))}
        acer = (max(apcers.values()) + bpcer) / 2
        if acer < best[0]:
            best = (acer, float(t), {"acer": acer, "bpcer": bpcer, "apcer": apcers})
    return best[1], best[2]


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


# Candidate feature sets, chosen between on validation. Colour histograms and means describe the scene
# (one room, one shirt per public capture session) as much as the medium, so sets without them are tried.
_CONTENT = ("face_colour_", "ring_colour_")
_ARTIFACT = ("face_radial", "face_spectral", "crop_radial", "crop_spectral", "vertical_edge", "horizontal_edge",
             "face_sharpness", "ring_sharpness", "sharpness_ratio", "face_noise", "face_lbp2_")


def feature_sets() -> dict[str, np.ndarray]:
    names = F.ALL_NAMES
    deep = np.array([n.startswith("deep_") for n in names])
    artifact = np.array([n.startswith(_ARTIFACT) for n in names])
    no_colour = np.array([not n.startswith(_CONTENT) for n in names]) & ~deep
    return {"hand_all": ~deep, "hand_no_colour": no_colour, "hand_artifact": artifact, "deep": deep,
            "deep+artifact": deep | artifact, "deep+no_colour": deep | no_colour}


def _two_class(x, y, fit_mask, used, c):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x[fit_mask][:, used].mean(0), x[fit_mask][:, used].std(0) + 1e-6
    lr = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit((x[fit_mask][:, used] - mean) / scale,
                                                                             y[fit_mask])
    return mean, scale, lr, lambda m: lr.decision_function((x[m][:, used] - mean) / scale)


def _one_class(x, fit_mask, used, k):
    from sklearn.covariance import LedoitWolf
    from sklearn.decomposition import PCA

    mean, scale = x[fit_mask][:, used].mean(0), x[fit_mask][:, used].std(0) + 1e-6
    zb = (x[fit_mask][:, used] - mean) / scale
    pca = PCA(n_components=k, random_state=0).fit(zb)
    cov = LedoitWolf().fit(pca.transform(zb))

    def score(m):
        yv = pca.transform((x[m][:, used] - mean) / scale)
        return np.log1p(np.einsum("ni,ij,nj->n", yv, cov.precision_, yv))

    return mean, scale, pca, cov, score


def fit(x, y, split, species, source) -> tuple[dict[str, np.ndarray], dict]:
    """Both models. Each candidate (feature set x regularisation) is scored on validation by the
    mean of three AUCs: fitted on the train split and scored on val (in-domain), and, across capture
    sets, fitted on synthesised train data and scored on the public captures, and fitted on public
    train captures and scored on synthesised val data (a new capture set is what the test is)."""
    from sklearn.metrics import roc_auc_score

    tr, va = split == "train", split == "val"
    syn, pub = source == "synth", source == "public"
    best = None
    for set_name, used in feature_sets().items():
        for c in (0.003, 0.01, 0.03, 0.1):
            aucs = []
            for fit_mask, score_mask in ((tr, va), (tr & syn, pub), (tr & pub, va & syn)):
                *_, score = _two_class(x, y, fit_mask, used, c)
                aucs.append(roc_auc_score(y[score_mask], score(score_mask)))
            crit = float(np.mean(aucs))
            print(f"  two-class {set_name} C={c}: val AUC {aucs[0]:.4f}, synth->public {aucs[1]:.4f}, "
                  f"public->synth {aucs[2]:.4f}", flush=True)
            if best is None or crit > best[0]:
                best = (crit, set_name, c, used, aucs)
    crit, set_name, c, used, aucs = best
    mean, scale, lr, score = _two_class(x, y, tr, used, c)
    logit_va = score(va)
    a, b = platt(logit_va, y[va])
    p_va = 1 / (1 + np.exp(-(a * logit_va + b)))
    thr, at = acer_threshold(p_va, y[va], species[va])
    w = {"feature_names": np.array(F.ALL_NAMES), "used": used, "mean": mean.astype(np.float64),
         "scale": scale.astype(np.float64), "coef": lr.coef_[0].astype(np.float64),
         "intercept": np.array(lr.intercept_[0]), "platt": np.array([a, b])}
    report = {"two_class": {"features": set_name, "n_features": int(used.sum()), "C": c,
                            "val_auc": aucs[0], "synth_to_public_auc": aucs[1], "public_to_synth_auc": aucs[2],
                            "threshold": thr, "val_at_threshold": at}}

    bona = y == 0
    best = None
    for set_name, used in feature_sets().items():
        for k in (10, 20, 40):
            aucs = []
            for fit_mask, score_mask in ((tr & bona, va), (tr & syn & bona, pub), (tr & pub & bona, va & syn)):
                *_, score = _one_class(x, fit_mask, used, k)
                aucs.append(roc_auc_score(y[score_mask], score(score_mask)))
            crit = float(np.mean(aucs))
            print(f"  one-class {set_name} k={k}: val AUC {aucs[0]:.4f}, synth->public {aucs[1]:.4f}, "
                  f"public->synth {aucs[2]:.4f}", flush=True)
            if best is None or crit > best[0]:
                best = (crit, set_name, k, used, aucs)
    crit, set_name, k, used, aucs = best
    oc_mean, oc_scale, pca, cov, score = _one_class(x, tr & bona, used, k)
    raw_va = score(va)
    a2, b2 = platt(raw_va, y[va])
    p2 = 1 / (1 + np.exp(-(a2 * raw_va + b2)))
    thr2, at2 = acer_threshold(p2, y[va], species[va])
    w.update({"oc_used": used, "oc_mean": oc_mean.astype(np.float64), "oc_scale": oc_scale.astype(np.float64),
              "oc_pca_mean": pca.mean_.astype(np.float64), "oc_components": pca.components_.astype(np.float64),
              "oc_precision": cov.precision_.astype(np.float64), "oc_platt": np.array([a2, b2])})
    report["one_class"] = {"features": set_name, "n_features": int(used.sum()), "components": k,
                           "val_auc": aucs[0], "synth_to_public_auc": aucs[1], "public_to_synth_auc": aucs[2],
                           "threshold": thr2, "val_at_threshold": at2}
    return w, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pad-corpus", required=True, type=Path)
    ap.add_argument("--genuine", required=True, type=Path, help="folder of genuine photos (corpus genuine_photos/files)")
    ap.add_argument("--faces-train", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path, help="cache of synthesised images and features (outside the repo)")
    ap.add_argument("--out", type=Path, default=Path(F.__file__).resolve().parent.parent / "models")
    ap.add_argument("--frame-step", type=int, default=4)
    ap.add_argument("--utk", type=int, default=120)
    ap.add_argument("--lvtn-scenes", type=int, default=40)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    public = public_items(a.pad_corpus, a.frame_step)
    synth = synth_items(scene_sources(a.genuine, a.faces_train, a.pad_corpus, a.utk, a.lvtn_scenes),
                        a.work / "synth", a.seed)
    items = public + synth
    with open(a.work / "items.tsv", "w") as f:
        f.write("path\tlabel\tspecies\tsubject\tsplit\tsource\n")
        for it in items:
            f.write(f"{it.path}\t{it.label}\t{it.species}\t{it.subject}\t{it.split}\t{it.source}\n")
    onnx_path = a.out / "liveness_backbone.onnx"
    onnx_bytes = export_backbone(onnx_path)
    x, found = featurise(items, a.work / "features_train.npz", F.BackboneFeatures(onnx_bytes))
    y = np.array([it.label for it in items])
    split = np.array([it.split for it in items])
    species = np.array([it.species for it in items])
    source = np.array([it.source for it in items])
    keep = found & (split != "test")
    print(f"faces found in {found.sum()}/{len(items)}; fitting on {int((keep & (split == 'train')).sum())} train, "
          f"{int((keep & (split == 'val')).sum())} val")
    w, report = fit(x[keep], y[keep], split[keep], species[keep], source[keep])
    a.out.mkdir(parents=True, exist_ok=True)
    npz = a.out / "liveness.npz"
    np.savez_compressed(npz, **w)
    counts = {f"{s}/{sp}": int(((split == s) & (species == sp) & found).sum())
              for s in ("train", "val") for sp in sorted(set(species))}
    card = {"name": "liveness", "version": VERSION, "weights_file": npz.name,
            "sha256": hashlib.sha256(npz.read_bytes()).hexdigest(),
            "backbone": F.BACKBONE, "backbone_file": onnx_path.name,
            "backbone_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
            "crop": {"size": F.PAD_CROP.size, "margin": F.PAD_CROP.margin},
            "features": len(F.ALL_NAMES), "modes": report, "samples": {k: v for k, v in counts.items() if v},
            "data": "recipes/pad.tsv (LVTN_Detected only) + facetrust.synth.attacks from genuine photos; "
                    "see MODEL_CARD.md"}
    (a.out / "liveness.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
