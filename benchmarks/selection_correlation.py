"""Does the selection metric predict held-out-source results? Spearman across checkpoints and candidates.

    PYTHONPATH=src python benchmarks/selection_correlation.py RUN_DIR [RUN_DIR ...] \\
        [--select val_auc_select] [--targets 'val_auc_source_*' ...] [--n-boot 1000] [--json OUT]

Each RUN_DIR holds a ``metrics.csv`` (one row per epoch, as ``facetrust train`` writes it; a CSV
path works too). Every row of every run is one candidate checkpoint. For each target column
(default: the per-source validation AUCs, ``val_auc_source_*``; shell-style patterns) it prints the
Spearman rank correlation between the selection column and the target over the candidates where
both are defined, with a percentile bootstrap interval (candidates resampled), the same within each
run that has at least 3 epochs, and what selecting by the selection column costs on that target:
the target at the selected candidate against the best target value seen (regret).

Evaluation only: this reads finished runs and chooses nothing.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

MIN_POINTS = 3  # fewer candidates: no correlation (it would be +-1 or undefined)


@dataclass
class Candidate:
    run: str
    epoch: str
    values: dict[str, float]  # column -> value (empty cells left out)


@dataclass
class Correlation:
    target: str
    scope: str  # "all" or a run name
    n: int
    rho: float | None
    low: float | None
    high: float | None
    selected: str | None  # run/epoch with the highest selection value
    target_at_selected: float | None
    best_target: float | None
    regret: float | None  # best_target - target_at_selected
    reason: str | None = None


def read_runs(paths: Sequence[str | Path]) -> list[Candidate]:
    """Every row of every run's metrics.csv as a candidate (non-numeric or empty cells skipped)."""
    out = []
    for p in map(Path, paths):
        csv_path = p / "metrics.csv" if p.is_dir() else p
        run = p.name if p.is_dir() else p.parent.name
        with open(csv_path, newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                values = {}
                for k, v in row.items():
                    try:
                        x = float(v)
                    except (TypeError, ValueError):
                        continue
                    if math.isfinite(x):
                        values[k] = x
                out.append(Candidate(run, str(row.get("epoch", i)), values))
    return out


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size, np.float64)
    sx = x[order]
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of the average ranks; None when a side is constant."""
    rx, ry = _ranks(np.asarray(x, np.float64)), _ranks(np.asarray(y, np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx ** 2).sum() * (ry ** 2).sum()))
    return None if den == 0 else float((rx * ry).sum() / den)


def correlate(cands: list[Candidate], select: str, target: str, scope: str, n_boot: int = 1000,
              seed: int = 0) -> Correlation:
    pts = [(c, c.values[select], c.values[target]) for c in cands if select in c.values and target in c.values]
    n = len(pts)
    if n < MIN_POINTS:
        return Correlation(target, scope, n, None, None, None, None, None, None, None,
                           f"fewer than {MIN_POINTS} candidates with both values")
    x = np.asarray([p[1] for p in pts])
    y = np.asarray([p[2] for p in pts])
    k = int(np.argmax(x))  # the first of equal maxima, as a selection would keep it
    sel = f"{pts[k][0].run}/{pts[k][0].epoch}"
    rho = spearman(x, y)
    low = high = None
    reason = None if rho is not None else "a column is constant over the candidates"
    if rho is not None and n_boot > 0:
        rng = np.random.default_rng(seed)
        reps = [spearman(x[i], y[i]) for i in (rng.integers(0, n, n) for _ in range(n_boot))]
        reps = [r for r in reps if r is not None]
        if reps:
            low, high = (float(v) for v in np.quantile(reps, [0.025, 0.975]))
    return Correlation(target, scope, n, rho, low, high, sel, float(y[k]), float(y.max()), float(y.max() - y[k]),
                       reason)


def targets_for(cands: list[Candidate], patterns: Sequence[str], select: str) -> list[str]:
    cols = list(dict.fromkeys(k for c in cands for k in c.values))
    return [c for c in cols if c != select and any(fnmatch.fnmatchcase(c, p) for p in patterns)]


def report(cands: list[Candidate], select: str, patterns: Sequence[str], n_boot: int = 1000) -> list[Correlation]:
    """Pooled over every candidate, then within each run with at least MIN_POINTS epochs."""
    out = []
    runs = list(dict.fromkeys(c.run for c in cands))
    for t in targets_for(cands, patterns, select):
        out.append(correlate(cands, select, t, "all", n_boot))
        if len(runs) > 1:
            for r in runs:
                mine = [c for c in cands if c.run == r]
                if len(mine) >= MIN_POINTS:
                    out.append(correlate(mine, select, t, r, n_boot))
    return out


def _f(v: float | None) -> str:
    return "   -  " if v is None else f"{v:+.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--select", default="val_auc_select", help="the selection column (default val_auc_select)")
    ap.add_argument("--targets", nargs="+", default=["val_auc_source_*"], metavar="PATTERN",
                    help="target columns, shell-style patterns (default val_auc_source_*)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    args = ap.parse_args(argv)
    cands = read_runs(args.runs)
    rows = report(cands, args.select, args.targets, args.n_boot)
    print(f"{len(cands)} candidates from {len(args.runs)} run(s); selection column {args.select}")
    print(f"{'target':<40} {'scope':<18} {'n':>3}  {'rho':>6} [95% CI]          selected        target@sel  best  regret")
    for r in rows:
        ci = f"[{_f(r.low)}, {_f(r.high)}]" if r.low is not None else " " * 17
        tail = (f"{r.selected or '-':<15} {r.target_at_selected:.3f}  {r.best_target:.3f}  {r.regret:.3f}"
                if r.selected else (r.reason or ""))
        print(f"{r.target:<40} {r.scope:<18} {r.n:>3}  {_f(r.rho)} {ci} {tail}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    return 0 if rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
