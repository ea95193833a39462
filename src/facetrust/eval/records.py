"""Serialising a run: per-sample records, video units, counts, provenance and :class:`EvalRun`.

Everything here turns in-memory scores into the plain-JSON results document (``results.json``)
that the report, the leaderboard and :class:`EvalRun` read.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import fusion
from . import metrics as M
from . import protocols as P
from .engine import SampleRecord
from .tables import LevelTable, _source, sample_scores


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


def _rel(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return Path(path).as_posix()
    return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def record_dict(r: SampleRecord, root: str, rule: fusion.MediaRule, group_attrs: Sequence[str] = ()) -> dict[str, Any]:
    """One sample's outcome; ``scores`` per scorer as ``facetrust scan`` scores that media alone
    (:func:`~facetrust.eval.tables.sample_scores`), ``frames`` for frame-level units, and the
    values of ``group_attrs`` (fairness) under ``attrs``."""
    s = r.sample
    d: dict[str, Any] = {
        "path": _rel(s.path, root),
        "label": s.label,
        "kind": s.kind,
        "group": s.group,
        "split": s.split,
        "media_type": s.media_type,
        "media_kind": r.media_kind,
        "source": _source(s),
        "family": P.family_of(s),
        "condition": r.condition,
        "status": r.status,
        "error_code": r.error_code,
        "error": r.error,
        "unit": r.unit,
        "n_frames": len(r.frames),
        "n_faces": r.n_faces,
        "cache_hit": r.cache_hit,
    }
    if group_attrs:
        d["attrs"] = {a: P.group_value(s, a) for a in group_attrs}
    scored = [f for f in r.frames if f.scores]
    d["scores"] = sample_scores(r, list(scored[0].scores), rule) if scored else None
    if r.unit == "frame":
        d["frames"] = [
            {"index": f.index, "time_s": f.time_s, "n_faces": f.n_faces, "scores": f.scores or None} for f in r.frames
        ]
    return d


def video_units(tab: LevelTable, root: str, scorers: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "group": tab.cluster[i],
            "label": tab.y[i],
            "kind": tab.kind[i],
            "source": tab.source[i],
            "samples": [_rel(s.path, root) for s in tab.samples[i]],
            "scores": {sc: tab.scores[sc][i] for sc in scorers},
        }
        for i in range(len(tab))
    ]


def counts_for(records: Sequence[SampleRecord]) -> dict[str, Any]:
    by_kind: dict[str, dict[str, Any]] = {}
    errors: Counter = Counter()
    status: Counter = Counter()
    frames_no_face = 0
    for r in records:
        k = by_kind.setdefault(
            r.sample.kind,
            {"label": r.sample.label, "samples": 0, "scored": 0, "no_face": 0, "error": 0, "errors": {}},
        )
        if k["label"] != r.sample.label:
            k["label"] = "mixed"
        k["samples"] += 1
        status[r.status] += 1
        if r.status == "ok":
            k["scored"] += 1
            frames_no_face += sum(1 for f in r.frames if not f.n_faces)
        elif r.status == "no_face":
            k["no_face"] += 1
        else:
            k["error"] += 1
            k["errors"][r.error_code] = k["errors"].get(r.error_code, 0) + 1
            errors[r.error_code] += 1
    return {
        "samples": len(records),
        "scored": status["ok"],
        "no_face": status["no_face"],
        "error": status["error"],
        "errors_by_code": dict(errors),
        "frames_without_face_in_scored_samples": frames_no_face,
        "by_label": dict(Counter("fake" if r.sample.label else "real" for r in records)),
        "by_kind": dict(sorted(by_kind.items())),
    }


def git_commit() -> tuple[str | None, bool | None]:
    """(HEAD commit, working tree dirty) of the repository holding this package, or (None, None)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None, None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=20)
        return head.stdout.strip() or None, (bool(dirty.stdout.strip()) if dirty.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return None, None


def jsonable(obj: Any) -> Any:
    """Plain JSON types; non-finite floats become None (``+inf`` thresholds become "inf")."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isfinite(v):
            return v
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


@dataclass
class EvalRun:
    """The outcome of :func:`evaluate`: the results document and where it was written."""

    results: dict[str, Any]
    out_dir: Path | None = None
    results_path: Path | None = None
    report_path: Path | None = None

    def rows(self, **filters: Any) -> list[dict[str, Any]]:
        """Metric rows matching every ``field=value`` filter (e.g. ``section="per_kind"``)."""
        return [r for r in self.results["metrics"] if all(r.get(k) == v for k, v in filters.items())]

    def value(self, metric: str, *, scorer: str | None = None, level: str | None = None,
              section: str = "overall", **filters: Any) -> float | None:
        """The value of ``metric`` in the single row matching the filters (first scorer / level
        with data when not given). Raises KeyError when no row matches."""
        rows = self.rows(section=section, **filters)
        rows = [r for r in rows if (scorer is None or r["scorer"] == scorer) and (level is None or r["level"] == level)]
        if not rows:
            raise KeyError(f"no {section} row for scorer={scorer} level={level} {filters}")
        r = rows[0]
        return r["metrics"][M.metric_key(metric, r["level"])]["value"]

    @property
    def scorers(self) -> list[str]:
        return list(self.results["scorers"])

    def save(self, out_dir: str | os.PathLike, report: bool = True) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.out_dir = out
        self.results_path = out / "results.json"
        tmp = out / ".results.json.tmp"
        tmp.write_text(json.dumps(self.results, indent=1, allow_nan=False), encoding="utf-8")
        os.replace(tmp, self.results_path)
        if report:
            from .report_html import write_report

            self.report_path = write_report(self.results, out / "report.html")
        return self.results_path


__all__ = ["EvalRun", "counts_for", "git_commit", "jsonable", "record_dict", "video_units"]
