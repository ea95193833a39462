"""Fit ``facetrust verify``'s distance -> same-person calibration on CelebA identities (offline).

    PYTHONPATH=src python -m facetrust.train.fit_verify [--images-per-half 1200] [--seed 0]

Data: ``../shared/data/faces-train/images/celeba_align_89x109`` (89x109 px, aligned CelebA), whose
identities are in ``DETAILS.tsv`` (``celeba:<id>``). Identities with at least two photos are split
into two identity-disjoint halves (seeded); each half takes whole identities until it holds
``images_per_half`` photos. Every photo is embedded exactly as ``facetrust verify`` embeds one
(the default scan's face detector and quality gate, :mod:`facetrust.biometrics.embedding`); photos
without a usable face are counted and left out. Genuine pairs are all same-identity pairs of a
half; impostor pairs are as many different-identity pairs of the same half, drawn at random.

The logistic regression is fitted on the *fit* half; AUC, EER and FAR/FRR at the declared
threshold (where p = 0.5) are measured on the *held-out* half and written with the coefficients
and the pair counts to ``src/facetrust/biometrics/verify_calibration.json``. Needs no torch.
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

import numpy as np

from ..biometrics.calibration import CALIBRATION_FILE, fit_logistic, held_out_figures
from ..biometrics.embedding import EMBEDDING_MODEL, load_embedder

FOLDER = "celeba_align_89x109"
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "faces-train"


@dataclass(frozen=True)
class Photo:
    relpath: str
    identity: str


def read_identities(data: Path, folder: str = FOLDER) -> list[Photo]:
    """Photos of ``folder`` with their identity label, from DETAILS.tsv."""
    with open(data / "DETAILS.tsv", newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t")
        return [Photo(r["relpath"], r["label_from_source"]) for r in rows
                if r["source"] == folder and r["label_from_source"].startswith("celeba:")]


def identity_halves(photos: list[Photo], images_per_half: int, seed: int) -> tuple[list[Photo], list[Photo]]:
    """Two identity-disjoint halves of the identities with >= 2 photos, ``images_per_half`` photos each (at most)."""
    by_id: dict[str, list[Photo]] = {}
    for p in photos:
        by_id.setdefault(p.identity, []).append(p)
    ids = sorted(i for i, ps in by_id.items() if len(ps) >= 2)
    order = np.random.default_rng(seed).permutation(len(ids))
    halves: tuple[list[Photo], list[Photo]] = ([], [])
    for k, j in enumerate(order):
        half = halves[k % 2]
        if len(half) < images_per_half:
            half.extend(by_id[ids[j]])
    return halves


def embed_half(photos: list[Photo], data: Path, face_detector, gate) -> tuple[list[str], np.ndarray, int, float]:
    """(identity per embedded photo, (n, 128) vectors, photos without a usable face, median face size px)."""
    from ..io import open_media

    embedder = load_embedder()
    ids, vectors, missing, sizes = [], [], 0, []
    for p in photos:
        image = next(open_media(str(data / p.relpath)).frames()).image
        outcome = embedder.embed(image, face_detector, gate)
        if outcome.embedding is None:
            missing += 1
            continue
        ids.append(p.identity)
        vectors.append(outcome.embedding.vector)
        sizes.append(outcome.embedding.quality.size_px)
    return ids, np.asarray(vectors).reshape(-1, 128), missing, float(np.median(sizes)) if sizes else 0.0


def pair_distances(ids: list[str], vectors: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) euclidean distances: every same-identity pair, as many random others."""
    ids_arr = np.asarray(ids)
    genuine = [float(np.linalg.norm(vectors[a] - vectors[b]))
               for a in range(len(ids)) for b in range(a + 1, len(ids)) if ids[a] == ids[b]]
    rng = np.random.default_rng(seed)
    impostor: list[float] = []
    while len(impostor) < len(genuine) and len(set(ids)) > 1:
        a, b = rng.integers(0, len(ids), size=2)
        if ids_arr[a] != ids_arr[b]:
            impostor.append(float(np.linalg.norm(vectors[a] - vectors[b])))
    return np.asarray(genuine), np.asarray(impostor)


def fit(data: Path, images_per_half: int, seed: int, log=print) -> dict:
    from ..pipeline import ScanOptions, Scanner

    scanner = Scanner(ScanOptions())  # the face detector and quality gate verify uses by default
    photos = read_identities(data)
    halves = identity_halves(photos, images_per_half, seed)
    pairs, embedded = [], []
    for name, half in zip(("fit", "held_out"), halves):
        t0 = time.perf_counter()
        ids, vectors, missing, face_px = embed_half(half, data, scanner.face_detector, scanner.quality_gate)
        genuine, impostor = pair_distances(ids, vectors, seed)
        log(f"{name}: {len(half)} photos of {len({p.identity for p in half})} identities, {missing} without a "
            f"usable face, {len(genuine)} genuine + {len(impostor)} impostor pairs ({time.perf_counter() - t0:.0f} s)")
        pairs.append((genuine, impostor))
        embedded.append({"photos": len(half), "identities": len({p.identity for p in half}),
                         "photos_without_usable_face": missing,
                         "median_face_px": round(face_px, 1), "genuine": len(genuine), "impostor": len(impostor)})
    (fit_g, fit_i), (held_g, held_i) = pairs
    x = np.concatenate([fit_g, fit_i])
    y = np.concatenate([np.ones(len(fit_g)), np.zeros(len(fit_i))])
    intercept, coef = fit_logistic(x, y)
    threshold = -intercept / coef  # p = 0.5
    held = held_out_figures(held_g, held_i, threshold)
    held["far_at_dlib_0.6"], held["frr_at_dlib_0.6"] = (float(np.mean(held_i <= 0.6)), float(np.mean(held_g > 0.6)))
    return {
        "embedding_model": EMBEDDING_MODEL,
        "feature": "euclidean_distance",
        "intercept": intercept,
        "coef": coef,
        "threshold": threshold,
        "threshold_rule": "distance where p(same) = 0.5 on the fit half (equal priors, equal costs)",
        "prior": "balanced: as many impostor as genuine pairs in the fit",
        "pairs": {"fit": embedded[0], "held_out": embedded[1]},
        "held_out": {k: round(v, 4) for k, v in held.items()},
        "data": {
            "folder": f"faces-train/images/{FOLDER}",
            "image_size": "89x109 px (half-size aligned CelebA); the faces' shorter box side is median_face_px, "
                          "far smaller than in a passport or selfie photo; larger faces were not measured here",
            "split": "identity-disjoint halves of the identities with >= 2 photos",
            "seed": seed,
            "images_per_half": images_per_half,
        },
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--images-per-half", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = ap.parse_args(argv)
    if not (args.data / "DETAILS.tsv").exists():
        print(f"{args.data}/DETAILS.tsv not found", file=sys.stderr)
        return 2
    result = fit(args.data, args.images_per_half, args.seed)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["held_out"]), f"threshold {result['threshold']:.4f}", f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
