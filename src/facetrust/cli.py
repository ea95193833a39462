"""``facetrust`` command line.

Exit codes of ``facetrust scan`` (also in README): 0 every input scanned, none fake;
1 at least one input judged fake; 3 none fake but at least one input could not be scanned
(verdict ``error``); 4 no input found; 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAKE, EXIT_USAGE, EXIT_ERRORS, EXIT_NO_INPUT = 0, 1, 2, 3, 4


def _add_scan_options(p: argparse.ArgumentParser) -> None:
    """The flags of every scan option, generated from their one declaration (ScanOptions)."""
    from .options import add_arguments
    from .pipeline import ScanOptions

    add_arguments(p, ScanOptions)


def _options(args: argparse.Namespace) -> dict:
    """The scan options given on the command line (the rest keep ScanOptions' defaults)."""
    from .options import from_args
    from .pipeline import ScanOptions

    return from_args(args, ScanOptions)


def cmd_scan(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from . import api
    from .io.inputs import collect_entries
    from .report import write_csv, write_html, write_json

    console = Console(stderr=True, quiet=args.quiet)
    if args.heatmaps and not args.json:
        console.print("[red]error:[/red] --heatmaps adds each face's heatmap to the JSON report: give --json too")
        return EXIT_USAGE
    # the walker of batch, the API and the server: globs expand here too
    entries = collect_entries(args.paths, recursive=not args.no_recursive, include=args.include or (),
                              exclude=args.exclude or ())
    if not entries:
        console.print("[red]no input found[/red]")
        return EXIT_NO_INPUT
    # Previews and heatmaps are only drawn by the HTML report; kept for every row of a batch they cost
    # ~1 MB per image (issue 13), so without --html they are neither made nor kept.
    opts = {**_options(args), "previews": bool(args.html)}
    try:
        api.get_scanner(**opts)  # checks the options and loads the models before the first file
    except (ValueError, TypeError, KeyError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return EXIT_USAGE
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=args.quiet) as progress:
        overall = progress.add_task("scanning", total=len(entries))
        frames = progress.add_task("  frames", total=None, visible=False)  # the current video's

        def started(path: str) -> None:
            progress.update(overall, description=f"scanning {Path(path).name[:40]}")
            progress.update(frames, completed=0, total=None, visible=False)

        def frame_done(n_done: int, n_expected: int | None) -> None:  # facetrust.pipeline.ProgressFn
            if n_done > 1 or (n_expected or 0) > 1:  # a video (an image is one frame: no second bar)
                progress.update(frames, completed=n_done, total=n_expected, visible=True)

        results = []
        stems: dict[str, int] = {}  # --masks: one file name per input even when two share a stem
        for result in api.iter_entries(entries, on_media_start=started, progress=frame_done, **opts):
            if args.masks and result.faces:
                from .report.masks import write_masks

                stem = Path(result.path).stem or "media"
                stems[stem] = stems.get(stem, 0) + 1
                write_masks(result, args.masks, stem if stems[stem] == 1 else f"{stem}_{stems[stem]}")
            if not (args.html or args.heatmaps):
                for face in result.faces:
                    face.heatmap = None
            results.append(result)
            progress.advance(overall)
    report = api.make_report(results, **opts)
    if args.json == "-":  # JSON on stdout; the table and the progress go to stderr
        from .report.json_io import report_to_json_text

        sys.stdout.write(report_to_json_text(report, heatmaps=args.heatmaps))
        sys.stdout.flush()
    elif args.json:
        write_json(report, args.json, heatmaps=args.heatmaps)
    if args.csv:
        write_csv(report, args.csv)
    if args.html:
        write_html(report, args.html)
    if not args.quiet:
        _print_summary(console, report)
    counts = report.counts()
    if counts["fake"]:
        return EXIT_FAKE
    if counts["error"]:
        return EXIT_ERRORS
    return EXIT_OK


def _print_summary(console, report) -> None:
    from rich.table import Table

    from rich.markup import escape

    from .report.labels import pct

    table = Table(title="facetrust scan")
    for col in ("path", "verdict", "p(fake)", "faces", "note"):
        table.add_column(col)
    for r in report.results:
        colour = VERDICT_COLOURS.get(r.verdict, "white")
        table.add_row(escape(r.path), f"[{colour}]{r.verdict}[/]", f"[{colour}]{pct(r.fake_probability)}[/]",
                      str(len(r.faces)), escape(summary_note(r)))
    console.print(table)
    console.print(", ".join(f"{k}: {v}" for k, v in report.counts().items()))
    for r in report.results:  # warnings are printed, not only tucked into the table
        for note in r.notes:
            console.print(f"[yellow]warning:[/yellow] {escape(r.path)}: {escape(note)}")


VERDICT_COLOURS = {"real": "green", "fake": "red", "not_applicable": "yellow", "error": "magenta"}


def summary_note(r) -> str:
    """The table's note: the error or reason, the tracks, faces below the quality gate, the face cap."""
    parts = [r.error or r.reason or ""]
    if r.tracks:
        parts.append(f"{len(r.tracks)} track(s)")
    gated = sum(not f.decisive for f in r.faces)
    if gated and r.verdict in ("real", "fake"):
        parts.append(f"{gated} face(s) not deciding (below the quality gate)")
    if r.notes:
        parts.append("face cap reached" if any("face cap" in n for n in r.notes) else r.notes[0])
    return "; ".join(p for p in parts if p)


def cmd_detectors(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .api import list_detectors

    infos = list_detectors()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title="facetrust detectors")
    for col in ("name", "version", "crop", "kind", "heatmap", "catches"):
        table.add_column(col)
    for i in infos:
        table.add_row(i.name, i.version, f"{i.crop.size}px m{i.crop.margin:g}",
                      "trained" if i.trained else "cue", "yes" if i.outputs_heatmap else "no", i.catches)
    Console().print(table)
    return EXIT_OK


# The scan options `extract` shares with `scan` (flags generated from ScanOptions, one name each).
EXTRACT_OPTIONS = ("face_detector", "frames", "every", "fps", "min_face_size", "min_face_score", "max_faces",
                   "max_pixels")


def _crop_of(detector: str | None):
    """The crop (size, margin) a forensic detector sees (None: the default detector's, the crop scan
    scores): what `extract` writes unless told otherwise."""
    from .detectors import DEFAULT_DETECTORS, create_detector

    return create_detector(detector or DEFAULT_DETECTORS[0]).info.crop


def cmd_extract(args: argparse.Namespace) -> int:
    import cv2

    from .api import extract_faces
    from .errors import MediaError
    from .io import expand_sources
    from .options import from_args
    from .pipeline import ScanOptions

    options = from_args(args, ScanOptions, EXTRACT_OPTIONS)
    try:
        ScanOptions.given(**options)
        if args.size is None or args.margin is None:
            crop = _crop_of(args.detector)
            size = crop.size if args.size is None else args.size
            margin = crop.margin if args.margin is None else args.margin
        else:
            size, margin = args.size, args.margin
    except (ValueError, TypeError, KeyError) as exc:
        print(f"facetrust extract: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_faces = n_failed = 0
    for path in expand_sources(args.paths):
        try:
            faces = extract_faces(str(path), size=size, margin=margin, **options)
        except MediaError as exc:
            print(f"skip {path}: {exc.code}: {exc}", file=sys.stderr)
            n_failed += 1
            continue
        for k, f in enumerate(faces):
            name = f"{Path(path).stem}_f{f.frame_index:06d}_{k}.png"
            cv2.imwrite(str(out / name), cv2.cvtColor(f.crop, cv2.COLOR_RGB2BGR))
            n_faces += 1
    print(f"{n_faces} face crop(s) of {size} px, margin {margin:g} written to {out}; {n_failed} input(s) skipped")
    return EXIT_ERRORS if n_failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.out))


def _whole_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def _number_at_least(low: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value >= low or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a finite number >= {low:g}, got {text}")
        return value
    return parse


BUILT_IN_COMMANDS = ("scan", "detectors", "extract", "demo")
STAGES = ("synth", "corpus", "eval", "train", "server", "biometrics", "batch")


def build_parser(*, stages: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``stages=False`` leaves out the stages' sub-commands (importing their
    modules costs ~0.15 CPU-s, a noticeable share of a short scan)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="facetrust", description="Offline face forensics.")
    parser.add_argument("--version", action="version", version=f"facetrust {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("scan", help="scan images, videos or folders for forged faces")
    p.add_argument("paths", nargs="+", help="files or folders")
    _add_scan_options(p)
    p.add_argument("--json", metavar="OUT", help="write the JSON report ('-': to stdout)")
    p.add_argument("--csv", metavar="OUT", help="write a CSV summary (one row per media)")
    p.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    p.add_argument("--masks", metavar="DIR",
                   help="write each face's heatmap as grey PNGs, at crop and at image resolution")
    p.add_argument("--heatmaps", action="store_true",
                   help="with --json: each face's heatmap in the JSON (rows over the face crop, 3 decimals)")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="folders: only files matching (scanned whatever their extension, e.g. '*.raw')")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="folders: skip files matching")
    p.add_argument("--no-recursive", action="store_true", help="folders: do not descend")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("detectors", help="list the forensic detectors")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_detectors)

    p = sub.add_parser("extract", help="write aligned face crops (the training/inference crop)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--detector", default=None, metavar="NAME",
                   help="write the crop this forensic detector sees (default: the default detector, "
                        "the crop scan uses)")
    p.add_argument("--size", type=_whole_at_least(16), default=None, metavar="PX",
                   help="crop side in pixels (default: the detector's)")
    p.add_argument("--margin", type=_number_at_least(0.0), default=None,
                   help="context around the face, as a fraction of its size (default: the detector's)")
    from .options import add_arguments
    from .pipeline import ScanOptions

    add_arguments(p, ScanOptions, EXTRACT_OPTIONS)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("demo", help="build sample media from bundled images, scan them, write a report")
    p.add_argument("--out", default="demo_out")
    p.set_defaults(func=cmd_demo)

    import importlib
    import importlib.util

    for stage in STAGES if stages else ():  # stages register their own sub-commands
        if importlib.util.find_spec(f"facetrust.{stage}") and importlib.util.find_spec(f"facetrust.{stage}.cli"):
            importlib.import_module(f"facetrust.{stage}.cli").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # A built-in command needs no stage's parser; anything else (help, a stage, a typo) gets them all.
    parser = build_parser(stages=not (argv and argv[0] in BUILT_IN_COMMANDS))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
