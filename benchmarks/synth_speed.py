"""Speed of the forgery synthesis engine, one core: samples/s per family at 256-px crops.

Measures, single-threaded (OMP_NUM_THREADS=1, cv2.setNumThreads(1)):
  prepare   read + detect (YuNet) + align + 68 landmarks, once per source photo
  load      read + align from a prepared record (what a worker or data loader redoes)
  <family>  family.generate() alone, on in-memory crops
  write     PNG encode + write of one image and its mask (what the writer adds per sample)

Usage: PYTHONPATH=src python benchmarks/synth_speed.py [--faces DIR] [--sources 24] [--samples 60]
Without --faces it uses ../shared/data/faces-train when present, else two wheel-shipped photos.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from facetrust.faces import CropSpec  # noqa: E402
from facetrust.synth import available_families, get_family  # noqa: E402
from facetrust.synth.sources import SourcePreparer, list_images, load_face  # noqa: E402
from facetrust.synth.types import SkipSample  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _fallback_folder() -> Path:
    import matplotlib.cbook as cbook
    import skimage.data
    from PIL import Image

    d = Path(tempfile.mkdtemp(prefix="synth_bench_"))
    hopper = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    for name, img in {"astronaut.png": skimage.data.astronaut(), "hopper.png": hopper}.items():
        cv2.imwrite(str(d / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=Path, default=None)
    ap.add_argument("--sources", type=int, default=24)
    ap.add_argument("--samples", type=int, default=60, help="samples timed per family")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    cv2.setNumThreads(1)

    faces = args.faces or REPO.parent / "shared" / "data" / "faces-train"
    if not faces.is_dir():
        faces = _fallback_folder()
    rels = list_images(faces)
    random.Random(0).shuffle(rels)
    spec = CropSpec(args.size, 0.25)
    prep = SourcePreparer(spec)
    prep.prepare(faces, rels[0])  # warm-up: model loads
    records, t0 = [], time.perf_counter()
    tried = 0
    for rel in rels:
        if len(records) >= args.sources:
            break
        tried += 1
        rec = prep.prepare(faces, rel)
        if not isinstance(rec, str):
            rec.group = rec.source_id
            records.append(rec)
    prepare_ms = 1000 * (time.perf_counter() - t0) / tried
    t0 = time.perf_counter()
    srcs = [load_face(r, spec) for r in records]
    load_ms = 1000 * (time.perf_counter() - t0) / len(srcs)

    fig: dict = {"prepare_ms_per_source": round(prepare_ms, 2), "load_ms_per_source": round(load_ms, 2), "families": {}}
    for name in available_families():
        fam = get_family(name)
        n = 0
        t0 = time.perf_counter()
        for k in range(args.samples):
            i = k % len(srcs)
            try:
                fam.generate(srcs[i], np.random.default_rng(k), srcs[(i + 1 + k // len(srcs)) % len(srcs)])
                n += 1
            except SkipSample:
                pass
        dt = time.perf_counter() - t0
        fig["families"][name] = {"ms": round(1000 * dt / max(n, 1), 2), "per_s_per_core": round(n / dt, 1)}

    tmp = Path(tempfile.mkdtemp(prefix="synth_write_"))
    mask = np.zeros((args.size, args.size), np.uint8)
    mask[64:192, 64:192] = 255
    t0 = time.perf_counter()
    for k, s in enumerate(srcs * 3):
        cv2.imwrite(str(tmp / f"{k}.png"), s.crop, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        cv2.imwrite(str(tmp / f"{k}_m.png"), mask, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    fig["write_ms_per_sample"] = round(1000 * (time.perf_counter() - t0) / (3 * len(srcs)), 2)

    forg = [v["ms"] for k, v in fig["families"].items() if k != "perturb"]
    per_sample = float(np.mean(forg)) + fig["write_ms_per_sample"] + load_ms / 6  # one load serves ~6 samples
    fig["mean_forgery_plus_write_ms"] = round(per_sample, 2)
    fig["estimate_10k_minutes_2_cores"] = round((10_000 * per_sample / 1000 + 10_000 / 6 * prepare_ms / 1000) / 2 / 60, 1)
    print(f"faces: {faces}  sources: {len(srcs)}  crop: {args.size}px  (one core each)")
    print(f"  prepare (read+detect+align+68 landmarks): {prepare_ms:7.1f} ms/source")
    print(f"  load    (read+align, prepared record):    {load_ms:7.1f} ms/source")
    for name, v in fig["families"].items():
        print(f"  {name:<12} {v['ms']:7.1f} ms/sample  {v['per_s_per_core']:6.1f} samples/s/core")
    print(f"  write (PNG image + mask):                 {fig['write_ms_per_sample']:7.1f} ms/sample")
    print(f"  10k samples (6 per source) on 2 cores: ~{fig['estimate_10k_minutes_2_cores']} min")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))


if __name__ == "__main__":
    main()
