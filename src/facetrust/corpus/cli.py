"""``facetrust corpus build`` and ``facetrust corpus faces``."""

from __future__ import annotations

import argparse
import json

from ..options import DeprecatedAlias


def _guard(value: str | None):
    """None: the default guard when present; "none": no guard (tests of the tool itself)."""
    return None if value == "none" else (value or "auto")


def _build(args: argparse.Namespace) -> int:
    from .build import build_corpus

    r = build_corpus(args.recipe, args.mirror_root, args.out, guard=_guard(args.guard))
    print(json.dumps({"built": len(r.built), "reused": r.reused, "missing": r.missing,
                      "mismatched": r.mismatched, "blocked": r.blocked, "guard": r.guard}, indent=2))
    return 0 if r.ok else 1


def _faces(args: argparse.Namespace) -> int:
    from .faces import FaceCropSettings, extract_face_crops

    given = {"frames_per_video": args.frames, "min_face": args.min_face}
    s = FaceCropSettings(**{k: v for k, v in given.items() if v is not None})  # None: the declared default
    print(json.dumps(extract_face_crops(args.corpus, args.out, s, guard=_guard(args.guard)), indent=2))
    return 0


def _mark_generated(args: argparse.Namespace) -> int:
    from .generated import mark_generated

    print(f"{mark_generated(args.dataset, args.labels, args.drop_grid_edges)} samples relabelled as generated fakes")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("corpus", help="build training corpora from committed recipes of public media")
    csub = p.add_subparsers(dest="corpus_command", required=True)
    b = csub.add_parser("build", help="extract a recipe's files from git snapshots and verify their sha256")
    b.add_argument("--recipe", required=True, help="recipe TSV (see recipes/)")
    b.add_argument("--mirror-root", required=True, help="folder of snapshots: MIRROR_ROOT/owner+name/repo")
    b.add_argument("--out", required=True, help="corpus folder (keep it outside the repository, e.g. ../cache)")
    b.add_argument("--guard", default=None, help="eval_guard.py (default: ../shared/tools/eval_guard.py if present; 'none' skips it)")
    b.set_defaults(func=_build)
    f = csub.add_parser("faces", help="one context crop per face of a built corpus (images and video frames)")
    f.add_argument("--corpus", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--frames", type=int, default=None, help="frames sampled per video (default 12)")
    # One name with `scan --min-face-size`; `--min-face` still works (deprecated, says so).
    f.add_argument("--min-face-size", "--min-face", dest="min_face", type=float, default=None,
                   action=DeprecatedAlias, deprecated_alias="--min-face",
                   help="skip faces smaller than this (px, shorter box side; default 40); --min-face is a deprecated alias")
    f.add_argument("--guard", default=None)
    f.set_defaults(func=_faces)
    g = csub.add_parser("mark-generated", help="relabel a synth folder of generated-corpus crops as 'generated' fakes")
    g.add_argument("dataset", help="folder written by `facetrust synth --per-face 0` over a generated corpus")
    g.add_argument("--labels", default=None, help="labels.tsv of `corpus faces`: every crop must be declared fake")
    g.add_argument("--drop-grid-edges", action="store_true",
                   help="drop crops crossed by a black line (tile gaps of figure grids): no 'black bar = fake' cue")
    g.set_defaults(func=_mark_generated)
