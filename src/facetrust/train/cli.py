"""``facetrust train --config configs/NAME.yaml`` and ``facetrust ship RUN_DIR``."""

from __future__ import annotations

import argparse
import dataclasses


def _train(args: argparse.Namespace) -> int:
    from .config import TrainConfig
    from .loop import train

    cfg = TrainConfig.from_yaml(args.config)
    for key in ("data", "out_dir", "epochs"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    if args.holdout_family:
        cfg = dataclasses.replace(cfg, name=f"{cfg.name}_without_{args.holdout_family}",
                                  holdout_family=args.holdout_family)
    if args.lofo:
        from .lofo import run_lofo

        rows = run_lofo(cfg)
        print("family        LOFO AUC  in-domain AUC (same budget)")
        for r in rows:
            lofo = "n/a" if r["lofo_auc"] is None else f"{r['lofo_auc']:.3f}"
            ref = "n/a" if r["in_domain_auc"] is None else f"{r['in_domain_auc']:.3f}"
            print(f"{r['family']:<13} {lofo:>8}  {ref:>13}")
        return 0
    best = train(cfg)
    print(f"best checkpoint (validation AUC): {best}")
    return 0


def _ship(args: argparse.Namespace) -> int:
    from .export import ship

    card = ship(args.run, args.out, name=args.name, version=args.version, threshold_reals=args.threshold_reals,
                baseline=args.baseline)
    print(f"wrote {card} and its ONNX weights")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a detector on synthesised data (resumes from the last epoch)")
    p.add_argument("--config", required=True, help="YAML file (see configs/)")
    p.add_argument("--data", default=None, help="override: synth dataset folder")
    p.add_argument("--out-dir", dest="out_dir", default=None, help="override: runs folder")
    p.add_argument("--epochs", type=int, default=None, help="override: number of epochs")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--holdout-family", default=None, metavar="FAMILY",
                      help="leave this family's fakes out of train and validation (run <name>_without_<FAMILY>)")
    mode.add_argument("--lofo", action="store_true",
                      help="leave-one-family-out: a reference run plus one run per family, scored on test")
    p.set_defaults(func=_train)
    p = sub.add_parser("ship", help="calibrate a run on validation, export ONNX + model card")
    p.add_argument("run", help="run folder with best.pt")
    p.add_argument("--out", default="src/facetrust/models")
    p.add_argument("--name", default="forensicnet")
    p.add_argument("--version", default="1")
    p.add_argument("--threshold-reals", default=None, metavar="SYNTH_DIR",
                   help="another synth folder (same split seed) whose genuine validation crops join the "
                        "threshold's reals (e.g. `facetrust synth --per-face 0` over more photos)")
    p.add_argument("--baseline", default=None, metavar="CARD_JSON",
                   help="a shipped model's card: its validation figures on the same crops go into the new card")
    p.set_defaults(func=_ship)
