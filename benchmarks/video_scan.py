"""Video scan cost: wall time vs decode-only of the same sampled frames, and peak memory.

Generates its own 1080p test videos (a moving face over a textured background), then, each in a
fresh process so peak RSS is the scan's own:
  1. decode-only: iterate the sampled frames with facetrust.io (the same sampler);
  2. full scan: facetrust.scan with the default options;
  3. with ``--option``: a scan with those ScanOptions, and its face recall against (2) (a face of (2)
     found in the same frame at IoU >= 0.5);
alternating the order over ``--rounds``, CPU (user+sys) and wall per child; then repeats the default
scan on a shorter video to show memory is flat in video length.

    nice -n 10 .venv/bin/python benchmarks/video_scan.py [--seconds 60 120] [--frames 16] [--rounds 2]
        [--option video_detect_side=640]   # a second scan with these ScanOptions, and its face recall
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_video(path: Path, seconds: int, fps: int = 30, size=(1920, 1080)) -> None:
    import av
    import cv2
    import skimage.data

    face = cv2.resize(skimage.data.astronaut(), (480, 480))
    w, h = size
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "23"})
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.thread_type = "AUTO"
        for i in range(seconds * fps):
            frame = background.copy()
            x = int((w - 480) * (0.5 + 0.45 * np.sin(i / 90)))
            frame[300:780, x : x + 480] = face
            for p in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


CHILD = r"""
import json, resource, sys, time
mode, path, frames, options = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
t0 = time.perf_counter()
if mode == "decode":
    from facetrust.io import open_media, FrameSampler
    n = sum(1 for _ in open_media(path, sampler=FrameSampler.from_options(frames=frames)).frames())
    out = {"frames": n}
else:
    import facetrust
    r = facetrust.scan(path, frames=frames, **options)
    out = {"frames": len(r.frames), "faces": len(r.faces), "verdict": r.verdict, "error": r.error,
           "p": r.fake_probability, "boxes": [[f.frame_index, f.box] for f in r.faces]}
out["wall_s"] = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = ru.ru_utime + ru.ru_stime
out["peak_rss_mb"] = ru.ru_maxrss / 1024
print(json.dumps(out))
"""


def run_child(mode: str, path: Path, frames: int, options: dict | None = None) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(frames), json.dumps(options or {})],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def recall(reference: dict, candidate: dict) -> float:
    """Share of the reference's faces (frame, box) that the candidate finds at IoU >= 0.5."""
    ref = reference["boxes"]
    hits = sum(1 for k, box in ref if any(j == k and _iou(box, other) >= 0.5 for j, other in candidate["boxes"]))
    return hits / len(ref) if ref else 1.0


WILD_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wild-dev"


def wild_dev_videos(root: Path = WILD_DEV) -> list[tuple[Path, int]]:
    """(path, 1 if fake else 0) of every wild-dev video (image_size 'WxH Nf@FPS'); [] when absent."""
    import csv

    manifest = root / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [(root / r["relpath"], int(r["label"] == "fake")) for r in rows
            if "f@" in (r.get("image_size") or "") and r["label"] in ("real", "fake") and (root / r["relpath"]).exists()]


def wild_dev_comparison(tuned: dict, frames: int) -> dict:
    """Default vs tuned scans of wild-dev's videos in this one run: face recall of the tuned scan
    against the default's detections, and each setting's video-level ROC AUC (evaluation only: nothing
    here is tuned on it)."""
    from sklearn.metrics import roc_auc_score

    import facetrust

    videos = wild_dev_videos()
    if not videos:
        return {}
    rows = []
    for path, label in videos:
        got = {}
        for name, opts in (("default", {}), ("tuned", tuned)):
            r = facetrust.scan(str(path), frames=frames, previews=False, **opts)
            got[name] = {"p": r.fake_probability, "verdict": r.verdict,
                         "boxes": [[f.frame_index, f.box] for f in r.faces]}
        rows.append({"video": path.name, "label": label, "faces_default": len(got["default"]["boxes"]),
                     "faces_tuned": len(got["tuned"]["boxes"]), "recall": recall(got["default"], got["tuned"]),
                     "p_default": got["default"]["p"], "p_tuned": got["tuned"]["p"]})
    scored = [r for r in rows if r["p_default"] is not None and r["p_tuned"] is not None]
    labels = [r["label"] for r in scored]
    n_ref = sum(r["faces_default"] for r in rows)
    out = {
        "videos": len(rows), "fake": sum(labels), "real": len(labels) - sum(labels),
        "face_recall": sum(r["recall"] * r["faces_default"] for r in rows) / n_ref if n_ref else None,
        "auc_default": roc_auc_score(labels, [r["p_default"] for r in scored]) if 0 < sum(labels) < len(labels) else None,
        "auc_tuned": roc_auc_score(labels, [r["p_tuned"] for r in scored]) if 0 < sum(labels) < len(labels) else None,
        "rows": rows,
    }
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, nargs="+", default=[60, 120])
    ap.add_argument("--short-seconds", type=int, default=20)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of decode / scans per video")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                    help="a ScanOptions field for the 'tuned' scan (repeat); compared with the defaults")
    ap.add_argument("--wild-dev", action="store_true",
                    help="also scan ../shared/data/wild-dev's videos with the defaults and the --option set "
                         "(face recall, video AUC before/after)")
    ap.add_argument("--keep", metavar="DIR", help="make the videos in DIR (outside the repo) and re-use them")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    tuned = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}
    figures: dict = {"frames": args.frames, "tuned_options": tuned, "videos": {}}
    with tempfile.TemporaryDirectory(prefix="facetrust-video-scan-") as tmp:
        where = Path(args.keep) if args.keep else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        videos = {s: where / f"v{s}.mp4" for s in args.seconds}
        short_v = where / f"v{args.short_seconds}.mp4"
        t0 = time.perf_counter()
        for path, s in [*((p, s) for s, p in videos.items()), (short_v, args.short_seconds)]:
            if not path.exists():  # --keep: made once, re-used by later runs
                make_video(path, s)
        print(f"generated 1080p30 videos ({', '.join(f'{s}s' for s in videos)}, {args.short_seconds}s) "
              f"in {time.perf_counter() - t0:.0f}s", flush=True)
        for s, path in videos.items():
            runs: dict[str, list[dict]] = {"decode": [], "default": [], **({"tuned": []} if tuned else {})}
            for r in range(args.rounds):
                order = list(runs) if r % 2 == 0 else list(runs)[::-1]  # alternate who goes first
                for name in order:
                    mode = "decode" if name == "decode" else "scan"
                    runs[name].append(run_child(mode, path, args.frames, tuned if name == "tuned" else {}))
            med = {k: {m: statistics.median(x[m] for x in v) for m in ("wall_s", "cpu_s", "peak_rss_mb")}
                   for k, v in runs.items()}
            fig = {"median": med, "faces": {k: v[-1].get("faces") for k, v in runs.items() if k != "decode"},
                   "load_average": os.getloadavg()}
            for k in med:
                if k != "decode":
                    fig[f"{k}_wall_ratio"] = med[k]["wall_s"] / med["decode"]["wall_s"]
                    fig[f"{k}_cpu_ratio"] = med[k]["cpu_s"] / med["decode"]["cpu_s"]
            if tuned:
                fig["tuned_face_recall"] = recall(runs["default"][-1], runs["tuned"][-1])
                fig["p_default"], fig["p_tuned"] = runs["default"][-1]["p"], runs["tuned"][-1]["p"]
            figures["videos"][f"{s}s"] = fig
            print(f"{s}s 1080p, {args.frames} sampled frames, median of {args.rounds} (load average "
                  f"{' '.join(f'{x:.1f}' for x in fig['load_average'])}):")
            for k, m in med.items():
                ratio = "" if k == "decode" else (f"  -> {fig[f'{k}_wall_ratio']:.2f}x wall, "
                                                  f"{fig[f'{k}_cpu_ratio']:.2f}x CPU of decode-only")
                print(f"  {k:8s} {m['wall_s']:6.2f} s wall {m['cpu_s']:6.2f} CPU-s  peak RSS "
                      f"{m['peak_rss_mb']:.0f} MB{ratio}")
            if tuned:
                print(f"  tuned face recall vs default: {fig['tuned_face_recall']:.3f}; p(fake) default "
                      f"{fig['p_default']:.4f} tuned {fig['p_tuned']:.4f}", flush=True)
        short = run_child("scan", short_v, args.frames)
        longest = max(args.seconds)
        figures["peak_rss_mb_short"] = short["peak_rss_mb"]
        print(f"peak RSS {args.short_seconds}s video: {short['peak_rss_mb']:.0f} MB vs {longest}s: "
              f"{figures['videos'][f'{longest}s']['median']['default']['peak_rss_mb']:.0f} MB "
              f"(goal <= 1024 MB, flat in length)")
    if args.wild_dev and tuned:
        wd = wild_dev_comparison(tuned, args.frames)
        figures["wild_dev"] = wd
        if wd:
            auc = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(f"wild-dev videos ({wd['fake']} fake, {wd['real']} real, {args.frames} frames): face recall "
                  f"of tuned vs default detections {wd['face_recall']:.3f}; video ROC AUC default "
                  f"{auc(wd['auc_default'])}, tuned {auc(wd['auc_tuned'])}")
            for r in wd["rows"]:
                pd = "-" if r["p_default"] is None else f"{r['p_default']:.4f}"
                pt = "-" if r["p_tuned"] is None else f"{r['p_tuned']:.4f}"
                print(f"  {r['video'][:28]:28s} label {r['label']} faces {r['faces_default']:3d}/{r['faces_tuned']:3d} "
                      f"recall {r['recall']:.3f} p {pd} -> {pt}")
        else:
            print("wild-dev absent: skipped")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
