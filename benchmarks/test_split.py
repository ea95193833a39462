"""Score shipped models on the *test* split of synth folders, by the code that scores validation.

    .venv/bin/python benchmarks/test_split.py --card CANDIDATE.json --baseline src/facetrust/models/forensicnet.json \
        --data ../cache/synth128_all ../cache/synth128_hires ../cache/synth128_generated --deploy synth128_hires

Prints, per model: AUC overall and per source folder, per family, under the robustness
conditions (crop level), val_auc_deploy (deployment-like genuine test crops vs every test fake),
and the false-positive rate of each genuine source at the model's own threshold. Both models see
the same crops in the same run. The test split is never used for selection or calibration.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    from facetrust.train.calibrate import sigmoid
    from facetrust.train.data import load_synth
    from facetrust.train.export import onnx_predict
    from facetrust.train.loop import validation_metrics

    ap = argparse.ArgumentParser()
    ap.add_argument("--card", required=True)
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--deploy", nargs="*", default=[])
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    cand_fn, cand = onnx_predict(a.card)
    test = load_synth(a.data, cand["input_size"], tuple(cand["families"])).split("test")
    print(f"test split: {len(test)} crops, {int((test.labels == 0).sum())} genuine; sources "
          + ", ".join(f"{s} {int((test.sources == s).sum())}" for s in sorted(set(test.sources))))
    out = {}
    for label, card_path in (("candidate", a.card), ("baseline", a.baseline)):
        if card_path is None:
            continue
        fn, card = onnx_predict(card_path)
        m = validation_metrics(fn, test, tuple(a.deploy), tuple(cand["families"]))
        p = sigmoid(fn(test.images)["logit"].astype(np.float64) / card["temperature"])
        for src in sorted(set(test.sources)):
            reals = (test.labels == 0) & (test.sources == src)
            if reals.any():
                m[f"fpr_at_threshold_{src}"] = float((p[reals] >= card["threshold"]).mean())
        m["tpr_at_threshold"] = float((p[test.labels == 1] >= card["threshold"]).mean())
        out[label] = {"name": card.get("name"), "version": card.get("version"), "threshold": card["threshold"], **m}
        print(f"\n{label}: {card.get('name')} v{card.get('version')} (threshold {card['threshold']:.3f})")
        for k, v in m.items():
            if v is not None and not k.startswith("val_family"):
                print(f"  {k.replace('val_', 'test_')}: {v:.3f}")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
