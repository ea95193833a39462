"""Leave-one-family-out: how well ForensicNet catches a forgery family it never saw.

For each family F, a run ``<name>_without_<F>`` trains with F's fakes removed from train *and*
validation (so F cannot influence the checkpoint either), then its best checkpoint scores the
test split: F's fakes against all test reals. A reference run on every family with the same
budget gives the in-domain figure each fold is compared with. Scores are crop-level (the synth
crops themselves), the same level as the validation metrics.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np

from .config import TrainConfig
from ..synth.registry import training_families


def test_family_aucs(run_dir: Path, data_dir: str | None = None) -> dict[str, float | None]:
    """AUC of each family's test fakes vs all test reals, for the run's best checkpoint."""
    from ..eval import metrics as M
    from .data import load_synth
    from .export import load_run_model
    from .loop import predict

    model, cfg, _ = load_run_model(Path(run_dir))
    test = load_synth(data_dir or cfg.data, cfg.image_size, model.families).split("test")
    scores = predict(model, test.images)["logit"]
    reals = test.families == 0
    out: dict[str, float | None] = {"all": M.roc_auc(test.labels, scores).value}
    for i, fam in enumerate(model.families[1:], start=1):
        sel = reals | (test.families == i)
        out[fam] = M.roc_auc(test.labels[sel], scores[sel]).value
    return {k: None if v is None else float(v) for k, v in out.items()}


def run_lofo(cfg: TrainConfig, families: tuple[str, ...] | None = None, log=print) -> list[dict]:
    """Train (or resume) the reference and one fold per family; returns and writes the table."""
    from .loop import train

    ref_cfg = dataclasses.replace(cfg, holdout_family=None)
    train(ref_cfg, log=log)
    reference = test_family_aucs(ref_cfg.run_dir)
    rows = []
    for fam in training_families()[1:] if families is None else families:
        fold = dataclasses.replace(cfg, name=f"{cfg.name}_without_{fam}", holdout_family=fam)
        train(fold, log=log)
        aucs = test_family_aucs(fold.run_dir)
        rows.append({"family": fam, "lofo_auc": aucs[fam], "in_domain_auc": reference[fam],
                     "drop": None if aucs[fam] is None or reference[fam] is None else reference[fam] - aucs[fam],
                     "others_auc": _mean([v for k, v in aucs.items() if k not in ("all", fam)])})
        log(f"LOFO {fam}: held-out AUC {_fmt(aucs[fam])} vs in-domain {_fmt(reference[fam])}")
    out = Path(cfg.out_dir) / f"{cfg.name}_lofo"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "lofo.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (out / "lofo.json").write_text(json.dumps({"config": cfg.to_dict(), "reference": reference, "folds": rows},
                                              indent=2))
    return rows


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"
