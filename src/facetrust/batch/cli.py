"""``facetrust batch INPUTS... --out DIR``: stream one row per file to DIR, resumable and shardable.

Exit codes as ``facetrust scan`` (over every row of DIR): 0 none fake, 1 at least one fake, 3 none
fake but some error rows, 4 no input, 2 usage error (bad options, DIR holds another job, DIR busy).
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_FAKE, EXIT_USAGE, EXIT_ERRORS, EXIT_NO_INPUT = 0, 1, 2, 3, 4


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``batch`` sub-command."""
    from ..options import add_arguments
    from ..pipeline import ScanOptions
    from .engine import EngineSettings

    p = subparsers.add_parser(
        "batch",
        help="scan many files into a folder: streamed rows, resumable after a crash, shardable",
        description="Scan INPUTS (files, folders, globs) and --from-list files into --out: results.jsonl "
        "(one row per file, written as it goes), Parquet parts when pyarrow is installed, a SQLite ledger "
        "(a re-run scans only what is missing) and summary.json.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="files, folders or globs ('**' descends)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; re-use it to resume)")
    p.add_argument("--from-list", action="append", default=[], metavar="FILE",
                   help="a file of paths or globs, one per line (# comments); repeatable")
    p.add_argument("--shard", default="0/1", metavar="I/N", help="scan only shard I of N (0 <= I < N), "
                   "split by path hash; give each shard its own --out")
    add_arguments(p, EngineSettings)
    p.add_argument("--no-parquet", action="store_true", help="write results.jsonl only")
    add_arguments(p, ScanOptions)
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="folders: only files matching (scanned whatever their extension)")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="folders: skip files matching")
    p.add_argument("--no-recursive", action="store_true", help="folders: do not descend")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..options import from_args
    from ..pipeline import ScanOptions
    from .engine import EngineSettings, EngineUnavailable
    from .inputs import Shard, collect_entries
    from .runner import BatchJob, OutputLocked

    console = Console(stderr=True, quiet=args.quiet)
    try:
        shard = Shard.parse(args.shard)
        job = BatchJob(args.out, from_args(args, ScanOptions), shard=shard,
                       parquet=False if args.no_parquet else None, **from_args(args, EngineSettings))
        entries = collect_entries(args.inputs, args.from_list, recursive=not args.no_recursive,
                                  include=args.include or (), exclude=args.exclude or ())
    except (ValueError, TypeError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not entries:
        print("no input found", file=sys.stderr)
        return EXIT_NO_INPUT
    mine = shard.select(entries)
    try:
        summary = _run_with_progress(job, mine, console, quiet=args.quiet)
    except (ValueError, OutputLocked, EngineUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    verdicts = summary["verdicts"]
    if verdicts.get("fake"):
        return EXIT_FAKE
    if verdicts.get("error"):
        return EXIT_ERRORS
    return EXIT_OK


def _run_with_progress(job, entries, console, *, quiet: bool) -> dict:
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    class FilesPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("- files/s" if speed is None else f"{speed:.1f} files/s")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), FilesPerSecond(),
                  TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=quiet) as progress:
        task = progress.add_task(f"batch {job.shard}", total=len(entries))
        frames = progress.add_task("  frames", total=None, visible=False)  # the current video's (1 worker)

        def advanced(outcome) -> None:
            progress.advance(task)
            progress.update(frames, completed=0, total=None, visible=False)

        def frame_done(n_done: int, n_expected: int | None) -> None:  # facetrust.pipeline.ProgressFn
            if n_done > 1 or (n_expected or 0) > 1:  # a video, not a one-frame image
                progress.update(frames, completed=n_done, total=n_expected, visible=True)

        return job.run(entries, on_advance=advanced, on_frames=frame_done)


def _print_summary(summary: dict) -> None:
    run = summary["this_run"]
    lines = [
        f"{summary['rows']} row(s) in {summary['out']} for {summary['inputs']} input(s) (shard {summary['shard']})",
        f"this run: {run['scanned']} scanned, {run['duplicates']} duplicate(s) copied, "
        f"{run['already_done']} already done, {run['adopted_after_crash']} adopted after a crash; "
        f"{run['files_per_s']:.2f} files/s over {run['elapsed_s']:.1f} s with {run['workers']} worker(s)",
        "verdicts: " + (", ".join(f"{k}: {v}" for k, v in summary["verdicts"].items()) or "-"),
        "error types: " + (", ".join(f"{k}: {v}" for k, v in summary["error_types"].items()) or "-"),
        f"duplicates by content: {summary['duplicates']}",
    ]
    print("\n".join(lines), file=sys.stdout)
