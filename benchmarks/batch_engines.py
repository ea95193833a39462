"""``facetrust batch`` on the local engine and on Ray, 1 and 2 workers each: equal rows, files/s, ratios.

Issue 15's targets: 2 workers >= 1.6x the files/s of 1, for the local engine and for Ray each; Ray's
rows equal the local engine's on 500 files. Every run is a fresh ``python -m facetrust batch``
process into its own folder, over the same N images (copies of ``../shared/data/faces-train`` files
spread over all of it, in a temporary folder outside the repository; the benchmark skips without
it unless ``--synthesize``). The Ray runs start their own local Ray (``num_cpus`` = workers).

Rows are compared with the 1-worker local run's, path by path, without ``elapsed_s`` (a timing) and
``duplicate_of`` (with parallel workers, which copy is met first depends on who finishes first).
files/s is given over the whole run (start-up, model loading and, for Ray, starting Ray included)
and after the first row (without them); the load average of the machine is printed with each run.

    python benchmarks/batch_engines.py                 # 500 files, local and ray, 1 and 2 workers
    python benchmarks/batch_engines.py --n 100 --engines local
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_memory import FACES_TRAIN, REPO, make_inputs, run_batch  # noqa: E402


def comparable_rows(out: Path) -> dict[str, dict]:
    rows = {}
    with open(out / "results.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            row.pop("elapsed_s", None)
            row.pop("duplicate_of", None)
            rows[row["path"]] = row
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="files (default: 500)")
    ap.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    ap.add_argument("--synthesize", action="store_true", help="without faces-train: generated images")
    ap.add_argument("--work", default=None, help="folder for inputs and outputs (default: a temp folder)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args(argv)
    if "ray" in a.engines:
        try:
            import ray  # noqa: F401
        except ImportError:
            print("skipped: Ray is not installed (pip install 'facetrust[ray]')")
            return 0
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="facetrust-engines-bench-"))
    made = make_inputs(work / "inputs", a.n, a.synthesize)
    if made is None:
        print(f"skipped: {FACES_TRAIN} is absent or has fewer than {a.n} files (--synthesize to use generated images)")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    _, origin = made
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("RAY_ADDRESS", None)  # a local Ray: the figures are for this machine
    figures: dict = {"files": a.n, "origin": origin, "cpus": os.cpu_count(), "runs": {}}
    reference = None
    for engine in a.engines:
        for workers in (1, 2):
            name = f"{engine}-{workers}"
            out = work / f"out_{name}"
            load_before = os.getloadavg()[0]
            summary, peak, wall = run_batch([str(work / "inputs"), "--out", str(out), "--engine", engine,
                                             "--workers", str(workers)], env)
            run = summary["this_run"]
            rows = comparable_rows(out)
            if reference is None:
                reference = rows
            equal = rows == reference
            figures["runs"][name] = {
                "files_per_s": run["files_per_s"], "steady_files_per_s": run["steady_files_per_s"],
                "process_wall_s": round(wall, 1), "peak_rss_mb": round(peak, 1), "rows": len(rows),
                "rows_equal_local_1": equal, "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
            print(f"{name}: {run['files_per_s']:.2f} files/s over the run, {run['steady_files_per_s'] or 0:.2f} after "
                  f"the first row, wall {wall:.0f} s, rows equal to local-1: {equal} "
                  f"(load average {load_before:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
    for engine in a.engines:
        one, two = figures["runs"][f"{engine}-1"], figures["runs"][f"{engine}-2"]
        for key in ("files_per_s", "steady_files_per_s"):
            ratio = round(two[key] / one[key], 3) if one[key] and two[key] else None
            figures[f"{engine}_ratio_2_vs_1_{key}"] = ratio
        print(f"{engine}: 2 workers vs 1: {figures[f'{engine}_ratio_2_vs_1_files_per_s']}x files/s over the run, "
              f"{figures[f'{engine}_ratio_2_vs_1_steady_files_per_s']}x after the first row (issue 15's target: >= 1.6x)")
    figures["all_rows_equal"] = all(r["rows_equal_local_1"] for r in figures["runs"].values())
    print(json.dumps(figures, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2) + "\n")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
