"""Video scan cost: wall time vs decode-only of the same sampled frames, and peak memory.

Generates its own 1080p test videos (a moving face over a textured background), then, each in a
fresh process so peak RSS is the scan's own:
  1. decode-only: iterate the sampled frames with facetrust.io (the same sampler);
  2. full scan: facetrust.scan with the default detectors;
and repeats the scan on a shorter video to show memory is flat in video length.

    .venv/bin/python benchmarks/video_scan.py [--seconds 120] [--frames 16]
"""

from __future__ import annotations

import argparse
import json
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
mode, path, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
if mode == "decode":
    from facetrust.io import open_media, FrameSampler
    n = sum(1 for _ in open_media(path, sampler=FrameSampler.from_options(frames=frames)).frames())
    out = {"frames": n}
else:
    import facetrust
    r = facetrust.scan(path, frames=frames)
    out = {"frames": len(r.frames), "faces": len(r.faces), "verdict": r.verdict, "error": r.error}
out["wall_s"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_child(mode: str, path: Path, frames: int) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(frames)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--short-seconds", type=int, default=20)
    ap.add_argument("--frames", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        long_v, short_v = Path(tmp) / "long.mp4", Path(tmp) / "short.mp4"
        t0 = time.perf_counter()
        make_video(long_v, args.seconds)
        make_video(short_v, args.short_seconds)
        print(f"generated 1080p30 videos ({args.seconds}s: {long_v.stat().st_size / 1e6:.1f} MB, "
              f"{args.short_seconds}s) in {time.perf_counter() - t0:.0f}s")
        dec = run_child("decode", long_v, args.frames)
        full = run_child("scan", long_v, args.frames)
        short = run_child("scan", short_v, args.frames)
    print(f"decode-only ({dec['frames']} sampled frames of {args.seconds}s 1080p): {dec['wall_s']:.2f}s, "
          f"peak RSS {dec['peak_rss_mb']:.0f} MB")
    print(f"full scan   ({full['frames']} frames, {full['faces']} faces, {full['verdict']}): {full['wall_s']:.2f}s, "
          f"peak RSS {full['peak_rss_mb']:.0f} MB")
    print(f"scan / decode-only wall time: {full['wall_s'] / dec['wall_s']:.2f}x (goal <= 1.3x)")
    print(f"peak RSS {args.short_seconds}s video: {short['peak_rss_mb']:.0f} MB vs {args.seconds}s: "
          f"{full['peak_rss_mb']:.0f} MB (goal <= 1024 MB, flat in length)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
