"""Face detector comparison: recall and speed of yunet / mediapipe / dlib.

The default is chosen on faces-train (training data: every photo shows a face, so recall is the
fraction with >= 1 face found) and speed; wild-dev recall is reported, never used to choose.
Also prints faces/s of detection + alignment for YuNet vs dlib HOG + 68 landmarks (DeepfakeBench's
preprocessing) on the same images, as a ratio measured in this run.

    .venv/bin/python benchmarks/face_detectors.py [--n 300] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def faces_train_sample(n: int, seed: int = 0) -> list[Path]:
    rows = list(csv.DictReader(open(DATA / "faces-train" / "MANIFEST.tsv"), delimiter="\t"))
    by_folder: dict[str, list[str]] = {}
    for r in rows:
        by_folder.setdefault(r["relpath"].split("/")[1], []).append(r["relpath"])
    rng = random.Random(seed)
    out = []
    for folder in sorted(by_folder):
        out += [DATA / "faces-train" / p for p in rng.sample(sorted(by_folder[folder]), n // len(by_folder))]
    return out


def wild_dev_images(n: int, seed: int = 0) -> list[Path]:
    from facetrust.eval import load_dataset

    imgs = sorted(s.path for s in load_dataset("wild-dev").samples if s.media_type == "image")
    rng = random.Random(seed)
    return [Path(p) for p in sorted(rng.sample(imgs, min(n, len(imgs))))]


def measure(backend, images, align: bool) -> dict:
    from facetrust.faces import CropSpec, align_face

    spec = CropSpec(224, 0.25)
    found = n_faces = 0
    t0 = time.perf_counter()
    for img in images:
        faces = backend.detect(img)
        found += bool(faces)
        n_faces += len(faces)
        if align:
            for f in faces:
                align_face(img, f, spec)
    dt = time.perf_counter() - t0
    return {"recall": found / len(images), "ms_per_image": 1000 * dt / len(images),
            "faces": n_faces, "faces_per_s": n_faces / dt if dt else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not DATA.is_dir():
        print("skip: ../shared/data is absent")
        return 0
    import cv2

    from facetrust.faces import create_face_detector
    from facetrust.io import load_image

    sets = {"faces-train": faces_train_sample(args.n), "wild-dev": wild_dev_images(args.n)}
    backends = {"yunet": {}, "mediapipe": {"model": "back"}, "mediapipe-full": {"model": "full"}, "dlib": {}}
    cv2.setNumThreads(1)
    results = {}
    for set_name, paths in sets.items():
        images = [load_image(p) for p in paths]
        for name, kw in backends.items():
            try:
                backend = create_face_detector(name.split("-")[0], **kw)
            except ImportError as exc:
                print(f"{name}: not installed ({exc})")
                continue
            backend.detect(images[0])  # warm-up
            results[(set_name, name)] = measure(backend, images, align=True)
    print(f"\n{'set':<12} {'backend':<15} {'recall':>7} {'ms/img':>8} {'faces/s (detect+align)':>24}")
    for (set_name, name), r in results.items():
        print(f"{set_name:<12} {name:<15} {r['recall']:>7.3f} {r['ms_per_image']:>8.1f} {r['faces_per_s']:>24.1f}")
    for set_name in sets:
        y, d = results.get((set_name, "yunet")), results.get((set_name, "dlib"))
        if y and d and d["faces_per_s"]:
            print(f"{set_name}: yunet+align vs dlib HOG+68 landmarks+align: "
                  f"{y['faces_per_s'] / d['faces_per_s']:.1f}x faces/s (same images, same run, 1 OpenCV thread)")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{a}/{b}": r for (a, b), r in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
