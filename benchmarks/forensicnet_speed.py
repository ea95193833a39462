"""ForensicNet cost: ms per face with ONNX Runtime on 1 thread, and FLOPs vs EfficientNet-B4 @ 380 px.

Both FLOP counts come from torch's FlopCounterMode in this same run (multiply-adds counted as 2
FLOPs); B4 is built from the same EfficientNet code base (random weights: FLOPs do not depend on
them) at SBI's input size.

    .venv/bin/python benchmarks/forensicnet_speed.py [--card src/facetrust/models/forensicnet.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def flops(model, size: int) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, size, size))
    return counter.get_total_flops()


def ort_ms_per_face(card_path: Path, batch: int, repeats: int = 200) -> float:
    from facetrust.detectors.forensicnet import _session, load_card, verified_onnx_bytes

    card = load_card(card_path)
    sess = _session(verified_onnx_bytes(card, card_path), threads=1)
    s = card["input_size"]
    x = np.random.default_rng(0).uniform(0, 255, (batch, 3, s, s)).astype(np.float32)
    for _ in range(10):
        sess.run(None, {"image": x})
    t0 = time.perf_counter()
    for _ in range(repeats):
        sess.run(None, {"image": x})
    return 1000 * (time.perf_counter() - t0) / (repeats * batch)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--card", default=str(REPO / "src/facetrust/models/forensicnet.json"))
    args = ap.parse_args()
    card_path = Path(args.card)
    card = json.loads(card_path.read_text())
    from efficientnet_lite_pytorch import EfficientNet

    from facetrust.train.model import ForensicNet

    ours = flops(ForensicNet(card["backbone"], card["input_size"], pretrained=False), card["input_size"])
    b4 = flops(EfficientNet.from_name("efficientnet-b4", image_size=380), 380)
    print(f"ForensicNet ({card['backbone']} @ {card['input_size']} px): {ours / 1e9:.3f} GFLOPs per face")
    print(f"EfficientNet-B4 @ 380 px (SBI):               {b4 / 1e9:.3f} GFLOPs per face")
    print(f"ratio: {b4 / ours:.1f}x fewer FLOPs (goal >= 8x)")
    for batch in (1, 8):
        print(f"ONNX Runtime, 1 thread, batch {batch}: {ort_ms_per_face(card_path, batch):.2f} ms per face (goal <= 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
