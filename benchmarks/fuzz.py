"""Fuzz benchmark (issue 13): N mutated media files through ONE ``facetrust scan`` of their folder.

Seeds are one valid face image per image format and one clip per video container/codec (the same
seeds and mutations as tests/hardening/test_hardening_fuzz.py, drawn here from a seeded
``random.Random`` so each run with a new --seed explores new files). A tenth of the files get an
unknown extension or none, so the folder walk's content sniffing and its skipped rows are exercised.
Prints counts by verdict and by error_type, internal errors, files without a row, files over their
budget, the slowest file and the scan's peak RSS (the child process's ru_maxrss).

    .venv/bin/python benchmarks/fuzz.py [--n 2000] [--seed 0] [--budget 60] [--detector NAME] [--keep DIR]

Exit status 0 when the issue's bar holds: no internal error, every file has a row, no file over its
budget, peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "hardening"))

from fuzz_media import make_seeds, mutate, random_mutations  # noqa: E402

PEAK_RSS_LIMIT_MB = 1536
_EXTENSIONS = {
    "image.jpeg": ".jpg", "image.png": ".png", "image.webp": ".webp", "image.bmp": ".bmp",
    "image.tiff": ".tif", "image.gif": ".gif", "video.mp4.mpeg4": ".mp4", "video.mp4.libx264": ".mp4",
    "video.matroska.libvpx": ".mkv", "video.webm.libvpx-vp9": ".webm", "video.avi.mjpeg": ".avi",
    "video.mpegts.mpeg2video": ".ts", "video.mov.png": ".mov", "video.flv.flv": ".flv",
}


def write_corpus(folder: Path, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    seeds = make_seeds()
    names = sorted(seeds)
    paths = []
    for i in range(n):
        name = names[i % len(names)]
        data = mutate(seeds[name], random_mutations(rng))
        ext = _EXTENSIONS.get(name, ".bin")
        if rng.random() < 0.1:
            ext = rng.choice([".bin", ".dat", ""])  # found by content, or skipped with a reason
        path = folder / f"{i:05d}_{name.replace('.', '_')}{ext}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="mutated files (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=60.0, help="--media-budget of the scan, seconds")
    ap.add_argument("--detector", action="append", help="forensic detector(s) (default: the scan's default)")
    ap.add_argument("--keep", metavar="DIR", help="write the corpus and report here instead of a temp dir")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="facetrust-fuzz-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        corpus = root / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths = write_corpus(corpus, args.n, args.seed)
        print(f"wrote {len(paths)} mutated files in {time.perf_counter() - t0:.1f} s")
        report = root / "fuzz.json"
        cmd = [sys.executable, "-m", "facetrust", "scan", str(corpus), "--json", str(report), "-q",
               "--media-budget", str(args.budget)]
        for name in args.detector or ():
            cmd += ["--detector", name]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if not report.is_file():
            print(f"the scan wrote no report (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
            return 2
        results = json.loads(report.read_text())["results"]

    rows = {r["path"] for r in results}
    without_row = [p for p in paths if str(p) not in rows]
    verdicts = Counter(r["verdict"] for r in results)
    error_types = Counter(r["error_type"] for r in results if r["verdict"] == "error")
    internal = [r for r in results if r["error_type"] == "internal_error"]
    over_budget = [r for r in results if (r.get("elapsed_s") or 0.0) > args.budget]
    slowest = max(results, key=lambda r: r.get("elapsed_s") or 0.0)
    print(f"scan: {len(results)} rows for {len(paths)} files in {wall:.0f} s (exit {proc.returncode})")
    print("verdicts:", dict(sorted(verdicts.items())))
    print("error types:", dict(sorted(error_types.items())))
    skipped = sum(1 for r in results if (r.get("reason") or "").startswith("skipped: "))
    print(f"skipped (not media): {skipped}")
    print(f"internal errors: {len(internal)}")
    for r in internal[:10]:
        print(f"  {Path(r['path']).name}: {r['error']}")
    print(f"files without a row: {len(without_row)}")
    print(f"files over the {args.budget:g} s budget: {len(over_budget)}")
    print(f"slowest: {Path(slowest['path']).name} {slowest.get('elapsed_s') or 0:.2f} s "
          f"({slowest['verdict']}{', ' + slowest['error_type'] if slowest['error_type'] else ''})")
    print(f"peak RSS of the scan: {peak_mb:.0f} MB (limit {PEAK_RSS_LIMIT_MB})")
    ok = not internal and not without_row and not over_budget and peak_mb <= PEAK_RSS_LIMIT_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
