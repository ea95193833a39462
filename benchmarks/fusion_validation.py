"""Does fusing ForensicNet with the training-free cues help? Measured on the synth VALIDATION split.

The cue detectors get each validation crop as their frame (the crops are all a synth dataset
has), so they run in their crop fallback. Fusion = logistic regression on the detectors'
logits, scored with 5-fold cross-validation inside the validation split; the pipeline fuses
only if that beats ForensicNet alone. Nothing here reads evaluation data.

    .venv/bin/python benchmarks/fusion_validation.py --data ../cache/synth128
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from facetrust.detectors import FaceInput, create_detector
    from facetrust.eval.metrics import roc_auc
    from facetrust.train.data import load_synth

    val = load_synth(args.data, args.size).split("val")
    y = val.labels
    names = ["forensicnet", "noise_residual", "spectral"]
    probs = {}
    for name in names:
        det = create_detector(name)
        inputs = [FaceInput(crop=c, matrix=np.array([[1.0, 0, 0], [0, 1.0, 0]]), frame=c) for c in val.images]
        probs[name] = np.array([o.fake_probability for o in det.predict(inputs)])
    logit = {k: np.log(np.clip(v, 1e-6, 1 - 1e-6) / np.clip(1 - v, 1e-6, 1)) for k, v in probs.items()}
    out = {f"auc_{k}": roc_auc(y, v).value for k, v in probs.items()}
    x = np.column_stack([logit[k] for k in names])
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    fused = cross_val_predict(LogisticRegression(), x, y, cv=cv, method="predict_proba")[:, 1]
    out["auc_fused_cv"] = roc_auc(y, fused).value
    out["mean_of_three"] = roc_auc(y, np.mean([probs[k] for k in names], axis=0)).value
    out["n_val"] = int(len(y))
    print(json.dumps(out, indent=2))
    print("fuse" if out["auc_fused_cv"] > out["auc_forensicnet"] else "keep forensicnet alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
