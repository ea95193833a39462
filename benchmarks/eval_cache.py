"""How much the face cache saves when a second detector is evaluated on the same data.

    PYTHONPATH=src .venv/bin/python benchmarks/eval_cache.py [--n 300] [--json OUT]

Data: a deterministic subset of ``--n`` still images of ../shared/data/wild-dev (real and fake rows),
or, when wild-dev is absent, a synthetic folder made from scikit-image / matplotlib sample photos.
Runs, each through :func:`facetrust.eval.evaluate` (no bootstrap, no report), on a fresh cache:

1. ``--first`` (default noise_residual) with a cold cache: decode, detect faces, align, score;
   faces and aligned crops are written to the cache.
2. ``--second`` (default spectral, a needs-frame cue) warm: decode again, faces from the cache.
3. ``spectral_crop`` warm: the spectral cue registered here as a *crop-only* detector (its
   documented no-frame fallback, same cost per face): crops from the cache, nothing decoded.
4. ``spectral_crop`` cold, on a second fresh cache: the same detector without the cache.

Printed: wall time of the scoring loop and in total, ms per image, face detections, media decoded,
and the speed-ups (1 vs 2, 1 vs 3, 4 vs 3). Timing depends on machine load; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

from facetrust.detectors import Detector, DetectorInfo, register_detector
from facetrust.detectors import spectral as _spectral
from facetrust.eval import evaluate, load_dataset
from facetrust.eval.datasets import Dataset

WILD_DEV = REPO_ROOT.parent / "shared" / "data" / "wild-dev"


@register_detector("spectral_crop")
class SpectralCropOnly(Detector):
    """The spectral cue on the aligned crop only (no frame): a crop-only detector of real cost."""

    info = DetectorInfo(
        name="spectral_crop", version=_spectral.VERSION, crop=_spectral.CROP,
        catches="(benchmark) spectral cue on the crop only", needs_frame=False,
    )

    def __init__(self) -> None:
        self.inner = _spectral.SpectralDetector()

    def predict(self, faces):
        # needs_frame=False: the runner passes frame=None, so the cue uses its crop fallback
        return self.inner.predict(faces)


def _synthetic(root: Path, n: int) -> Dataset:
    """real/ and fake/ photos from bundled sample images (flips, shifts, a tinted face box)."""
    import cv2
    import numpy as np

    from facetrust.demo import _sample_images
    from facetrust.faces import create_face_detector

    imgs = _sample_images()
    det = create_face_detector()
    k = 0
    for name in ("astronaut", "hopper"):
        base = imgs[name]
        box = det.detect(base)[0].box.astype(int)
        for i in range(max(1, n // 4)):
            img = np.roll(base, 3 * i, axis=1)
            if i % 2:
                img = np.ascontiguousarray(img[:, ::-1])
            fake = img.astype(np.int16)
            x0, y0, x1, y1 = box
            fake[y0:y1, x0:x1, 2] += 40
            for lab, im in (("real", img), ("fake", np.clip(fake, 0, 255).astype(np.uint8))):
                p = root / lab / f"{name}_{i:03d}.png"
                p.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(p), cv2.cvtColor(im, cv2.COLOR_RGB2BGR))
                k += 1
    return load_dataset(str(root))


def _subset(n: int, tmp: Path) -> Dataset:
    if (WILD_DEV / "MANIFEST.tsv").is_file():
        ds = load_dataset("wild-dev")
        imgs = ds.filter(lambda s: s.media_type == "image", name="wild-dev-images")
        import hashlib

        ranked = sorted(imgs.samples, key=lambda s: hashlib.sha256(s.path.encode()).hexdigest())[:n]
        keep = {id(s) for s in ranked}
        return imgs.filter(lambda s: id(s) in keep, name=f"wild-dev-images-{n}")
    print("wild-dev absent: using a synthetic folder", file=sys.stderr)
    return _synthetic(tmp / "synthetic", n)


def _run(label: str, detector: str, ds: Dataset, cache: Path) -> dict:
    t = time.perf_counter()
    run = evaluate(detector, ds, cache_dir=cache, n_boot=0, report=False)
    wall = time.perf_counter() - t
    tm = run.results["timing"]
    n = run.results["counts"]["samples"]
    return {
        "run": label,
        "detector": detector,
        "samples": n,
        "scored": run.results["counts"]["scored"],
        "total_s": wall,
        "scoring_s": tm["scoring_s"],
        "ms_per_image": 1000 * tm["scoring_s"] / max(1, n),
        "face_detect_calls": tm["face_detect_calls"],
        "decoded": tm["media_decoded"],
        "face_detect_s": tm.get("face_detect_s", 0.0),
        "decode_s": tm.get("decode_s", 0.0),
        "score_s": tm.get("score_s", 0.0),
        "cache": tm["cache"],
        "auc_image": run.value("roc_auc", level="image"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="number of images")
    ap.add_argument("--first", default="noise_residual")
    ap.add_argument("--second", default="spectral")
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="facetrust-bench-"))
    try:
        ds = _subset(args.n, tmp)
        cache, cache2 = tmp / "cache", tmp / "cache_cold"
        rows = [
            _run("1 cold", args.first, ds, cache),
            _run("2 warm (needs frame)", args.second, ds, cache),
            _run("3 warm (crop-only)", "spectral_crop", ds, cache),
            _run("4 cold (crop-only)", "spectral_crop", ds, cache2),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"face cache: {ds.name}, {rows[0]['samples']} images")
    for c in ("run", "detector", "scoring s", "total s", "ms/image", "face det.", "decoded", "AUC@image"):
        t.add_column(c)
    for r in rows:
        auc = "-" if r["auc_image"] is None else f"{r['auc_image']:.3f}"
        t.add_row(r["run"], r["detector"], f"{r['scoring_s']:.1f}", f"{r['total_s']:.1f}", f"{r['ms_per_image']:.1f}",
                  str(r["face_detect_calls"]), str(r["decoded"]), auc)
    Console(width=140).print(t)
    speed = {
        "first_cold_vs_second_warm_needs_frame": rows[0]["scoring_s"] / rows[1]["scoring_s"],
        "first_cold_vs_second_warm_crop_only": rows[0]["scoring_s"] / rows[2]["scoring_s"],
        "crop_only_cold_vs_warm": rows[3]["scoring_s"] / rows[2]["scoring_s"],
    }
    for k, v in speed.items():
        print(f"{k}: {v:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "speedup": speed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
