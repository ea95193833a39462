"""``facetrust leaderboard``: several evaluation runs side by side.

Reads ``results.json`` files (a file, a run folder, or a folder searched recursively) and builds one
row per (run, scorer, level): overall ROC AUC (with its CI), counts, and the AUC of every kind
found in any run's per-kind table. The level is always a column: frame- and video-level numbers
are never put in one column.
"""

from __future__ import annotations

import csv
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

LEVEL_ORDER = ("image", "frame", "video", "track")


def find_results(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """``results.json`` files named by ``paths`` (files, run folders, or folders searched recursively)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            found = [p]
        elif (p / "results.json").is_file():
            found = [p / "results.json"]
        elif p.is_dir():
            found = sorted(p.rglob("results.json"))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
        out += [f for f in found if f not in out]
    return out


def load_run(path: Path) -> dict[str, Any]:
    """One results document (raises ValueError when it is not a facetrust eval results file)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from None
    ok = isinstance(doc, dict) and str(doc.get("schema", "")).startswith("facetrust.eval/") and "metrics" in doc
    if not ok:
        raise ValueError(f"{path}: not a facetrust eval results file")
    return doc


@dataclass
class Leaderboard:
    """Rows of runs x scorers x levels; ``kinds`` are the per-kind columns."""

    metric: str
    kinds: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files that could not be read

    @property
    def columns(self) -> list[str]:
        return ["run", "scorer", "dataset", "protocol", "level", "fakes", "reals", self.metric, "ci", *self.kinds]

    def get(self, row: dict[str, Any], column: str) -> Any:
        """A cell: fixed columns first, then the per-kind values."""
        if column in self.columns[: len(self.columns) - len(self.kinds)]:
            return row.get(column)
        return row.get("per_kind", {}).get(column)

    def as_records(self) -> list[dict[str, Any]]:
        return [{c: self.get(r, c) for c in self.columns} for r in self.rows]


def _value(row: dict[str, Any], metric: str) -> float | None:
    return row.get("metrics", {}).get(f"{metric}@{row['level']}", {}).get("value")


def _run_label(path: Path) -> str:
    return path.parent.name if path.name == "results.json" else path.stem


def build_leaderboard(
    paths: Sequence[str | os.PathLike], *, level: str | None = None, metric: str = "roc_auc"
) -> Leaderboard:
    """Collect every run under ``paths``; ``level`` keeps one level only."""
    files = find_results(paths)
    lb = Leaderboard(metric, [])
    kinds: list[str] = []
    for f in files:
        try:
            doc = load_run(f)
        except ValueError as exc:
            lb.problems.append(str(exc))
            continue
        label = _run_label(f)
        ds = doc.get("dataset", {})
        versions = {d["name"]: d.get("version") for d in doc.get("detectors", [])}
        for o in doc["metrics"]:
            if o.get("section") != "overall" or (level and o["level"] != level):
                continue
            key = f"{metric}@{o['level']}"
            ci = o.get("ci", {}).get(key) or {}
            ver = versions.get(o["scorer"])
            row: dict[str, Any] = {
                "run": label,
                "scorer": o["scorer"] + (f" {ver}" if ver else ""),
                "dataset": ds.get("name"),
                "protocol": doc.get("protocol", {}).get("name"),
                "level": o["level"],
                "fakes": o.get("n_pos"),
                "reals": o.get("n_neg"),
                metric: _value(o, metric),
                "ci": None if ci.get("low") is None else f"[{ci['low']:.3f}, {ci['high']:.3f}]",
                "reason": o.get("metrics", {}).get(key, {}).get("reason"),
                "path": str(f),
                "per_kind": {},
            }
            for k in doc["metrics"]:
                if k.get("section") == "per_kind" and k["scorer"] == o["scorer"] and k["level"] == o["level"]:
                    row["per_kind"][k["kind"]] = _value(k, metric)
                    if k["kind"] not in kinds:
                        kinds.append(k["kind"])
            lb.rows.append(row)
    lb.kinds = kinds
    lvl = {v: i for i, v in enumerate(LEVEL_ORDER)}
    lb.rows.sort(key=lambda r: (str(r["dataset"]), lvl.get(r["level"], 9),
                                -(r[metric] if r[metric] is not None else -1)))
    return lb


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def print_leaderboard(lb: Leaderboard, console=None) -> None:
    """One rich table per dataset, with that dataset's kinds as columns."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    fixed = [c for c in lb.columns[: len(lb.columns) - len(lb.kinds)] if c != "dataset"]
    for ds in dict.fromkeys(str(r["dataset"]) for r in lb.rows):
        rows = [r for r in lb.rows if str(r["dataset"]) == ds]
        kinds = [k for k in lb.kinds if any(r.get("per_kind", {}).get(k) is not None for r in rows)]
        table = Table(title=f"{ds}: {lb.metric} (per-kind columns: that kind vs the other class)")
        for c in fixed + kinds:
            table.add_column(c, justify="right" if c in (lb.metric, "fakes", "reals", *kinds) else "left")
        for r in rows:
            table.add_row(*[_cell(lb.get(r, c)) for c in fixed + kinds])
        console.print(table)
    for p in lb.problems:
        console.print(f"[yellow]skipped[/yellow] {p}")


def write_csv(lb: Leaderboard, path: str | os.PathLike) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(lb.columns)
        for r in lb.rows:
            w.writerow(["" if lb.get(r, c) is None else lb.get(r, c) for c in lb.columns])
    return p


def write_html(lb: Leaderboard, path: str | os.PathLike) -> Path:
    e = lambda v: html.escape(_cell(v), quote=True)  # noqa: E731
    head = "".join(f"<th>{html.escape(c)}</th>" for c in lb.columns)
    body = "".join("<tr>" + "".join(f"<td>{e(lb.get(r, c))}</td>" for c in lb.columns) + "</tr>" for r in lb.rows)
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>facetrust leaderboard</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;font-size:.9em}"
        "th,td{border:1px solid #ccd;padding:3px 8px}th{background:#eef1f6}</style></head><body>"
        f"<h1>facetrust leaderboard ({html.escape(lb.metric)})</h1><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>"
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(doc, encoding="utf-8")
    return p


__all__ = [
    "Leaderboard", "build_leaderboard", "find_results", "load_run", "print_leaderboard", "write_csv", "write_html",
]
