"""Build the MAD corpus from CelebA identities, fit S-MAD and D-MAD, and measure them (offline, CPU).

    PYTHONPATH=src nice -n 10 python -m facetrust.train.fit_mad [--identities 900] [--seed 0]
    PYTHONPATH=src python -m facetrust.train.fit_mad --wild-dev    # evaluation only, the shipped model

Data (``faces-train/images/celeba_align_89x109``, identities from DETAILS.tsv as in
:mod:`.fit_verify`): identities with >= 2 photos, shuffled (seeded) and split 60/20/20 into
train / val / test **by identity**; a morph only combines identities of one split, so no
contributing identity crosses splits. Per identity, photo 1 is the *document* photo and photo 2 the
*trusted live capture* (the D-MAD reference). Samples, per identity:

* bona fide: its document photo through :func:`facetrust.synth.print_scan.document_pipeline`;
* morph: its document photo morphed with another identity's (:func:`...families.morph.morph_pair`,
  ratio drawn from 0.3 / 0.4 / 0.5 / 0.6 / 0.7, ``whole`` or ``splice`` as the morph family draws
  them), or, for ``--average-share`` of them, an averaged face of 3-4 identities
  (:func:`...families.morph.average_morph`); then the same document pipeline as bona fide.

Every live capture goes through a mild JPEG (a camera), for both classes. Images are written under
``--cache`` (default ``../cache/mad``, outside the repository) with ``manifest.tsv`` (``facetrust eval
--protocol mad`` reads it). Features are measured on each image as inference measures them (face
detection, alignment to :data:`facetrust.detectors._mad_features.CROP`, :class:`MadDescriber`).

Fit: L2 logistic regressions (S-MAD: each feature set of :data:`SMAD_FEATURE_SETS`, D-MAD: each of
:data:`DMAD_FEATURE_SETS`, x an L2 grid) on train, chosen by validation log-loss; Platt scaling on validation; the
threshold at validation's equal-error point. Test: the ``mad`` protocol's ISO/IEC 30107-3 rows for
both scorers on the same test morphs. Writes ``src/facetrust/detectors/mad_model.json`` and
``<cache>/results.json``; prints the model's sha256 for :data:`facetrust.detectors._mad.MODEL_SHA256`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

from ..detectors._mad import (DMAD_FEATURE_SETS, MODEL_FILE, SMAD_FEATURE_SETS, CalibratedLogistic, dmad_vector, equal_error_threshold,
                              fit_l2_logistic, log_loss, models_from_dict, sha256_of, smad_vector)
from ..detectors._mad_features import CROP, FaceDescription
from .fit_verify import DEFAULT_DATA, Photo, read_identities

DEFAULT_CACHE = Path(__file__).resolve().parents[3].parent / "cache" / "mad"
RATIOS = (0.3, 0.4, 0.5, 0.6, 0.7)
SPLITS = (("train", 0.6), ("val", 0.2), ("test", 0.2))
L2_GRID = (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
WILD_DEV_KIND = "morph-average(face_morpher)"


@dataclass
class Item:
    """One probe image of the corpus and its trusted live capture."""

    name: str
    split: str
    label: int  # 1 morph, 0 bona fide
    species: str  # bona_fide, morph-whole, morph-splice, morph-average
    identities: tuple[str, ...]  # contributing identities (the first is the document photo's)
    reference_identity: str
    chain: str
    params: dict


def identity_splits(photos: list[Photo], n_identities: int, seed: int) -> dict[str, dict[str, list[Photo]]]:
    """split -> identity -> its photos (>= 2), identity-disjoint."""
    by_id: dict[str, list[Photo]] = {}
    for p in photos:
        by_id.setdefault(p.identity, []).append(p)
    ids = sorted(i for i, ps in by_id.items() if len(ps) >= 2)
    rng = np.random.default_rng(seed)
    ids = [ids[k] for k in rng.permutation(len(ids))[:n_identities]]
    out, start = {}, 0
    for k, (split, share) in enumerate(SPLITS):
        end = len(ids) if k == len(SPLITS) - 1 else start + int(round(share * len(ids)))
        out[split] = {i: by_id[i] for i in ids[start:end]}
        start = end
    return out


def _write(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def build_corpus(data: Path, cache: Path, n_identities: int, seed: int, average_share: float, log=print) -> list[Item]:
    """Synthesise the corpus (images under ``cache``) and return its items."""
    from ..synth.families.morph import average_morph, morph_pair
    from ..synth.print_scan import document_pipeline, jpeg_only
    from ..synth.sources import SourcePreparer, load_face

    preparer = SourcePreparer(CROP, min_face=20.0)
    splits = identity_splits(read_identities(data), n_identities, seed)
    rng = np.random.default_rng(seed + 1)
    items: list[Item] = []
    skipped = 0
    for split, identities in splits.items():
        document, live = {}, {}
        for ident, photos in identities.items():
            faces = []
            for p in photos[:2]:
                rec = preparer.prepare(data, p.relpath)
                if isinstance(rec, str):
                    break
                rec.group = ident
                faces.append(load_face(rec, CROP))
            if len(faces) < 2:
                skipped += 1
                continue
            document[ident], live[ident] = faces
        names = sorted(document)
        for ident in names:
            ref, _ = jpeg_only(live[ident].crop, rng)
            _write(cache / "live" / f"{ident.replace(':', '_')}.png", ref)
        for k, ident in enumerate(names):
            safe = ident.replace(":", "_")
            bona, params = document_pipeline(document[ident].crop, rng)
            _write(cache / "images" / split / "bona_fide" / f"{safe}.png", bona)
            items.append(Item(f"images/{split}/bona_fide/{safe}.png", split, 0, "bona_fide", (ident,), ident,
                              params["chain"], params))
            others = [n for n in names if n != ident]
            if rng.random() < average_share:
                chosen = [ident] + [others[j] for j in rng.choice(len(others), size=int(rng.integers(2, 4)), replace=False)]
                mode = str(rng.choice(["whole", "splice"]))
                result = average_morph([document[i] for i in chosen], mode, rng)
                species = "morph-average"
            else:
                chosen = [ident, others[int(rng.integers(len(others)))]]
                mode = str(rng.choice(["whole", "splice", "splice"]))  # the morph family's default draw
                result = morph_pair(document[chosen[0]], document[chosen[1]], float(rng.choice(RATIOS)), mode, rng)
                species = f"morph-{mode}"
            morphed, post = document_pipeline(result.image, rng)
            name = f"images/{split}/morph/{safe}__{k}.png"
            _write(cache / name, morphed)
            reference = str(rng.choice(chosen))  # the contributor who presents at the border
            items.append(Item(name, split, 1, species, tuple(chosen), reference, post["chain"],
                              {**result.params, **post}))
        log(f"{split}: {len(names)} identities, {sum(i.split == split for i in items)} items")
    log(f"identities without two usable photos: {skipped}")
    write_manifest(cache, items)
    return items


def write_manifest(cache: Path, items: list[Item]) -> None:
    with open(cache / "manifest.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["path", "label", "kind", "group", "split", "subject", "identities", "species", "chain",
                    "reference"])
        for it in items:
            # group = the image itself (each is its own unit; an identity's bona fide and morph are not
            # frames of one video); subject = the document photo's identity (the subject-disjoint check)
            w.writerow([it.name, it.label, it.species, it.name, it.split, it.identities[0],
                        "|".join(it.identities), it.species, it.chain,
                        f"live/{it.reference_identity.replace(':', '_')}.png"])


def read_manifest(cache: Path) -> list[dict]:
    with open(cache / "manifest.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def describe_image(path: Path, face_detector, describer) -> FaceDescription | None:
    """As inference: the largest detected face, aligned to CROP, described."""
    from ..faces import align_face
    from ..io import open_media

    image = next(open_media(str(path)).frames()).image
    faces = face_detector.detect(image)
    if not faces:
        return None
    return describer.describe(align_face(image, faces[0], CROP).crop)


def measure(cache: Path, rows: list[dict], log=print) -> dict[str, FaceDescription | None]:
    """path -> description for every probe and reference (cached in ``features.npz``)."""
    from ..detectors._mad_features import load_describer
    from ..faces import create_face_detector

    store = cache / "features.npz"
    wanted = sorted({r["path"] for r in rows} | {r["reference"] for r in rows})
    if store.exists():
        with np.load(store, allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}  # each npz[k] re-reads the whole array: read once
        if list(z["paths"]) == wanted:
            return {p: (FaceDescription(z["texture"][k].copy(), z["landmarks"][k].copy(), z["embedding"][k].copy(),
                                        z["detail"][k].copy()) if z["ok"][k] else None) for k, p in enumerate(wanted)}
    detector, describer = create_face_detector(), load_describer()
    out: dict[str, FaceDescription | None] = {}
    t0 = time.perf_counter()
    for k, p in enumerate(wanted):
        out[p] = describe_image(cache / p, detector, describer)
        if (k + 1) % 500 == 0:
            log(f"  described {k + 1}/{len(wanted)} ({time.perf_counter() - t0:.0f} s)")
    first = next(d for d in out.values() if d is not None)
    blank = FaceDescription(np.zeros_like(first.texture), np.zeros_like(first.landmarks),
                            np.zeros_like(first.embedding), np.zeros_like(first.detail))
    filled = [out[p] or blank for p in wanted]
    np.savez(store, paths=np.asarray(wanted), ok=np.asarray([out[p] is not None for p in wanted]),
             texture=np.stack([d.texture for d in filled]), landmarks=np.stack([d.landmarks for d in filled]),
             embedding=np.stack([d.embedding for d in filled]), detail=np.stack([d.detail for d in filled]))
    return out


def _fit_one(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> tuple[CalibratedLogistic, dict]:
    """Best L2 on validation log-loss, Platt on validation, threshold at validation's equal-error point."""
    from ..biometrics.calibration import fit_logistic, roc_auc

    best = None
    for l2 in L2_GRID:
        mean, scale, w, b = fit_l2_logistic(x["train"], y["train"], l2)
        raw = CalibratedLogistic(mean, scale, w, b, 1.0, 0.0, 0.5)
        loss = log_loss(raw.probability(x["val"]), y["val"])
        if best is None or loss < best[0]:
            best = (loss, l2, raw)
    loss, l2, raw = best
    val_logit = raw.logit(x["val"])
    b0, a = fit_logistic(val_logit, y["val"].astype(float))  # (intercept, slope)
    cal = CalibratedLogistic(raw.mean, raw.scale, raw.weights, raw.bias, a, b0, 0.5)
    p_val = cal.probability(x["val"])
    threshold = equal_error_threshold(p_val, y["val"])
    model = CalibratedLogistic(raw.mean, raw.scale, raw.weights, raw.bias, a, b0, threshold)
    info = {"l2": l2, "val_log_loss_uncalibrated": round(loss, 4), "val_log_loss": round(log_loss(p_val, y["val"]), 4),
            "val_auc": round(roc_auc(p_val[y["val"] == 0], p_val[y["val"] == 1]), 4), "threshold": threshold}
    return model, info


def iso_rows(rows: list[dict], scores: np.ndarray, scorer: str, threshold: float, n_boot: int) -> list[dict]:
    """The ``mad`` protocol's ISO/IEC 30107-3 rows of one scorer on the test items."""
    from ..eval.adapters._core import Sample
    from ..eval.protocols import PROTOCOL_REGISTRY, ProtocolRun
    from ..eval.tables import LevelTable

    tab = LevelTable("image")
    for r, s in zip(rows, scores):
        sample = Sample(r["path"], int(r["label"]), r["species"], r["path"], "test",
                        attrs={"species": r["species"], "subject": r["subject"]})
        tab.add(int(r["label"]), r["species"], None, r["path"], [sample], {scorer: float(s)})
    settings = SimpleNamespace(threshold=threshold, n_boot=n_boot, ci_alpha=0.05, seed=0, ci_min_groups=2)
    run = ProtocolRun(dataset=None, samples=[], engine=None, cache=None, records=[], tables={"image": tab},
                      scorers=[scorer], settings=settings, progress=None)
    PROTOCOL_REGISTRY.get("mad")(run)
    return run.rows


def _summary(rows: list[dict]) -> dict:
    out = {}
    for r in rows:
        key = r["subset"]
        out[key] = {"n_attack": r["n_pos"], "n_bona_fide": r["n_neg"],
                    **{k.split("@")[0]: {"value": None if v["value"] is None else round(v["value"], 4),
                                         "ci": [None if r["ci"].get(k, {}).get(b) is None else round(r["ci"][k][b], 4)
                                                for b in ("low", "high")]}
                       for k, v in r["metrics"].items()}}
    return out


def fit(cache: Path, log=print, n_boot: int = 500) -> tuple[dict, dict]:
    rows = read_manifest(cache)
    desc = measure(cache, rows, log)
    usable = [r for r in rows if desc[r["path"]] is not None and desc[r["reference"]] is not None]
    log(f"items: {len(rows)}, usable (face found in probe and reference): {len(usable)}")
    by = {s: [r for r in usable if r["split"] == s] for s, _ in SPLITS}
    y = {s: np.asarray([int(r["label"]) for r in rs]) for s, rs in by.items()}
    chosen = None
    smad_info = {}
    for fs in SMAD_FEATURE_SETS:
        x = {s: np.stack([smad_vector(desc[r["path"]], fs) for r in rs]) for s, rs in by.items()}
        model, info = _fit_one(x, y)
        smad_info[fs] = info
        log(f"S-MAD {fs}: {info}")
        if chosen is None or info["val_log_loss"] < chosen[2]["val_log_loss"]:
            chosen = (fs, model, info, x)
    fs, smad, s_info, xs = chosen
    chosen_d, dmad_info = None, {}
    for dfs in DMAD_FEATURE_SETS:
        xd = {s: np.stack([dmad_vector(desc[r["path"]], desc[r["reference"]], dfs) for r in rs]) for s, rs in by.items()}
        model_d, info = _fit_one(xd, y)
        dmad_info[dfs] = info
        log(f"D-MAD {dfs}: {info}")
        if chosen_d is None or info["val_log_loss"] < chosen_d[2]["val_log_loss"]:
            chosen_d = (dfs, model_d, info)
    dfs, dmad, d_info = chosen_d
    bona_train = np.stack([desc[r["path"]].detail for r in by["train"] if r["label"] == "0"])
    reference = np.median(bona_train, axis=0)
    morph_train = np.stack([desc[r["path"]].detail for r in by["train"] if r["label"] == "1"])
    scale = float(max(0.25, np.percentile(reference - morph_train, 95)))
    counts = {s: {"bona_fide": int((y[s] == 0).sum()), "morph": int((y[s] == 1).sum()),
                  "identities": len({i for r in by[s] for i in r["identities"].split("|")})} for s in y}
    model = {
        "smad": {**smad.to_dict(), "feature_set": fs},
        "dmad": {**dmad.to_dict(), "feature_set": dfs},
        "detail_reference": reference.round(5).tolist(),
        "detail_scale": round(scale, 5),
        "crop": {"size": CROP.size, "margin": CROP.margin},
        "figures": {"validation": {"smad": s_info, "dmad": d_info}, "counts": counts},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    shipped = models_from_dict(json.loads(json.dumps(model)), "fit")  # the rounded model, as it will load
    test = by["test"]
    p_s = np.asarray([shipped.smad_probability(desc[r["path"]]) for r in test])
    p_d = np.asarray([shipped.dmad_probability(desc[r["path"]], desc[r["reference"]]) for r in test])
    results = {
        "counts": counts,
        "smad_feature_sets_on_validation": smad_info,
        "dmad_feature_sets_on_validation": dmad_info,
        "test": {"smad": _summary(iso_rows(test, p_s, "smad", shipped.smad.threshold, n_boot)),
                 "dmad": _summary(iso_rows(test, p_d, "dmad", shipped.dmad.threshold, n_boot))},
        "thresholds": {"smad": shipped.smad.threshold, "dmad": shipped.dmad.threshold},
    }
    by_chain = {}
    for chain in sorted({r["chain"] for r in test}):
        m = np.asarray([r["chain"] == chain for r in test])
        yt = np.asarray([int(r["label"]) for r in test])[m]
        from ..eval import metrics as M
        by_chain[chain] = {"n": int(m.sum()), "smad_d_eer": round(M.d_eer(yt, p_s[m]).value, 4),
                           "dmad_d_eer": round(M.d_eer(yt, p_d[m]).value, 4)}
    results["test_by_post_processing"] = by_chain
    return model, results


def wild_dev(shared: Path) -> dict:
    """S-MAD on wild-dev's averaged-face morphs at the shipped threshold (evaluation only), and, for
    context, the share of wild-dev's genuine photos (the non-Yonsei ``real-photo`` kinds) it flags."""
    from ..detectors._mad import load_mad_models
    from ..pipeline import ScanOptions, Scanner

    root = shared / "wild-dev"
    with open(root / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    scanner = Scanner(ScanOptions(detectors=("smad",)))
    threshold = load_mad_models().smad.threshold

    def score(r: dict) -> dict:
        res = scanner.scan(str(root / r["relpath"]))
        p = max((f.fake_probability for f in res.faces), default=None)
        return {"relpath": r["relpath"], "faces": len(res.faces), "smad_probability": p,
                "flagged": p is not None and p >= threshold}

    morphs = [score(r) for r in rows if r["kind"] == WILD_DEV_KIND]
    genuine = [score(r) for r in rows if r["label"] == "real" and r["kind"].startswith("real-photo")
               and "yonsei" not in r["kind"]]
    scored = [g for g in genuine if g["smad_probability"] is not None]
    return {"threshold": threshold, "morphs": morphs,
            "genuine_photos": {"n": len(genuine), "with_a_face": len(scored),
                               "flagged": sum(g["flagged"] for g in scored),
                               "median_probability": float(np.median([g["smad_probability"] for g in scored]))
                               if scored else None}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--identities", type=int, default=900)
    ap.add_argument("--average-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--rebuild", action="store_true", help="synthesise the corpus again")
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--wild-dev", action="store_true", help="only: the shipped S-MAD on wild-dev's averaged faces")
    args = ap.parse_args(argv)
    if args.wild_dev:
        result = wild_dev(args.data.parent)
        print(json.dumps(result, indent=2))
        (args.cache / "wild_dev.json").write_text(json.dumps(result, indent=2) + "\n")
        return 0
    if not (args.data / "DETAILS.tsv").exists():
        print(f"{args.data}/DETAILS.tsv not found", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if args.rebuild or not (args.cache / "manifest.tsv").exists():
        build_corpus(args.data, args.cache, args.identities, args.seed, args.average_share)
        (args.cache / "features.npz").unlink(missing_ok=True)
    print(f"corpus ready ({time.perf_counter() - t0:.0f} s)")
    model, results = fit(args.cache, n_boot=args.n_boot)
    results["fit_seconds"] = round(time.perf_counter() - t0, 1)
    args.out.write_text(json.dumps(model, separators=(",", ":")) + "\n")
    (args.cache / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["test"], indent=1))
    print(f"{args.out}: sha256 {sha256_of(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
