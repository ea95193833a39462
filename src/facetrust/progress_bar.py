"""Progress bars for long commands (``synth``, ``train``): per-item or per-step counts, ETA, rounded metrics.

A long-running function takes a :data:`StepProgress` callback and calls it as
``progress(stage, done, total, metrics)``; it never draws anything itself. The command line turns the
callback into a Rich bar with :func:`progress_bar`, or into nothing when :func:`progress_wanted` says
no (``--json``, ``--quiet``, or stdout not a terminal), so logs and tests stay clean.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["StepProgress", "progress_wanted", "progress_bar", "format_metrics", "METRIC_DECIMALS"]

# progress(stage, done, total, metrics): ``stage`` names the bar ("epoch 3/10"), done <= total.
StepProgress = Callable[[str, int, int, "Mapping[str, float | None] | None"], None]

METRIC_DECIMALS = 3  # metrics on a bar: loss 0.123, not 0.12345678


def progress_wanted(*, quiet: bool = False, json_output: bool = False, stream: Any = None) -> bool:
    """Draw a bar only for a person at a terminal: not with --quiet or --json, not into a pipe or a log."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and not json_output and bool(isatty and isatty())


def format_metrics(metrics: Mapping[str, float | None] | None) -> str:
    """'loss 0.123 · val_auc 0.912' (finite numbers rounded to METRIC_DECIMALS; others as n/a)."""
    parts = []
    for k, v in (metrics or {}).items():
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        parts.append(f"{k} {v:.{METRIC_DECIMALS}f}" if ok else f"{k} n/a")
    return " · ".join(parts)


@contextmanager
def progress_bar(enabled: bool, console: Any = None) -> Iterator[StepProgress]:
    """A :data:`StepProgress` that drives one Rich bar per stage (count, elapsed, ETA, metrics), or does
    nothing when not ``enabled``. A stage whose count goes back (the batches of the next epoch) restarts its
    bar, ETA included; bars of finished stages stay on screen; ``console`` defaults to stderr."""
    if not enabled:
        yield lambda stage, done, total, metrics=None: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[metrics]}"))
    with Progress(*columns, console=console or Console(stderr=True)) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int, metrics: Mapping[str, float | None] | None = None) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total, metrics="")
            elif done < bars.tasks[tasks[stage]].completed:
                bars.reset(tasks[stage], total=total)
            bars.update(tasks[stage], completed=done, total=total, metrics=format_metrics(metrics))

        update.bars = bars  # type: ignore[attr-defined]  # the Rich Progress, for callers that inspect it
        yield update
