"""Identity groups and train/val/test splits, so no person appears in two splits.

Group key: a known identity (``identities.tsv`` with ``relpath<TAB>identity`` in the faces folder,
or the CelebA ids in faces-train's ``DETAILS.tsv``), otherwise the photo itself (UTKFace has no
identities; its near-duplicates were removed upstream, but one person can still have two photos).

Pins: a whole source folder can be forced into one split. faces-train's two CelebA folders are
pinned to ``train`` by default: ``celeba_crops_facemask12k`` holds CelebA crops with *unknown*
ids, so if ``celeba_align_89x109`` were split by identity a val/test person could still appear in
train through the mask-12k crops (its README: keep both CelebA folders on the same side). Val and
test are therefore drawn from the remaining folders (UTKFace). Pass other pins to change this.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .seeds import stable_fraction

DEFAULT_PINS = {"celeba_align_89x109": "train", "celeba_crops_facemask12k": "train"}
DEFAULT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


@dataclass
class SplitPolicy:
    """Split fractions (by identity group) and per-folder pins. ``seed`` fixes the assignment."""

    fractions: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FRACTIONS))
    pinned: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PINS))
    seed: int = 0

    def __post_init__(self) -> None:
        total = sum(self.fractions.values())
        if total <= 0 or any(v < 0 for v in self.fractions.values()):
            raise ValueError(f"bad split fractions {self.fractions}")
        self.fractions = {k: v / total for k, v in self.fractions.items()}

    def assign(self, group: str, folder: str) -> str:
        if folder in self.pinned:
            return self.pinned[folder]
        u = stable_fraction("split", self.seed, group)
        acc = 0.0
        for name, frac in self.fractions.items():
            acc += frac
            if u < acc:
                return name
        return list(self.fractions)[-1]


def load_identities(root: str | Path) -> dict[str, str]:
    """Map relpath (relative to ``root``) -> identity label, from whichever table is present."""
    root = Path(root)
    table = root / "identities.tsv"
    if table.is_file():
        with open(table, newline="") as f:
            return {r[0]: r[1] for r in csv.reader(f, delimiter="\t") if len(r) >= 2 and r[1]}
    for base in (root, root.parent):
        details = base / "DETAILS.tsv"
        if not details.is_file():
            continue
        prefix = "" if base == root else root.name + "/"
        out = {}
        with open(details, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                label = row.get("label_from_source") or ""
                rel = row.get("relpath") or ""
                # Only CelebA labels are identities (UTKFace labels are age/gender/race).
                if label.startswith("celeba:") and rel.startswith(prefix):
                    out[rel[len(prefix) :]] = label
        return out
    return {}


def group_for(relpath: str, identities: dict[str, str]) -> str:
    """Identity group key: ``id:<label>`` when known, else ``photo:<relpath>``."""
    label = identities.get(relpath)
    return f"id:{label}" if label else f"photo:{relpath}"
