"""``liveness`` cost: ms per face for the detector alone (features + model on an aligned crop) and
for a whole ``facetrust scan`` of one 640x480 frame (face detection, alignment, liveness).

    nice -n 10 python benchmarks/liveness_speed.py [--rounds 5] [--faces 20]

The faces are synthesised from a wheel-shipped photo (bona fide and the three attack species), so
the benchmark needs no data. Each round times every face once; the median and fastest rounds are
reported (a shared machine mixes in whatever else ran).
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--faces", type=int, default=20)
    a = ap.parse_args()
    import matplotlib.cbook as cbook
    from PIL import Image

    from facetrust.detectors import FaceInput, create_detector
    from facetrust.faces import align_face
    from facetrust.pipeline import Scanner
    from facetrust.synth.attacks import synthesize

    hopper = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    scene = cv2.resize(hopper, (480, 640))[80:560]  # 480 x 480 -> padded to a 640 x 480 frame below
    scene = cv2.copyMakeBorder(scene, 0, 0, 80, 80, cv2.BORDER_REFLECT_101)
    species = ("bona_fide", "print", "screen", "recapture")
    frames = [synthesize(scene, species[i % 4], np.random.default_rng(i)).image for i in range(a.faces)]
    scanner = Scanner(detectors=("liveness",))
    det = create_detector("liveness")
    inputs = []
    for f in frames:
        faces = scanner.detect_faces(f)
        if faces:
            al = align_face(f, faces[0], det.info.crop)
            inputs.append(FaceInput(crop=al.crop, matrix=al.matrix, frame=f, box=faces[0].box,
                                    landmarks5=faces[0].landmarks5))
    det.predict(inputs[:1])  # warm-up
    per_face, per_scan = [], []
    for _ in range(a.rounds):
        t = time.perf_counter()
        det.predict(inputs)
        per_face.append((time.perf_counter() - t) / len(inputs) * 1000)
        t = time.perf_counter()
        for f in frames:
            scanner.scan(f)
        per_scan.append((time.perf_counter() - t) / len(frames) * 1000)
    out = {"faces": len(inputs), "frame": "640x480", "rounds": a.rounds,
           "detector_ms_per_face": {"median": float(np.median(per_face)), "fastest": float(np.min(per_face))},
           "scan_ms_per_frame": {"median": float(np.median(per_scan)), "fastest": float(np.min(per_scan))}}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
