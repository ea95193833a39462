"""Cost of ``facetrust verify``: per face (detection, shape predictor + chip, ResNet embedding) and per pair.

Images: the wheel-shipped astronaut (512 px) and Grace Hopper (512x600) photos, so it runs anywhere.
Each stage is timed over ``--n`` repeats after one warm-up; the median is printed (ms).

    PYTHONPATH=src .venv/bin/python benchmarks/verify_speed.py [--n 20] [--json OUT]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from _timing import median_ms, sample_faces  # benchmarks/ is on sys.path when a script runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()

    from facetrust.api import get_scanner
    from facetrust.biometrics import verify_pair
    from facetrust.biometrics.embedding import load_embedder

    astronaut, hopper = sample_faces()
    scanner, embedder = get_scanner(), load_embedder()
    face = scanner.face_detector.detect(astronaut)[0]
    chip = embedder.face_chip(astronaut, face.box)
    out = {
        "detect_ms": median_ms(lambda: scanner.face_detector.detect(astronaut), args.n),
        "chip_ms": median_ms(lambda: embedder.face_chip(astronaut, face.box), args.n),
        "embedding_ms": median_ms(lambda: embedder.vector(chip), args.n),
        "embed_image_ms": median_ms(lambda: embedder.embed(astronaut, scanner.face_detector, scanner.quality_gate),
                                     args.n),
        "verify_pair_ms": median_ms(lambda: verify_pair(astronaut, hopper, scanner=scanner), max(3, args.n // 4)),
        "forgery_scan_ms": median_ms(lambda: scanner.scan(astronaut), max(3, args.n // 4)),
    }
    for k, v in out.items():
        print(f"{k:18s} {v:8.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
