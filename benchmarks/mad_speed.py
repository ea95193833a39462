"""Cost per face of morphing-attack detection: S-MAD (one image) and D-MAD (probe + reference), in ms.

Stages, on the wheel-shipped astronaut and Grace Hopper photos (runs anywhere): aligning the MAD crop,
the texture statistics, the 68-point fit + face chip + ResNet embedding (together: one description),
the S-MAD classifier, and the D-MAD classifier on two descriptions. ``smad_face_ms`` is one
description + S-MAD; ``dmad_pair_ms`` is two descriptions + D-MAD (what ``facetrust verify`` adds per
pair; the face detection it reuses is not counted). Median of ``--n`` repeats after one warm-up.

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/mad_speed.py [--n 20] [--json OUT]
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

    from facetrust.detectors._mad import load_mad_models
    from facetrust.detectors._mad_features import CROP, load_describer, texture_features
    from facetrust.faces import align_face, create_face_detector

    astronaut, hopper = sample_faces()
    detector, describer, models = create_face_detector(), load_describer(), load_mad_models()
    fa, fh = detector.detect(astronaut)[0], detector.detect(hopper)[0]
    crop_a, crop_h = align_face(astronaut, fa, CROP).crop, align_face(hopper, fh, CROP).crop
    da, dh = describer.describe(crop_a), describer.describe(crop_h)
    out = {
        "align_ms": median_ms(lambda: align_face(astronaut, fa, CROP), args.n),
        "texture_ms": median_ms(lambda: texture_features(crop_a), args.n),
        "describe_ms": median_ms(lambda: describer.describe(crop_a), args.n),
        "smad_classifier_ms": median_ms(lambda: models.smad_probability(da), args.n),
        "dmad_classifier_ms": median_ms(lambda: models.dmad_probability(da, dh), args.n),
        "smad_face_ms": median_ms(lambda: models.smad_probability(describer.describe(align_face(astronaut, fa, CROP).crop)),
                                   args.n),
        "dmad_pair_ms": median_ms(lambda: models.dmad_probability(describer.describe(align_face(astronaut, fa, CROP).crop),
                                                                   describer.describe(align_face(hopper, fh, CROP).crop)),
                                   args.n),
    }
    for k, v in out.items():
        print(f"{k:20s} {v:8.2f}")
    if args.json:
        with open(args.json, "w") as fh_:
            json.dump(out, fh_, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
