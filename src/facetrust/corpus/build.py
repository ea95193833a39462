"""``facetrust corpus build``: extract a recipe's files from git snapshots and verify every byte.

Snapshots are bare git directories laid out as ``MIRROR_ROOT/owner+name/repo`` (the layout the
project's fetch tool writes). Each file is read with ``git cat-file blob``, its sha256 compared with
the recipe, and written atomically under ``OUT/files/owner+name/<path>``; ``OUT/manifest.tsv``
repeats the recipe rows that were built. When the evaluation guard (``../shared/tools/eval_guard.py``
by default) is present, every built file is checked by it and blocked files are removed and listed,
so nothing that overlaps evaluation material can reach training.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..report.json_io import atomic_write_bytes
from .recipe import RecipeRow, read_recipe, write_recipe


class CorpusError(RuntimeError):
    """A recipe row could not be built exactly as written."""


@dataclass
class BuildReport:
    built: list[RecipeRow] = field(default_factory=list)
    reused: int = 0
    missing: list[str] = field(default_factory=list)  # snapshot or blob absent
    mismatched: list[str] = field(default_factory=list)  # bytes differ from the recipe
    blocked: list[str] = field(default_factory=list)  # refused by the evaluation guard
    guard: str = "not run"

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched)


def git_dir_for(mirror_root: Path, row: RecipeRow) -> Path:
    for candidate in (mirror_root / row.mirror_name / "repo", mirror_root / row.mirror_name):
        if (candidate / "objects").is_dir():
            return candidate
    raise FileNotFoundError(f"no snapshot of {row.source_repo} under {mirror_root}")


def read_blob(git_dir: Path, blob: str) -> bytes:
    out = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "blob", blob],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise FileNotFoundError(out.stderr.decode(errors="replace").strip() or f"blob {blob} not found")
    return out.stdout


def default_guard() -> Path | None:
    """``../shared/tools/eval_guard.py`` beside the checkout or the working folder, if present."""
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *here.parents):
        p = base.parent / "shared" / "tools" / "eval_guard.py"
        if p.is_file():
            return p
    return None


def load_guard(guard: Path):
    """The evaluation guard's ``Guard`` (imported from its file: it is a tool, not a dependency)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("facetrust_eval_guard", guard)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.Guard()


def run_guard(guard: Path, paths: list[Path], repos: set[str] = frozenset()) -> dict[str, str]:
    """``{path or repo: why}`` for everything the guard blocks."""
    g = load_guard(guard)
    hits = {repo: "the repository holds evaluation material" for repo in repos if g.repo_blocked(repo)}
    for p in paths:
        why = g.check_file(p)
        if why:
            hits[str(p)] = why
    return hits


def build_corpus(recipe: str | Path, mirror_root: str | Path, out: str | Path, *,
                 guard: str | Path | None = "auto") -> BuildReport:
    rows = read_recipe(recipe)
    mirror_root, out = Path(mirror_root), Path(out)
    report = BuildReport()
    written: list[tuple[RecipeRow, Path]] = []
    for row in rows:
        dest = out / "files" / row.local_path
        if dest.is_file() and hashlib.sha256(dest.read_bytes()).hexdigest() == row.sha256:
            report.reused += 1
            written.append((row, dest))
            continue
        try:
            data = read_blob(git_dir_for(mirror_root, row), row.blob)
        except FileNotFoundError as exc:
            report.missing.append(f"{row.local_path}: {exc}")
            continue
        if hashlib.sha256(data).hexdigest() != row.sha256 or len(data) != row.bytes:
            report.mismatched.append(row.local_path)
            continue
        atomic_write_bytes(dest, data)
        written.append((row, dest))
    guard_path = default_guard() if guard == "auto" else (Path(guard) if guard else None)
    if guard_path is not None:
        blocked = run_guard(guard_path, [p for _, p in written], {r.source_repo for r, _ in written})
        report.guard = f"{guard_path}: {len(blocked)} blocked of {len(written)} files"
        for row, p in written:
            if str(p) in blocked or row.source_repo in blocked:
                p.unlink(missing_ok=True)
                report.blocked.append(row.local_path)
        written = [(r, p) for r, p in written if str(p) not in blocked and r.source_repo not in blocked]
    report.built = [r for r, _ in written]
    out.mkdir(parents=True, exist_ok=True)
    write_recipe(out / "manifest.tsv", report.built)
    return report
