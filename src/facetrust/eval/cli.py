"""``facetrust eval`` and ``facetrust leaderboard`` sub-commands.

The main CLI calls :func:`add_parser` on its sub-command table (both commands are registered there).
Exit codes of ``facetrust eval``: 0 results written; 2 bad arguments (unknown detector, dataset or
protocol); 3 results written but no sample could be scored. ``facetrust leaderboard``: 0 ok,
2 no readable results file.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_USAGE, EXIT_NOTHING_SCORED = 0, 2, 3


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``eval`` and ``leaderboard`` on an ``argparse`` subparsers object."""
    from ..options import add_arguments
    from ..pipeline import ScanOptions
    from .engine import EVAL_SCAN_OPTIONS
    from .protocols import PROTOCOLS

    p = subparsers.add_parser(
        "eval",
        help="evaluate detectors on a dataset under a protocol (results.json + report.html)",
        description="Score a dataset with one or more detectors and write results.json (every number with "
        "its level, per-sample scores, skipped items) and a self-contained report.html. See docs/eval.md.",
    )
    # --detector: scan's own option (same default, declared once in ScanOptions); several add a fused score
    add_arguments(p, ScanOptions, ("detectors",))
    p.add_argument("--dataset", required=True, metavar="NAME|PATH",
                   help="registered name (wild-dev), NAME:PATH (ffpp:/data/FF++) or a path (layout auto-detected)")
    p.add_argument("--protocol", default="in-domain", metavar="NAME",
                   help=f"one of {', '.join(PROTOCOLS)} (default in-domain)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    # the scan options that change the numbers, generated from their one declaration (ScanOptions)
    add_arguments(p, ScanOptions, EVAL_SCAN_OPTIONS)
    p.add_argument("--cache", metavar="DIR", default=None,
                   help="face-detection cache (default ~/.cache/facetrust/eval)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the face cache")
    p.add_argument("--no-cache-crops", action="store_true", help="cache face boxes only, not aligned crops")
    p.add_argument("--limit", type=int, metavar="N", help="a deterministic pseudo-random subset of N samples")
    p.add_argument("--kinds", nargs="+", metavar="KIND",
                   help="only these kinds (plus all reals when no real kind is named)")
    p.add_argument("--kind-attr", default="auto", metavar="ATTR",
                   help="sample attribute used as the per-kind key (default auto: 'family' when present, else kind)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates of the CIs (0: none)")
    p.add_argument("--ci-min-groups", type=int, default=5,
                   help="no CI when a class has fewer independent units (groups) than this (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--perturbations", nargs="+", metavar="NAME[:LEVEL]",
                   help="robustness: jpeg resize blur noise (default all levels of all) or NAME:LEVEL items")
    p.add_argument("--group-attr", metavar="ATTR",
                   help="fairness: attribute to group by (default gender/race/age_group)")
    p.add_argument("--trained-on", metavar="LABEL", help="cross-dataset: what the detector was trained on (recorded)")
    p.add_argument("--no-report", action="store_true", help="write results.json only")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_eval)

    q = subparsers.add_parser("leaderboard", help="table several eval runs side by side",
                              description="Read results.json files (files, run folders or folders searched "
                              "recursively) and print detectors x (overall and per-kind metric) per level.")
    q.add_argument("paths", nargs="+", metavar="DIR")
    q.add_argument("--level", choices=("image", "frame", "video", "track"), help="only this level")
    q.add_argument("--metric", default="roc_auc", help="metric to table (default roc_auc)")
    q.add_argument("--html", metavar="OUT", help="also write an HTML table")
    q.add_argument("--csv", metavar="OUT", help="also write a CSV table")
    q.set_defaults(func=cmd_leaderboard)

    d = subparsers.add_parser("datasets", help="list the dataset adapters (names, aliases, layout detection)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_datasets)
    r = subparsers.add_parser("protocols", help="list the evaluation protocols")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_protocols)
    return p


def dataset_rows() -> list[dict]:
    from .adapters import DATASET_ADAPTERS

    return [
        {
            "name": e.name,
            "aliases": list(e.aliases),
            "detected": e.metadata.get("detect") is not None,
            "detect_order": e.metadata.get("detect_order") if e.metadata.get("detect") else None,
            "location": e.metadata.get("target", "root") + (" (optional)" if e.metadata.get("target_optional") else ""),
            "module": e.module,
            "summary": e.summary,
        }
        for e in DATASET_ADAPTERS.entries()
    ]


def cmd_datasets(args: argparse.Namespace) -> int:
    from ..listing import print_listing

    return print_listing("facetrust dataset adapters", dataset_rows(), args.json,
                         columns=("name", "aliases", "detect_order", "summary"))


def cmd_protocols(args: argparse.Namespace) -> int:
    from ..listing import print_listing
    from .protocols import PROTOCOL_REGISTRY

    rows = [{"name": e.name, "aliases": list(e.aliases), "description": e.metadata["description"], "module": e.module}
            for e in PROTOCOL_REGISTRY.entries()]
    return print_listing("facetrust evaluation protocols", rows, args.json, columns=("name", "aliases", "description"))


def _print_summary(console, run) -> None:
    from rich.table import Table

    res = run.results
    c = res["counts"]
    console.print(f"{c['samples']} samples: {c['scored']} scored, {c['no_face']} without a face, "
                  f"{c['error']} unreadable {c['errors_by_code'] or ''}")
    t = Table(title=f"{res['dataset']['name']} / {res['protocol']['name']} ({res['dataset']['selection']})")
    for col in ("scorer", "level", "fakes", "reals", "ROC AUC [95% CI]", "AP", "EER", "ECE"):
        t.add_column(col)

    def cell(row, m, ci=False):
        key = f"{m}@{row['level']}"
        r = row["metrics"].get(key)
        if r is None:
            return "-"
        if r["value"] is None:
            return f"null ({r['reason']})"
        text = f"{r['value']:.3f}"
        b = row["ci"].get(key) if ci else None
        if b and b.get("low") is not None:
            text += f" [{b['low']:.3f}, {b['high']:.3f}]"
        return text

    for row in run.rows(section="overall"):
        t.add_row(row["scorer"], row["level"], str(row["n_pos"]), str(row["n_neg"]), cell(row, "roc_auc", True),
                  cell(row, "average_precision"), cell(row, "eer"), cell(row, "ece"))
    console.print(t)
    kinds = run.rows(section="per_kind")
    if kinds:
        k = Table(title="ROC AUC per kind (fake kind vs all reals; real kind vs all fakes)")
        levels = [lv for lv in ("image", "frame", "video") if any(r["level"] == lv for r in kinds)]
        k.add_column("kind")
        cols = [(sc, lv) for sc in res["scorers"] for lv in levels
                if any(r["scorer"] == sc and r["level"] == lv for r in kinds)]
        for sc, lv in cols:
            k.add_column(f"{sc} @{lv}")
        for kind in dict.fromkeys(r["kind"] for r in kinds):
            vals = []
            for sc, lv in cols:
                m = [r for r in kinds if r["kind"] == kind and r["scorer"] == sc and r["level"] == lv]
                vals.append(cell(m[0], "roc_auc") + f" ({m[0]['n_pos']}/{m[0]['n_neg']})" if m else "")
            k.add_row(kind, *vals)
        console.print(k)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..errors import UnknownDetectorError
    from .datasets import load_dataset
    from .protocols import resolve
    from .runner import evaluate

    console = Console(stderr=True, quiet=args.quiet)
    try:
        protocol = resolve(args.protocol)
        dataset = load_dataset(args.dataset)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return EXIT_USAGE
    from ..options import from_args
    from ..pipeline import ScanOptions
    from .engine import EVAL_SCAN_OPTIONS

    scan_options = from_args(args, ScanOptions, EVAL_SCAN_OPTIONS)
    detectors = list(args.detectors or ScanOptions.default("detectors"))  # not given: what scan uses
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=args.quiet) as progress:
        task = progress.add_task("scoring", total=None)

        def on_progress(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what[:50])

        try:
            run = evaluate(
                detectors, dataset, protocol,
                cache_dir=args.cache, use_cache=not args.no_cache, out_dir=args.out, n_boot=args.n_boot,
                ci_min_groups=args.ci_min_groups,
                seed=args.seed, limit=args.limit, kinds=args.kinds, perturbations=args.perturbations,
                group_attr=args.group_attr, trained_on=args.trained_on, kind_attr=args.kind_attr,
                cache_crops=not args.no_cache_crops,
                report=not args.no_report, progress=on_progress, **scan_options,
            )
        except (UnknownDetectorError, ValueError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            return EXIT_USAGE
    if not args.quiet:
        _print_summary(Console(width=None if sys.stdout.isatty() else 160), run)
        console.print(f"wrote {run.results_path}" + (f" and {run.report_path}" if run.report_path else ""))
    return EXIT_OK if run.results["counts"]["scored"] else EXIT_NOTHING_SCORED


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .leaderboard import build_leaderboard, print_leaderboard, write_csv, write_html

    try:
        lb = build_leaderboard(args.paths, level=args.level, metric=args.metric)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not lb.rows:
        for p in lb.problems:
            print(f"skipped: {p}", file=sys.stderr)
        print("error: no readable results.json found", file=sys.stderr)
        return EXIT_USAGE
    print_leaderboard(lb, Console(width=None if sys.stdout.isatty() else 200))
    if args.csv:
        write_csv(lb, args.csv)
    if args.html:
        write_html(lb, args.html)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facetrust")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
