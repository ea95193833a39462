"""Real generator outputs as training fakes: a synth folder of their crops, relabelled.

``facetrust synth --per-face 0`` over the face crops of a *generated* corpus makes aligned crops by the
one crop function (the same size, margin, perturbation chain and split rules as every other sample),
but calls them genuine, since synth only knows photos. ``mark_generated`` rewrites that folder's
manifest: every row becomes a fake of family ``generated`` whose mask is the whole crop (the whole
image was synthesised). It refuses a folder that holds anything but those genuine-labelled crops,
so a forgery folder can never be relabelled by mistake.

Generator outputs that come as figure grids (SFHQ, SFHQ-T2I) leave tile gaps and captions inside
some aligned crops; genuine photos never have them, so a model could learn "black bar = fake".
``drop_grid_edges`` removes crops crossed by a near-black straight line (:func:`has_grid_edge`);
it also drops some genuine dark backgrounds, which costs samples, not correctness.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

GENERATED = "generated"  # the synth family of imported generator outputs (synth/families/generated.py)
FULL_MASK = "masks/full.png"


GRID_DARK = 28  # grey level below which a pixel counts as the figure's black gap
GRID_LINE_SHARE = 0.92  # share of a row or column that must be dark to be a gap line


def has_grid_edge(image_bgr: np.ndarray) -> bool:
    """True when a full row or column of the crop is (nearly) black: a figure grid's gap."""
    dark = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) < GRID_DARK
    return bool((dark.mean(1) > GRID_LINE_SHARE).any() or (dark.mean(0) > GRID_LINE_SHARE).any())


def mark_generated(dataset: str | Path, labels_tsv: str | Path | None = None, drop_grid_edges: bool = False) -> int:
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
    dropped = 0
    if drop_grid_edges:
        kept = [r for r in rows if not has_grid_edge(cv2.imread(str(dataset / r["path"])))]
        dropped, rows = len(rows) - len(kept), kept
    for r in rows:
        r.update(label=1, family=GENERATED, mask_path=FULL_MASK)
    write_manifest(dataset, [{k: r[k] for k in MANIFEST_COLUMNS} for r in rows])
    summary = dataset / "summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        s["relabelled"] = {"family": GENERATED, "rows": len(rows), "dropped_grid_edges": dropped}
        summary.write_text(json.dumps(s, indent=2))
    return len(rows)
