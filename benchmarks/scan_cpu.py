"""CPU cost of ``facetrust scan`` on still portraits vs a minimal YuNet + MesoNet-4 pipeline.

Makes 100 portraits at 512 px in a temporary folder (face chips from ../shared/data/faces-train,
upscaled onto a blurred-noise canvas; the wheel-shipped astronaut photo when the data is absent),
then times, alternating for ``--rounds`` rounds, each in its own process:

  (a) ``python -m facetrust scan FOLDER --json OUT -q`` (the default detector, JSON written);
  (b) a reference pipeline over the same files: OpenCV decode, YuNet (yuface) at native size, the
      largest face cropped to 256 px, MesoNet-4 (Afchar et al. 2018: 4 conv+BN+pool blocks, dense 16,
      dense 1) with random weights, built as an ONNX graph from numpy arrays and run by ONNX Runtime
      on one thread. Random weights cost what trained ones do, so this is a fair stand-in.

CPU seconds are the child's user+sys (``resource.getrusage(RUSAGE_CHILDREN)``); wall is
``time.perf_counter`` around the child. Prints the medians and the ratio (goal <= 1.0x CPU).

    nice -n 10 .venv/bin/python benchmarks/scan_cpu.py [--rounds 3] [--n 100] [--old-settings] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FACES_TRAIN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces-train" / "images"


def make_portraits(folder: Path, n: int, size: int = 512) -> str:
    """``n`` JPEG portraits of ``size`` px; returns where the faces came from."""
    import cv2

    rng = np.random.default_rng(0)
    chips = sorted((FACES_TRAIN / "utkface_crop_part1").glob("*.jpg")) if FACES_TRAIN.exists() else []
    source = f"{FACES_TRAIN}/utkface_crop_part1" if chips else "skimage astronaut"
    if not chips:
        import skimage.data

        astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    for i in range(n):
        if chips:
            face = cv2.imread(str(chips[int(rng.integers(len(chips)))]))
        else:
            face = astronaut[: 300, 100: 400]
        side = int(rng.integers(size // 2, int(size * 0.7)))
        face = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        canvas = cv2.GaussianBlur(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), (0, 0), 4)
        x, y = (int(rng.integers(0, size - side)) for _ in range(2))
        canvas[y: y + side, x: x + side] = face
        cv2.imwrite(str(folder / f"portrait_{i:03d}.jpg"), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return source


def meso4_onnx(seed: int = 0) -> bytes:
    """MesoNet-4 as an ONNX graph with random weights (BatchNorm folded into the convolutions)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def w(name, *shape):
        arr = (rng.standard_normal(shape) * np.sqrt(2.0 / max(1, np.prod(shape[1:])))).astype(np.float32)
        inits.append(numpy_helper.from_array(arr, name))
        return name

    x = "image"
    # (out channels, kernel, pool): Meso-4's four blocks
    for i, (cin, cout, k, pool) in enumerate([(3, 8, 3, 2), (8, 8, 5, 2), (8, 16, 5, 2), (16, 16, 5, 4)]):
        nodes += [
            helper.make_node("Conv", [x, w(f"c{i}w", cout, cin, k, k), w(f"c{i}b", cout)], [f"c{i}"],
                             pads=[k // 2] * 4),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
            helper.make_node("MaxPool", [f"r{i}"], [f"p{i}"], kernel_shape=[pool, pool], strides=[pool, pool]),
        ]
        x = f"p{i}"
    nodes += [
        helper.make_node("Flatten", [x], ["flat"]),
        helper.make_node("Gemm", ["flat", w("d1w", 16, 16 * 8 * 8), w("d1b", 16)], ["d1"], transB=1),
        helper.make_node("LeakyRelu", ["d1"], ["l1"], alpha=0.1),
        helper.make_node("Gemm", ["l1", w("d2w", 1, 16), w("d2b", 1)], ["d2"], transB=1),
        helper.make_node("Sigmoid", ["d2"], ["prob"]),
    ]
    graph = helper.make_graph(nodes, "meso4", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                             [None, 3, 256, 256])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [None, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


REFERENCE = r"""
import json, sys
from pathlib import Path
import cv2, numpy as np, onnxruntime as ort, yuface
from threadpoolctl import threadpool_limits
threadpool_limits(1, user_api="openmp")
cv2.setNumThreads(1)
folder, model = Path(sys.argv[1]), Path(sys.argv[2])
opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model.read_bytes(), sess_options=opts, providers=["CPUExecutionProvider"])
out = {}
for p in sorted(folder.glob("*.jpg")):
    bgr = cv2.imread(str(p))
    confs, boxes, _ = yuface.detect(bgr, conf=0.5)
    if len(confs) == 0:
        out[p.name] = None
        continue
    x, y, w, h = (int(v) for v in max(boxes, key=lambda b: int(b[2]) * int(b[3])))
    crop = bgr[max(0, y): y + h, max(0, x): x + w]
    crop = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA)
    t = (crop[:, :, ::-1].astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    out[p.name] = float(sess.run(None, {"image": t})[0][0, 0])
print(json.dumps({"files": len(out), "faces": sum(v is not None for v in out.values())}))
"""


def timed_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, stdout) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 1):  # 1: something judged fake, a normal outcome of a scan
        raise RuntimeError(f"{cmd[:4]} exited {res.returncode}: {res.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, res.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--scan-arg", action="append", default=[], help="extra argument to facetrust scan")
    ap.add_argument("--old-settings", action="store_true",
                    help="also time the scan with the settings before issue 15 (ORT pools spinning, default "
                         "threads, glibc's malloc thresholds), in the same alternating rounds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="facetrust-scan-cpu-") as tmp:
        folder = Path(tmp) / "portraits"
        folder.mkdir()
        source = make_portraits(folder, args.n)
        model = Path(tmp) / "meso4.onnx"
        model.write_bytes(meso4_onnx())
        scan_cmd = [sys.executable, "-m", "facetrust", "scan", str(folder), "--json", str(Path(tmp) / "scan.json"),
                    "-q", *args.scan_arg]
        ref_cmd = [sys.executable, "-c", REFERENCE, str(folder), str(model)]
        runs: dict[str, list[tuple[float, float]]] = {"scan": [], "reference": []}
        old_env = {**os.environ, "FACETRUST_ORT_SPIN": "1", "FACETRUST_MALLOC_TUNING": "0", "FACETRUST_THREADS": "0"}
        if args.old_settings:
            runs["scan_old"] = []
        faces = {}
        for r in range(args.rounds):
            order = list(runs) if r % 2 == 0 else list(runs)[::-1]  # alternate who goes first
            for name in order:
                cpu, wall, stdout = timed_child(ref_cmd if name == "reference" else scan_cmd,
                                                old_env if name == "scan_old" else None)
                runs[name].append((cpu, wall))
                if name == "reference":
                    faces["reference"] = json.loads(stdout.strip().splitlines()[-1])["faces"]
                print(f"round {r + 1} {name:9s}: {cpu:6.2f} CPU-s  {wall:6.2f} s wall", flush=True)
        report = json.loads((Path(tmp) / "scan.json").read_text())
        faces["scan"] = sum(1 for row in report["results"] if row.get("faces"))
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in runs.items()}
    out = {
        "n": args.n, "rounds": args.rounds, "faces_from": source, "load_average": os.getloadavg(),
        "images_with_a_face": faces,
        "scan_cpu_s": med["scan"][0], "scan_wall_s": med["scan"][1],
        "reference_cpu_s": med["reference"][0], "reference_wall_s": med["reference"][1],
        "cpu_ratio": med["scan"][0] / med["reference"][0], "wall_ratio": med["scan"][1] / med["reference"][1],
        "runs": runs,
    }
    if "scan_old" in med:
        out.update(scan_old_cpu_s=med["scan_old"][0], scan_old_wall_s=med["scan_old"][1],
                   old_cpu_ratio=med["scan_old"][0] / med["reference"][0])
    print(f"{args.n} portraits at 512 px ({source}); images with a face: scan {faces['scan']}, "
          f"reference {faces['reference']}")
    print(f"facetrust scan : {out['scan_cpu_s']:.2f} CPU-s, {out['scan_wall_s']:.2f} s wall (median of {args.rounds})")
    if "scan_old" in med:
        print(f"  old settings : {out['scan_old_cpu_s']:.2f} CPU-s, {out['scan_old_wall_s']:.2f} s wall "
              f"-> {out['old_cpu_ratio']:.2f}x the reference's CPU")
    print(f"YuNet + Meso-4 : {out['reference_cpu_s']:.2f} CPU-s, {out['reference_wall_s']:.2f} s wall")
    print(f"ratio scan / reference: CPU {out['cpu_ratio']:.2f}x (goal <= 1.0x), wall {out['wall_ratio']:.2f}x; "
          f"load average {' '.join(f'{x:.2f}' for x in out['load_average'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
