"""``facetrust verify PROBE --reference REF``.

Exit codes: 0 same person, the probe's forgery scan says real and D-MAD does not flag a morph
(accepted); 1 different person, the probe's scan is not real, or D-MAD flags (or could not check) a morph (rejected); 3 no decision (an image without a usable face, or unreadable); 4 an input
file does not exist; 2 usage error (argparse, bad scan options).
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE, EXIT_NO_DECISION, EXIT_NO_INPUT = 0, 1, 2, 3, 4


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..options import add_arguments
    from ..pipeline import ScanOptions

    p = subparsers.add_parser(
        "verify", help="is the probe photo the same person as the reference photo (and is the probe forged)",
        description="Compare the most prominent plausible face of PROBE and REF (dlib 128-d embedding, "
        "calibrated same-person probability) and scan PROBE for forgery. See docs/verify.md.")
    p.add_argument("probe", help="the photo to check")
    p.add_argument("--reference", required=True, metavar="REF", help="a trusted photo of the claimed person")
    add_arguments(p, ScanOptions)  # the probe's forgery scan and the face detector/quality gate of both
    p.add_argument("--json", metavar="OUT", help="write the JSON report")
    p.add_argument("--html", metavar="OUT", help="write a small self-contained HTML report")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_verify)
    return p


def cmd_verify(args: argparse.Namespace) -> int:
    import sys

    from rich.console import Console

    from .. import api
    from ..options import from_args
    from ..pipeline import ScanOptions
    from .embedding import load_embedder
    from .render import write_verify_html, write_verify_json
    from .verify import verify_pair

    console = Console(stderr=True, quiet=args.quiet)
    missing = [p for p in (args.probe, args.reference) if not Path(p).exists()]
    if missing:
        console.print(f"[red]not found:[/red] {', '.join(missing)}")
        return EXIT_NO_INPUT
    opts = {**from_args(args, ScanOptions), "previews": False}
    try:
        load_embedder()  # the optional dlib extra, before any work
        scanner = api.get_scanner(**opts)
    except ImportError as exc:
        console.print(f"[red]error:[/red] verify needs the dlib extra (pip install 'facetrust[dlib]'): {exc}")
        return EXIT_USAGE
    except (ValueError, TypeError, KeyError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return EXIT_USAGE
    report = verify_pair(args.probe, args.reference, scanner=scanner, keep_chips=bool(args.html))
    if args.json:
        write_verify_json(report, args.json)
    if args.html:
        write_verify_html(report, args.html)
    if not args.quiet:
        _print_summary(report, sys.stdout)
    if report.status != "ok":
        return EXIT_NO_DECISION
    return EXIT_ACCEPTED if report.accepted else EXIT_REJECTED


def _print_summary(report, out) -> None:
    if report.status != "ok":
        print(f"{report.status}: {report.reason or report.error}", file=out)
        return
    scan = report.probe_scan
    print(f"{report.decision}: p(same person) {report.same_person_probability:.3f}, distance "
          f"{report.euclidean_distance:.4f} (threshold {report.threshold:.4f}); probe scan {scan.verdict}"
          f"{'' if scan.fake_probability is None else f' p(fake) {scan.fake_probability:.3f}'}; "
          f"{_morph_summary(report.morph)}; "
          f"{'accepted' if report.accepted else 'rejected'}", file=out)


def _morph_summary(m) -> str:
    if m is None or m.status != "ok":
        return f"morph check {'-' if m is None else m.status}"
    return (f"morph S-MAD {m.smad_probability:.3f}{' FLAGGED' if m.smad_flagged else ''}, "
            f"D-MAD {m.dmad_probability:.3f}{' FLAGGED' if m.dmad_flagged else ''}")
