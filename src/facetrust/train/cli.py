"""``facetrust train --config configs/NAME.yaml`` and ``facetrust ship RUN_DIR --out DIR``.

A user mistake (a missing or malformed config, an unknown key, a missing run folder) ends with a
one-line message and exit code 2, not a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

EXIT_USAGE = 2


def _usage_error(command: str, message: object) -> int:
    print(f"facetrust {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def load_config(path: str):
    """The TrainConfig of ``path``, or ValueError with a message a user can act on."""
    import yaml

    from .config import TrainConfig

    if not Path(path).is_file():
        raise ValueError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    try:
        return TrainConfig.from_yaml(path)
    except TypeError as exc:  # e.g. a required key missing
        raise ValueError(f"{path}: {exc}") from None


def _train(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ValueError as exc:
        return _usage_error("train", exc)
    from .loop import train

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
    from ..progress_bar import progress_bar, progress_wanted

    with progress_bar(progress_wanted(quiet=args.quiet)) as progress:
        best = train(cfg, progress=progress)
    print(f"best checkpoint (validation AUC): {best}")
    return 0


def _ship(args: argparse.Namespace) -> int:
    from .export import ship

    if not (Path(args.run) / "best.pt").is_file():
        return _usage_error("ship", f"no best.pt in {args.run} (give a run folder written by facetrust train)")
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
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (there is none either when stdout is not a terminal)")
    p.set_defaults(func=_train)
    p = sub.add_parser("ship", help="calibrate a run on validation, export ONNX + model card")
    p.add_argument("run", help="run folder with best.pt")
    # No default: writing into the installed package's model folder must be asked for explicitly.
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the card and its ONNX weights")
    p.add_argument("--name", default="forensicnet")
    p.add_argument("--version", default="1")
    p.add_argument("--threshold-reals", default=None, metavar="SYNTH_DIR",
                   help="another synth folder (same split seed) whose genuine validation crops join the "
                        "threshold's reals (e.g. `facetrust synth --per-face 0` over more photos)")
    p.add_argument("--baseline", default=None, metavar="CARD_JSON",
                   help="a shipped model's card: its validation figures on the same crops go into the new card")
    p.set_defaults(func=_ship)
