"""Small distinct images for the batch tests and benchmark, made from skimage's astronaut and noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` distinct PNGs: astronaut crops (faces in some) and noise (no face)."""
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = skimage.data.astronaut()
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        if i % 3 == 2:
            img = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        else:
            side = int(rng.integers(120, 200))
            y, x = (int(v) for v in rng.integers(0, 512 - side, 2))
            img = astronaut[y:y + side, x:x + side].copy()
            img[0, 0] = (i % 256, i // 256, 7)  # distinct bytes even if two crops coincide
        p = folder / f"img_{i:03d}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    return paths
