"""Real generator outputs as training fakes: a synth folder of their crops, relabelled.

``facetrust synth --per-face 0`` over the face crops of a *generated* corpus makes aligned crops by the
one crop function (the same size, margin, perturbation chain and split rules as every other sample),
but calls them genuine, since synth only knows photos. ``mark_generated`` rewrites that folder's
manifest: every row becomes a fake of family ``generated`` whose mask is the whole crop (the whole
image was synthesised). It refuses a folder that holds anything but those genuine-labelled crops,
so a forgery folder can never be relabelled by mistake.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

GENERATED = "generated"  # the synth family of imported generator outputs (synth/families/generated.py)
FULL_MASK = "masks/full.png"


def mark_generated(dataset: str | Path, labels_tsv: str | Path | None = None) -> int:
    """Relabel every sample of ``dataset`` as a ``generated`` fake; returns the number of rows.

    ``labels_tsv`` (the ``labels.tsv`` that ``facetrust corpus faces`` wrote) must say ``fake`` for
    every source crop, when given."""
    from ..synth.writer import MANIFEST_COLUMNS, read_manifest, write_manifest

    dataset = Path(dataset)
    rows = read_manifest(dataset / "manifest.csv")
    if any(r["family"] not in ("real", GENERATED) for r in rows):
        raise ValueError(f"{dataset}: holds forgery samples; make it with --per-face 0 (crops only)")
    if labels_tsv is not None:
        with open(labels_tsv, newline="") as f:
            declared = {r["relpath"]: r["label"] for r in csv.DictReader(f, delimiter="\t")}
        wrong = [r["source_path"] for r in rows if declared.get(r["source_path"]) != "fake"]
        if wrong:
            raise ValueError(f"{len(wrong)} crops are not declared fake in {labels_tsv}, e.g. {wrong[0]}")
    size = rows[0]["width"] if rows else 0
    (dataset / "masks").mkdir(exist_ok=True)
    cv2.imwrite(str(dataset / FULL_MASK), np.full((size, size), 255, np.uint8))
    for r in rows:
        r.update(label=1, family=GENERATED, mask_path=FULL_MASK)
    write_manifest(dataset, [{k: r[k] for k in MANIFEST_COLUMNS} for r in rows])
    summary = dataset / "summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        s["relabelled"] = {"family": GENERATED, "rows": len(rows)}
        summary.write_text(json.dumps(s, indent=2))
    return len(rows)
