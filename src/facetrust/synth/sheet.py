"""Contact sheets for human review: per family, rows of source | partner | output | mask.

The mask column shows the soft mask (white = edited); for ``perturb`` it shows the absolute
difference to the source, amplified 8x. Captions give the key parameters of each sample.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

_CAPTION = 16
_GAP = 6


def _tile(thumb: np.ndarray | None, size: int) -> np.ndarray:
    if thumb is None:  # no partner: neutral grey, visibly "not an image"
        return np.full((size, size, 3), 96, np.uint8)
    return thumb


def _quad(entry: tuple, size: int) -> np.ndarray:
    _, src, partner, out, mask, caption = entry
    framed = _tile(mask, size).copy()
    framed[[0, -1], :] = 160  # thin frame: an all-white "whole image" mask stays visible
    framed[:, [0, -1]] = 160
    row = np.hstack([_tile(src, size), _tile(partner, size), _tile(out, size), framed])
    strip = np.full((_CAPTION, row.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, caption, (3, _CAPTION - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([row, strip])


def contact_sheet(entries: list[tuple], columns: int = 2) -> np.ndarray:
    """One RGB image of ``entries`` (family, source, partner, output, mask, caption) in a grid."""
    size = next(e[1].shape[0] for e in entries)
    quads = [_quad(e, size) for e in entries]
    while len(quads) % columns:
        quads.append(np.full_like(quads[0], 255))
    gap_v = np.full((quads[0].shape[0], _GAP, 3), 255, np.uint8)
    rows = []
    for i in range(0, len(quads), columns):
        parts = []
        for q in quads[i : i + columns]:
            parts += [q, gap_v]
        rows.append(np.hstack(parts[:-1]))
        rows.append(np.full((_GAP, rows[-1].shape[1], 3), 255, np.uint8))
    return np.vstack(rows[:-1])


def write_contact_sheets(directory: str | Path, thumbs: list[tuple], count: int = 12) -> list[Path]:
    """``<directory>/<family>.png`` for every family among ``thumbs`` (first ``count`` each)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_family: dict[str, list] = defaultdict(list)
    for t in thumbs:
        if len(by_family[t[0]]) < count:
            by_family[t[0]].append(t)
    paths = []
    for fam, entries in sorted(by_family.items()):
        path = directory / f"{fam}.png"
        cv2.imwrite(str(path), cv2.cvtColor(contact_sheet(entries), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths
