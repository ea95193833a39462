"""ForensicNet cost: ms per face with ONNX Runtime on 1 thread, and FLOPs vs EfficientNet-B4 @ 380 px.

Both FLOP counts come from torch's FlopCounterMode in this same run (multiply-adds counted as 2
FLOPs); B4 is built from the same EfficientNet code base (random weights: FLOPs do not depend on
them) at SBI's input size.

    .venv/bin/python benchmarks/forensicnet_speed.py [--card src/facetrust/models/forensicnet.json]
        [--baseline OTHER_CARD.json] [--rounds 7]

Timing: several rounds, each of ~0.5-1 s, interleaved with the baseline model when one is given,
reported as the median (and fastest) round: on a shared machine one long loop mixes in whatever
else ran, and two models timed minutes apart are not comparable.
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


class OrtTimer:
    """One ForensicNet ONNX session on 1 thread and a fixed random batch."""

    def __init__(self, card_path: Path, batch: int) -> None:
        from facetrust.detectors.forensicnet import _session, load_card, verified_onnx_bytes

        card = load_card(card_path)
        self.sess = _session(verified_onnx_bytes(card, card_path), threads=1)
        s, self.batch = card["input_size"], batch
        self.x = np.random.default_rng(0).uniform(0, 255, (batch, 3, s, s)).astype(np.float32)
        for _ in range(10):  # warm-up
            self.sess.run(None, {"image": self.x})

    def round_ms_per_face(self, repeats: int) -> float:
        t0 = time.perf_counter()
        for _ in range(repeats):
            self.sess.run(None, {"image": self.x})
        return 1000 * (time.perf_counter() - t0) / (repeats * self.batch)


def ort_ms_per_face(card_paths: list[Path], batch: int, rounds: int = 7, faces_per_round: int = 160) -> list[list[float]]:
    """Per card, the ms per face of each round; the cards' rounds alternate."""
    timers = [OrtTimer(p, batch) for p in card_paths]
    out: list[list[float]] = [[] for _ in timers]
    for _ in range(rounds):
        for t, res in zip(timers, out):
            res.append(t.round_ms_per_face(max(1, faces_per_round // batch)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--card", default=str(REPO / "src/facetrust/models/forensicnet.json"))
    ap.add_argument("--baseline", default=None, help="another model card, timed in alternation with --card")
    ap.add_argument("--rounds", type=int, default=7)
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
    cards = [card_path] + ([Path(args.baseline)] if args.baseline else [])
    for batch in (1, 8):
        rounds = ort_ms_per_face(cards, batch, args.rounds)
        med = [float(np.median(r)) for r in rounds]
        print(f"ONNX Runtime, 1 thread, batch {batch}: {med[0]:.2f} ms per face, median of {args.rounds} rounds "
              f"(fastest {min(rounds[0]):.2f}; goal <= 5 ms)")
        if args.baseline:
            print(f"  baseline {cards[1].name}: {med[1]:.2f} ms (fastest {min(rounds[1]):.2f}); "
                  f"ratio {med[0] / med[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
