"""Print a registry's listing (``facetrust detectors|datasets|families|protocols|backbones``):
a table on the terminal, or JSON with ``--json``. Rows are plain dicts, one per registered name."""

from __future__ import annotations

import json
from typing import Any, Sequence


def print_listing(
    title: str, rows: Sequence[dict[str, Any]], as_json: bool = False, columns: Sequence[str] | None = None
) -> int:
    """JSON: every field of every row; table: ``columns`` (default all)."""
    if as_json:
        print(json.dumps(list(rows), indent=2, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    columns = list(columns or (rows[0] if rows else ["name"]))
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console().print(table)
    return 0


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)
