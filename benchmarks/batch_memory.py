"""Peak RSS of ``facetrust batch`` at a small vs a large number of files, and files/s at 1 vs 2 workers.

Issue 15's target: peak RSS at 20,000 images within +100 MB of its value at 1,000 (``--n 20000``).
The images are the first files of ``../shared/data/faces-train`` (distinct, so each is scanned, none
copied as a duplicate); without it, synthesized images (skimage's astronaut crops and noise).

Each run is a fresh ``python -m facetrust batch`` process; its peak RSS is its own ``ru_maxrss``
(``os.wait4``). The small run reads its inputs with ``--from-list``: BASE files spread evenly over
the N (the same mix of sources).

    python benchmarks/batch_memory.py                    # 1,000 vs 5,000 files, speed on 200
    python benchmarks/batch_memory.py --n 20000          # the issue's figure
    python benchmarks/batch_memory.py --base 100 --n 400 --speed-files 100   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FACES_TRAIN = REPO.parent / "shared" / "data" / "faces-train" / "images"


def make_inputs(folder: Path, n: int) -> tuple[list[Path], str]:
    """``n`` distinct image files in ``folder``; returns them and where they came from."""
    folder.mkdir(parents=True, exist_ok=True)
    if FACES_TRAIN.is_dir():
        sources = sorted(p for p in FACES_TRAIN.rglob("*") if p.is_file() and not p.name.startswith("."))
        if len(sources) >= n:
            step = len(sources) / n  # spread over every source folder
            out = []
            for i in range(n):
                src = sources[int(i * step)]
                dst = folder / f"{i:06d}{src.suffix.lower()}"
                shutil.copyfile(src, dst)
                out.append(dst)
            return out, f"faces-train ({len(sources)} files)"
    import numpy as np
    import skimage.data
    from PIL import Image

    astronaut = skimage.data.astronaut()
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        if i % 4 == 3:
            img = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        else:
            side = int(rng.integers(160, 260))
            y, x = (int(v) for v in rng.integers(0, 512 - side, 2))
            img = astronaut[y:y + side, x:x + side].copy()
            img[0, 0] = (i % 256, (i // 256) % 256, 1)  # distinct bytes
        p = folder / f"{i:06d}.png"
        Image.fromarray(img).save(p)
        out.append(p)
    return out, "synthesized (skimage astronaut crops and noise)"


def run_batch(args: list[str], env: dict) -> tuple[dict, float, float]:
    """(summary, peak RSS in MB, wall s) of one ``facetrust batch`` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "facetrust", "batch", *args, "-q", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 3):
        raise SystemExit(f"facetrust batch failed ({code}): {stderr.decode()[-2000:]}")
    return json.loads(stdout), usage.ru_maxrss / 1024, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=int, default=1000, help="files of the small run")
    ap.add_argument("--n", type=int, default=5000, help="files of the large run (the issue: 20000)")
    ap.add_argument("--speed-files", type=int, default=200, help="files of the 1 vs 2 worker runs (0: skip)")
    ap.add_argument("--skip-memory", action="store_true", help="only the worker runs")
    ap.add_argument("--work", default=None, help="folder for the inputs and outputs (default: a temp folder)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args(argv)
    if not 0 < a.base <= a.n:
        ap.error("need 0 < --base <= --n")
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="facetrust-batch-bench-"))
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    t0 = time.perf_counter()
    files, origin = make_inputs(work / "inputs", a.n)
    print(f"{a.n} input files from {origin} in {time.perf_counter() - t0:.1f} s ({work})", flush=True)
    listing = work / "base.txt"
    # The small run's files spread over the large run's (the same mix of sources and sizes): peak RSS
    # depends on the largest images and face counts met, and the first files are all from one source.
    base_files = [files[int(i * a.n / a.base)] for i in range(a.base)]
    listing.write_text("# every (n/base)-th input\n" + "".join(f"{p}\n" for p in base_files))

    figures: dict = {"origin": origin, "cpus": os.cpu_count()}
    if not a.skip_memory:
        small, rss_small, wall_small = run_batch(["--from-list", str(listing), "--out", str(work / "out_base")], env)
        print(f"batch of {a.base}: peak RSS {rss_small:.0f} MB, {small['this_run']['files_per_s']:.2f} files/s, "
              f"{wall_small:.0f} s", flush=True)
        large, rss_large, wall_large = run_batch([str(work / "inputs"), "--out", str(work / "out_n")], env)
        print(f"batch of {a.n}: peak RSS {rss_large:.0f} MB, {large['this_run']['files_per_s']:.2f} files/s, "
              f"{wall_large:.0f} s", flush=True)
        assert small["rows"] == a.base and large["rows"] == a.n, (small["rows"], large["rows"])
        figures["memory"] = {
            "base_files": a.base, "base_peak_rss_mb": round(rss_small, 1),
            "n_files": a.n, "n_peak_rss_mb": round(rss_large, 1),
            "growth_mb": round(rss_large - rss_small, 1),
            "verdicts_n": large["verdicts"],
        }
        print(f"peak RSS growth from {a.base} to {a.n} files: {rss_large - rss_small:+.0f} MB "
              f"(issue 15's target at 1,000 -> 20,000: <= +100 MB)")

    if a.speed_files:
        speed_list = work / "speed.txt"
        speed_list.write_text("".join(f"{p}\n" for p in files[: a.speed_files]))
        rates = {}
        for workers in (1, 2):
            s, _, wall = run_batch(["--from-list", str(speed_list), "--out", str(work / f"out_w{workers}"),
                                    "--workers", str(workers)], env)
            run = s["this_run"]
            rates[workers] = {"files_per_s": run["files_per_s"], "steady_files_per_s": run["steady_files_per_s"],
                              "process_wall_s": round(wall, 1)}
            print(f"{a.speed_files} files, {workers} worker(s): {run['files_per_s']:.2f} files/s over the run, "
                  f"{run['steady_files_per_s']:.2f} after the first row (process wall {wall:.0f} s)", flush=True)
        figures["speed"] = {"files": a.speed_files, "workers": rates}
        for key in ("files_per_s", "steady_files_per_s"):
            one, two = rates[1][key], rates[2][key]
            figures["speed"][f"ratio_2_vs_1_{key}"] = round(two / one, 3) if one and two else None
        print(f"2 workers vs 1: {figures['speed']['ratio_2_vs_1_files_per_s']}x files/s over the run, "
              f"{figures['speed']['ratio_2_vs_1_steady_files_per_s']}x after the first row "
              "(issue 15's target: >= 1.6x)")
    print(json.dumps(figures, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2) + "\n")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
