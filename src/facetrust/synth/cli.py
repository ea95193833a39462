"""``facetrust synth``: build a labelled synthetic dataset from a folder of genuine face photos.

The main CLI calls :func:`add_parser` on its sub-command table; ``python -m facetrust.synth.cli``
runs it standalone. Exit codes: 0 ok, 1 nothing could be produced, 2 bad arguments/input.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..options import DeprecatedAlias


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``synth`` sub-command on an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "synth",
        help="manufacture labelled fakes (with masks) from genuine face photos",
        description="Detect and align faces in --faces, synthesise forgeries of every chosen family "
        "and write images, masks, manifest.csv and summary.json to --out.",
    )
    p.add_argument("--faces", required=True, help="folder of genuine face photos (searched recursively)")
    p.add_argument("--out", required=True, help="output dataset folder")
    p.add_argument("--families", nargs="+", default=None, metavar="NAME",
                   help="families to run (default: all; 'perturb' post-processes real and fake alike)")
    p.add_argument("--per-face", type=int, default=1, help="samples per source face per forgery family")
    p.add_argument("--reals-per-face", type=int, default=1, help="genuine samples per source face")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-seed", type=int, default=0, help="seed of the identity-group split")
    p.add_argument("--workers", type=int, default=1, help="processes (outputs do not depend on it)")
    p.add_argument("--limit", type=int, default=None, help="use at most N photos (a fixed, folder-mixed subset)")
    p.add_argument("--size", type=int, default=256, help="aligned crop size in pixels")
    p.add_argument("--margin", type=float, default=0.25, help="crop margin (facetrust.faces.CropSpec)")
    # One name with `scan --min-face-size`; `--min-face` still works (deprecated, says so).
    p.add_argument("--min-face-size", "--min-face", dest="min_face", type=float, default=32.0,
                   action=DeprecatedAlias, deprecated_alias="--min-face",
                   help="skip faces smaller than this (pixels, shorter box side); --min-face is a deprecated alias")
    p.add_argument("--max-outside", type=float, default=1.0,
                   help="skip photos whose crop is more than this share mirror padding (0..1)")
    p.add_argument("--perturb-prob", type=float, default=0.5, help="probability a sample is post-processed")
    p.add_argument("--format", choices=("png", "jpeg"), default="png", help="one format for every sample")
    p.add_argument("--jpeg-quality", type=int, default=95)
    p.add_argument("--pin", action="append", default=None, metavar="FOLDER=SPLIT",
                   help="force a source folder into one split (repeatable; FOLDER=auto unpins). "
                   "Default pins both faces-train CelebA folders to train (see docs/synth.md)")
    p.add_argument("--sheet", action="store_true", help="write a contact-sheet PNG per family")
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (there is none either with --json or when stdout is not a terminal)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    p.set_defaults(func=run)
    q = subparsers.add_parser("families", help="list the synthesis families (registered; trainable ones marked)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=list_families)
    return p


def family_rows() -> list[dict]:
    """One row per registered family: what it makes and whether ``facetrust train`` learns it."""
    from .registry import SYNTH_FAMILIES, training_families

    heads = training_families()
    return [
        {
            "name": e.name,
            "kind": ("post-processing" if e.obj.label != 1 else
                     "forgery" if e.obj.synthesised else "imported (facetrust corpus)"),
            "partner": e.obj.partner,
            "trainable": e.name in heads,
            "options": dict(e.obj.defaults),
            "module": e.module,
            "summary": e.summary,
        }
        for e in SYNTH_FAMILIES.entries()
    ]


def list_families(args: argparse.Namespace) -> int:
    from ..listing import print_listing

    return print_listing("facetrust synthesis families", family_rows(), args.json,
                         columns=("name", "kind", "partner", "trainable", "summary"))


def _pins(values: list[str] | None) -> dict[str, str]:
    from .splits import DEFAULT_PINS

    pins = dict(DEFAULT_PINS)
    for v in values or []:
        folder, sep, split = v.partition("=")
        if not sep or not folder:
            raise ValueError(f"--pin expects FOLDER=SPLIT, got {v!r}")
        if split in ("", "auto"):
            pins.pop(folder, None)
        else:
            pins[folder] = split
    return pins


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    # Parallelism comes from --workers; YuNet's OpenMP team is much slower on busy cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from ..progress_bar import progress_bar, progress_wanted
    from .splits import SplitPolicy
    from .writer import SynthConfig, generate

    faces = Path(args.faces)
    if not faces.is_dir():
        print(f"synth: --faces {faces} is not a folder", file=sys.stderr)
        return 2
    try:
        config = SynthConfig(
            families=tuple(args.families) if args.families else None,
            per_face=args.per_face,
            reals_per_face=args.reals_per_face,
            seed=args.seed,
            size=args.size,
            margin=args.margin,
            min_face=args.min_face,
            max_outside=args.max_outside,
            perturb_prob=args.perturb_prob,
            image_format=args.format,
            jpeg_quality=args.jpeg_quality,
            split=SplitPolicy(pinned=_pins(args.pin), seed=args.split_seed),
            sheet=args.sheet,
        )
        with progress_bar(progress_wanted(quiet=args.quiet, json_output=args.json)) as progress:
            summary = generate(faces, args.out, config, workers=args.workers, limit=args.limit,
                               overwrite=args.overwrite, progress=progress)
    except (ValueError, FileExistsError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(summary.lines()))
    return 0 if sum(summary.samples.values()) > 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facetrust")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
