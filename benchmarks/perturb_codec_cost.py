"""Cost per crop of the perturb family's video-codec round trip, beside JPEG in the same run.

    PYTHONPATH=src python benchmarks/perturb_codec_cost.py [--reps 30] [--size 128]

Prints the median milliseconds per crop of ``robustness.jpeg`` (q75, the baseline) and of
``robustness.video_codec`` per codec and CRF, the mean cost of one ``apply_op(..., "video_codec")``
draw (codec and CRF as the family draws them), and of the family's whole ``Perturb.apply`` with the
default ops against the same without ``video_codec``. The crop is scikit-image's astronaut.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from _timing import median_ms  # benchmarks/ is on sys.path when a script runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    import skimage.data

    from facetrust.eval import robustness
    from facetrust.synth.families import perturb

    crop = cv2.resize(skimage.data.astronaut()[0:256, 128:384], (args.size, args.size), interpolation=cv2.INTER_AREA)
    base = median_ms(lambda: robustness.jpeg(crop, 75), args.reps)
    print(f"{args.size} px crop, median of {args.reps}")
    print(f"jpeg q75                 {base:7.2f} ms  (1.00x)")
    for codec in robustness.VIDEO_CODECS:
        for crf in (20, 30, 40):
            ms = median_ms(lambda: robustness.video_codec(crop, crf, codec), args.reps)
            print(f"{codec} crf {crf:<2}              {ms:7.2f} ms  ({ms / base:.1f}x)")
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(args.reps * 2):
        perturb.apply_op(crop, "video_codec", rng)
    op_ms = 1000.0 * (time.perf_counter() - t) / (args.reps * 2)
    print(f"apply_op video_codec     {op_ms:7.2f} ms  (mean over the family's codec/CRF draws)")
    for label, ops in (("with video_codec", perturb.OPS), ("without", tuple(o for o in perturb.OPS if o != "video_codec"))):
        fam = perturb.Perturb(ops=ops)
        rng = np.random.default_rng(1)
        t = time.perf_counter()
        for _ in range(args.reps * 4):
            fam.apply(crop, rng)
        print(f"Perturb.apply {label:<16} {1000.0 * (time.perf_counter() - t) / (args.reps * 4):7.2f} ms / crop")


if __name__ == "__main__":
    main()
