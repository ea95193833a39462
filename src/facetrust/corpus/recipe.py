"""Corpus recipes: the committed, reproducible description of media taken from public repositories.

A recipe is a TSV with one row per file: which repository and commit it comes from, the git blob
and the sha256 of its bytes, its label (``real`` / ``fake``), its kind (``camera-photo``,
``group-photo``, ``video``, ``generated-diffusion``, ``generated-gan``; for presentation-attack
detection ``live-capture``, a person live in front of the camera, and ``screen-replay``, a face shown
on a screen held up to it), the subject or source group
that keeps one person (or one clip) on one side of a split, the generator for fakes, and the terms
the repository states. The media never enter this repository: ``facetrust corpus build`` extracts
them from a git snapshot into a cache folder and checks every byte against the recipe.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

LABELS = ("real", "fake")
KINDS = ("camera-photo", "group-photo", "video", "generated-diffusion", "generated-gan",
         "live-capture", "screen-replay")  # the last two: presentation-attack detection (recipes/pad.tsv)


@dataclass(frozen=True)
class RecipeRow:
    source_repo: str  # owner/name
    commit: str  # 40 hex
    path: str  # path inside the repository at that commit
    blob: str  # git blob id (what `git cat-file blob` reads)
    sha256: str  # of the file's bytes
    bytes: int
    label: str  # real | fake
    kind: str
    group: str  # subject/source group: rows of one group always share a split
    generator: str = ""  # for fakes: the generator as the repository states it
    terms: str = ""  # licence or terms as the repository states them

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"{self.path}: label must be one of {LABELS}, got {self.label!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.path}: kind must be one of {KINDS}, got {self.kind!r}")
        if len(self.commit) != 40 or len(self.sha256) != 64:
            raise ValueError(f"{self.path}: commit must be 40 hex digits and sha256 64")
        if self.label == "fake" and not self.generator:
            raise ValueError(f"{self.path}: a fake row must name its generator")
        if not self.group:
            raise ValueError(f"{self.path}: every row needs a subject/source group")

    @property
    def mirror_name(self) -> str:
        """The folder name `fetch` gives a repository's snapshot: ``owner+name``."""
        return self.source_repo.replace("/", "+")

    @property
    def local_path(self) -> str:
        """Where the file lands inside a built corpus (unique across repositories)."""
        return f"{self.mirror_name}/{self.path}"


COLUMNS = tuple(f.name for f in fields(RecipeRow))


def read_recipe(path: str | Path) -> list[RecipeRow]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: recipe lacks columns {sorted(missing)}")
        rows = [RecipeRow(**{**{k: r[k] for k in COLUMNS}, "bytes": int(r["bytes"])}) for r in reader]
    seen: set[str] = set()
    for r in rows:
        if r.local_path in seen:
            raise ValueError(f"{path}: {r.local_path} appears twice")
        seen.add(r.local_path)
    return rows


def write_recipe(path: str | Path, rows: list[RecipeRow]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        for r in sorted(rows, key=lambda r: r.local_path):
            w.writerow(asdict(r))
