"""Peak RSS of ``facetrust batch`` at a small vs a large number of files, and files/s at 1 vs 2 workers.

Issue 15's target: peak RSS at 20,000 images within +100 MB of its value at 1,000 (``--n 20000``).
The images are copies of ``../shared/data/faces-train`` files spread over all of it (distinct, so each
is scanned, none copied as a duplicate); without it the benchmark skips, unless ``--synthesize``
(skimage's astronaut crops and noise).

Each run is a fresh ``python -m facetrust batch`` process; its peak RSS is that of its whole process
tree (the process and its workers, summed, sampled from /proc every 0.2 s), and its own ``ru_maxrss``
(``os.wait4``) beside it. The inputs are copies in a temporary folder outside the repository. The
small run reads its inputs with ``--from-list``: BASE files spread evenly over the N (the same mix of
sources).

    python benchmarks/batch_memory.py                    # 1,000 vs 20,000 files (the issue's figure), speed on 200
    python benchmarks/batch_memory.py --n 5000 --speed-files 0   # a shorter memory run
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


def make_inputs(folder: Path, n: int, synthesize: bool = False) -> tuple[list[Path], str] | None:
    """``n`` distinct image files in ``folder``; returns them and where they came from."""
    folder.mkdir(parents=True, exist_ok=True)
    if FACES_TRAIN.is_dir() and not synthesize:
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
    if not synthesize:
        return None
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


def _tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants, from /proc (0 for those that are gone)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(l.split()[1]) for l in fh if l.startswith("VmRSS:")), 0) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


class TreeRssSampler:
    """The peak of :func:`_tree_rss_mb` while a process runs (a thread polling every ``every_s``)."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        import threading

        self.pid, self.every_s, self.peak_mb = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(self.pid))
            self._stop.wait(self.every_s)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def run_batch(args: list[str], env: dict) -> tuple[dict, float, float]:
    """(summary, peak RSS of the process tree in MB, wall s) of one ``facetrust batch`` process;
    the summary gains ``process_maxrss_mb`` (the main process's own ``ru_maxrss``)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: a full pipe cannot block it
        proc = subprocess.Popen([sys.executable, "-m", "facetrust", "batch", *args, "-q", "--json"], env=env,
                                stdout=out, stderr=err)
        sampler = TreeRssSampler(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        peak = sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"facetrust batch failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    summary = json.loads(stdout)
    summary["process_maxrss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return summary, max(peak, summary["process_maxrss_mb"]), wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=int, default=1000, help="files of the small run")
    ap.add_argument("--n", type=int, default=20000, help="files of the large run (the issue's figure: 20000)")
    ap.add_argument("--synthesize", action="store_true",
                    help="without faces-train: synthesized images (skimage's astronaut crops and noise)")
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
    made = make_inputs(work / "inputs", a.n, a.synthesize)
    if made is None:
        print(f"skipped: {FACES_TRAIN} is absent or has fewer than {a.n} files (--synthesize to use generated images)")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    files, origin = made
    print(f"{a.n} input files from {origin} in {time.perf_counter() - t0:.1f} s ({work})", flush=True)
    listing = work / "base.txt"
    # The small run's files spread over the large run's (the same mix of sources and sizes): peak RSS
    # depends on the largest images and face counts met, and the first files are all from one source.
    base_files = [files[int(i * a.n / a.base)] for i in range(a.base)]
    listing.write_text("# every (n/base)-th input\n" + "".join(f"{p}\n" for p in base_files))

    figures: dict = {"origin": origin, "cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
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
    figures["load_average_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2) + "\n")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
